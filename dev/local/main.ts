/**
 * `npm run local [-- --events N ...]`: the whole pipeline on this machine. Starts a real Kafka
 * broker unless KAFKA_BOOTSTRAP_SERVER names one, runs each job as its own process in the order
 * the chart's hooks run them, and shows each stage, each job's time and peak memory and the gold
 * table: live lines on a terminal, JSON lines otherwise (`--log-format text|json` chooses).
 * The lake is a new directory of its own unless one is given (lake-dir.ts); nothing is deleted.
 */
import { LOG_FORMAT_FLAG, loadConfig, logFormat, parseArgs, type LogFormat } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { showCommand } from '../../jobs/inspect.ts';
import { type LakeSettings, lakeOf } from '../../jobs/lake/lake.ts';
import { runJobProcess, type JobRun } from '../job-process.ts';
import { jsonView } from './json-view.ts';
import { chooseLake, LakeRefused } from './lake-dir.ts';
import { terminalView } from './terminal-view.ts';
import type { PipelineView } from './view.ts';

/** Where the run writes: a directory of its own on the volume, or a REST catalog's tables (`dir` then describes it). */
interface LocalLake {
  readonly dir: string;
  readonly empty: boolean;
  readonly onVolume: boolean;
}

export const pipeline = ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify'] as const;

async function main(flags: ReadonlyMap<string, string>, format: LogFormat): Promise<number> {
  const engine = flags.get('engine') ?? 'node';
  if (engine !== 'node' && engine !== 'spark') throw new ConfigError('--engine', `"${engine}" is not node or spark`);
  const jobFlags = new Map([...flags].filter(([name]) => name !== 'engine'));
  const config = loadConfig(jobFlags, process.env, []);
  const lake =
    config.catalog === 'rest'
      ? await catalogLake(config)
      : { ...chooseLake(jobFlags.get('data-dir') ?? (process.env.LAKEHOUSE_DATA_DIR || undefined)), onVolume: true };
  const localBroker = !process.env.KAFKA_BOOTSTRAP_SERVER;
  // A new broker's topic starts again at offset 0: a lake that read another broker's would not match.
  if (localBroker && !lake.empty) {
    throw new LakeRefused(
      lake.dir,
      `it holds an earlier run whose Kafka is gone (a new local broker is started); set KAFKA_BOOTSTRAP_SERVER to the Kafka it read, or ${config.catalog === 'rest' ? 'start a new object store (npm run objectstore -- stop, then start)' : 'name a new directory'}`,
    );
  }
  // The jobs write JSON for this runner to read, whatever the terminal.
  jobFlags.delete('data-dir');
  jobFlags.delete(LOG_FORMAT_FLAG);
  const args = [...jobFlags].flatMap(([name, value]) => [`--${name}`, value]);

  const view: PipelineView = format === 'text' ? terminalView() : jsonView();
  try {
    return await runPipeline(view, engine, lake, localBroker, args);
  } finally {
    view.close();
  }
}

/** The tables of the REST catalog the settings name (LAKEHOUSE_CATALOG=rest): the jobs use no directory of the lake's. */
async function catalogLake(config: LakeSettings): Promise<LocalLake> {
  const { catalog } = lakeOf(config);
  return { dir: catalog.description, empty: (await catalog.list()).length === 0, onVolume: false };
}

async function runPipeline(
  view: PipelineView,
  engine: string,
  lake: LocalLake,
  localBroker: boolean,
  args: readonly string[],
): Promise<number> {
  const lakeDir = lake.dir;
  view.lake(lakeDir);
  let stopBroker: (() => Promise<void>) | undefined;
  const env: NodeJS.ProcessEnv = lake.onVolume ? { ...process.env, LAKEHOUSE_DATA_DIR: lakeDir } : { ...process.env };
  if (localBroker) {
    const { startBroker } = await import('../broker/broker.ts');
    view.brokerStarting();
    const broker = await startBroker();
    stopBroker = () => broker.stop();
    env.KAFKA_BOOTSTRAP_SERVER = broker.bootstrap;
    view.brokerUp(broker.bootstrap, broker.readyMs / 1000);
  }

  const runs: JobRun[] = [];
  try {
    for (const job of pipeline) {
      view.stageStarted(job);
      const run =
        engine === 'spark' && ['bronze', 'silver', 'gold'].includes(job)
          ? await runSparkStage(job, env, args, view)
          : await runJobProcess(job, args, env, view.jobStdout, { onStderr: view.jobStderr });
      runs.push(run);
      view.stageEnded(run);
      if (run.exitCode !== 0) {
        view.abandoned(run, lakeDir);
        return run.exitCode;
      }
    }
  } finally {
    await stopBroker?.();
  }

  // The gold table is printed through the same path as `npm run lakehouse -- show gold.stats`.
  const config = loadConfig(new Map(), env);
  const gold = await showCommand({
    config,
    dataDir: config.dataDir,
    positional: ['show', 'gold.stats'],
    flags: new Map(),
  });
  view.finished({ lake: lakeDir, gold, runs });
  return 0;
}

async function runSparkStage(
  job: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  view: PipelineView,
): Promise<JobRun> {
  const { runSparkStage: run } = await import('../spark/run-stage.ts');
  return run(job, env, args, view.jobStdout, view.jobStderr);
}

const { flags } = parseArgs(process.argv.slice(2));
const isTerminal = process.stdout.isTTY === true;
let format: LogFormat = isTerminal ? 'text' : 'json';
(async () => main(flags, (format = logFormat(flags, isTerminal))))().then(
  (code) => process.exit(code),
  (error) => {
    const refused = error instanceof ConfigError || error instanceof LakeRefused;
    // A person gets the message; a stack trace is for the JSON log.
    const text = refused
      ? error.message
      : format === 'text'
        ? `error: ${String(error?.message ?? error).split('\n')[0]}`
        : String(error?.stack ?? error);
    process.stderr.write(`${text}\n`);
    process.exit(refused ? 2 : 1);
  },
);
