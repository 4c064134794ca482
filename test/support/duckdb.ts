/** DuckDB as an independent Parquet reader: the lake is cross-read by a second implementation. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

export async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  connection ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  const reader = await (await connection).runAndReadAll(sql);
  return reader.getRowObjectsJS() as T[];
}

/** `read_parquet` over every Parquet file of a lake directory. */
export const parquet = (dir: string) => `read_parquet('${dir.replace(/'/g, "''")}/*.parquet')`;
