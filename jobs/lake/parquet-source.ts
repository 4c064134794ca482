import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ColumnSpec, Row } from './table-schema.ts';

// Timestamps as epoch milliseconds (the jobs' unit); binary columns stay bytes (utf8: false above,
// strings are still decoded through their STRING annotation). hyparquet keeps its other defaults.
const parsers = { timestampFromMicroseconds: (micros: bigint) => Number(micros) / 1000 };

/** A Parquet file's bytes and its parsed footer. */
export type OpenedFile = { readonly buffer: AsyncBuffer; readonly metadata: FileMetaData };

/** A local Parquet file (tests, tools); a table's data files are opened through its files (data-file-source.ts). */
export async function openParquet(file: string): Promise<OpenedFile> {
  return openParquetBuffer(await asyncBufferFromFile(file));
}

export async function openParquetBuffer(buffer: AsyncBuffer): Promise<OpenedFile> {
  return { buffer, metadata: await parquetMetadataAsync(buffer) };
}

/** Columns of one row group, by name; INT64 values are converted to numbers. */
export type ColumnBatch = { readonly rows: number; readonly columns: Record<string, ArrayLike<unknown>> };

/**
 * Reads a Parquet file one row group at a time, only the named columns, so memory is bounded by
 * one row group of those columns whatever the size of the file. A column the file does not have
 * (it was written before the column was added to the table) reads as nulls.
 */
export async function* readColumnBatches(
  file: string | OpenedFile,
  columns: readonly string[],
): AsyncGenerator<ColumnBatch> {
  const { buffer, metadata } = typeof file === 'string' ? await openParquet(file) : file;
  const present = new Set(metadata.schema.slice(1).map((e) => e.name));
  const read = columns.filter((c) => present.has(c));
  // Other writers' codecs too (Iceberg's Java writers default to zstd), not only the snappy ours use.
  const scan = await parquetScan({ file: buffer, metadata, columns: read, utf8: false, parsers, compressors });
  for (const range of scan.ranges) {
    const batch: Record<string, ArrayLike<unknown>> = {};
    for (const column of columns) {
      batch[column] = present.has(column)
        ? toNumbers(await scan.readColumn({ column, rowStart: range.rowStart, rowEnd: range.rowEnd }))
        : new Array(range.rowEnd - range.rowStart).fill(null);
    }
    yield { rows: range.rowEnd - range.rowStart, columns: batch };
  }
}

/** Rows of the given table from several files, in file order, row group by row group. */
export async function* readRows<Cs extends readonly ColumnSpec[]>(
  files: readonly string[],
  specs: Cs,
): AsyncGenerator<Row<Cs>> {
  for (const file of files)
    yield* rowsOf(
      readColumnBatches(
        file,
        specs.map((s) => s.name),
      ),
      specs,
    );
}

/** The rows of a stream of column batches holding every column of `specs`. */
export async function* rowsOf<Cs extends readonly ColumnSpec[]>(
  batches: AsyncIterable<ColumnBatch>,
  specs: Cs,
): AsyncGenerator<Row<Cs>> {
  const names = specs.map((s) => s.name);
  for await (const batch of batches) {
    for (let i = 0; i < batch.rows; i++) {
      const row: Record<string, unknown> = {};
      for (const name of names) row[name] = batch.columns[name][i] ?? null;
      yield row as Row<Cs>;
    }
  }
}

function toNumbers(values: ArrayLike<unknown>): ArrayLike<unknown> {
  if (values instanceof BigInt64Array) return Array.from(values, Number);
  if (Array.isArray(values) && values.some((v) => typeof v === 'bigint')) {
    return values.map((v) => (typeof v === 'bigint' ? Number(v) : v));
  }
  return values;
}
