/** A lake's Iceberg tables for tests: the data files of a table's current snapshot, as DuckDB reads them. */
import { localPath } from '../../jobs/lake/iceberg/manifest.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { findTable, headOf, type LakeTableKey } from '../../jobs/lake/lake.ts';

export async function tableFiles(dataDir: string, key: LakeTableKey): Promise<string[]> {
  const table = findTable(dataDir, key);
  if (!table || !headOf(table)) return [];
  return (await liveFiles(table)).map((f) => localPath(f.file.path));
}

/** `read_parquet([...])` over exactly the files the table's current snapshot lists. */
export async function tableSql(dataDir: string, key: LakeTableKey): Promise<string> {
  const files = await tableFiles(dataDir, key);
  if (files.length === 0) throw new Error(`table ${key} has no data files in ${dataDir}`);
  return `read_parquet([${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}])`;
}
