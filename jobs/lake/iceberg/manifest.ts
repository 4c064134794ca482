import { DamagedTableError } from '../catalog/catalog.ts';
import type { TableFiles } from '../io/table-files.ts';
import { decodeAvroFile, encodeAvroFile } from './avro.ts';
import { stringifyJson } from './json.ts';
import type { PartitionSpec, Schema, SnapshotId } from './metadata.ts';

/** A Parquet data file as a manifest describes it (https://iceberg.apache.org/spec/#manifests). */
export interface DataFile {
  /** Absolute `file:` URI. */
  readonly path: string;
  readonly recordCount: number;
  readonly fileSizeInBytes: number;
  /** Partition values by partition field name (a day transform is days since the epoch). */
  readonly partition: Readonly<Record<string, number | null>>;
  /** Bytes of each column's chunks (Parquet total_compressed_size, summed), by field id. */
  readonly columnSizes: ReadonlyMap<number, number>;
  readonly valueCounts: ReadonlyMap<number, number>;
  readonly nullValueCounts: ReadonlyMap<number, number>;
  /** Single-value serialised bounds, by field id. */
  readonly lowerBounds: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds: ReadonlyMap<number, Uint8Array>;
}

export const enum EntryStatus {
  Existing = 0,
  Added = 1,
  Deleted = 2,
}

export interface ManifestEntry {
  readonly status: EntryStatus;
  readonly snapshotId: SnapshotId;
  readonly sequenceNumber: number;
  readonly file: DataFile;
}

/** One row of a manifest list. */
export interface ManifestFile {
  readonly path: string;
  readonly length: number;
  readonly addedSnapshotId: SnapshotId;
  readonly sequenceNumber: number;
  /** The smallest data sequence number of the manifest's entries (its own when absent). */
  readonly minSequenceNumber?: number;
  readonly addedFiles: number;
  readonly existingFiles: number;
  readonly deletedFiles: number;
  readonly addedRows: number;
  readonly existingRows: number;
  readonly deletedRows: number;
}

const optional = (type: unknown) => ['null', type];
const map = (id: number, keyId: number, valueId: number, valueType: string) => ({
  name: '',
  'field-id': id,
  default: null,
  type: optional({
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name: `k${keyId}_v${valueId}`,
      fields: [
        { name: 'key', type: 'int', 'field-id': keyId },
        { name: 'value', type: valueType, 'field-id': valueId },
      ],
    },
  }),
});

function partitionRecord(spec: PartitionSpec) {
  return {
    type: 'record',
    name: 'r102',
    fields: spec.fields.map((f) => ({
      name: f.name,
      'field-id': f['field-id'],
      default: null,
      type: optional(f.transform === 'day' ? { type: 'int', logicalType: 'date' } : 'int'),
    })),
  };
}

/** The v2 manifest entry schema with Iceberg's field ids, for a table's partition spec. */
function manifestEntrySchema(spec: PartitionSpec) {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            { name: 'partition', type: partitionRecord(spec), 'field-id': 102 },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            { ...map(108, 117, 118, 'long'), name: 'column_sizes' },
            { ...map(109, 119, 120, 'long'), name: 'value_counts' },
            { ...map(110, 121, 122, 'long'), name: 'null_value_counts' },
            { ...map(137, 138, 139, 'long'), name: 'nan_value_counts' },
            { ...map(125, 126, 127, 'bytes'), name: 'lower_bounds' },
            { ...map(128, 129, 130, 'bytes'), name: 'upper_bounds' },
            { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 131 },
            {
              name: 'split_offsets',
              type: optional({ type: 'array', items: 'long', 'element-id': 133 }),
              default: null,
              'field-id': 132,
            },
            {
              name: 'equality_ids',
              type: optional({ type: 'array', items: 'int', 'element-id': 136 }),
              default: null,
              'field-id': 135,
            },
            { name: 'sort_order_id', type: optional('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

const manifestListSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      default: null,
      'field-id': 507,
      type: optional({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
    },
    { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 519 },
  ],
};

const mapRecords = (values: ReadonlyMap<number, number | Uint8Array>, asLong: boolean) =>
  [...values].map(([key, value]) => ({
    key,
    value: asLong ? BigInt(value as number) : Buffer.from(value as Uint8Array),
  }));

export async function encodeManifest(
  entries: readonly ManifestEntry[],
  schema: Schema,
  spec: PartitionSpec,
): Promise<Buffer> {
  const records = entries.map((e) => ({
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: BigInt(e.sequenceNumber),
    file_sequence_number: BigInt(e.sequenceNumber),
    data_file: {
      content: 0,
      file_path: e.file.path,
      file_format: 'PARQUET',
      partition: Object.fromEntries(spec.fields.map((f) => [f.name, e.file.partition[f.name] ?? null])),
      record_count: BigInt(e.file.recordCount),
      file_size_in_bytes: BigInt(e.file.fileSizeInBytes),
      column_sizes: mapRecords(e.file.columnSizes, true),
      value_counts: mapRecords(e.file.valueCounts, true),
      null_value_counts: mapRecords(e.file.nullValueCounts, true),
      nan_value_counts: null,
      lower_bounds: mapRecords(e.file.lowerBounds, false),
      upper_bounds: mapRecords(e.file.upperBounds, false),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      sort_order_id: null,
    },
  }));
  return encodeAvroFile(manifestEntrySchema(spec), records, {
    schema: stringifyJson(schema),
    'schema-id': String(schema['schema-id']),
    'partition-spec': stringifyJson(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
}

export async function encodeManifestList(
  manifests: readonly ManifestFile[],
  snapshot: { id: SnapshotId; parentId?: SnapshotId; sequenceNumber: number },
): Promise<Buffer> {
  const records = manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: BigInt(m.length),
    partition_spec_id: 0,
    content: 0,
    sequence_number: BigInt(m.sequenceNumber),
    min_sequence_number: BigInt(m.minSequenceNumber ?? m.sequenceNumber),
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFiles,
    existing_files_count: m.existingFiles,
    deleted_files_count: m.deletedFiles,
    added_rows_count: BigInt(m.addedRows),
    existing_rows_count: BigInt(m.existingRows),
    deleted_rows_count: BigInt(m.deletedRows),
    partitions: null,
    key_metadata: null,
  }));
  return encodeAvroFile(manifestListSchema, records, {
    'snapshot-id': String(snapshot.id),
    'parent-snapshot-id': snapshot.parentId === undefined ? 'null' : String(snapshot.parentId),
    'sequence-number': String(snapshot.sequenceNumber),
    'format-version': '2',
  });
}

const toNumber = (v: unknown): number => Number(v as bigint);

function toMap<V>(records: unknown, value: (v: unknown) => V): Map<number, V> {
  const out = new Map<number, V>();
  for (const r of (records as { key: number; value: unknown }[] | null) ?? []) out.set(r.key, value(r.value));
  return out;
}

/** An Avro file the table's metadata names; a missing or unreadable one makes the table damaged. */
async function readMetadataAvro(files: TableFiles, uri: string, what: string) {
  const location = files.resolve(uri, what);
  try {
    return await decodeAvroFile(await files.read(location, what), location);
  } catch (error) {
    throw new DamagedTableError(files.table, location, `its ${what} cannot be read (${(error as Error).message})`);
  }
}

/** The manifests a snapshot's manifest list names (at `uri`, a location from the table's metadata). */
export async function readManifestList(files: TableFiles, uri: string): Promise<ManifestFile[]> {
  const { records } = await readMetadataAvro(files, uri, 'manifest list');
  return records
    .map((r) => ({
      path: r.manifest_path as string,
      length: toNumber(r.manifest_length),
      addedSnapshotId: BigInt(r.added_snapshot_id as bigint),
      sequenceNumber: toNumber(r.sequence_number ?? 0n),
      minSequenceNumber: toNumber(r.min_sequence_number ?? r.sequence_number ?? 0n),
      addedFiles: Number(r.added_files_count ?? r.added_data_files_count ?? 0),
      existingFiles: Number(r.existing_files_count ?? r.existing_data_files_count ?? 0),
      deletedFiles: Number(r.deleted_files_count ?? r.deleted_data_files_count ?? 0),
      addedRows: toNumber(r.added_rows_count ?? 0n),
      existingRows: toNumber(r.existing_rows_count ?? 0n),
      deletedRows: toNumber(r.deleted_rows_count ?? 0n),
    }))
    .filter((_m, i) => Number(records[i].content ?? 0) === 0);
}

/**
 * The entries of one manifest. Added entries may leave their snapshot id and sequence number to be
 * inherited from the manifest list (v2), as Java writers do.
 */
export async function readManifest(files: TableFiles, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const { records } = await readMetadataAvro(files, manifest.path, 'manifest');
  return records.map((r) => {
    const f = r.data_file as Record<string, unknown>;
    const partition = Object.fromEntries(
      Object.entries((f.partition as Record<string, unknown>) ?? {}).map(([k, v]) => [
        k,
        v === null || v === undefined ? null : Number(v),
      ]),
    );
    return {
      status: Number(r.status) as EntryStatus,
      snapshotId:
        r.snapshot_id === null || r.snapshot_id === undefined
          ? manifest.addedSnapshotId
          : BigInt(r.snapshot_id as bigint),
      sequenceNumber:
        r.sequence_number === null || r.sequence_number === undefined
          ? manifest.sequenceNumber
          : toNumber(r.sequence_number),
      file: {
        path: f.file_path as string,
        recordCount: toNumber(f.record_count),
        fileSizeInBytes: toNumber(f.file_size_in_bytes),
        partition,
        columnSizes: toMap(f.column_sizes, toNumber),
        valueCounts: toMap(f.value_counts, toNumber),
        nullValueCounts: toMap(f.null_value_counts, toNumber),
        lowerBounds: toMap(f.lower_bounds, (v) => new Uint8Array(v as Buffer)),
        upperBounds: toMap(f.upper_bounds, (v) => new Uint8Array(v as Buffer)),
      },
    };
  });
}
