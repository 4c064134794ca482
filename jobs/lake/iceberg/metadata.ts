import { randomBytes, randomUUID } from 'node:crypto';
import { icebergSchema, type TableSpec } from '../table-schema.ts';

/**
 * Iceberg table metadata (format version 2) as this project writes and reads it: the fields of the
 * spec's table metadata JSON that the jobs use, with ids as bigint (Java writers use the whole long
 * range). https://iceberg.apache.org/spec/#table-metadata
 */
export type SnapshotId = bigint;

export interface Snapshot {
  readonly 'snapshot-id': SnapshotId;
  readonly 'parent-snapshot-id'?: SnapshotId;
  readonly 'sequence-number': number;
  readonly 'timestamp-ms': number;
  readonly 'manifest-list': string;
  readonly summary: Readonly<Record<string, string>> & {
    readonly operation: 'append' | 'replace' | 'overwrite' | 'delete';
  };
  readonly 'schema-id'?: number;
}

export interface SchemaField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: string;
  readonly doc?: string;
}

export interface Schema {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly fields: readonly SchemaField[];
}

export interface PartitionField {
  readonly name: string;
  readonly transform: string;
  readonly 'source-id': number;
  readonly 'field-id': number;
}

export interface PartitionSpec {
  readonly 'spec-id': number;
  readonly fields: readonly PartitionField[];
}

export interface TableMetadata {
  readonly 'format-version': 2;
  readonly 'table-uuid': string;
  readonly location: string;
  readonly 'last-sequence-number': number;
  readonly 'last-updated-ms': number;
  readonly 'last-column-id': number;
  readonly 'current-schema-id': number;
  readonly schemas: readonly Schema[];
  readonly 'default-spec-id': number;
  readonly 'partition-specs': readonly PartitionSpec[];
  readonly 'last-partition-id': number;
  readonly 'default-sort-order-id': number;
  readonly 'sort-orders': readonly unknown[];
  readonly properties: Readonly<Record<string, string>>;
  readonly 'current-snapshot-id'?: SnapshotId | number | null;
  readonly refs?: Readonly<Record<string, { 'snapshot-id': SnapshotId; type: string }>>;
  readonly snapshots?: readonly Snapshot[];
  readonly 'snapshot-log'?: readonly { 'timestamp-ms': number; 'snapshot-id': SnapshotId }[];
  readonly 'metadata-log'?: readonly { 'timestamp-ms': number; 'metadata-file': string }[];
  readonly [other: string]: unknown;
}

/** A new positive 63-bit snapshot id, as Java's writers make them. */
export function newSnapshotId(): SnapshotId {
  return randomBytes(8).readBigInt64BE() & 0x7fffffffffffffffn || 1n;
}

function asId(value: SnapshotId | number | null | undefined): SnapshotId | undefined {
  if (value === null || value === undefined) return undefined;
  const id = BigInt(value);
  return id < 0n ? undefined : id;
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = asId(metadata.refs?.main?.['snapshot-id'] ?? metadata['current-snapshot-id']);
  if (id === undefined) return undefined;
  return metadata.snapshots?.find((s) => BigInt(s['snapshot-id']) === id);
}

export function snapshotById(metadata: TableMetadata, id: SnapshotId): Snapshot | undefined {
  return metadata.snapshots?.find((s) => BigInt(s['snapshot-id']) === id);
}

/**
 * A rollback snapshot (jobs/rollback.ts) names, under this summary key, the snapshot whose contents
 * it restored: the table's history goes on from that one, and the snapshots the rollback dropped
 * (still in the metadata, between the two) are no longer part of it.
 */
export const rollbackKey = 'lakehouse.rollback.snapshot-id';

/** The snapshot `s` follows in the table's history: the one a rollback restored, else its parent. */
function previousOf(metadata: TableMetadata, s: Snapshot): Snapshot | undefined {
  const restored = s.summary[rollbackKey];
  if (restored && /^\d{1,20}$/.test(restored)) return snapshotById(metadata, BigInt(restored));
  const parent = asId(s['parent-snapshot-id']);
  return parent === undefined ? undefined : snapshotById(metadata, parent);
}

/** The current snapshot and its ancestors, newest first (as far as they are kept; past a rollback, from the snapshot it restored). */
export function lineage(metadata: TableMetadata, from: Snapshot | undefined = currentSnapshot(metadata)): Snapshot[] {
  const chain: Snapshot[] = [];
  for (let s = from; s; s = previousOf(metadata, s)) chain.push(s);
  return chain;
}

/** The snapshot that was current at `ms` (the snapshot log, as engines time-travel). */
export function snapshotAsOf(metadata: TableMetadata, ms: number): Snapshot | undefined {
  let found: SnapshotId | undefined;
  for (const entry of metadata['snapshot-log'] ?? []) {
    if (entry['timestamp-ms'] <= ms) found = BigInt(entry['snapshot-id']);
  }
  return found === undefined ? undefined : snapshotById(metadata, found);
}

export function partitionSpec(spec: TableSpec): PartitionSpec {
  return {
    'spec-id': 0,
    fields: spec.partitionBy.map((p) => ({
      name: p.name,
      transform: p.transform,
      'source-id': p.sourceId,
      'field-id': p.fieldId,
    })),
  };
}

export function newTableMetadata(spec: TableSpec, location: string, properties: Record<string, string>): TableMetadata {
  const partitions = partitionSpec(spec);
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': Date.now(),
    'last-column-id': Math.max(...spec.columns.map((c) => c.id)),
    'current-schema-id': 0,
    schemas: [icebergSchema(spec)],
    'default-spec-id': 0,
    'partition-specs': [partitions],
    'last-partition-id': Math.max(999, ...partitions.fields.map((f) => f['field-id'])),
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { 'write.format.default': 'parquet', ...properties },
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    statistics: [],
    'partition-statistics': [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

export function currentSchema(metadata: TableMetadata): Schema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new Error(`table metadata has no schema ${metadata['current-schema-id']}`);
  return schema;
}
