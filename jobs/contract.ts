/**
 * The project's one contract as data: what the Spark engine (Python) and the docs read instead of
 * keeping a copy. `npm run generate` writes it as JSON next to the Spark stage files.
 */
import { settings } from './config.ts';
import { eventRules } from './events/rules.ts';
import { icebergSchema, lakeTables, summaryKeys } from './lake/table-schema.ts';

export function contract() {
  return {
    /** Every job setting: its variable, flag, default (raw text, parsed like a given value) and parser kind. */
    settings: settings.map((s) => ({
      key: s.key,
      env: s.env,
      flag: s.flag,
      default: s.defaultValue,
      parser: s.parser,
      description: s.description,
    })),
    tables: Object.fromEntries(
      Object.entries(lakeTables).map(([key, spec]) => [
        key,
        {
          name: spec.name,
          namespace: spec.namespace,
          table: spec.table,
          /** Relative to the lake root, as Spark's HadoopCatalog (warehouse = lake root) places it. */
          location: `${spec.namespace}/${spec.table}`,
          schema: icebergSchema(spec),
          partitionBy: spec.partitionBy,
        },
      ]),
    ),
    summaryKeys,
    /** Silver's rules (jobs/events/rules.ts), which both engines interpret. */
    rules: eventRules,
  };
}

/** The contract as the Spark engine reads it (jobs/spark/lakehouse_contract.json). */
export function contractJson(): string {
  return JSON.stringify(contract(), null, 2) + '\n';
}
