import type { SchemaElement } from 'hyparquet';

export type ColumnType = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /**
   * Free text that is nearly unique per row (raw JSON): written PLAIN, without min/max statistics,
   * which would cost time and bytes and help no reader.
   */
  readonly freeText?: boolean;
}

/** Values of a column as JavaScript sees them: INT64 as number (epoch ms and offsets fit in 2^53). */
export type ColumnValue<T extends ColumnType> = T extends 'STRING' ? string : number;

export function parquetSchema(columns: readonly ColumnSpec[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => ({
      name: c.name,
      type: c.type === 'STRING' ? 'BYTE_ARRAY' : c.type,
      ...(c.type === 'STRING' ? { converted_type: 'UTF8', logical_type: { type: 'STRING' } } : {}),
      repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
    })),
  ];
}

interface TypedColumn<N extends string, T extends ColumnType, B extends boolean> extends ColumnSpec {
  readonly name: N;
  readonly type: T;
  readonly nullable: B;
}

function col<N extends string, T extends ColumnType, B extends boolean = false>(name: N, type: T, nullable?: B): TypedColumn<N, T, B> {
  return { name, type, nullable: (nullable ?? false) as B };
}

const text = <N extends string>(name: N) => ({ ...col(name, 'STRING', true), freeText: true });

export const bronzeColumns = [
  col('key', 'STRING', true),
  text('value'),
  col('topic', 'STRING'),
  col('partition', 'INT32'),
  col('offset', 'INT64'),
  col('kafka_timestamp', 'INT64'),
  col('ingested_at', 'INT64'),
] as const;

export const silverColumns = [
  col('vehicle_id', 'STRING'),
  col('type', 'STRING'),
  col('latitude', 'DOUBLE'),
  col('longitude', 'DOUBLE'),
  col('battery', 'INT32'),
  col('event_time', 'INT64'),
  col('source_partition', 'INT32'),
  col('source_offset', 'INT64'),
] as const;

export const rejectedColumns = [
  text('raw_value'),
  col('key', 'STRING', true),
  col('source_partition', 'INT32'),
  col('source_offset', 'INT64'),
  col('reason', 'STRING'),
  col('field', 'STRING', true),
  col('detail', 'STRING'),
] as const;

export const goldColumns = [
  col('type', 'STRING'),
  col('event_count', 'INT64'),
  col('vehicle_count', 'INT64'),
  col('avg_battery', 'DOUBLE'),
  col('min_battery', 'INT32'),
  col('max_battery', 'INT32'),
  col('avg_latitude', 'DOUBLE'),
  col('avg_longitude', 'DOUBLE'),
  col('first_event_at', 'INT64'),
  col('last_event_at', 'INT64'),
  col('computed_at', 'INT64'),
] as const;

type Nullable<C extends ColumnSpec> = C['nullable'] extends true ? null : never;

/** A row of a table, typed from its column list. */
export type Row<Cs extends readonly ColumnSpec[]> = {
  [C in Cs[number] as C['name']]: ColumnValue<C['type']> | Nullable<C>;
};

export type BronzeRow = Row<typeof bronzeColumns>;
export type SilverRow = Row<typeof silverColumns>;
export type RejectedRow = Row<typeof rejectedColumns>;
export type GoldRow = Row<typeof goldColumns>;
