/**
 * `npm run local [-- --events N ...]`: the whole pipeline on this machine. Starts a real Kafka
 * broker unless KAFKA_BOOTSTRAP_SERVER names one, runs each job as its own process in the order
 * the chart's hooks run them, and prints the gold table and each job's time and peak memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { lakePaths } from '../../jobs/lake/paths.ts';
import { readRows } from '../../jobs/lake/parquet-source.ts';
import { listParquetFiles } from '../../jobs/lake/atomic.ts';
import { goldColumns } from '../../jobs/lake/table-schema.ts';
import { formatTable } from '../table-format.ts';
import { runJobProcess, type JobRun } from '../job-process.ts';

export const pipeline = ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify'] as const;

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const engine = flags.get('engine') ?? 'node';
  if (engine !== 'node' && engine !== 'spark') throw new ConfigError('--engine', `"${engine}" is not node or spark`);
  const jobFlags = new Map([...flags].filter(([name]) => name !== 'engine'));
  const config = loadConfig(jobFlags, process.env, []);
  const args = [...jobFlags].flatMap(([name, value]) => [`--${name}`, value]);

  let stopBroker: (() => Promise<void>) | undefined;
  const env = { ...process.env };
  if (!process.env.KAFKA_BOOTSTRAP_SERVER) {
    const { startBroker } = await import('../broker/broker.ts');
    process.stdout.write('starting a local Kafka broker…\n');
    const broker = await startBroker();
    stopBroker = () => broker.stop();
    env.KAFKA_BOOTSTRAP_SERVER = broker.bootstrap;
    process.stdout.write(`Kafka is up at ${broker.bootstrap} (${(broker.readyMs / 1000).toFixed(1)} s)\n`);
    // A new broker has a new topic: a lake left by an earlier run would not match its offsets.
    const paths = lakePaths(config.dataDir);
    for (const layer of ['bronze', 'silver', 'gold']) fs.rmSync(path.join(paths.root, layer), { recursive: true, force: true });
  }

  const runs: JobRun[] = [];
  try {
    for (const job of pipeline) {
      const run = engine === 'spark' && ['bronze', 'silver', 'gold'].includes(job)
        ? await runSparkStage(job, env, args)
        : await runJobProcess(job, args, env);
      runs.push(run);
      if (run.exitCode !== 0) {
        process.stderr.write(`\n${job} failed with exit code ${run.exitCode}\n`);
        return run.exitCode;
      }
    }
  } finally {
    await stopBroker?.();
  }

  const gold = [];
  for await (const row of readRows(listParquetFiles(lakePaths(config.dataDir).gold), goldColumns)) gold.push(row);
  process.stdout.write('\nGold — statistics per vehicle type (' + lakePaths(config.dataDir).gold + ')\n');
  process.stdout.write(formatTable(gold.map((r) => ({
    type: r.type, events: r.event_count, vehicles: r.vehicle_count,
    avg_battery: r.avg_battery.toFixed(2), min_battery: r.min_battery, max_battery: r.max_battery,
    avg_latitude: r.avg_latitude.toFixed(6), avg_longitude: r.avg_longitude.toFixed(6),
    first_event: new Date(r.first_event_at).toISOString(), last_event: new Date(r.last_event_at).toISOString(),
  }))) + '\n');
  process.stdout.write('\nJobs\n' + formatTable(runs.map((r) => ({
    job: r.job, seconds: r.seconds.toFixed(2), peak_rss_mib: (r.peakRssBytes / 2 ** 20).toFixed(0),
  }))) + '\n');
  return 0;
}

async function runSparkStage(job: string, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<JobRun> {
  const { runSparkStage: run } = await import('../spark/run-stage.ts');
  return run(job, env, args);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : error?.stack ?? error}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
