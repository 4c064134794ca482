/**
 * `npm run local [-- --events N ...]`: the whole pipeline on this machine. Starts a real Kafka
 * broker unless KAFKA_BOOTSTRAP_SERVER names one, runs each job as its own process in the order
 * the chart's hooks run them, and prints the gold table and each job's time and peak memory.
 * The lake is a new directory of its own unless one is given (lake-dir.ts); nothing is deleted.
 */
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { showCommand } from '../../jobs/inspect.ts';
import { formatTable } from '../../jobs/table-format.ts';
import { runJobProcess, type JobRun } from '../job-process.ts';
import { chooseLake, LakeRefused } from './lake-dir.ts';

export const pipeline = ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify'] as const;

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const engine = flags.get('engine') ?? 'node';
  if (engine !== 'node' && engine !== 'spark') throw new ConfigError('--engine', `"${engine}" is not node or spark`);
  const jobFlags = new Map([...flags].filter(([name]) => name !== 'engine'));
  loadConfig(jobFlags, process.env, []);
  const lake = chooseLake(jobFlags.get('data-dir') ?? (process.env.LAKEHOUSE_DATA_DIR || undefined));
  const localBroker = !process.env.KAFKA_BOOTSTRAP_SERVER;
  // A new broker's topic starts again at offset 0: a lake that read another broker's would not match.
  if (localBroker && !lake.empty) {
    throw new LakeRefused(lake.dir, 'it holds an earlier run whose Kafka is gone (a new local broker is started); set KAFKA_BOOTSTRAP_SERVER to the Kafka it read, or name a new directory');
  }
  jobFlags.delete('data-dir');
  const args = [...jobFlags].flatMap(([name, value]) => [`--${name}`, value]);
  process.stdout.write(`lake: ${lake.dir}\n`);

  let stopBroker: (() => Promise<void>) | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, LAKEHOUSE_DATA_DIR: lake.dir };
  if (localBroker) {
    const { startBroker } = await import('../broker/broker.ts');
    process.stdout.write('starting a local Kafka broker…\n');
    const broker = await startBroker();
    stopBroker = () => broker.stop();
    env.KAFKA_BOOTSTRAP_SERVER = broker.bootstrap;
    process.stdout.write(`Kafka is up at ${broker.bootstrap} (${(broker.readyMs / 1000).toFixed(1)} s)\n`);
  }

  const runs: JobRun[] = [];
  try {
    for (const job of pipeline) {
      const run = engine === 'spark' && ['bronze', 'silver', 'gold'].includes(job)
        ? await runSparkStage(job, env, args)
        : await runJobProcess(job, args, env);
      runs.push(run);
      if (run.exitCode !== 0) {
        process.stderr.write(`\n${job} failed with exit code ${run.exitCode}; the lake is in ${lake.dir}\n`);
        return run.exitCode;
      }
    }
  } finally {
    await stopBroker?.();
  }

  // The gold table is printed through the same path as `npm run lakehouse -- show gold.stats`.
  process.stdout.write('\n' + (await showCommand({ dataDir: lake.dir, positional: ['show', 'gold.stats'], flags: new Map() })) + '\n');
  process.stdout.write('\nJobs\n' + formatTable(runs.map((r) => ({
    job: r.job, seconds: r.seconds.toFixed(2), peak_rss_mib: (r.peakRssBytes / 2 ** 20).toFixed(0),
  }))) + '\n');
  process.stdout.write(`\nlake: ${lake.dir}\n`);
  return 0;
}

async function runSparkStage(job: string, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<JobRun> {
  const { runSparkStage: run } = await import('../spark/run-stage.ts');
  return run(job, env, args);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const refused = error instanceof ConfigError || error instanceof LakeRefused;
    process.stderr.write(`${refused ? error.message : error?.stack ?? error}\n`);
    process.exit(refused ? 2 : 1);
  },
);
