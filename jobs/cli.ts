import { randomUUID } from 'node:crypto';
import { runBronze } from './bronze.ts';
import { loadConfig, logFormat, parseArgs, usage, type Config, type LogFormat } from './config.ts';
import { ConfigError, InvariantError } from './errors.ts';
import { runExplore } from './explorer/explorer.ts';
import { authorizationFailure } from './kafka/authorization.ts';
import { KafkaAccessError } from './kafka/security.ts';
import { runForget } from './forget.ts';
import { runGold } from './gold.ts';
import type { Job, JobContext } from './job.ts';
import { inspectFlags, inspectors } from './inspect.ts';
import { runMaintain } from './maintain.ts';
import { runMigrate } from './migrate.ts';
import { checkLogLevel, createLogger, type Logger } from './log.ts';
import { type Lease, refusesWhileLeaseHeld } from './ops/lease.ts';
import { runMetrics } from './ops/metrics.ts';
import { recordRun, takeLease, withDeadline, type RunIdentity } from './ops/run-record.ts';
import type { Outcome } from './ops/runs.ts';
import { runProduce } from './produce.ts';
import { runRollback } from './rollback.ts';
import { runReplay } from './replay.ts';
import { runSilver } from './silver.ts';
import { runTopics } from './topics.ts';
import { runVerify } from './verify.ts';

/** The jobs: each run is recorded in ops.runs, and a writing stage takes the lake's writer lease. */
export const jobs: Record<string, Job> = {
  topics: runTopics,
  produce: runProduce,
  bronze: runBronze,
  silver: runSilver,
  gold: runGold,
  verify: runVerify,
  maintain: runMaintain,
  migrate: runMigrate,
  rollback: runRollback,
  forget: runForget,
  replay: runReplay,
};

/** Long-running servers: they run no stage, so they record no run and take no lease. */
export const services: Record<string, Job> = {
  metrics: runMetrics,
  explore: runExplore,
};

/** How long a stopped job may take to record its run before the process exits. */
const stopRecordMs = 2_000;

/** Runs one job; returns the process exit code (0 ok, 1 job or invariant failed, 2 bad configuration). */
export async function main(argv: readonly string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  const [command] = positional;
  if (!command || flags.has('help') || command === 'help') {
    process.stdout.write(usage() + '\n');
    return command || flags.has('help') ? 0 : 2;
  }
  const inspect = inspectors[command];
  if (inspect) return runInspector(inspect, positional, flags);
  let format: LogFormat;
  try {
    format = logFormat(flags, process.stdout.isTTY === true);
  } catch (error) {
    createLogger(command).error('failed', {
      ok: false,
      error: (error as Error).message,
      setting: (error as ConfigError).setting,
    });
    return 2;
  }
  const logger = createLogger(command, undefined, undefined, format);
  const job = jobs[command] ?? services[command];
  if (!job) {
    logger.error(`unknown command "${command}"`, { commands: [...Object.keys(jobs), ...Object.keys(services)] });
    return 2;
  }
  const started = process.hrtime.bigint();
  const run: RunIdentity = { runId: randomUUID(), stage: command, startedAt: Date.now() };
  const recorded = command in jobs;
  let config: Config | undefined;
  let lease: Lease | undefined;
  const record = (outcome: Outcome, details: { result?: unknown; error?: string }) =>
    recorded && config ? recordRun(config, run, outcome, logger, details) : Promise.resolve();
  const stopHandlers: ((signal: NodeJS.Signals) => void)[] = [];
  let stoppedBy: NodeJS.Signals | undefined;
  const context: JobContext = {
    runId: run.runId,
    argv,
    args: { flags, positional: positional.slice(1) },
    onStop: (handler) => void stopHandlers.push(handler),
    stopSignal: () => {
      const controller = new AbortController();
      stopHandlers.push((signal) => controller.abort(signal));
      return controller.signal;
    },
  };
  // Kubernetes stops a pod with SIGTERM. Every commit is atomic and synchronous, so stopping between
  // two event-loop turns leaves the lake as a kill would: consistent, the run's uncommitted files unread.
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopHandlers.length > 0 && !stoppedBy) {
      stoppedBy = signal;
      logger.info('stopping', { signal });
      for (const handler of stopHandlers) handler(signal);
      return;
    }
    const error = `stopped by ${signal}; nothing uncommitted is part of the lake, a re-run completes the work`;
    void withDeadline(
      releaseLease(lease, logger).then(() => record('stopped', { error })),
      stopRecordMs,
    ).finally(() => {
      logger.error('failed', { ok: false, seconds: elapsedSeconds(started), peakRssBytes: peakRss(), signal, error });
      process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
  try {
    checkLogLevel();
    const loaded = loadConfig(flags, process.env, job.flags);
    // Before the lease is taken, so that bad input changes nothing.
    await job.checkArguments?.(argv, loaded);
    config = loaded;
    if (recorded) {
      const taken = await takeLease(config, run, config.leaseWaitSeconds, logger);
      if ('skip' in taken && refusesWhileLeaseHeld.has(command)) {
        const error = taken.skip
          .replace(/^skipped/, 'refused')
          .replace(/, the next run does the work$/, '; run it again once that writer is done');
        await record('failed', { error });
        logger.error('failed', { ok: false, seconds: elapsedSeconds(started), error });
        return 1;
      }
      if ('skip' in taken) {
        await record('skipped', { error: taken.skip });
        logger.info('skipped', {
          ok: true,
          outcome: 'skipped',
          seconds: elapsedSeconds(started),
          peakRssBytes: peakRss(),
          reason: taken.skip,
        });
        return 0;
      }
      lease = taken.lease;
    }
    const result = await job(config, logger, context);
    await releaseLease(lease, logger);
    // A job that stops on request (a server, a continuous producer) ended well, but not by itself.
    await record(stoppedBy ? 'stopped' : 'succeeded', { result });
    logger.info('finished', {
      ok: true,
      seconds: elapsedSeconds(started),
      peakRssBytes: peakRss(),
      ...(stoppedBy ? { signal: stoppedBy } : {}),
      result,
    });
    return 0;
  } catch (thrown) {
    // Kafka refusing an operation for lack of an ACL, wherever it was not translated yet: one line naming it.
    const refused = config && !(thrown instanceof KafkaAccessError) && authorizationFailure(thrown, config, command);
    const error = refused ? new KafkaAccessError(refused) : thrown;
    await releaseLease(lease, logger);
    await record('failed', { error: (error as Error).message });
    const code = error instanceof ConfigError ? 2 : 1;
    const fields: Record<string, unknown> = {
      ok: false,
      seconds: elapsedSeconds(started),
      peakRssBytes: peakRss(),
      error: (error as Error).message,
    };
    if (error instanceof ConfigError) fields.setting = error.setting;
    if (error instanceof InvariantError) fields.invariant = error.invariant;
    if (!(error instanceof ConfigError || error instanceof InvariantError || error instanceof KafkaAccessError))
      fields.stack = (error as Error).stack;
    logger.error('failed', fields);
    return code;
  } finally {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.off(signal, onSignal);
  }
}

async function releaseLease(lease: Lease | undefined, logger: Logger): Promise<void> {
  if (!lease) return;
  if (lease.lost)
    logger.warn(
      'the lake writer lease was taken over while this run held it (it was stalled past its expiry); the commit protocol kept the tables right',
      { heldBy: lease.lost.runId },
    );
  try {
    await lease.release();
  } catch (error) {
    logger.warn('could not release the lake writer lease; it expires by itself', { error: (error as Error).message });
  }
}

/** Inspection commands print a table for people on stdout, and a one-line error on stderr. */
async function runInspector(
  inspect: (typeof inspectors)[string],
  positional: string[],
  flags: ReadonlyMap<string, string>,
): Promise<number> {
  try {
    const config = loadConfig(new Map([...flags].filter(([name]) => !inspectFlags.includes(name))));
    process.stdout.write((await inspect({ config, dataDir: config.dataDir, positional, flags })) + '\n');
    return 0;
  } catch (error) {
    process.stderr.write(`${positional[0]}: ${(error as Error).message}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

function elapsedSeconds(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e6) / 1000;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
