/**
 * One normal form for rows read from an Iceberg table by any reader (PyIceberg, Spark, DuckDB), so
 * a test compares them row for row: timestamps as epoch milliseconds (fractional below a
 * millisecond: Iceberg keeps microseconds), binary as base64, int and long as numbers (a long beyond
 * 2^53 is refused, never rounded), non-finite doubles as "NaN", "Infinity" or "-Infinity", and
 * every table's rows sorted the same way.
 *
 * Readers hand values over in a transport form: timestamps as integer epoch microseconds, binary
 * as base64, integers as number, bigint or (beyond 2^53, from Python) a decimal string.
 */
import type { IcebergType } from '../../jobs/lake/table-schema.ts';

export type Value = string | number | null;
export type Row = Record<string, Value>;

export interface Column {
  readonly name: string;
  readonly type: IcebergType;
}

const icebergTypes: readonly IcebergType[] = ['string', 'binary', 'int', 'long', 'double', 'timestamptz'];

/** An Iceberg primitive type's name as PyIceberg prints it, checked to be one this lake uses. */
export function icebergType(name: string): IcebergType {
  if (!(icebergTypes as readonly string[]).includes(name))
    throw new Error(`Iceberg type "${name}" is not one the lake uses`);
  return name as IcebergType;
}

/** Spark SQL's name of a column type (`DataType.simpleString`) as the Iceberg type it reads. */
export function icebergTypeOfSpark(sparkType: string): IcebergType {
  const types: Record<string, IcebergType> = {
    string: 'string',
    binary: 'binary',
    int: 'int',
    bigint: 'long',
    double: 'double',
    timestamp: 'timestamptz',
  };
  const type = types[sparkType];
  if (!type) throw new Error(`Spark type "${sparkType}" is not one the lake uses`);
  return type;
}

function integer(value: unknown, column: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || (typeof value === 'bigint' && BigInt(n) !== value)) {
    throw new Error(`${column}: ${String(value)} is not an integer within ±2^53`);
  }
  return n;
}

export function normaliseValue(type: IcebergType, value: unknown, column: string): Value {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
    case 'binary':
      if (typeof value !== 'string')
        throw new Error(`${column}: expected a ${type === 'binary' ? 'base64 ' : ''}string, got ${typeof value}`);
      return value;
    case 'int':
    case 'long':
      return integer(value, column);
    case 'timestamptz':
      return integer(value, column) / 1000;
    case 'double':
      if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
      throw new Error(`${column}: ${String(value)} is not a double`);
  }
}

/** Rows in normal form, each with exactly the given columns, sorted by their values. */
export function normaliseRows(columns: readonly Column[], rows: readonly Record<string, unknown>[]): Row[] {
  const names = new Set(columns.map((c) => c.name));
  const normal = rows.map((row) => {
    const extra = Object.keys(row).filter((k) => !names.has(k));
    if (extra.length) throw new Error(`columns not in the schema: ${extra.join(', ')}`);
    return Object.fromEntries(columns.map((c) => [c.name, normaliseValue(c.type, row[c.name], c.name)]));
  });
  return sortRows(normal);
}

/** Sorted by every value, in column-name order, so readers that order columns differently agree. */
export function sortRows(rows: Row[]): Row[] {
  const key = (row: Row) =>
    JSON.stringify(
      Object.keys(row)
        .sort()
        .map((k) => row[k]),
    );
  return rows
    .map((row) => ({ row, key: key(row) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => e.row);
}
