import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LoadedTable } from '../lake/iceberg/catalog.ts';
import { deserialise } from '../lake/iceberg/column-stats.ts';
import { localPath, type DataFile } from '../lake/iceberg/manifest.ts';
import { currentSchema, lineage } from '../lake/iceberg/metadata.ts';
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
import { consumedSnapshots, type Consumed } from './downstream.ts';

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
  const isConsumed = consumedSnapshots(table, consumed);
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

/** Writes the rows of one group's files, in order, into new files of up to `fileRows` rows next to them. */
async function rewriteGroup(
  files: readonly LiveFile[],
  columns: readonly ColumnSpec[],
  fileRows: number,
  rowGroupSize: number,
  written: DataFile[],
): Promise<void> {
  const directory = path.dirname(localPath(files[0].file.path));
  const partition = files[0].file.partition as Record<string, number | null>;
  const names = columns.map((c) => c.name);
  let sink: ParquetSink<readonly ColumnSpec[]> | undefined;
  const run = randomUUID();
  try {
    for (const { file } of files) {
      // Through the checked reader: a damaged file must fail here, not be copied under fresh checksums.
      for await (const { rows, columns: batch } of readDataFile(file, columns, names)) {
        for (let i = 0; i < rows; i++) {
          sink ??= new ParquetSink(
            path.join(directory, `${String(written.length).padStart(5, '0')}-compacted-${run}.parquet`),
            columns,
            rowGroupSize,
          );
          const row: Record<string, unknown> = {};
          for (const column of columns) row[column.name] = check(column, batch[column.name][i]);
          sink.write(row as never);
          if (sink.rows >= fileRows) {
            written.push(sink.close(partition));
            sink = undefined;
          }
        }
      }
    }
    if (sink) written.push(sink.close(partition));
  } catch (error) {
    sink?.abort();
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
  const written: DataFile[] = [];
  const removed = plan.groups.flat().map((f) => f.file);
  try {
    for (const group of plan.groups) await rewriteGroup(group, columns, fileRows, rowGroupSize, written);
    const rows = (files: readonly DataFile[]) => files.reduce((n, f) => n + f.recordCount, 0);
    if (rows(written) !== rows(removed))
      throw new Error(`${table.spec.name}: compaction wrote ${rows(written)} rows for ${rows(removed)}`);
    const carried = Object.fromEntries(
      Object.entries(headOf(table)!.summary).filter(
        ([key]) => key.startsWith('lakehouse.') && !changeOnlyKeys.includes(key),
      ),
    );
    const committed = await replaceFiles(table, removed, written, {
      ...carried,
      [summaryKeys.writer]: 'node maintain',
    });
    return { table: committed, removed: removed.length, added: written.length };
  } catch (error) {
    for (const file of written) fs.rmSync(localPath(file.path), { force: true });
    if (error instanceof NotExact) return { table, removed: 0, added: 0, skipped: error.message };
    throw error;
  }
}
