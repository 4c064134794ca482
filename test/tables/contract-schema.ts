/** What the contract (jobs/lake/table-schema.ts) says a table read by a reader must look like. */
import * as assert from 'uvu/assert';
import { icebergSchema, tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import type { SparkTableRead, TableRead } from '../support/iceberg-readers.ts';

export const tableKeys = Object.keys(tables) as TableKey[];
export const tableNames = tableKeys.map((k) => tables[k].name);

/** PyIceberg's schema and partition spec are the contract's: field ids, names, types, required. */
export function assertContractSchema(read: Omit<TableRead, 'rows'>, key: TableKey): void {
  const want = icebergSchema(tables[key]).fields.map(({ id, name, type, required }) => ({ id, name, type, required }));
  assert.equal(read.schema, want, `${read.table} schema`);
  assert.equal(read.partitionSpec, tables[key].partitionBy.map((p) => ({ ...p })), `${read.table} partition spec`);
  assert.is(read.formatVersion, 2, `${read.table} format version`);
}

/** Spark sees the contract's columns, in order, with the matching Spark types and nullability. */
export function assertSparkColumns(read: SparkTableRead, key: TableKey): void {
  const want = tables[key].columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
  assert.equal(read.columns.map(({ name, type, nullable }) => ({ name, type, nullable })), want, `${read.table} Spark columns`);
}
