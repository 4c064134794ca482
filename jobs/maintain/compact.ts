import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type LoadedTable, mayRemoveFilesAfter } from '../lake/catalog/catalog.ts';
import { deserialise } from '../lake/iceberg/column-stats.ts';
import type { DataFile } from '../lake/iceberg/manifest.ts';
import { currentSchema, lineage } from '../lake/iceberg/metadata.ts';
import type { OutputFile } from '../lake/io/file-io.ts';
import { consumedSnapshots, type Consumed } from '../lake/lineage.ts';
import { liveFiles, replaceFiles, type LiveFile } from '../lake/iceberg/table.ts';
import { headOf } from '../lake/lake.ts';
import { readDataFile } from '../lake/data-file-source.ts';
import { ParquetSink } from '../lake/parquet-sink.ts';
import {
  changeOnlyKeys,
  lakeTables,
  summaryKeys,
  tables,
  type ColumnSpec,
  type IcebergType,
} from '../lake/table-schema.ts';

export interface CompactionPlan {
  /** Groups of small files, each rewritten into as few files of up to `fileRows` rows as hold them. */
  readonly groups: readonly LiveFile[][];
  readonly liveFiles: number;
}

const writable: readonly IcebergType[] = ['string', 'binary', 'int', 'long', 'double', 'timestamptz'];

/** The table's current columns, as the Parquet writer takes them; undefined when one has a type it does not write. */
export function columnsOf(table: LoadedTable): ColumnSpec[] | undefined {
  const known = Object.values(lakeTables).find((t) => t.name === table.spec.name)?.columns ?? [];
  const columns = currentSchema(table.metadata).fields.map((f) => ({
    id: f.id,
    name: f.name,
    type: f.type as IcebergType,
    nullable: !f.required,
    doc: f.doc ?? '',
    freeText: known.find((c) => c.id === f.id)?.freeText,
  }));
  return columns.every((c) => writable.includes(c.type)) ? columns : undefined;
}

/** Bronze keeps one Kafka partition per file (its lower and upper bounds are equal), in offset order. */
function kafkaPartitionOf(table: LoadedTable, file: DataFile): string {
  if (table.spec.name !== tables.bronze.name) return '';
  const lower = file.lowerBounds.get(4);
  const upper = file.upperBounds.get(4);
  if (!lower || !upper) return 'unknown';
  const [a, b] = [deserialise('int', lower), deserialise('int', upper)];
  return a === b ? String(a) : 'mixed';
}

const firstOffset = (file: DataFile) => {
  const lower = file.lowerBounds.get(5);
  return lower ? deserialise('long', lower) : 0;
};

/**
 * The small files worth rewriting: per partition (and, for bronze, per Kafka partition), the files
 * below `fileRows` rows whose rows fit in fewer files, among those the table's reader has consumed
 * (it reads the files of new snapshots, which a compaction must leave where they are).
 */
export async function planCompaction(
  table: LoadedTable,
  consumed: Consumed,
  fileRows: number,
): Promise<CompactionPlan> {
  const head = headOf(table);
  if (!head) return { groups: [], liveFiles: 0 };
  const live = await liveFiles(table, head);
  const isConsumed = consumedSnapshots(table.metadata, consumed);
  const order = new Map(
    lineage(table.metadata)
      .reverse()
      .map((s, i) => [s['snapshot-id'], i]),
  );
  const byGroup = new Map<string, LiveFile[]>();
  for (const f of live) {
    if (f.file.recordCount >= fileRows || !isConsumed(f.addedBy)) continue;
    const key = JSON.stringify(f.file.partition) + '\0' + kafkaPartitionOf(table, f.file);
    byGroup.set(key, [...(byGroup.get(key) ?? []), f]);
  }
  const groups: LiveFile[][] = [];
  for (const files of byGroup.values()) {
    const rows = files.reduce((n, f) => n + f.file.recordCount, 0);
    if (files.length < 2 || Math.ceil(rows / fileRows) >= files.length) continue;
    const bronze = table.spec.name === tables.bronze.name;
    files.sort(
      (a, b) =>
        (bronze ? firstOffset(a.file) - firstOffset(b.file) : 0) ||
        (order.get(a.addedBy) ?? -1) - (order.get(b.addedBy) ?? -1) ||
        a.file.path.localeCompare(b.file.path),
    );
    groups.push(files);
  }
  return { groups, liveFiles: live.length };
}

/** A value the writer cannot write back exactly (a sub-millisecond timestamp, a long beyond 2^53). */
class NotExact extends Error {}

function check(column: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if ((column.type === 'timestamptz' || column.type === 'long') && !Number.isSafeInteger(value)) {
    throw new NotExact(`column ${column.name} holds ${String(value)}, which the Node writer cannot write back exactly`);
  }
  return value;
}

/** A file compaction wrote: what a manifest records of it, and where it is being written. */
interface Written {
  readonly file: DataFile;
  readonly output: OutputFile;
}

/** Writes the rows of one group's files, in order, into new files of up to `fileRows` rows next to them. */
async function rewriteGroup(
  table: LoadedTable,
  files: readonly LiveFile[],
  columns: readonly ColumnSpec[],
  fileRows: number,
  rowGroupSize: number,
  written: Written[],
): Promise<void> {
  const directory = path.posix.dirname(table.files.relative(files[0].file.path, 'data file'));
  const partition = files[0].file.partition as Record<string, number | null>;
  const names = columns.map((c) => c.name);
  let open: { sink: ParquetSink<readonly ColumnSpec[]>; output: OutputFile } | undefined;
  const run = randomUUID();
  const close = () => {
    written.push({ file: { ...open!.sink.close(partition), path: open!.output.uri }, output: open!.output });
    open = undefined;
  };
  try {
    for (const { file } of files) {
      // Through the checked reader: a damaged file must fail here, not be copied under fresh checksums.
      for await (const { rows, columns: batch } of readDataFile(table.files, file, columns, names)) {
        for (let i = 0; i < rows; i++) {
          if (!open) {
            const output = table.files.output(
              `${directory}/${String(written.length).padStart(5, '0')}-compacted-${run}.parquet`,
            );
            open = { sink: new ParquetSink(output.localPath, columns, rowGroupSize), output };
          }
          const row: Record<string, unknown> = {};
          for (const column of columns) row[column.name] = check(column, batch[column.name][i]);
          open.sink.write(row as never);
          if (open.sink.rows >= fileRows) close();
        }
      }
    }
    if (open) close();
  } catch (error) {
    open?.sink.abort();
    await open?.output.discard();
    throw error;
  }
}

export interface CompactionResult {
  readonly table: LoadedTable;
  readonly removed: number;
  readonly added: number;
  /** Why the table was not compacted, when it was not. */
  readonly skipped?: string;
}

/**
 * Rewrites the plan's groups and commits the result as one `replace` snapshot that carries the
 * state its parent's summary records. On any failure (a commit lost to another writer included)
 * the new files are removed and the error is thrown.
 */
export async function compact(
  table: LoadedTable,
  plan: CompactionPlan,
  fileRows: number,
  rowGroupSize: number,
): Promise<CompactionResult> {
  if (plan.groups.length === 0) return { table, removed: 0, added: 0 };
  const columns = columnsOf(table);
  if (!columns) return { table, removed: 0, added: 0, skipped: 'a column has a type the Node writer does not write' };
  const written: Written[] = [];
  const removed = plan.groups.flat().map((f) => f.file);
  try {
    for (const group of plan.groups) await rewriteGroup(table, group, columns, fileRows, rowGroupSize, written);
    const added = written.map((w) => w.file);
    const rows = (files: readonly DataFile[]) => files.reduce((n, f) => n + f.recordCount, 0);
    if (rows(added) !== rows(removed))
      throw new Error(`${table.spec.name}: compaction wrote ${rows(added)} rows for ${rows(removed)}`);
    for (const { output } of written) await output.publish();
    const carried = Object.fromEntries(
      Object.entries(headOf(table)!.summary).filter(
        ([key]) => key.startsWith('lakehouse.') && !changeOnlyKeys.includes(key),
      ),
    );
    const committed = await replaceFiles(table, removed, added, {
      ...carried,
      [summaryKeys.writer]: 'node maintain',
    });
    return { table: committed, removed: removed.length, added: written.length };
  } catch (error) {
    if (mayRemoveFilesAfter(error)) for (const { output } of written) await output.discard();
    if (error instanceof NotExact) return { table, removed: 0, added: 0, skipped: error.message };
    throw error;
  }
}
