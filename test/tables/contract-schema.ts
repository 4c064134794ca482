/** What the contract (jobs/lake/table-schema.ts) says a table read by a reader must look like. */
import * as assert from 'uvu/assert';
import { icebergSchema, lakeTables, tables, type LakeTableKey, type TableKey } from '../../jobs/lake/table-schema.ts';
import type { SparkTableRead, TableRead } from '../support/iceberg-readers.ts';

export const tableKeys = Object.keys(tables) as TableKey[];
export const tableNames = tableKeys.map((k) => tables[k].name);

/** PyIceberg's schema and partition spec are the contract's: field ids, names, types, required. */
export function assertContractSchema(read: Omit<TableRead, 'rows'>, key: LakeTableKey): void {
  const want = icebergSchema(lakeTables[key]).fields.map(({ id, name, type, required }) => ({
    id,
    name,
    type,
    required,
  }));
  assert.equal(read.schema, want, `${read.table} schema`);
  assert.equal(
    read.partitionSpec,
    lakeTables[key].partitionBy.map((p) => ({ ...p })),
    `${read.table} partition spec`,
  );
  assert.is(read.formatVersion, 2, `${read.table} format version`);
}

/** Spark sees the contract's columns, in order, with the matching Spark types and nullability. */
export function assertSparkColumns(read: SparkTableRead, key: LakeTableKey): void {
  const want = lakeTables[key].columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
  assert.equal(
    read.columns.map(({ name, type, nullable }) => ({ name, type, nullable })),
    want,
    `${read.table} Spark columns`,
  );
}
