import type { SchemaElement } from 'hyparquet';
import { rangeText } from '../events/rules.ts';

/**
 * The lake's Iceberg tables (four data tables and `ops.runs`), defined once: column names, Iceberg types, field ids,
 * partitioning and where each table lives. The Node jobs, the generator (through
 * `contractJson`), the Spark engine (which reads that JSON) and the docs all read this.
 * Field ids are forever: a new column takes the next id, a removed one's id is never reused.
 */
export type IcebergType = 'string' | 'binary' | 'int' | 'long' | 'double' | 'timestamptz';

export interface ColumnSpec {
  readonly id: number;
  readonly name: string;
  readonly type: IcebergType;
  readonly nullable: boolean;
  readonly doc: string;
  /**
   * Nearly unique per row (raw payloads): written PLAIN, without min/max statistics, which would
   * cost time and bytes and help no reader.
   */
  readonly freeText?: boolean;
}

/**
 * Values as the jobs see them: timestamps as epoch milliseconds (stored as Iceberg's microseconds),
 * INT64 as number (offsets and counts stay below 2^53), binary as bytes.
 */
export type ColumnValue<T extends IcebergType> = T extends 'string' ? string : T extends 'binary' ? Uint8Array : number;

interface TypedColumn<N extends string, T extends IcebergType, B extends boolean> extends ColumnSpec {
  readonly name: N;
  readonly type: T;
  readonly nullable: B;
}

function col<N extends string, T extends IcebergType, B extends boolean = false>(
  id: number,
  name: N,
  type: T,
  doc: string,
  nullable?: B,
): TypedColumn<N, T, B> {
  return { id, name, type, doc, nullable: (nullable ?? false) as B };
}

const raw = <N extends string>(id: number, name: N, doc: string) => ({
  ...col(id, name, 'binary', doc, true),
  freeText: true,
});

export const bronzeColumns = [
  col(1, 'key', 'binary', 'Kafka record key, bytes as received', true),
  raw(2, 'value', 'Kafka record value, bytes as received (null for a tombstone)'),
  col(3, 'topic', 'string', 'Kafka topic'),
  col(4, 'partition', 'int', 'Kafka partition'),
  col(5, 'offset', 'long', 'Kafka offset'),
  col(6, 'kafka_timestamp', 'timestamptz', 'Kafka record timestamp'),
  col(7, 'ingested_at', 'timestamptz', 'when bronze read the record'),
] as const;

export const silverColumns = [
  col(1, 'vehicle_id', 'string', 'vehicleId of the event'),
  col(2, 'type', 'string', 'vehicle type, one of LAKEHOUSE_VEHICLE_TYPES'),
  col(3, 'latitude', 'double', `degrees, ${rangeText('latitude')}`),
  col(4, 'longitude', 'double', `degrees, ${rangeText('longitude')}`),
  col(5, 'battery', 'int', `percent, ${rangeText('battery')}`),
  col(6, 'event_time', 'timestamptz', 'timestamp of the event'),
  col(7, 'source_partition', 'int', 'Kafka partition of the bronze record'),
  col(8, 'source_offset', 'long', 'Kafka offset of the bronze record'),
] as const;

export const rejectedColumns = [
  raw(1, 'raw_value', 'the bronze record value, bytes as received'),
  col(2, 'key', 'binary', 'the bronze record key', true),
  col(3, 'source_partition', 'int', 'Kafka partition of the bronze record'),
  col(4, 'source_offset', 'long', 'Kafka offset of the bronze record'),
  col(5, 'reason', 'string', 'reason code (docs/contract.md)'),
  col(6, 'field', 'string', 'the JSON field at fault, if one is', true),
  col(7, 'detail', 'string', 'readable explanation'),
] as const;

export const goldColumns = [
  col(1, 'type', 'string', 'vehicle type'),
  col(2, 'event_count', 'long', 'silver events of this type'),
  col(3, 'vehicle_count', 'long', 'distinct vehicles of this type'),
  col(4, 'avg_battery', 'double', 'mean battery'),
  col(5, 'min_battery', 'int', 'lowest battery'),
  col(6, 'max_battery', 'int', 'highest battery'),
  col(7, 'avg_latitude', 'double', 'mean latitude'),
  col(8, 'avg_longitude', 'double', 'mean longitude'),
  col(9, 'first_event_at', 'timestamptz', 'earliest event time'),
  col(10, 'last_event_at', 'timestamptz', 'latest event time'),
  col(11, 'computed_at', 'timestamptz', 'when gold was computed'),
] as const;

/** One row per job run (jobs/ops/runs.ts), appended when the run ends: the lake's own run history. */
export const runsColumns = [
  col(1, 'run_id', 'string', 'uuid of the run'),
  col(2, 'stage', 'string', 'the job: topics, produce, bronze, silver, gold, verify, maintain'),
  col(3, 'engine', 'string', 'engine that ran the stage (node, spark)'),
  col(4, 'host', 'string', 'pod or host name (HOSTNAME)'),
  col(5, 'started_at', 'timestamptz', 'when the run started'),
  col(6, 'ended_at', 'timestamptz', 'when the run ended'),
  col(7, 'outcome', 'string', 'succeeded, failed, skipped or stopped'),
  col(8, 'rows_in', 'long', 'rows the run read, where it reads rows', true),
  col(9, 'rows_out', 'long', 'rows the run wrote, where it writes rows', true),
  col(10, 'error', 'string', 'one-line error of a failed or stopped run', true),
] as const;

/** Iceberg partition transforms this project uses. */
export type Transform = 'identity' | 'day';

export interface PartitionFieldSpec {
  readonly sourceId: number;
  readonly fieldId: number;
  readonly name: string;
  readonly transform: Transform;
}

export interface TableSpec<Cs extends readonly ColumnSpec[] = readonly ColumnSpec[]> {
  /** `namespace.table`, as Spark's HadoopCatalog and `npm run lakehouse -- show` name it. */
  readonly name: string;
  readonly namespace: string;
  readonly table: string;
  readonly doc: string;
  readonly columns: Cs;
  readonly partitionBy: readonly PartitionFieldSpec[];
}

function table<Cs extends readonly ColumnSpec[]>(
  name: string,
  doc: string,
  columns: Cs,
  partitionBy: readonly PartitionFieldSpec[] = [],
): TableSpec<Cs> {
  const [namespace, tableName] = name.split('.');
  return { name, namespace, table: tableName, doc, columns, partitionBy };
}

/** Partition ids start at 1000, as Iceberg assigns them. */
export const tables = {
  bronze: table('bronze.vehicles', 'every Kafka record as received', bronzeColumns),
  silver: table('silver.vehicles', 'typed, validated, de-duplicated events', silverColumns, [
    // Duplicates share (vehicle_id, event_time): a new event can only collide with silver rows of its day.
    { sourceId: 6, fieldId: 1000, name: 'event_time_day', transform: 'day' },
  ]),
  rejected: table('silver.rejected', 'every rejected record with its reason', rejectedColumns),
  gold: table('gold.stats', 'one row per vehicle type', goldColumns),
} as const;

export type TableKey = keyof typeof tables;

/** Tables about the pipeline rather than its data: verify and the engines' comparisons leave them out. */
export const opsTables = {
  runs: table('ops.runs', 'one row per job run: stage, times, outcome, rows in and out, error', runsColumns),
} as const;

/** Every table of the lake: the data tables and the ops tables. */
export const lakeTables = { ...tables, ...opsTables } as const;
export type LakeTableKey = keyof typeof lakeTables;

/**
 * Snapshot summary properties the jobs write and read (Iceberg summaries are string maps).
 * Bronze's summaries are the record of what was read from Kafka, as the Kafka Connect Iceberg sink
 * keeps its offsets with the data.
 */
export const summaryKeys = {
  /** bronze: the topic read. */
  topic: 'lakehouse.kafka.topic',
  /** bronze: Kafka's cluster id, so a lake is never mixed with another cluster's offsets. */
  clusterId: 'lakehouse.kafka.cluster-id',
  /** bronze: the topic's id, so a recreated topic is not mistaken for the one the lake read. */
  topicId: 'lakehouse.kafka.topic-id',
  /** bronze: JSON `{"<partition>": [first, nextAfterLast], ...}`, the offsets this snapshot added. */
  offsetRanges: 'lakehouse.kafka.offset-ranges',
  /** bronze: JSON `{"<partition>": next, ...}`, the first offset not in the table after this snapshot. */
  nextOffsets: 'lakehouse.kafka.next-offsets',
  /** bronze: JSON `{"<partition>": [[first, next], ...]}`, offsets Kafka no longer had when bronze came to read them: data loss. */
  gaps: 'lakehouse.kafka.gaps',
  /**
   * bronze table property, written by maintain: JSON `{"<partition>": [[first, next], ...]}`, the
   * merged offset ranges of the append snapshots it expired (their summaries are gone).
   */
  expiredOffsetRanges: 'lakehouse.kafka.expired-offset-ranges',
  /** bronze table property, written by maintain: the gaps (as `gaps`) the snapshots it expired recorded. */
  expiredGaps: 'lakehouse.kafka.expired-gaps',
  /** silver.vehicles, silver.rejected: the last bronze snapshot id whose records they hold. */
  bronzeSnapshot: 'lakehouse.bronze.snapshot-id',
  /** gold: the silver snapshot id gold was computed from. */
  silverSnapshot: 'lakehouse.silver.snapshot-id',
  /** gold: JSON of the running sums behind the averages, so the next run adds to them exactly. */
  goldState: 'lakehouse.gold.state',
  /** gold: the file (under the table's `state/`) holding the distinct vehicles behind vehicle_count. */
  goldVehicles: 'lakehouse.gold.vehicles-file',
  /** every table: the job and engine that committed the snapshot. */
  writer: 'lakehouse.writer',
  /** every table, on a rollback snapshot: the snapshot whose contents it restored (iceberg/metadata.ts `lineage`). */
  rollback: 'lakehouse.rollback.snapshot-id',
  /**
   * silver.vehicles (an append of replayed rows) and silver.rejected (the overwrite that takes them
   * out of the quarantine): the replay both belong to (docs/curation.md).
   */
  replayId: 'lakehouse.replay.id',
} as const;

/**
 * Summary keys that describe one snapshot's own change, not the table's state: a compaction
 * (`replace`) snapshot carries every other `lakehouse.*` key of its parent forward, so that readers
 * of the current snapshot (bronze's resume offsets, silver's and gold's markers, gold's state) see
 * the same state after it.
 */
export const changeOnlyKeys: readonly string[] = [
  summaryKeys.offsetRanges,
  summaryKeys.gaps,
  summaryKeys.writer,
  summaryKeys.rollback,
  summaryKeys.replayId,
];

type Nullable<C extends ColumnSpec> = C['nullable'] extends true ? null : never;

/** A row of a table, typed from its column list. */
export type Row<Cs extends readonly ColumnSpec[]> = {
  [C in Cs[number] as C['name']]: ColumnValue<C['type']> | Nullable<C>;
};

export type BronzeRow = Row<typeof bronzeColumns>;
export type SilverRow = Row<typeof silverColumns>;
export type RejectedRow = Row<typeof rejectedColumns>;
export type GoldRow = Row<typeof goldColumns>;
export type RunRow = Row<typeof runsColumns>;

/** The Parquet schema of a data file, with Iceberg field ids so every engine maps columns by id. */
export function parquetSchema(columns: readonly ColumnSpec[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map(
      (c): SchemaElement => ({
        name: c.name,
        field_id: c.id,
        repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
        ...parquetType(c.type),
      }),
    ),
  ];
}

function parquetType(type: IcebergType): Pick<SchemaElement, 'type' | 'converted_type' | 'logical_type'> {
  switch (type) {
    case 'string':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'binary':
      return { type: 'BYTE_ARRAY' };
    case 'int':
      return { type: 'INT32' };
    case 'long':
      return { type: 'INT64' };
    case 'double':
      return { type: 'DOUBLE' };
    case 'timestamptz':
      return { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
  }
}

/** The table's Iceberg schema (JSON form of the spec's `struct`). */
export function icebergSchema(spec: TableSpec, schemaId = 0) {
  return {
    type: 'struct' as const,
    'schema-id': schemaId,
    fields: spec.columns.map((c) => ({ id: c.id, name: c.name, required: !c.nullable, type: c.type, doc: c.doc })),
  };
}
