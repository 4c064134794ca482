/**
 * Three independent readers of the lake's Iceberg tables (HadoopCatalog layout, warehouse = the
 * lake root), whose rows come back in one normal form (iceberg-values.ts) so a test compares them
 * row for row:
 *
 *   pyiceberg(lake, [{ table, snapshotId?, asOfMs? }])   PyIceberg StaticTable on the current
 *                                                        metadata file; time travel by id or time
 *   sparkRows(lake, tables)                              Spark SQL, Iceberg runtime, one JVM for all
 *   duckdbRows(lake, table)                              DuckDB over exactly the data files the
 *                                                        snapshot's manifests list (PyIceberg's
 *                                                        plan_files), so it shares no reading code
 *                                                        with PyIceberg's scan
 *
 * PyIceberg and Spark run from ci/spark/install.sh's virtualenv, through iceberg_read.py.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import type { IcebergType } from '../../jobs/lake/table-schema.ts';
import { runCommand } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';
import { query } from './duckdb.ts';
import { icebergType, icebergTypeOfSpark, normaliseRows, type Column, type Row } from './iceberg-values.ts';
import { type LakeLocation, sparkSubmit } from './spark-iceberg.ts';
import { lakeTables } from '../../jobs/lake/table-schema.ts';

const script = path.join(import.meta.dirname, 'iceberg_read.py');

export interface SchemaField {
  readonly id: number;
  readonly name: string;
  readonly type: IcebergType;
  readonly required: boolean;
}

export interface PartitionField {
  readonly sourceId: number;
  readonly fieldId: number;
  readonly name: string;
  readonly transform: string;
}

export interface Snapshot {
  /** Snapshot ids are 63-bit: kept as decimal strings. */
  readonly snapshotId: string;
  readonly parentId: string | null;
  readonly timestampMs: number;
  readonly operation: string | null;
  /** The summary's properties other than `operation`. */
  readonly summary: Record<string, string>;
}

export interface DataFile {
  /** As the manifest has it (an absolute path or a `file:` URI). */
  readonly path: string;
  readonly records: number;
  readonly deleteFiles: readonly string[];
}

/** What PyIceberg makes of one table, and of one of its snapshots. */
export interface TableRead {
  readonly table: string;
  readonly metadataFile: string;
  /** version-hint.text's content as written, or null without one. */
  readonly versionHint: string | null;
  readonly formatVersion: number;
  readonly currentSnapshotId: string | null;
  /** The snapshot read: the current one unless the read asked for another. */
  readonly readSnapshotId: string | null;
  readonly schema: readonly SchemaField[];
  readonly partitionSpec: readonly PartitionField[];
  readonly snapshots: readonly (Snapshot & { readonly sequenceNumber: number })[];
  /** The data files that the read snapshot's manifests list. */
  readonly files: readonly DataFile[];
  /** Null when the read asked for none. */
  readonly rows: Row[] | null;
}

export interface ReadRequest {
  /** `namespace.table`, e.g. `silver.vehicles`. */
  readonly table: string;
  /** Read this snapshot instead of the current one. */
  readonly snapshotId?: string;
  /** Read the snapshot that was current at this time (epoch ms). */
  readonly asOfMs?: number;
  /** Scan rows (default true); false gives only metadata and the data file list. */
  readonly rows?: boolean;
}

export interface SparkTableRead {
  readonly table: string;
  /** Columns as Spark SQL types them, with the Iceberg type each one reads as. */
  readonly columns: readonly {
    readonly name: string;
    readonly sparkType: string;
    readonly type: IcebergType;
    readonly nullable: boolean;
  }[];
  /** The `main` branch's snapshot, from the table's `refs` metadata table. */
  readonly currentSnapshotId: string | null;
  /** From the table's `snapshots` metadata table. */
  readonly snapshots: readonly Snapshot[];
  readonly rows: Row[];
}

/** Runs iceberg_read.py once for every request; returns its parsed output. */
async function runReader<T>(
  mode: 'pyiceberg' | 'duckdb' | 'spark',
  lake: LakeLocation,
  reads: readonly object[],
): Promise<{ results: T[]; seconds: number }> {
  const work = mkdtempSync(path.join(tmpdir(), 'lakehouse-iceberg-read-'));
  try {
    const request = path.join(work, 'request.json');
    const out = path.join(work, 'out.json');
    const where = typeof lake === 'string' ? { lakeRoot: path.resolve(lake) } : { catalog: lake };
    writeFileSync(request, JSON.stringify({ ...where, reads }));
    const run =
      mode === 'spark'
        ? await sparkSubmit(lake, script, ['spark', request, out])
        : await runCommand(path.join(requireSparkInstall(), 'venv/bin/python'), [script, mode, request, out], {});
    return { results: JSON.parse(readFileSync(out, 'utf8')) as T[], seconds: run.seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type RawTableRead = Omit<TableRead, 'schema' | 'rows'> & {
  schema: { id: number; name: string; type: string; required: boolean }[];
  rows: Record<string, unknown>[] | null;
};

/** PyIceberg reads of several tables (or snapshots) in one Python process. */
export async function pyiceberg(lake: LakeLocation, reads: readonly ReadRequest[]): Promise<TableRead[]> {
  const { results } = await runReader<RawTableRead>('pyiceberg', lake, reads);
  return results.map((raw) => {
    const schema = raw.schema.map((f) => ({ ...f, type: icebergType(f.type) }));
    return { ...raw, schema, rows: raw.rows && normaliseRows(schema, raw.rows) };
  });
}

/** One table's rows through PyIceberg, at its current snapshot or the one asked for. */
export async function pyicebergRows(
  lakeRoot: string,
  table: string,
  at: { snapshotId?: string; asOfMs?: number } = {},
): Promise<Row[]> {
  const [read] = await pyiceberg(lakeRoot, [{ table, ...at }]);
  return read.rows!;
}

/** One table's metadata through PyIceberg: snapshots, schema, partition spec, data files. */
export async function pyicebergInfo(lakeRoot: string, table: string): Promise<Omit<TableRead, 'rows'>> {
  const [{ rows: _, ...info }] = await pyiceberg(lakeRoot, [{ table, rows: false }]);
  return info;
}

type RawSparkRead = Omit<SparkTableRead, 'columns' | 'rows'> & {
  columns: { name: string; type: string; nullable: boolean }[];
  rows: Record<string, unknown>[];
};

/**
 * Spark SQL (`SELECT * FROM lakehouse.<table>`, or `VERSION AS OF`) over several tables in one
 * spark-submit: the JVM starts once. Also returns the run's wall time.
 */
export async function sparkRows(
  lake: LakeLocation,
  reads: readonly (string | { table: string; snapshotId?: string })[],
): Promise<{ tables: SparkTableRead[]; seconds: number }> {
  const requests = reads.map((r) => (typeof r === 'string' ? { table: r } : r));
  const { results, seconds } = await runReader<RawSparkRead>('spark', lake, requests);
  const tables = results.map((raw) => {
    const columns = raw.columns.map((c) => ({
      name: c.name,
      sparkType: c.type,
      type: icebergTypeOfSpark(c.type),
      nullable: c.nullable,
    }));
    return { ...raw, columns, rows: normaliseRows(columns, raw.rows) };
  });
  return { tables, seconds };
}

/**
 * DuckDB's iceberg extension (1.5.5, from PyPI) on a REST catalog: every table's current rows, read
 * through `ATTACH … (TYPE iceberg)` as a user of the lake would, in one Python process.
 */
export async function duckdbCatalogRows(
  catalog: CatalogSettings,
  tables: readonly string[],
): Promise<{ table: string; rows: Row[] }[]> {
  const { results } = await runReader<{ table: string; rows: Record<string, unknown>[] }>(
    'duckdb',
    catalog,
    tables.map((table) => ({ table })),
  );
  return results.map(({ table, rows }) => {
    const spec = Object.values(lakeTables).find((t) => t.name === table);
    if (!spec) throw new Error(`duckdbCatalogRows: ${table} is not a table of the contract`);
    return { table, rows: normaliseRows(spec.columns, rows) };
  });
}

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A manifest's file location as a local path (`file:/x`, `file:///x` or `/x`); not the jobs' own helper, to stay independent of the writer. */
export function localPath(location: string): string {
  if (location.startsWith('file:'))
    return fileURLToPath(location.startsWith('file://') ? location : `file://${location.slice('file:'.length)}`);
  if (path.isAbsolute(location)) return location;
  throw new Error(`data file location "${location}" is neither a file: URI nor an absolute path`);
}

/**
 * DuckDB's `read_parquet` over exactly the data files of a read (the manifests' list, not a
 * directory glob), columns converted to the transport form by SQL from the table's schema.
 * A table with delete files is refused: DuckDB would not apply them.
 */
export async function duckdbRowsOf(read: Omit<TableRead, 'rows'>): Promise<Row[]> {
  const withDeletes = read.files.filter((f) => f.deleteFiles.length > 0);
  if (withDeletes.length)
    throw new Error(
      `${read.table}: ${withDeletes.length} data files have delete files, which this reader does not apply`,
    );
  if (read.files.length === 0) return [];
  const columns: readonly Column[] = read.schema;
  const select = columns.map(({ name, type }) => {
    const id = `"${name.replace(/"/g, '""')}"`;
    if (type === 'timestamptz') return `epoch_us(${id}) as ${id}`;
    if (type === 'binary') return `to_base64(${id}) as ${id}`;
    return id;
  });
  const files = read.files.map((f) => sqlString(localPath(f.path))).join(', ');
  // Iceberg's data paths look Hive-partitioned (event_time_day=…): that is not a column to add.
  const rows = await query(
    `select ${select.join(', ')} from read_parquet([${files}], hive_partitioning = false, union_by_name = true)`,
  );
  return normaliseRows(columns, rows);
}

/** One table's current rows through DuckDB over the data files its manifests list. */
export async function duckdbRows(lakeRoot: string, table: string): Promise<Row[]> {
  return duckdbRowsOf(await pyicebergInfo(lakeRoot, table));
}
