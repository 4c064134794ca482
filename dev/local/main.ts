/**
 * `npm run local [-- --events N ...]`: the whole pipeline on this machine. Starts a real Kafka
 * broker unless KAFKA_BOOTSTRAP_SERVER names one, runs each job as its own process in the order
 * the chart's hooks run them, and prints the gold table and each job's time and peak memory.
 * The lake is a new directory of its own unless one is given (lake-dir.ts); nothing is deleted.
 */
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { lakePaths } from '../../jobs/lake/paths.ts';
import { readRows } from '../../jobs/lake/parquet-source.ts';
import { listParquetFiles } from '../../jobs/lake/atomic.ts';
import { goldColumns } from '../../jobs/lake/table-schema.ts';
import { formatTable } from '../table-format.ts';
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

  const gold = [];
  for await (const row of readRows(listParquetFiles(lakePaths(lake.dir).gold), goldColumns)) gold.push(row);
  process.stdout.write('\nGold — statistics per vehicle type (' + lakePaths(lake.dir).gold + ')\n');
  process.stdout.write(formatTable(gold.map((r) => ({
    type: r.type, events: r.event_count, vehicles: r.vehicle_count,
    avg_battery: r.avg_battery.toFixed(2), min_battery: r.min_battery, max_battery: r.max_battery,
    avg_latitude: r.avg_latitude.toFixed(6), avg_longitude: r.avg_longitude.toFixed(6),
    first_event: new Date(r.first_event_at).toISOString(), last_event: new Date(r.last_event_at).toISOString(),
  }))) + '\n');
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
