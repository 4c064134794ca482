import type { ColumnSpec } from '../table-schema.ts';

/**
 * Value and null counts and lower/upper bounds of one column of a data file, serialised as
 * Iceberg's single-value binary form (little-endian numbers, timestamps in microseconds). Engines
 * use them to skip files; silver uses event_time's bounds to read only the silver files a new event
 * can collide with. Strings and bytes get no bounds (they would need truncation rules to be safe).
 */
export class ColumnStats {
  values = 0;
  nulls = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly bounded: boolean;

  constructor(readonly spec: ColumnSpec) {
    this.bounded = ['int', 'long', 'double', 'timestamptz'].includes(spec.type);
  }

  add(column: readonly unknown[]): void {
    this.values += column.length;
    let min = this.min;
    let max = this.max;
    for (const value of column) {
      if (value === null || value === undefined) {
        this.nulls++;
        continue;
      }
      if (!this.bounded) continue;
      const n = value as number;
      if (n < min) min = n;
      if (n > max) max = n;
    }
    this.min = min;
    this.max = max;
  }

  /** The least and greatest value, as the jobs' numbers; undefined without bounds. */
  range(): { min: number; max: number } | undefined {
    return !this.bounded || this.min > this.max ? undefined : { min: this.min, max: this.max };
  }

  bounds(): { lower: Uint8Array; upper: Uint8Array } | undefined {
    const range = this.range();
    return range && { lower: serialise(this.spec.type, range.min), upper: serialise(this.spec.type, range.max) };
  }
}

function serialise(type: ColumnSpec['type'], value: number): Uint8Array {
  const buffer = Buffer.alloc(type === 'int' ? 4 : 8);
  if (type === 'int') buffer.writeInt32LE(value);
  else if (type === 'double') buffer.writeDoubleLE(value);
  else if (type === 'timestamptz') buffer.writeBigInt64LE(BigInt(value) * 1000n);
  else buffer.writeBigInt64LE(BigInt(value));
  return buffer;
}

/** A bound as the jobs' number (timestamps in epoch milliseconds). */
export function deserialise(type: ColumnSpec['type'], bytes: Uint8Array): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'int') return buffer.readInt32LE();
  if (type === 'double') return buffer.readDoubleLE();
  if (type === 'timestamptz') return Number(buffer.readBigInt64LE()) / 1000;
  return Number(buffer.readBigInt64LE());
}
