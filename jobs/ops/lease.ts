/**
 * The lake's writer lease: one object, held by the one writing run (bronze, silver, gold, maintain)
 * at a time, so that overlapping runs (a schedule and a hook, two scheduled runs) do not do the same
 * work twice. It only saves work: the tables' commit protocol keeps them right even if two runs
 * wrote at once (docs/contract.md says why an object and not a Kubernetes Lease). On a volume it is
 * `<root>/.lakehouse/lease`; with a REST catalog, an object beside the ops.runs table's metadata
 * (the catalog says where: `Catalog.leaseLocation`).
 *
 * Acquiring creates the object only if there is none (link(2) on a volume, `If-None-Match: *` on an
 * object store). The holder rewrites it every `renewMs`; a lease not renewed before its expiry
 * belongs to a run that died (as is a lease whose holder on this same host is no longer running),
 * and is taken over by replacing it while it is unchanged (`If-Match` on an object store) and
 * reading it back a moment later to confirm that no other run took it over at the same time. A
 * lease the reader cannot trust (it claims to live longer than a lease can, was acquired in the
 * future, or is not a whole lease) counts as expired: whatever the object holds, the lake is never
 * blocked for longer than one lifetime.
 */
import path from 'node:path';
import type { FileIO } from '../lake/io/file-io.ts';
import { hostName } from './host.ts';

export const LEASE_DIR = '.lakehouse';
export const LEASE_FILE = 'lease';

/**
 * Where the lease object is: on a volume relative to the lake's root; with a REST catalog relative
 * to the warehouse, beside the ops.runs table's metadata (object stores' table buckets take objects
 * only in a table's layout, and a `.metadata.json` name is one they take).
 */
export const LEASE_LOCATIONS = {
  volume: `${LEASE_DIR}/${LEASE_FILE}`,
  catalog: 'ops/runs/metadata/writer-lease.metadata.json',
} as const;

/** The stages that write the lake's tables take its writer lease. */
export const writingStages: ReadonlySet<string> = new Set([
  'bronze',
  'silver',
  'gold',
  'maintain',
  'migrate',
  'rollback',
  'forget',
  'replay',
]);
/** Commands an operator runs by hand: while another writer holds the lease they fail (exit 1) rather than skip. */
export const refusesWhileLeaseHeld: ReadonlySet<string> = new Set(['rollback', 'forget', 'replay']);
/** Only bronze (and migrate) create a lake that does not exist yet; the others need one, and fail on their own without it. */
export const lakeCreatingStages: ReadonlySet<string> = new Set(['bronze', 'migrate']);

export interface Holder {
  readonly runId: string;
  readonly stage: string;
  readonly host: string;
  readonly pid: number;
}

export interface LeaseRecord extends Holder {
  /** Epoch ms when this holder acquired the lease. */
  readonly acquiredAt: number;
  /** Epoch ms after which the lease is free unless renewed. */
  readonly expiresAt: number;
}

export interface LeaseTiming {
  /** How long a lease lasts without renewal. */
  readonly ttlMs: number;
  readonly renewMs: number;
  /** How often a waiting run looks again. */
  readonly pollMs: number;
  /** How long a takeover waits before reading the lease back. */
  readonly settleMs: number;
  /** How far the clocks of two hosts may differ before a lease's times are not believed. */
  readonly skewMs: number;
}

export const defaultTiming: LeaseTiming = {
  ttlMs: 120_000,
  renewMs: 20_000,
  pollMs: 1_000,
  settleMs: 250,
  skewMs: 10_000,
};

export type Acquired =
  | { readonly acquired: true; readonly lease: Lease }
  | { readonly acquired: false; readonly holder: LeaseRecord | undefined };

export const leasePath = (root: string) => path.join(path.resolve(root), LEASE_DIR, LEASE_FILE);

const unreadable: LeaseRecord = {
  runId: '?',
  stage: '?',
  host: '?',
  pid: 0,
  acquiredAt: Number.NaN,
  expiresAt: Number.NaN,
};

/** The lease's record as written (its fields unchecked: see `distrust`), or undefined when there is none. */
export function parseLease(bytes: Uint8Array): LeaseRecord {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as LeaseRecord;
  } catch {
    // Foreign content: an unreadable lease, which `distrust` rejects.
  }
  return unreadable;
}

/** The lease object where it is kept: read with its version, created, replaced while unchanged, removed. */
export class LeaseObject {
  constructor(
    readonly io: FileIO,
    readonly uri: string,
  ) {}

  async read(): Promise<{ record: LeaseRecord; version: string } | undefined> {
    let found: Awaited<ReturnType<FileIO['readVersioned']>>;
    try {
      found = await this.io.readVersioned(this.uri);
    } catch {
      return { record: unreadable, version: '' };
    }
    return found && { record: parseLease(found.bytes), version: found.version };
  }

  create(record: LeaseRecord): Promise<boolean> {
    return this.io.create(this.uri, encode(record));
  }

  replace(record: LeaseRecord, version: string): Promise<boolean> {
    return this.io.replace(this.uri, encode(record), version);
  }

  remove(): Promise<void> {
    return this.io.delete(this.uri);
  }
}

const encode = (record: LeaseRecord) => Buffer.from(`${JSON.stringify(record)}\n`);

const iso = (ms: number) => new Date(ms).toISOString();
/** Epoch ms that a Date can hold (up to the year 275760). */
const isTime = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= 8.64e15;
const isName = (value: unknown) => typeof value === 'string' && value !== '';

/**
 * Why `lease` cannot be believed at `now` (it is then treated as expired), or undefined. A lease's
 * remaining life can never exceed its lifetime as this reader sees it, give or take the clock skew
 * between hosts: one that claims more was written by a host whose clock is wrong, or by something
 * that is not a writer, and would otherwise stop every writer for as long as it claims.
 */
export function distrust(lease: LeaseRecord, now: number, timing: LeaseTiming): string | undefined {
  if (lease === unreadable) return 'the lease file cannot be read as a JSON object';
  for (const field of ['runId', 'stage', 'host'] as const)
    if (!isName(lease[field])) return `its ${field} is missing or not a name (${JSON.stringify(lease[field])})`;
  if (!Number.isSafeInteger(lease.pid) || lease.pid < 0)
    return `its pid is not a process id (${JSON.stringify(lease.pid)})`;
  for (const field of ['acquiredAt', 'expiresAt'] as const)
    if (!isTime(lease[field])) return `its ${field} is not a time (${JSON.stringify(lease[field])})`;
  if (lease.acquiredAt - now > timing.skewMs)
    return `it was acquired at ${iso(lease.acquiredAt)}, ${Math.round((lease.acquiredAt - now) / 1000)}s ahead of this host's clock`;
  if (lease.expiresAt < lease.acquiredAt)
    return `it expires (${iso(lease.expiresAt)}) before it was acquired (${iso(lease.acquiredAt)})`;
  if (lease.expiresAt - now > timing.ttlMs + timing.skewMs)
    return `it claims to be held until ${iso(lease.expiresAt)}, ${Math.round((lease.expiresAt - now) / 1000)}s from now by this host's clock: more than a lease's lifetime of ${timing.ttlMs / 1000}s`;
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A holder on this host whose process is gone died without releasing its lease: it need not be
 * waited out. (Pods have host names of their own, so in a cluster a lease expires instead.)
 */
function diedHere(holder: LeaseRecord): boolean {
  if (holder.host !== hostName() || !Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** One attempt: create the lease, or take over an expired one. */
async function tryAcquire(lease: LeaseObject, holder: Holder, timing: LeaseTiming): Promise<Acquired> {
  const now = Date.now();
  const record: LeaseRecord = { ...holder, acquiredAt: now, expiresAt: now + timing.ttlMs };
  if (await lease.create(record)) return { acquired: true, lease: new Lease(lease, record, timing) };
  const current = await lease.read();
  if (!current) return { acquired: false, holder: undefined };
  const distrusted = distrust(current.record, Date.now(), timing);
  if (!distrusted && current.record.expiresAt > Date.now() && !diedHere(current.record))
    return { acquired: false, holder: current.record };
  if (!(await lease.replace(record, current.version))) return { acquired: false, holder: undefined };
  await sleep(timing.settleMs + Math.random() * timing.settleMs);
  const after = await lease.read();
  if (after?.record.runId === holder.runId)
    return { acquired: true, lease: new Lease(lease, record, timing, current.record, distrusted) };
  return {
    acquired: false,
    holder: after && !distrust(after.record, Date.now(), timing) ? after.record : undefined,
  };
}

/**
 * Waits up to `waitMs` for the lease, or says who holds it. `onWait` is called once, when the
 * first attempt finds it held.
 */
export async function acquireLease(
  lease: LeaseObject,
  holder: Holder,
  waitMs: number,
  onWait: (holder: LeaseRecord | undefined) => void = () => {},
  timing: LeaseTiming = defaultTiming,
): Promise<Acquired> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const result = await tryAcquire(lease, holder, timing);
    if (result.acquired || Date.now() >= deadline) return result;
    if (attempt === 0) onWait(result.holder);
    await sleep(Math.min(timing.pollMs * (0.5 + Math.random()), Math.max(deadline - Date.now(), 0)));
  }
}

/** A held lease: renewed in the background until released. */
export class Lease {
  private readonly timer: NodeJS.Timeout;
  private lostTo: LeaseRecord | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly lease: LeaseObject,
    readonly record: LeaseRecord,
    private readonly timing: LeaseTiming,
    /** The expired lease this one replaced, if it was taken over, as it was written. */
    readonly tookOver?: LeaseRecord,
    /** Why that lease was not believed (`distrust`), when it was taken over before its claimed expiry. */
    readonly distrusted?: string,
  ) {
    this.timer = setInterval(() => {
      this.renewing = this.renew();
    }, timing.renewMs);
    this.timer.unref();
  }

  /** Set when a renewal found another holder (this run was stalled past its expiry). */
  get lost(): LeaseRecord | undefined {
    return this.lostTo;
  }

  private async renew(): Promise<void> {
    try {
      const current = await this.lease.read();
      if (current?.record.runId !== this.record.runId) {
        this.lostTo = current?.record;
        clearInterval(this.timer);
        return;
      }
      await this.lease.replace({ ...this.record, expiresAt: Date.now() + this.timing.ttlMs }, current.version);
    } catch {
      // A renewal that fails (a full volume, a store that did not answer) is tried again; at worst
      // the lease expires and another run starts early.
    }
  }

  /** Removes the lease if this run still holds it. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    const current = await this.lease.read();
    if (current?.record.runId === this.record.runId) await this.lease.remove();
  }
}
