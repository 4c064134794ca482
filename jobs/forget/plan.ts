/**
 * What `forget` erases, decided without I/O: the vehicle ids it was given, which records name them,
 * which offsets an erasure removes, and how the erasure is recorded without the ids in clear.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { PendingErasure } from '../lake/lineage.ts';

/** The flag naming a vehicle to forget; given once per vehicle. */
export const vehicleFlag = 'vehicle';

/**
 * The vehicle ids of `--vehicle ID [--vehicle ID ...]` (also `--vehicle=ID`), in order, without
 * repeats. None, or an empty one, is bad input: ConfigError (exit 2), before anything is read.
 */
export function vehicleIdsOf(argv: readonly string[]): string[] {
  const ids: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let id: string | undefined;
    if (arg.startsWith(`--${vehicleFlag}=`)) id = arg.slice(vehicleFlag.length + 3);
    else if (arg === `--${vehicleFlag}`) {
      const next = argv[i + 1];
      id = next === undefined || next.startsWith('--') ? '' : argv[++i];
    } else continue;
    if (id.trim() === '')
      throw new ConfigError(`--${vehicleFlag}`, 'a vehicle id is empty; name each vehicle to forget');
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0)
    throw new ConfigError(`--${vehicleFlag}`, 'no vehicle to forget; give --vehicle ID once per vehicle');
  return ids;
}

/** Finds the vehicles in records: ids as record keys, and as JSON strings inside raw values. */
export class VehicleMatcher {
  private readonly keys: readonly Buffer[];
  private readonly quoted: readonly Buffer[];
  private readonly ids: ReadonlySet<string>;

  constructor(ids: readonly string[]) {
    this.ids = new Set(ids);
    this.keys = ids.map((id) => Buffer.from(id, 'utf8'));
    // The id as a JSON string token (with its quotes), so that V1 does not match V10.
    this.quoted = ids.map((id) => Buffer.from(JSON.stringify(id), 'utf8'));
  }

  /** Whether the id is one of the vehicles (silver's vehicle_id). */
  isVehicle(id: unknown): boolean {
    return typeof id === 'string' && this.ids.has(id);
  }

  /** Whether a record key names a vehicle: it is the id, as the producer keys records. */
  keyNames(key: Uint8Array | null | undefined): boolean {
    if (!key) return false;
    const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    return this.keys.some((k, i) => k.equals(bytes) || bytes.includes(this.quoted[i]));
  }

  /**
   * Whether a raw record value names a vehicle: it holds the id as a JSON string, either as written
   * (any JSON, malformed or not) or escaped differently (`\u0056` for `V`), which only parsing finds.
   */
  valueNames(value: Uint8Array | null | undefined): boolean {
    if (!value) return false;
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (this.quoted.some((q) => bytes.includes(q))) return true;
    if (!bytes.includes(0x5c)) return false; // no escape: the byte search was exact
    try {
      return this.holdsId(JSON.parse(bytes.toString('utf8')));
    } catch {
      return false;
    }
  }

  private holdsId(value: unknown): boolean {
    if (typeof value === 'string') return this.ids.has(value);
    if (Array.isArray(value)) return value.some((v) => this.holdsId(v));
    if (value && typeof value === 'object')
      return Object.entries(value).some(([k, v]) => this.ids.has(k) || this.holdsId(v));
    return false;
  }
}

/** Per Kafka partition, offset ranges `[first, next)`, ascending and merged. */
export type OffsetRanges = Map<number, [number, number][]>;

/** The ranges holding `offsets` (per partition, any order) and those of `recorded`, merged. */
export function mergeOffsets(recorded: OffsetRanges, offsets: ReadonlyMap<number, Iterable<number>>): OffsetRanges {
  const merged: OffsetRanges = new Map();
  const partitions = new Set([...recorded.keys(), ...offsets.keys()]);
  for (const partition of [...partitions].sort((a, b) => a - b)) {
    const all = new Set<number>();
    for (const [from, to] of recorded.get(partition) ?? []) for (let o = from; o < to; o++) all.add(o);
    for (const o of offsets.get(partition) ?? []) all.add(o);
    const ranges: [number, number][] = [];
    for (const o of [...all].sort((a, b) => a - b)) {
      const last = ranges.at(-1);
      if (last && last[1] === o) last[1] = o + 1;
      else ranges.push([o, o + 1]);
    }
    if (ranges.length > 0) merged.set(partition, ranges);
  }
  return merged;
}

export const offsetRangesJson = (ranges: OffsetRanges): string =>
  JSON.stringify(Object.fromEntries([...ranges].sort((a, b) => a[0] - b[0])));

/**
 * A vehicle id as the lake records it: SHA-256 of the erasure's salt (a random value stored beside
 * it) and the id. Whoever holds the id can confirm it was erased; the record alone does not list
 * the ids, and the salt keeps one id's digests from matching across erasures or a precomputed table.
 * Ids drawn from a small set can still be found by hashing every candidate with the salt: the
 * digest is a pseudonym, not an anonymisation.
 */
export function vehicleDigest(salt: string, id: string): string {
  return createHash('sha256').update(salt).update('\0').update(id, 'utf8').digest('hex');
}

/**
 * Whether `ids` cover a pending erasure's vehicles: a second run must finish the first one's work,
 * so it names at least the same vehicles. Returns the problem, if any.
 */
export function pendingProblem(pending: PendingErasure | undefined, ids: readonly string[]): string | undefined {
  if (!pending) return undefined;
  const given = new Set(ids.map((id) => vehicleDigest(pending.salt, id)));
  const missing = pending.vehicles.filter((d) => !given.has(d)).length;
  if (missing === 0) return undefined;
  return `an erasure of ${pending.vehicles.length} vehicles (run ${pending.run}) is incomplete and ${missing} of them are not among the --vehicle ids given; run forget again with at least the same ids`;
}
