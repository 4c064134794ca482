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
 * took it over at the same time.
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
}

export const defaultTiming: LeaseTiming = { ttlMs: 120_000, renewMs: 20_000, pollMs: 1_000, settleMs: 250 };

export type Acquired =
  | { readonly acquired: true; readonly lease: Lease }
  | { readonly acquired: false; readonly holder: LeaseRecord | undefined };

export const leasePath = (root: string) => path.join(path.resolve(root), LEASE_DIR, LEASE_FILE);

function readLease(file: string): LeaseRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LeaseRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Torn or foreign content: treat as expired so a dead writer's garbage cannot block the lake.
    return { runId: '?', stage: '?', host: '?', pid: 0, acquiredAt: 0, expiresAt: 0 };
  }
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
    if (current && current.expiresAt > Date.now() && !diedHere(current)) return { acquired: false, holder: current };
    fs.renameSync(temporary, file);
    await sleep(timing.settleMs + Math.random() * timing.settleMs);
    const after = readLease(file);
    if (after?.runId === holder.runId) return { acquired: true, lease: new Lease(file, record, timing, current) };
    return { acquired: false, holder: after };
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
    /** The expired lease this one replaced, if it was taken over. */
    readonly tookOver?: LeaseRecord,
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
