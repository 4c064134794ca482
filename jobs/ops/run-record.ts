/**
 * What the job-run wrapper (jobs/cli.ts) does around a job for the run history and the writer
 * lease: record the run's row, take the lease for a writing stage. Neither may change a job's own
 * outcome: a run that cannot be recorded says so in a warning and keeps its exit code.
 */
import { type LakeSettings, lakeOf } from '../lake/lake.ts';
import type { Logger } from '../log.ts';
import { acquireLease, lakeCreatingStages, type Lease, type LeaseRecord, writingStages } from './lease.ts';
import { appendRun, hostName, oneLine, rowCountsOf, type Outcome } from './runs.ts';

export interface RunIdentity {
  readonly runId: string;
  readonly stage: string;
  readonly startedAt: number;
}

/** Appends the run to ops.runs; a failure to record is a warning, never the job's failure. */
export async function recordRun(
  settings: LakeSettings,
  run: RunIdentity,
  outcome: Outcome,
  logger: Logger,
  details: { readonly result?: unknown; readonly error?: string } = {},
): Promise<void> {
  const { rowsIn, rowsOut } = rowCountsOf(details.result);
  try {
    const appended = await appendRun(lakeOf(settings), {
      run_id: run.runId,
      stage: run.stage,
      engine: 'node',
      host: hostName(),
      started_at: run.startedAt,
      ended_at: Date.now(),
      outcome,
      rows_in: rowsIn,
      rows_out: rowsOut,
      error: details.error === undefined ? null : oneLine(details.error),
    });
    if (!appended.recorded) logger.log('debug', 'run not recorded in ops.runs', { reason: appended.reason });
  } catch (error) {
    logger.warn('could not record the run in ops.runs (the job outcome stands)', {
      outcome,
      error: (error as Error).message,
    });
  }
}

/** Resolves with `work`'s value, or undefined after `ms` (best effort before a forced exit). */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export type LeaseOutcome = { readonly lease?: Lease } | { readonly skip: string; readonly holder?: LeaseRecord };

/** A lease's time as written: an instant when it is one, else the value itself (a lease not believed may hold anything). */
const leaseTime = (ms: unknown) =>
  typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
    ? new Date(ms).toISOString()
    : JSON.stringify(ms);

export function describeHolder(holder: LeaseRecord | undefined): string {
  if (!holder) return 'another run (its lease could not be read)';
  return `${holder.stage} run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${leaseTime(holder.acquiredAt)}, lease until ${leaseTime(holder.expiresAt)}`;
}

/**
 * Takes the writer lease for a writing stage, waiting up to `waitSeconds`; says how to skip if it
 * cannot. A stage that does not write, or a lake that does not exist for a stage that would not
 * create it, needs no lease.
 */
export async function takeLease(
  settings: LakeSettings,
  run: RunIdentity,
  waitSeconds: number,
  logger: Logger,
): Promise<LeaseOutcome> {
  if (!writingStages.has(run.stage)) return {};
  const lake = lakeOf(settings);
  if (!lakeCreatingStages.has(run.stage) && !(await lake.catalog.exists())) return {};
  const holder = { runId: run.runId, stage: run.stage, host: hostName(), pid: process.pid };
  const lease = await lake.lease();
  const result = await acquireLease(lease, holder, waitSeconds * 1000, (current) => {
    logger.info('waiting for the lake writer lease', { heldBy: describeHolder(current), waitSeconds });
  });
  if (!result.acquired) {
    return {
      skip: `skipped: the lake's writer lease is held by ${describeHolder(result.holder)}; waited ${waitSeconds}s (LAKEHOUSE_LEASE_WAIT_SECONDS); nothing was changed, the next run does the work`,
      holder: result.holder,
    };
  }
  const { tookOver, distrusted } = result.lease;
  if (tookOver && distrusted)
    logger.warn('took over a lake writer lease it cannot trust, as if expired (a wrong clock or a damaged file)', {
      previous: describeHolder(tookOver),
      claimedExpiry: leaseTime(tookOver.expiresAt),
      reason: distrusted,
    });
  else if (tookOver)
    logger.warn('took over an expired lake writer lease (its holder stopped renewing it)', {
      previous: describeHolder(tookOver),
    });
  return { lease: result.lease };
}
