import fs from 'node:fs';
import path from 'node:path';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Writer } from 'hyparquet-writer';
import { ColumnStats } from './iceberg/column-stats.ts';
import { addPageChecksums } from './page-checksums.ts';
import { lakehouseCreatedBy } from './parquet-check.ts';
import type { DataFile } from './iceberg/manifest.ts';
import { fileUri } from './io/local-file-io.ts';
import { parquetSchema, type ColumnSpec, type Row } from './table-schema.ts';

type BufferedWriter = ByteWriter & Writer & { index: number; offset: number };

/**
 * hyparquet-writer's Writer over a file descriptor. Its buffer holds what was encoded since the last
 * drain; `drain` writes it out, first giving `seal` the chance to rewrite it (the page checksums).
 */
function descriptorWriter(fd: number): {
  writer: BufferedWriter;
  drain: (seal?: (bytes: Uint8Array, base: number) => Uint8Array) => void;
} {
  const writer = new ByteWriter(1 << 20) as BufferedWriter;
  const drain = (seal?: (bytes: Uint8Array, base: number) => Uint8Array) => {
    const buffered = new Uint8Array(writer.buffer, 0, writer.index);
    const bytes = seal ? seal(buffered, writer.offset - writer.index) : buffered;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    writer.offset += bytes.length - buffered.length;
    writer.index = 0;
  };
  writer.finish = () => drain();
  return { writer, drain };
}

// hyparquet-writer takes INT64 values as bigint; the lake's longs are safe integers and its
// timestamps epoch milliseconds, stored as Iceberg's microseconds.
function encodeValues(spec: ColumnSpec, values: unknown[]): never {
  if (spec.type !== 'long' && spec.type !== 'timestamptz') return values as never;
  const scale = spec.type === 'timestamptz' ? 1000n : 1n;
  if (spec.nullable) return values.map((v) => (v === null ? null : BigInt(v as number) * scale)) as never;
  const encoded = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) encoded[i] = BigInt(values[i] as number) * scale;
  return encoded as never;
}

function columnSource(spec: ColumnSpec, values: unknown[]) {
  const data = encodeValues(spec, values);
  return spec.freeText
    ? { name: spec.name, data, encoding: 'PLAIN' as const, statistics: false }
    : { name: spec.name, data };
}

/**
 * Streams rows into one Parquet data file of an Iceberg table: rows are buffered column by column
 * up to `rowGroupSize`, then encoded and written as a row group, so memory is bounded by one row
 * group whatever the number of rows. `close()` fsyncs the file and describes it for a manifest
 * (record count, size, value and null counts, bounds); the file is part of the table only once a
 * snapshot that lists it is committed.
 */
export class ParquetSink<Cs extends readonly ColumnSpec[]> {
  private readonly fd: number;
  private readonly writer: ParquetWriter;
  private readonly drain: ReturnType<typeof descriptorWriter>['drain'];
  private sealedGroups = 0;
  private readonly stats: ColumnStats[];
  private columns: unknown[][];
  private pending = 0;
  private total = 0;

  constructor(
    readonly filePath: string,
    private readonly specs: Cs,
    private readonly rowGroupSize: number,
  ) {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    this.fd = fs.openSync(filePath, 'wx');
    const { writer, drain } = descriptorWriter(this.fd);
    this.drain = drain;
    this.writer = new ParquetWriter({
      writer, // hyparquet-writer bundles its own copy of hyparquet's types
      schema: parquetSchema(specs) as never,
      createdBy: lakehouseCreatedBy,
    });
    this.columns = specs.map(() => []);
    this.stats = specs.map((spec) => new ColumnStats(spec));
  }

  get rows(): number {
    return this.total;
  }

  write(row: Row<Cs>): void {
    const record = row as Record<string, unknown>;
    for (let i = 0; i < this.specs.length; i++) this.columns[i].push(record[this.specs[i].name]);
    this.pending++;
    this.total++;
    if (this.pending >= this.rowGroupSize) this.flushRowGroup();
  }

  /** Appends `count` rows given column by column (in the specs' order). */
  writeColumns(columns: readonly unknown[][], count: number): void {
    // Columns may be typed arrays (the parquet worker's numbers): taken as they are, or appended as values.
    if (this.pending === 0 && count <= this.rowGroupSize) {
      this.columns = columns.map((c) => c);
    } else {
      this.columns = this.columns.map((c, i) => [...c, ...columns[i]]);
    }
    this.pending += count;
    this.total += count;
    if (this.pending >= this.rowGroupSize) this.flushRowGroup();
  }

  private flushRowGroup(): void {
    if (this.pending === 0) return;
    for (let i = 0; i < this.specs.length; i++) this.stats[i].add(this.columns[i]);
    const columnData = this.specs.map((spec, i) => columnSource(spec, this.columns[i]));
    this.writer.write({ columnData, rowGroupSize: this.pending });
    // The new group's metadata and page indexes are only serialised by finish(): fix them up now.
    const groups = this.writer.row_groups.slice(this.sealedGroups);
    const indexes = this.writer.pendingIndexes.slice(-groups.reduce((n, g) => n + g.columns.length, 0));
    this.drain((bytes, base) => addPageChecksums(bytes, base, groups as never, indexes));
    this.sealedGroups = this.writer.row_groups.length;
    this.columns = this.specs.map(() => []);
    this.pending = 0;
  }

  /** Writes the footer and fsyncs; returns the file as a manifest lists it. */
  close(partition: Record<string, number | null> = {}): DataFile {
    this.flushRowGroup();
    this.writer.finish();
    fs.fsyncSync(this.fd);
    const size = fs.fstatSync(this.fd).size;
    fs.closeSync(this.fd);
    const columnSizes = new Map<number, number>();
    for (const group of this.writer.row_groups) {
      group.columns.forEach((chunk, i) => {
        const id = this.specs[i].id;
        columnSizes.set(id, (columnSizes.get(id) ?? 0) + Number(chunk.meta_data!.total_compressed_size));
      });
    }
    const valueCounts = new Map<number, number>();
    const nullValueCounts = new Map<number, number>();
    const lowerBounds = new Map<number, Uint8Array>();
    const upperBounds = new Map<number, Uint8Array>();
    for (const stats of this.stats) {
      valueCounts.set(stats.spec.id, stats.values);
      nullValueCounts.set(stats.spec.id, stats.nulls);
      const bounds = stats.bounds();
      if (bounds) {
        lowerBounds.set(stats.spec.id, bounds.lower);
        upperBounds.set(stats.spec.id, bounds.upper);
      }
    }
    return {
      path: fileUri(this.filePath),
      recordCount: this.total,
      fileSizeInBytes: size,
      partition,
      columnSizes,
      valueCounts,
      nullValueCounts,
      lowerBounds,
      upperBounds,
    };
  }

  /** Drops the unfinished file. */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.filePath, { force: true });
  }
}
