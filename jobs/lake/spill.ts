import fs from 'node:fs';
import path from 'node:path';

/** A validated event with where it came from, as silver keeps it. */
export interface SourcedEvent {
  vehicleId: string;
  type: string;
  latitude: number;
  longitude: number;
  battery: number;
  eventTime: number;
  partition: number;
  offset: number;
  /** Already in silver (from an earlier run): it always wins over a new event with its key. */
  existing: boolean;
}

const bufferBytes = 16 * 1024;
const fixedBytes = 4 + 1 + 2 + 8 + 8 + 4 + 8 + 4 + 8;

/**
 * Spill files keyed by a number (silver uses the event's day, then a hash within a crowded day):
 * events with the same (vehicle, time) always share a key, so de-duplication needs one key's
 * events in memory at a time. Files are appended to and closed on every drain, so any number of
 * keys works without running out of file descriptors.
 */
export class EventSpill {
  private readonly buffers = new Map<number, { buffer: Buffer; used: number }>();
  private readonly counts = new Map<number, number>();
  // Types are few (a setting lists them): each is written as its number in the order first seen.
  private readonly typeIds = new Map<string, number>();
  private readonly typeNames: string[] = [];

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private filePath(key: number): string {
    return path.join(this.dir, `bucket-${key}.bin`);
  }

  /** Keys holding events, ascending, with how many each holds. */
  keys(): [number, number][] {
    return [...this.counts].sort((a, b) => a[0] - b[0]);
  }

  add(key: number, event: SourcedEvent): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const idBytes = Buffer.byteLength(event.vehicleId);
    const size = fixedBytes + idBytes;
    let slot = this.buffers.get(key);
    if (!slot) this.buffers.set(key, (slot = { buffer: Buffer.allocUnsafe(Math.max(bufferBytes, size)), used: 0 }));
    if (slot.used + size > slot.buffer.length) {
      this.drain(key);
      if (size > slot.buffer.length) slot.buffer = Buffer.allocUnsafe(size);
    }
    const buffer = slot.buffer;
    let at = slot.used;
    at = buffer.writeUInt32LE(idBytes, at);
    at += buffer.write(event.vehicleId, at);
    at = buffer.writeUInt8(event.existing ? 1 : 0, at);
    at = buffer.writeUInt16LE(this.typeId(event.type), at);
    at = buffer.writeDoubleLE(event.latitude, at);
    at = buffer.writeDoubleLE(event.longitude, at);
    at = buffer.writeInt32LE(event.battery, at);
    at = buffer.writeDoubleLE(event.eventTime, at);
    at = buffer.writeInt32LE(event.partition, at);
    at = buffer.writeDoubleLE(event.offset, at);
    slot.used = at;
  }

  private typeId(type: string): number {
    let id = this.typeIds.get(type);
    if (id === undefined) {
      if (this.typeNames.length > 0xffff) throw new Error('more than 65536 vehicle types in one silver run');
      this.typeIds.set(type, (id = this.typeNames.push(type) - 1));
    }
    return id;
  }

  private drain(key: number): void {
    const slot = this.buffers.get(key);
    if (!slot || slot.used === 0) return;
    fs.appendFileSync(this.filePath(key), slot.buffer.subarray(0, slot.used));
    slot.used = 0;
  }

  /** Writes every buffer out; then keys can be read back, one at a time. */
  finish(): void {
    for (const key of this.buffers.keys()) this.drain(key);
    this.buffers.clear();
  }

  /** The events of one key, in the order they were added. */
  *read(key: number): Generator<SourcedEvent> {
    const records = this.records(key);
    for (let at = 0; at < records.length; at = nextRecord(records, at)) yield this.eventAt(records, at);
  }

  /**
   * One key's records as written, for a caller that keeps positions rather than events (silver's
   * de-duplication: a day's events as objects were most of its memory and garbage).
   */
  records(key: number): Buffer {
    const file = this.filePath(key);
    return fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
  }

  /** Calls `visit` with each record's key and position, in the order they were added. */
  scan(records: Buffer, visit: (vehicleId: string, eventTime: number, at: number) => void): void {
    for (let at = 0; at < records.length; at = nextRecord(records, at)) {
      const idBytes = records.readUInt32LE(at);
      visit(records.toString('utf8', at + 4, at + 4 + idBytes), records.readDoubleLE(at + 4 + idBytes + 23), at);
    }
  }

  /** The event whose record starts at byte `at` of `records`. */
  eventAt(records: Buffer, at: number): SourcedEvent {
    const idBytes = records.readUInt32LE(at);
    const start = at + 4;
    const vehicleId = records.toString('utf8', start, start + idBytes);
    at = start + idBytes;
    return {
      vehicleId,
      existing: records.readUInt8(at) === 1,
      type: this.typeNames[records.readUInt16LE(at + 1)],
      latitude: records.readDoubleLE(at + 3),
      longitude: records.readDoubleLE(at + 11),
      battery: records.readInt32LE(at + 19),
      eventTime: records.readDoubleLE(at + 23),
      partition: records.readInt32LE(at + 31),
      offset: records.readDoubleLE(at + 35),
    };
  }

  /** Frees one key's file once it has been processed. */
  drop(key: number): void {
    fs.rmSync(this.filePath(key), { force: true });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function nextRecord(records: Buffer, at: number): number {
  return at + fixedBytes + records.readUInt32LE(at);
}

/** FNV-1a over the vehicle id, then the event time's two 32-bit halves mixed in. */
export function bucketOf(vehicleId: string, eventTime: number, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < vehicleId.length; i++) hash = Math.imul(hash ^ vehicleId.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (eventTime >>> 0), 0x01000193);
  hash = Math.imul(hash ^ Math.floor(eventTime / 4294967296), 0x01000193);
  hash ^= hash >>> 15;
  return (hash >>> 0) % buckets;
}
