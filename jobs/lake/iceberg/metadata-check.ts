/**
 * Table metadata as read from storage is untrusted: before any job uses it, the parts the jobs rely
 * on must be there, of the right types, and resolve (the current snapshot and every ref name a
 * snapshot the table has, the current schema and each snapshot's schema exist, the default
 * partition spec exists). A table that fails is damaged, never read as empty.
 */
import { DamagedTableError } from '../catalog/catalog.ts';
import type { TableMetadata } from './metadata.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInteger = (v: unknown) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const asId = (v: unknown) => (v === null || v === undefined ? undefined : BigInt(v as number | bigint));

export function checkMetadata(value: unknown, table: string, where: string): TableMetadata {
  const damaged = (detail: string): never => {
    throw new DamagedTableError(table, where, detail);
  };
  if (!isObject(value)) return damaged('the metadata is not a JSON object');
  const m = value;
  if (m['format-version'] !== 1 && m['format-version'] !== 2)
    damaged(`format-version ${JSON.stringify(m['format-version'])} is not 1 or 2`);
  if (typeof m.location !== 'string') damaged('location is missing');
  for (const key of ['last-updated-ms', 'last-column-id', 'current-schema-id'])
    if (!isInteger(m[key])) damaged(`${key} is not an integer`);
  if (m['format-version'] === 2 && !isInteger(m['last-sequence-number']))
    damaged('last-sequence-number is not an integer');

  const schemas = m.schemas;
  if (!Array.isArray(schemas) || schemas.length === 0) return damaged('it has no schemas');
  const schemaIds = new Set<number>();
  for (const schema of schemas) {
    if (!isObject(schema) || !isInteger(schema['schema-id']) || !Array.isArray(schema.fields))
      damaged('a schema has no schema-id or fields');
    schemaIds.add(Number((schema as Record<string, unknown>)['schema-id']));
  }
  if (!schemaIds.has(Number(m['current-schema-id'])))
    damaged(`current-schema-id ${m['current-schema-id']} names no schema of the table`);

  const specs = m['partition-specs'];
  if (!Array.isArray(specs) || !specs.some((s) => isObject(s) && s['spec-id'] === m['default-spec-id']))
    damaged(`default-spec-id ${m['default-spec-id']} names no partition spec of the table`);

  const snapshots = m.snapshots ?? [];
  if (!Array.isArray(snapshots)) return damaged('snapshots is not a list');
  const ids = new Set<bigint>();
  for (const s of snapshots) {
    if (!isObject(s) || !isInteger(s['snapshot-id'])) return damaged('a snapshot has no snapshot-id');
    const id = BigInt(s['snapshot-id'] as number | bigint);
    if (ids.has(id)) damaged(`snapshot ${id} is listed twice`);
    ids.add(id);
    if (typeof s['manifest-list'] !== 'string' || s['manifest-list'] === '')
      damaged(`snapshot ${id} has no manifest-list`);
    if (!isInteger(s['timestamp-ms'])) damaged(`snapshot ${id} has no timestamp-ms`);
    if (!isObject(s.summary) || typeof s.summary.operation !== 'string')
      damaged(`snapshot ${id} has no summary with an operation`);
    if (Object.values(s.summary as object).some((v) => typeof v !== 'string'))
      damaged(`snapshot ${id}'s summary holds a value that is not a string`);
    if (s['schema-id'] !== undefined && s['schema-id'] !== null && !schemaIds.has(Number(s['schema-id'])))
      damaged(`snapshot ${id} names schema ${s['schema-id']}, which the table does not have`);
    if (m['format-version'] === 2 && !isInteger(s['sequence-number'])) damaged(`snapshot ${id} has no sequence-number`);
  }

  const refs = m.refs ?? {};
  if (!isObject(refs)) return damaged('refs is not an object');
  for (const [name, ref] of Object.entries(refs)) {
    if (!isObject(ref) || !isInteger(ref['snapshot-id'])) return damaged(`ref ${name} names no snapshot-id`);
    const id = BigInt(ref['snapshot-id'] as number | bigint);
    if (!ids.has(id)) damaged(`ref ${name} names snapshot ${id}, which the table does not have`);
  }
  const current = asId(m['current-snapshot-id']);
  if (current !== undefined && current >= 0n && !ids.has(current))
    damaged(`current-snapshot-id ${current} names no snapshot of the table`);
  if (Object.hasOwn(refs, 'main')) {
    const main = asId((refs.main as Record<string, unknown>)['snapshot-id']);
    const currentOrNone = current !== undefined && current >= 0n ? current : undefined;
    if (main !== currentOrNone)
      damaged(`the main branch is at snapshot ${main} but current-snapshot-id is ${currentOrNone ?? 'none'}`);
  }
  return m as unknown as TableMetadata;
}
