/** A lake's Iceberg tables for tests: the data files of a table's current snapshot, as DuckDB reads them. */
import fs from 'node:fs';
import path from 'node:path';
import { parseJson } from '../../jobs/lake/iceberg/json.ts';
import type { TableMetadata } from '../../jobs/lake/iceberg/metadata.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { localPath } from '../../jobs/lake/io/local-file-io.ts';
import { headOf, type LakeTableKey, lakeAt, lakeTables } from '../../jobs/lake/lake.ts';

/** The lake's table, or undefined when it was never created. */
export function findTable(dataDir: string, key: LakeTableKey) {
  return lakeAt(dataDir).find(key);
}

/** A volume lake's table metadata as its latest version file holds it, read synchronously (the version hint names it). */
export function metadataOnDisk(dataDir: string, key: LakeTableKey): TableMetadata | undefined {
  const dir = path.join(dataDir, lakeTables[key].namespace, lakeTables[key].table, 'metadata');
  if (!fs.existsSync(path.join(dir, 'version-hint.text'))) return undefined;
  const version = fs.readFileSync(path.join(dir, 'version-hint.text'), 'utf8').trim();
  return parseJson(fs.readFileSync(path.join(dir, `v${version}.metadata.json`), 'utf8')) as TableMetadata;
}

export async function tableFiles(dataDir: string, key: LakeTableKey): Promise<string[]> {
  const table = await lakeAt(dataDir).find(key);
  if (!table || !headOf(table)) return [];
  return (await liveFiles(table)).map((f) => localPath(f.file.path));
}

/** `read_parquet([...])` over exactly the files the table's current snapshot lists. */
export async function tableSql(dataDir: string, key: LakeTableKey): Promise<string> {
  const files = await tableFiles(dataDir, key);
  if (files.length === 0) throw new Error(`table ${key} has no data files in ${dataDir}`);
  return `read_parquet([${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}])`;
}
