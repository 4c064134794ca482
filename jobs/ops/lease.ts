/**
 * The lake's writer lease: one file, `<root>/.lakehouse/lease`, held by the one writing run (bronze,
 * silver, gold, maintain) at a time, so that overlapping runs (a schedule and a hook, two scheduled
 * runs) do not do the same work twice. It only saves work: the tables' commit protocol keeps them
 * right even if two runs wrote at once (docs/contract.md says why a file and not a Kubernetes Lease).
 *
 * Acquiring creates the file with link(2), which fails if it exists. The holder rewrites it (a new
 * file renamed over it) every `renewMs`; a lease not renewed before its expiry belongs to a run that
 * died (as is a lease whose holder on this same host is no longer running), and is taken over by
 * renaming a new file over it and reading it back a moment later to confirm that no other run
 * took it over at the same time. A lease the reader cannot trust (it claims to live longer than a
 * lease can, was acquired in the future, or is not a whole lease) counts as expired: whatever is
 * in the file, the lake is never blocked for longer than one lifetime.
 */
import fs from 'node:fs';
import path from 'node:path';

import { fsyncDirectory, writeFileDurably } from '../lake/atomic.ts';
import { hostName } from './runs.ts';

export const LEASE_DIR = '.lakehouse';
export const LEASE_FILE = 'lease';

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

/** The lease file's record as written (its fields unchecked: see `distrust`), or undefined when there is none. */
function readLease(file: string): LeaseRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return unreadable;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as LeaseRecord;
  } catch {
    // Foreign content: an unreadable lease, which `distrust` rejects.
  }
  return unreadable;
}

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

function temporaryFile(file: string, holder: Holder, record: LeaseRecord): string {
  const temporary = `${file}.${holder.runId}.${Date.now()}.tmp`;
  writeFileDurably(temporary, Buffer.from(JSON.stringify(record) + '\n'));
  return temporary;
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
async function tryAcquire(file: string, holder: Holder, timing: LeaseTiming): Promise<Acquired> {
  const now = Date.now();
  const record: LeaseRecord = { ...holder, acquiredAt: now, expiresAt: now + timing.ttlMs };
  const temporary = temporaryFile(file, holder, record);
  try {
    try {
      fs.linkSync(temporary, file);
      fsyncDirectory(path.dirname(file));
      return { acquired: true, lease: new Lease(file, record, timing) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readLease(file);
    const distrusted = current && distrust(current, Date.now(), timing);
    if (current && !distrusted && current.expiresAt > Date.now() && !diedHere(current))
      return { acquired: false, holder: current };
    fs.renameSync(temporary, file);
    await sleep(timing.settleMs + Math.random() * timing.settleMs);
    const after = readLease(file);
    if (after?.runId === holder.runId)
      return { acquired: true, lease: new Lease(file, record, timing, current, distrusted) };
    return { acquired: false, holder: after && !distrust(after, Date.now(), timing) ? after : undefined };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Waits up to `waitMs` for the lease of the lake at `root` (creating `<root>/.lakehouse/`), or says
 * who holds it. `onWait` is called once, when the first attempt finds it held.
 */
export async function acquireLease(
  root: string,
  holder: Holder,
  waitMs: number,
  onWait: (holder: LeaseRecord | undefined) => void = () => {},
  timing: LeaseTiming = defaultTiming,
): Promise<Acquired> {
  const file = leasePath(root);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const result = await tryAcquire(file, holder, timing);
    if (result.acquired || Date.now() >= deadline) return result;
    if (attempt === 0) onWait(result.holder);
    await sleep(Math.min(timing.pollMs * (0.5 + Math.random()), Math.max(deadline - Date.now(), 0)));
  }
}

/** A held lease: renewed in the background until released. */
export class Lease {
  private readonly timer: NodeJS.Timeout;
  private lostTo: LeaseRecord | undefined;

  constructor(
    private readonly file: string,
    readonly record: LeaseRecord,
    private readonly timing: LeaseTiming,
    /** The expired lease this one replaced, if it was taken over, as its file held it. */
    readonly tookOver?: LeaseRecord,
    /** Why that lease was not believed (`distrust`), when it was taken over before its claimed expiry. */
    readonly distrusted?: string,
  ) {
    this.timer = setInterval(() => this.renew(), timing.renewMs);
    this.timer.unref();
  }

  /** Set when a renewal found another holder (this run was stalled past its expiry). */
  get lost(): LeaseRecord | undefined {
    return this.lostTo;
  }

  private renew(): void {
    const current = readLease(this.file);
    if (current?.runId !== this.record.runId) {
      this.lostTo = current;
      clearInterval(this.timer);
      return;
    }
    try {
      const renewed = { ...this.record, expiresAt: Date.now() + this.timing.ttlMs };
      fs.renameSync(temporaryFile(this.file, this.record, renewed), this.file);
    } catch {
      // A renewal that fails (a full volume) is tried again; at worst the lease expires and another run starts early.
    }
  }

  /** Removes the lease if this run still holds it. Synchronous, so a signal handler can call it. */
  release(): void {
    clearInterval(this.timer);
    if (readLease(this.file)?.runId === this.record.runId) fs.rmSync(this.file, { force: true });
  }
}
