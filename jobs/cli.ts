import { runBronze } from './bronze.ts';
import { loadConfig, logFormat, parseArgs, usage, type Config, type LogFormat } from './config.ts';
import { ConfigError, InvariantError } from './errors.ts';
import { runGold } from './gold.ts';
import { inspectFlags, inspectors } from './inspect.ts';
import { runMaintain } from './maintain.ts';
import { checkLogLevel, createLogger, type Logger } from './log.ts';
import { runProduce } from './produce.ts';
import { runSilver } from './silver.ts';
import { runTopics } from './topics.ts';
import { runVerify } from './verify.ts';

type Job = (config: Config, logger: Logger) => Promise<unknown>;

export const jobs: Record<string, Job> = {
  topics: runTopics,
  produce: runProduce,
  bronze: runBronze,
  silver: runSilver,
  gold: runGold,
  verify: runVerify,
  maintain: runMaintain,
};

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
    createLogger(command).error('failed', { ok: false, error: (error as Error).message, setting: (error as ConfigError).setting });
    return 2;
  }
  const logger = createLogger(command, undefined, undefined, format);
  const job = jobs[command];
  if (!job) {
    logger.error(`unknown command "${command}"`, { commands: Object.keys(jobs) });
    return 2;
  }
  const started = process.hrtime.bigint();
  // Kubernetes stops a pod with SIGTERM. Every commit is atomic and synchronous, so stopping between
  // two event-loop turns leaves the lake as a kill would: consistent, the run's uncommitted files unread.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.error('failed', { ok: false, seconds: elapsedSeconds(started), peakRssBytes: peakRss(), signal, error: `stopped by ${signal}; nothing uncommitted is part of the lake, a re-run completes the work` });
      process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
    });
  }
  try {
    checkLogLevel();
    const config = loadConfig(flags);
    const result = await job(config, logger);
    logger.info('finished', { ok: true, seconds: elapsedSeconds(started), peakRssBytes: peakRss(), result });
    return 0;
  } catch (error) {
    const code = error instanceof ConfigError ? 2 : 1;
    const fields: Record<string, unknown> = { ok: false, seconds: elapsedSeconds(started), peakRssBytes: peakRss(), error: (error as Error).message };
    if (error instanceof ConfigError) fields.setting = error.setting;
    if (error instanceof InvariantError) fields.invariant = error.invariant;
    if (!(error instanceof ConfigError || error instanceof InvariantError)) fields.stack = (error as Error).stack;
    logger.error('failed', fields);
    return code;
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
    process.stdout.write((await inspect({ dataDir: config.dataDir, positional, flags })) + '\n');
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
