import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadOrCreateTable, loadTable, type LoadedTable } from './iceberg/catalog.ts';
import { localPath, type DataFile } from './iceberg/manifest.ts';
import { currentSnapshot, lineage, type Snapshot, type SnapshotId } from './iceberg/metadata.ts';
import { OffThreadSink, startParquetWorker } from './off-thread-sink.ts';
import { ParquetSink } from './parquet-sink.ts';
import {
  lakeTables,
  tables,
  type ColumnSpec,
  type LakeTableKey,
  type Row,
  type TableKey,
  type TableSpec,
} from './table-schema.ts';

export { lakeTables, tables, type LakeTableKey, type TableKey };

/** Table properties every table of the lake is created with. */
const creationProperties: Partial<Record<LakeTableKey, Record<string, string>>> = {
  // A bronze append must never be retried onto a newer table state (Java writers retry by default):
  // the offsets it holds were planned from the state it started from.
  bronze: { 'commit.retry.num-retries': '0' },
};

export function openTable(dataDir: string, key: LakeTableKey): LoadedTable {
  return loadOrCreateTable(dataDir, lakeTables[key], { 'format-version': '2', ...creationProperties[key] });
}

export function findTable(dataDir: string, key: LakeTableKey): LoadedTable | undefined {
  return loadTable(dataDir, lakeTables[key]);
}

export function headOf(table: LoadedTable | undefined): Snapshot | undefined {
  return table ? currentSnapshot(table.metadata) : undefined;
}

/**
 * The snapshots of `table`'s history after `marker` (all of them without one) that changed its rows:
 * appends and overwrites, not the `replace` snapshots of compaction, which only rewrite files.
 * Undefined when the marker is not in the history.
 */
export function changesAfter(table: LoadedTable, marker: SnapshotId | undefined): Snapshot[] | undefined {
  const chain = lineage(table.metadata);
  const index = marker === undefined ? chain.length : chain.findIndex((s) => s['snapshot-id'] === marker);
  if (index < 0) return undefined;
  return chain
    .slice(0, index)
    .filter((s) => s.summary.operation !== 'replace')
    .reverse();
}

/** Every table of the lake as the catalog has them: `<root>/<namespace>/<table>/metadata/v*.metadata.json`. */
export function catalogTables(dataDir: string): TableSpec[] {
  const root = path.resolve(dataDir);
  const found: TableSpec[] = [];
  const dirs = (dir: string) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => e.name)
      : [];
  for (const namespace of dirs(root).sort()) {
    for (const name of dirs(path.join(root, namespace)).sort()) {
      const metadata = path.join(root, namespace, name, 'metadata');
      if (!fs.existsSync(metadata) || !fs.readdirSync(metadata).some((f) => /^v\d+(\.gz)?\.metadata\.json$/.test(f)))
        continue;
      const known = Object.values(lakeTables).find((t) => t.namespace === namespace && t.table === name);
      found.push(
        known ?? { name: `${namespace}.${name}`, namespace, table: name, doc: '', columns: [], partitionBy: [] },
      );
    }
  }
  return found;
}

export function snapshotIdOf(value: string | undefined): SnapshotId | undefined {
  return value === undefined || value === '' ? undefined : BigInt(value);
}

const dayMs = 86_400_000;

function partitionOf(spec: TableSpec, row: Record<string, unknown>): Record<string, number | null> {
  const partition: Record<string, number | null> = {};
  for (const field of spec.partitionBy) {
    const source = spec.columns.find((c) => c.id === field.sourceId)!;
    const value = row[source.name] as number | null;
    partition[field.name] = value === null ? null : field.transform === 'day' ? Math.floor(value / dayMs) : value;
  }
  return partition;
}

/** 2023-10-13, as Iceberg names day partitions; a day outside years 0000-9999 by its number. */
function dayText(day: number): string {
  const ms = day * dayMs;
  return ms >= -62167219200000 && ms < 253402300800000 ? new Date(ms).toISOString().slice(0, 10) : `day-${day}`;
}

function partitionPath(spec: TableSpec, partition: Record<string, number | null>): string {
  return spec.partitionBy
    .map((field) => {
      const value = partition[field.name];
      const text = value === null ? 'null' : field.transform === 'day' ? dayText(value) : String(value);
      return `${field.name}=${text}`;
    })
    .join('/');
}

/**
 * Writes rows into new data files of a table (under `<table>/data/`, partitioned as the table is,
 * at most `fileRows` rows a file) and returns them for a commit. Until then they are not part of the
 * table; `abort()` removes them.
 */
export class DataFileWriter<Cs extends readonly ColumnSpec[]> {
  private readonly open = new Map<
    string,
    { sink: ParquetSink<Cs> | OffThreadSink<Cs>; partition: Record<string, number | null> }
  >();
  private readonly written: DataFile[] = [];
  private readonly runId = randomUUID();
  private count = 0;
  private total = 0;

  constructor(
    private readonly table: LoadedTable,
    private readonly columns: Cs,
    private readonly rowGroupSize: number,
    private readonly fileRows: number,
    /** Rows with different keys go to different files (bronze: one file per Kafka partition). */
    private readonly splitBy?: (row: Row<Cs>) => string | number,
    /** Encode on the parquet worker thread (same bytes): for the jobs that write many rows. */
    private readonly offThread = false,
  ) {
    if (offThread) startParquetWorker(rowGroupSize);
  }

  get rows(): number {
    return this.total;
  }

  get files(): readonly DataFile[] {
    return this.written;
  }

  write(row: Row<Cs>): void {
    const partition = partitionOf(this.table.spec, row as Record<string, unknown>);
    // Keyed by the partition values themselves; the path (a date's text) only when a file opens.
    let key = this.splitBy ? String(this.splitBy(row)) : '';
    for (const field of this.table.spec.partitionBy) key += `\0${partition[field.name]}`;
    let file = this.open.get(key);
    if (!file) {
      const name = `${String(this.count++).padStart(5, '0')}-${this.runId}.parquet`;
      const directory = path.join(this.table.dir, 'data', partitionPath(this.table.spec, partition));
      const Sink = this.offThread ? OffThreadSink : ParquetSink;
      file = { sink: new Sink(path.join(directory, name), this.columns, this.rowGroupSize), partition };
      this.open.set(key, file);
    }
    file.sink.write(row);
    this.total++;
    if (file.sink.rows >= this.fileRows) this.closeFile(key);
  }

  private closeFile(key: string): void {
    const file = this.open.get(key);
    if (!file) return;
    this.written.push(file.sink.close(file.partition));
    this.open.delete(key);
  }

  /** Closes the files being written (e.g. once a partition is done); later rows start new ones. */
  closeOpenFiles(): void {
    for (const key of [...this.open.keys()]) this.closeFile(key);
  }

  /** Closes every file; returns all files written. */
  finish(): readonly DataFile[] {
    this.closeOpenFiles();
    return this.written;
  }

  /** Removes every file of this writer: for a run that will not commit them. */
  abort(): void {
    for (const { sink } of this.open.values()) sink.abort();
    this.open.clear();
    for (const file of this.written) fs.rmSync(localPath(file.path), { force: true });
  }
}
