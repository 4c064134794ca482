import type { FileMetaData } from 'hyparquet';
import { ColumnStats, deserialise } from './iceberg/column-stats.ts';
import type { DataFile } from './iceberg/manifest.ts';
import type { TableFiles } from './io/table-files.ts';
import { checkPages, DamagedFileError, writtenByLakehouse, type PageCheck } from './parquet-check.ts';
import { openParquetBuffer, readColumnBatches, rowsOf, type ColumnBatch, type OpenedFile } from './parquet-source.ts';
import type { ColumnSpec, Row } from './table-schema.ts';

// Files already page-checked by this process (silver reads a bronze file twice).
const checked = new Map<string, PageCheck>();

/**
 * Opens a table's data file as its manifest entry describes it: present, of the recorded size,
 * record count and column sizes, every page whole (parquet-check). Throws DamagedFileError naming the file.
 */
export async function openDataFile(
  files: TableFiles,
  file: DataFile,
): Promise<OpenedFile & { readonly pages: PageCheck; readonly local: string }> {
  const uri = files.resolve(file.path, 'data file');
  const local = shown(uri);
  const stat = await files.stat(uri, 'data file');
  if (!stat) throw new DamagedFileError(local, 'it is missing');
  if (stat.size !== file.fileSizeInBytes)
    throw new DamagedFileError(local, `it has ${stat.size} bytes, the manifest says ${file.fileSizeInBytes}`);
  const input = await files.open(uri, 'data file');
  let opened: OpenedFile;
  try {
    opened = await openParquetBuffer(input);
  } catch (error) {
    throw new DamagedFileError(local, `it is not a readable Parquet file (${(error as Error).message})`);
  }
  const rows = Number(opened.metadata.num_rows);
  if (rows !== file.recordCount)
    throw new DamagedFileError(local, `it holds ${rows} rows, the manifest says ${file.recordCount}`);
  compareColumnSizes(local, file, opened.metadata);
  let pages = checked.get(uri);
  if (!pages) checked.set(uri, (pages = await checkPages(input, opened.metadata, local)));
  return { ...opened, pages, local };
}

/** A location as a person reads it: a volume's path without its `file:`. */
function shown(uri: string): string {
  return uri.startsWith('file:') ? uri.replace(/^file:(\/\/)?/, '') : uri;
}

/** Each column's bytes in the footer must be what the manifest recorded (a file of other content rarely matches). */
function compareColumnSizes(local: string, file: DataFile, metadata: FileMetaData): void {
  const ids = new Map(metadata.schema.slice(1).map((e) => [e.name, e.field_id]));
  const sizes = new Map<number, { name: string; bytes: number }>();
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const name = chunk.meta_data?.path_in_schema.join('.') ?? '';
      const id = ids.get(name);
      if (id === undefined) continue;
      sizes.set(id, { name, bytes: (sizes.get(id)?.bytes ?? 0) + Number(chunk.meta_data!.total_compressed_size) });
    }
  }
  for (const [id, listed] of file.columnSizes) {
    const found = sizes.get(id);
    if (found?.bytes !== listed)
      throw new DamagedFileError(
        local,
        `column ${found?.name ?? `with field id ${id}`} takes ${found?.bytes ?? 0} bytes, the manifest says ${listed}`,
      );
  }
}

/**
 * Reads the named columns of a table's data file, one row group at a time, after `openDataFile`.
 * As it reads, it counts values and nulls and takes the bounds of those columns; after the last row
 * group it compares them with the manifest's, so a valid Parquet file that is not the one the table
 * lists (swapped in, or rewritten with new checksums) fails naming the file before the caller
 * commits anything. The checksums cannot tell such a file; its statistics can, wherever they differ.
 */
export async function* readDataFile(
  files: TableFiles,
  file: DataFile,
  specs: readonly ColumnSpec[],
  columns: readonly string[],
): AsyncGenerator<ColumnBatch> {
  const opened = await openDataFile(files, file);
  const { local } = opened;
  const stats = columns.map((name) => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no column ${name} among ${specs.map((s) => s.name).join(', ')}`);
    return new ColumnStats(spec);
  });
  const batches = readColumnBatches(opened, columns);
  while (true) {
    let next: IteratorResult<ColumnBatch>;
    try {
      next = await batches.next();
    } catch (error) {
      throw new DamagedFileError(local, `it does not decode (${(error as Error).message})`);
    }
    if (next.done) break;
    for (const s of stats) s.add(next.value.columns[s.spec.name] as unknown[]);
    yield next.value;
  }
  const exact = writtenByLakehouse(opened.metadata);
  for (const s of stats) compareWithManifest(local, file, s, exact);
}

/** Rows of a table's data files, in file order, each file read as `readDataFile` reads it. */
export async function* readDataRows<Cs extends readonly ColumnSpec[]>(
  tableFiles: TableFiles,
  files: readonly DataFile[],
  specs: Cs,
): AsyncGenerator<Row<Cs>> {
  for (const file of files)
    yield* rowsOf(
      readDataFile(
        tableFiles,
        file,
        specs,
        specs.map((s) => s.name),
      ),
      specs,
    );
}

/**
 * The manifest's counts must be the file's. Its bounds must be the file's least and greatest values
 * for files this project wrote, and must contain them for other writers' (whose bounds may be
 * widened or truncated).
 */
function compareWithManifest(local: string, file: DataFile, stats: ColumnStats, exact: boolean): void {
  const { id, name, type } = stats.spec;
  const counts = [
    ['values', stats.values, file.valueCounts.get(id)],
    ['nulls', stats.nulls, file.nullValueCounts.get(id)],
  ] as const;
  for (const [what, found, listed] of counts) {
    if (listed !== undefined && found !== listed)
      throw new DamagedFileError(local, `column ${name} holds ${found} ${what}, the manifest says ${listed}`);
  }
  const lower = file.lowerBounds.get(id);
  const upper = file.upperBounds.get(id);
  const range = stats.range();
  if (!lower || !upper || !range) return;
  const [lo, hi] = [deserialise(type, lower), deserialise(type, upper)];
  const fits = exact ? range.min === lo && range.max === hi : lo <= range.min && range.max <= hi;
  if (!fits)
    throw new DamagedFileError(
      local,
      `column ${name} spans ${range.min}..${range.max}, the manifest says ${lo}..${hi}`,
    );
}
