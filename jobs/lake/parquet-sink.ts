import fs from 'node:fs';
import path from 'node:path';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Writer } from 'hyparquet-writer';
import { publishFile, temporaryName } from './atomic.ts';
import { partFileName } from './paths.ts';
import { parquetSchema, type ColumnSpec, type Row } from './table-schema.ts';

/** hyparquet-writer's Writer over a file descriptor: the buffer is drained after every row group. */
function descriptorWriter(fd: number): Writer {
  const writer = new ByteWriter(1 << 20) as ByteWriter & Writer & { index: number };
  const drain = () => {
    let written = 0;
    const bytes = new Uint8Array(writer.buffer, 0, writer.index);
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    writer.index = 0;
  };
  writer.flush = drain;
  writer.finish = drain;
  return writer;
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
  return spec.freeText ? { name: spec.name, data, encoding: 'PLAIN' as const, statistics: false } : { name: spec.name, data };
}

/**
 * Streams rows into one Parquet file: rows are buffered column by column up to `rowGroupSize`,
 * then encoded and written as a row group, so memory is bounded by one row group whatever the
 * number of rows. The file appears under its final name only after `close()` has fsynced it.
 */
export class ParquetSink<Cs extends readonly ColumnSpec[]> {
  private readonly fd: number;
  private readonly temporaryPath: string;
  private readonly writer: ParquetWriter;
  private columns: unknown[][];
  private pending = 0;
  private total = 0;

  constructor(
    private readonly directory: string,
    private readonly specs: Cs,
    private readonly rowGroupSize: number,
  ) {
    this.temporaryPath = temporaryName(path.join(directory, 'part.parquet'));
    this.fd = fs.openSync(this.temporaryPath, 'w');
    this.writer = new ParquetWriter({ writer: descriptorWriter(this.fd), // hyparquet-writer bundles its own copy of hyparquet's types
      schema: parquetSchema(specs) as never,
      createdBy: 'lakehouse' });
    this.columns = specs.map(() => []);
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

  private flushRowGroup(): void {
    if (this.pending === 0) return;
    const columnData = this.specs.map((spec, i) => columnSource(spec, this.columns[i]));
    this.writer.write({ columnData, rowGroupSize: this.pending });
    this.columns = this.specs.map(() => []);
    this.pending = 0;
  }

  /** Writes the footer, fsyncs and publishes the file as `fileName`; returns its final path. */
  close(fileName: string): string {
    this.flushRowGroup();
    this.writer.finish();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    const finalPath = path.join(this.directory, fileName);
    publishFile(this.temporaryPath, finalPath);
    return finalPath;
  }

  /** Drops the unfinished file. */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.temporaryPath, { force: true });
  }
}

/** Rows spread over `part-00000.parquet`, `part-00001.parquet`, … of at most `fileRows` rows each. */
export class PartitionedParquetSink<Cs extends readonly ColumnSpec[]> {
  private current: ParquetSink<Cs> | undefined;
  private readonly written: string[] = [];
  private total = 0;

  constructor(
    private readonly directory: string,
    private readonly specs: Cs,
    private readonly rowGroupSize: number,
    private readonly fileRows: number,
  ) {}

  get rows(): number {
    return this.total;
  }

  write(row: Row<Cs>): void {
    this.current ??= new ParquetSink(this.directory, this.specs, this.rowGroupSize);
    this.current.write(row);
    this.total++;
    if (this.current.rows >= this.fileRows) this.closeCurrent();
  }

  private closeCurrent(): void {
    if (!this.current) return;
    this.written.push(this.current.close(partFileName(this.written.length)));
    this.current = undefined;
  }

  /** Publishes the last file; a table with no rows still gets one (empty) file carrying its schema. */
  close(): string[] {
    if (!this.current && this.written.length === 0) this.current = new ParquetSink(this.directory, this.specs, this.rowGroupSize);
    this.closeCurrent();
    return this.written;
  }

  abort(): void {
    this.current?.abort();
  }
}
