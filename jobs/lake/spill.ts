import fs from 'node:fs';
import path from 'node:path';
import { vehicleTypes, type VehicleType } from '../events/vehicle-event.ts';

/** A validated event with where it came from, as silver keeps it. */
export interface SourcedEvent {
  vehicleId: string;
  type: VehicleType;
  latitude: number;
  longitude: number;
  battery: number;
  eventTime: number;
  partition: number;
  offset: number;
}

const bufferBytes = 64 * 1024;

/**
 * Hash-partitioned spill files: events with the same (vehicle, time) always land in the same
 * bucket, so de-duplication needs only one bucket in memory at a time. This is what keeps silver's
 * memory flat when the number of events grows (the same idea as a shuffle in Spark).
 */
export class EventSpill {
  private readonly buffers: Buffer[];
  private readonly used: number[];
  private readonly fds: number[];

  constructor(
    private readonly dir: string,
    readonly buckets: number,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.buffers = Array.from({ length: buckets }, () => Buffer.allocUnsafe(bufferBytes));
    this.used = new Array(buckets).fill(0);
    this.fds = Array.from({ length: buckets }, (_, b) => fs.openSync(this.bucketPath(b), 'w'));
  }

  private bucketPath(bucket: number): string {
    return path.join(this.dir, `bucket-${String(bucket).padStart(5, '0')}.bin`);
  }

  add(event: SourcedEvent): void {
    const bucket = this.buckets === 1 ? 0 : bucketOf(event.vehicleId, event.eventTime, this.buckets);
    const idBytes = Buffer.byteLength(event.vehicleId);
    const size = 2 + idBytes + 1 + 8 + 8 + 4 + 8 + 4 + 8;
    if (this.used[bucket] + size > bufferBytes) this.drain(bucket);
    const buffer = this.buffers[bucket];
    let at = this.used[bucket];
    at = buffer.writeUInt16LE(idBytes, at);
    at += buffer.write(event.vehicleId, at);
    at = buffer.writeUInt8(vehicleTypes.indexOf(event.type), at);
    at = buffer.writeDoubleLE(event.latitude, at);
    at = buffer.writeDoubleLE(event.longitude, at);
    at = buffer.writeInt32LE(event.battery, at);
    at = buffer.writeDoubleLE(event.eventTime, at);
    at = buffer.writeInt32LE(event.partition, at);
    at = buffer.writeDoubleLE(event.offset, at);
    this.used[bucket] = at;
  }

  private drain(bucket: number): void {
    let written = 0;
    while (written < this.used[bucket]) written += fs.writeSync(this.fds[bucket], this.buffers[bucket], written, this.used[bucket] - written);
    this.used[bucket] = 0;
  }

  /** Closes the writers; then each bucket can be read back, one at a time. */
  finish(): void {
    for (let b = 0; b < this.buckets; b++) {
      this.drain(b);
      fs.closeSync(this.fds[b]);
    }
  }

  /** The events of one bucket, in the order they were added. */
  *read(bucket: number): Generator<SourcedEvent> {
    const buffer = fs.readFileSync(this.bucketPath(bucket));
    let at = 0;
    while (at < buffer.length) {
      const idBytes = buffer.readUInt16LE(at);
      at += 2;
      const vehicleId = buffer.toString('utf8', at, at + idBytes);
      at += idBytes;
      const type = vehicleTypes[buffer.readUInt8(at)];
      const latitude = buffer.readDoubleLE(at + 1);
      const longitude = buffer.readDoubleLE(at + 9);
      const battery = buffer.readInt32LE(at + 17);
      const eventTime = buffer.readDoubleLE(at + 21);
      const partition = buffer.readInt32LE(at + 29);
      const offset = buffer.readDoubleLE(at + 33);
      at += 41;
      yield { vehicleId, type, latitude, longitude, battery, eventTime, partition, offset };
    }
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
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
