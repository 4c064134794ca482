/**
 * The project's one contract as data: what the Spark engine (Python) and the docs read instead of
 * keeping a copy. `npm run generate` writes it as JSON next to the Spark stage files.
 */
import { settings } from './config.ts';
import { eventRules } from './events/rules.ts';
import { icebergSchema, lakeTables, summaryKeys } from './lake/table-schema.ts';
import { defaultTiming, LEASE_LOCATIONS, lakeCreatingStages, writingStages } from './ops/lease.ts';
import { outcomes } from './ops/runs.ts';

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
    /** The lake's writer lease (jobs/ops/lease.ts), which both engines take. */
    lease: {
      /** Relative to the volume lake's root (`volume`) or to the REST catalog's warehouse (`catalog`). */
      locations: LEASE_LOCATIONS,
      /** Milliseconds: lifetime, renewal, polling, the pause before a takeover is read back, clock skew allowed. */
      timing: defaultTiming,
      writingStages: [...writingStages],
      /** The writing stages that create a lake that is not there yet; the others take no lease without one. */
      lakeCreatingStages: [...lakeCreatingStages],
    },
    /** ops.runs' outcomes (jobs/ops/runs.ts). */
    runOutcomes: outcomes,
  };
}

/** The contract as the Spark engine reads it (jobs/spark/lakehouse_contract.json). */
export function contractJson(): string {
  return JSON.stringify(contract(), null, 2) + '\n';
}
