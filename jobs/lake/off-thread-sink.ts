import {
  isMainThread,
  MessageChannel,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
  type MessagePort,
} from 'node:worker_threads';
import type { DataFile } from './iceberg/manifest.ts';
import { ParquetSink } from './parquet-sink.ts';
import type { ColumnSpec, Row } from './table-schema.ts';

/**
 * A ParquetSink whose encoding runs on a worker thread: the job's thread collects a row group's
 * columns and hands them over (binary columns packed into one transferred buffer), the worker
 * encodes and writes them with the same ParquetSink, so the files are the same bytes. Encoding a
 * row group (Parquet pages, snappy, statistics) was a quarter of bronze's and silver's time on the
 * thread that also fetches and validates. The API stays synchronous: `close` waits (Atomics) for
 * the worker, and at most `maxQueued` row groups wait for it, which bounds memory.
 */

type Message =
  | { op: 'open'; id: number; filePath: string; specs: readonly ColumnSpec[]; rowGroupSize: number }
  | { op: 'rows'; id: number; count: number; columns: PackedColumn[] }
  | { op: 'close'; id: number; partition: Record<string, number | null> }
  | { op: 'abort'; id: number };
type Reply = { id: number; file?: DataFile; error?: string };
type PackedColumn = { values: unknown[] | Float64Array } | { bytes: ArrayBuffer; ends: Int32Array };
type Column = unknown[] | BinaryColumn | NumberColumn;

const maxQueued = 2;
const stallMs = 120_000;
const WORKER_FLAG = 'lakehouseParquetSinkWorker';

interface Channel {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** [0]: messages the worker has handled. */
  readonly done: Int32Array;
  sent: number;
  nextId: number;
  /** Replies received while waiting for another sink's. */
  readonly replies: Map<number, Reply>;
}

let channel: Channel | undefined;

function openChannel(rowGroupSize: number): Channel {
  if (channel) return channel;
  // 24 MiB holds a few 10 000-row groups while they are encoded (bronze, silver at the default).
  const workerHeapMb = 24 * Math.max(1, Math.ceil(rowGroupSize / 10_000));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  // This very module is the worker's entry (in the bundle: the bundle, whose CLI stays idle in workers).
  // Its heap holds a few row groups at most: its own small ceiling keeps the job's memory flat
  // (the jobs' --max-old-space-size would otherwise apply to this heap too). Encoding a row group
  // makes much short-lived garbage: with 4 MiB of young generation, GC was 30 % of the worker's
  // time and the worker held bronze back; 16 MiB made bronze ~10 % and silver ~5 % faster for
  // ~10 MiB more RSS (npm run bench, 10^6 events).
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { [WORKER_FLAG]: true, done, port: port2 },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: workerHeapMb, maxYoungGenerationSizeMb: 16 },
  });
  worker.unref();
  port1.unref();
  channel = { worker, port: port1, done, sent: 0, nextId: 0, replies: new Map() };
  worker.on('error', (error) => {
    channel = undefined;
    process.stderr.write(`parquet worker failed: ${error.stack ?? error}\n`);
  });
  return channel;
}

function send(c: Channel, message: Message, transfer: ArrayBuffer[] = []): void {
  c.sent++;
  c.worker.postMessage(message, transfer);
}

/**
 * Blocks until at most `queued` messages are still unhandled; takes the replies that came in. A
 * worker that handles nothing for `stallMs` is taken as dead (out of memory, say): its exit event
 * cannot arrive while this thread waits.
 */
function waitFor(c: Channel, queued: number): void {
  let progressAt = Date.now();
  let last = Atomics.load(c.done, 0);
  for (;;) {
    const done = Atomics.load(c.done, 0);
    if (c.sent - done <= queued) break;
    if (done !== last) {
      last = done;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > stallMs) {
      throw new Error(
        `the parquet worker has written nothing for ${stallMs / 1000}s with ${c.sent - done} row groups waiting; nothing was committed`,
      );
    }
    Atomics.wait(c.done, 0, done, 1000);
  }
  for (let reply = receiveMessageOnPort(c.port); reply; reply = receiveMessageOnPort(c.port)) {
    const r = reply.message as Reply;
    c.replies.set(r.id, r);
  }
}

/**
 * A required numeric column's values of one row group in a Float64Array (every int, long and
 * timestamp the jobs write is a safe integer, so exactly), handed over without a copy: numbers in
 * plain arrays were an object each to clone, and most of the worker's garbage. A value that is not
 * a number turns it into a plain array, so that the writer refuses it as before.
 */
class NumberColumn {
  private numbers: Float64Array;
  private plain: unknown[] | undefined;
  private count = 0;

  constructor(rows: number) {
    this.numbers = new Float64Array(rows);
  }

  push(value: unknown): void {
    if (this.plain) this.plain.push(value);
    else if (typeof value === 'number' && this.count < this.numbers.length) this.numbers[this.count++] = value;
    else (this.plain = [...this.numbers.subarray(0, this.count)] as unknown[]).push(value);
  }

  packed(): { column: PackedColumn; transfer?: ArrayBuffer } {
    if (this.plain) return { column: { values: this.plain } };
    const values = this.numbers.subarray(0, this.count);
    return { column: { values }, transfer: values.buffer as ArrayBuffer };
  }
}

/** A binary column's values of one row group, copied as they come into one buffer to hand over. */
class BinaryColumn {
  private bytes: Uint8Array;
  private used = 0;
  private readonly ends: Int32Array;
  private count = 0;

  constructor(rows: number, capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 1024));
    this.ends = new Int32Array(rows);
  }

  push(value: Uint8Array | null): void {
    // ends[i] < 0 marks a null; otherwise the value is bytes[previous end .. ends[i]).
    if (value === null) {
      this.ends[this.count++] = -1 - this.used;
      return;
    }
    if (this.used + value.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + value.length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(value, this.used);
    this.used += value.length;
    this.ends[this.count++] = this.used;
  }

  get size(): number {
    return this.used;
  }

  packed(): { column: PackedColumn; transfer: ArrayBuffer } {
    return {
      column: { bytes: this.bytes.buffer as ArrayBuffer, ends: this.ends.subarray(0, this.count) },
      transfer: this.bytes.buffer as ArrayBuffer,
    };
  }
}

function unpack(column: PackedColumn): unknown[] {
  if ('values' in column) return column.values as unknown[];
  const bytes = new Uint8Array(column.bytes);
  const values = new Array<Uint8Array | null>(column.ends.length);
  let start = 0;
  for (let i = 0; i < values.length; i++) {
    const end = column.ends[i];
    if (end < 0) {
      values[i] = null;
      start = -1 - end;
      continue;
    }
    values[i] = bytes.subarray(start, end);
    start = end;
  }
  return values;
}

/** Starts the worker now (it loads the job's code, a few hundred ms) so that it is ready by the first row group. */
export function startParquetWorker(rowGroupSize: number): void {
  openChannel(rowGroupSize);
}

export class OffThreadSink<Cs extends readonly ColumnSpec[]> {
  private readonly channel: Channel;
  private readonly id: number;
  private columns: Column[];
  private pending = 0;
  private total = 0;
  private closed = false;

  constructor(
    readonly filePath: string,
    private readonly specs: Cs,
    private readonly rowGroupSize: number,
  ) {
    this.channel = openChannel(rowGroupSize);
    this.id = this.channel.nextId++;
    this.columns = this.freshColumns([]);
    send(this.channel, { op: 'open', id: this.id, filePath, specs, rowGroupSize });
  }

  get rows(): number {
    return this.total;
  }

  /** Binary values are copied at once: the caller may reuse or drop its buffers. */
  write(row: Row<Cs>): void {
    const record = row as Record<string, unknown>;
    for (let i = 0; i < this.specs.length; i++)
      (this.columns[i] as { push(v: unknown): void }).push(record[this.specs[i].name]);
    this.pending++;
    this.total++;
    if (this.pending >= this.rowGroupSize) this.handOver();
  }

  private freshColumns(previous: Column[]): Column[] {
    return this.specs.map((spec, i) => {
      if (spec.type !== 'binary')
        return !spec.nullable && spec.type !== 'string' ? new NumberColumn(this.rowGroupSize) : [];
      const before = previous[i];
      return new BinaryColumn(this.rowGroupSize, before instanceof BinaryColumn ? before.size : 0);
    });
  }

  private handOver(): void {
    if (this.pending === 0) return;
    const transfer: ArrayBuffer[] = [];
    const columns = this.columns.map((column): PackedColumn => {
      if (Array.isArray(column)) return { values: column };
      const packed = column.packed();
      if (packed.transfer) transfer.push(packed.transfer);
      return packed.column;
    });
    send(this.channel, { op: 'rows', id: this.id, count: this.pending, columns }, transfer);
    this.columns = this.freshColumns(this.columns);
    this.pending = 0;
    waitFor(this.channel, maxQueued);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    const reply = this.channel.replies.get(this.id);
    if (reply?.error) {
      this.channel.replies.delete(this.id);
      throw new Error(`writing ${this.filePath} failed: ${reply.error}`);
    }
  }

  /** Waits for the worker to write the footer and fsync; returns the file as a manifest lists it. */
  close(partition: Record<string, number | null> = {}): DataFile {
    return this.closeLater(partition)();
  }

  /**
   * Hands the last rows and the close to the worker without waiting for it: the caller goes on
   * (silver reads and de-duplicates the next day) while the worker finishes this file. The returned
   * function waits for the worker and returns the file as a manifest lists it; `abort` still drops it.
   */
  closeLater(partition: Record<string, number | null> = {}): () => DataFile {
    this.handOver();
    send(this.channel, { op: 'close', id: this.id, partition });
    return () => this.awaitClose();
  }

  private awaitClose(): DataFile {
    waitFor(this.channel, 0);
    // The reply is posted just before the worker counts the message as handled.
    for (let spins = 0; !this.channel.replies.has(this.id) && spins < 1000; spins++) waitFor(this.channel, 0);
    this.throwIfFailed();
    const reply = this.channel.replies.get(this.id);
    this.channel.replies.delete(this.id);
    if (!reply?.file) throw new Error(`the parquet worker did not close ${this.filePath}`);
    // A file that failed stays to be aborted (removed) by the worker.
    this.closed = true;
    // Buffers, as the in-thread sink gives them (a structured clone makes them plain Uint8Arrays).
    const asBuffers = (bounds: ReadonlyMap<number, Uint8Array>) =>
      new Map([...bounds].map(([id, b]) => [id, Buffer.from(b.buffer, b.byteOffset, b.byteLength)]));
    return {
      ...reply.file,
      lowerBounds: asBuffers(reply.file.lowerBounds),
      upperBounds: asBuffers(reply.file.upperBounds),
    };
  }

  /** Drops the unfinished file (waits until the worker removed it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    send(this.channel, { op: 'abort', id: this.id });
    waitFor(this.channel, 0);
    this.channel.replies.delete(this.id);
  }
}

function serve(done: Int32Array, port: MessagePort): void {
  const sinks = new Map<number, ParquetSink<readonly ColumnSpec[]>>();
  const failed = new Set<number>();
  const handle = (message: Message): Reply | undefined => {
    if (message.op === 'open') {
      sinks.set(message.id, new ParquetSink(message.filePath, message.specs, message.rowGroupSize));
      return undefined;
    }
    const sink = sinks.get(message.id);
    if (message.op === 'abort') {
      sink?.abort();
      sinks.delete(message.id);
      failed.delete(message.id);
      return undefined;
    }
    if (!sink || failed.has(message.id)) return undefined;
    if (message.op === 'rows') {
      sink.writeColumns(message.columns.map(unpack), message.count);
      return undefined;
    }
    sinks.delete(message.id);
    return { id: message.id, file: sink.close(message.partition) };
  };
  parentPort!.on('message', (message: Message) => {
    try {
      const reply = handle(message);
      if (reply) port.postMessage(reply);
    } catch (error) {
      failed.add(message.id);
      port.postMessage({ id: message.id, error: (error as Error).message } satisfies Reply);
    }
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
  });
}

/** True in the parquet worker: the CLI must not run there. */
export const isParquetWorker =
  !isMainThread && Boolean((workerData as Record<string, unknown> | undefined)?.[WORKER_FLAG]);

if (isParquetWorker) {
  const data = workerData as { done: Int32Array; port: MessagePort };
  serve(data.done, data.port);
}
