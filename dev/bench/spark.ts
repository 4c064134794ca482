// Side-by-side timing of the two engines: for each event count, one topic, the Node producer, then
// the Node stages and the Spark stages over it, each into its own lake. Prints a Markdown table and
// where Spark's time goes (JVM and session start, the job's phases, Spark's own stage times).
//
//   npx tsx dev/bench/spark.ts [COUNT ...]        (default 10000 100000 1000000)
// Uses KAFKA_BOOTSTRAP_SERVER when set, otherwise starts a local broker for the run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker } from '../broker/broker.ts';
import { runJobProcess, type JobRun } from '../job-process.ts';
import { runSparkStage } from '../spark/run-stage.ts';
import { requireSparkInstall } from '../spark/install.ts';

const stages = ['bronze', 'silver', 'gold'] as const;
type Stage = (typeof stages)[number];

interface SparkStageTiming {
  readonly wall: number;
  readonly launchToSession: number;
  readonly phases: Record<string, number>;
  /** Spark stages of the run: name, duration and task count, from the event log. */
  readonly sparkStages: { name: string; ms: number; tasks: number }[];
}

function sparkStagesFromEventLog(dir: string): SparkStageTiming['sparkStages'] {
  const [file] = readdirSync(dir);
  if (!file) return [];
  const out: SparkStageTiming['sparkStages'] = [];
  for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    if (!line.includes('"SparkListenerStageCompleted"')) continue;
    const info = JSON.parse(line)['Stage Info'];
    out.push({
      name: String(info['Stage Name']).split(' at ')[0],
      ms: info['Completion Time'] - info['Submission Time'],
      tasks: info['Number of Tasks'],
    });
  }
  return out;
}

interface TimedRun {
  /** Wall time of the process, start-up included, for either engine alike. */
  readonly seconds: number;
  /** Its last `finished` log line, if it logged one (the Node jobs do not at LAKEHOUSE_LOG_LEVEL=warn). */
  readonly finished?: Record<string, unknown>;
}

/** Runs a job or stage to completion with its output kept; throws with its tail when it fails. */
async function timed(
  name: string,
  run: (echo: (line: string) => void, onStderr: (line: string) => void) => Promise<JobRun>,
): Promise<TimedRun> {
  const output: string[] = [];
  const keep = (line: string) => void output.push(line);
  const started = performance.now();
  const { exitCode } = await run(keep, keep);
  const seconds = (performance.now() - started) / 1000;
  if (exitCode !== 0) throw new Error(`${name} exited ${exitCode}:\n${output.slice(-40).join('\n')}`);
  const finished = output
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .findLast((line) => line.msg === 'finished');
  return { seconds, finished };
}

const runNodeJob = (job: string, env: NodeJS.ProcessEnv) =>
  timed(job, (echo, onStderr) => runJobProcess(job, [], { ...process.env, ...env }, echo, { onStderr }));
const runSpark = (stage: Stage, env: NodeJS.ProcessEnv) =>
  timed(`spark ${stage}`, (echo, onStderr) => runSparkStage(stage, { ...process.env, ...env }, [], echo, onStderr));

async function bench(count: number, bootstrap: string) {
  const work = mkdtempSync(path.join(tmpdir(), `bench-${count}-`));
  const topic = `bench-${count}-${Date.now()}`;
  const base = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_PARTITIONS: '3',
    LAKEHOUSE_LOG_LEVEL: 'warn',
  };
  try {
    // The topics job grants the pipeline user the consumer group it is given: one run per engine's group.
    for (const engine of ['node', 'spark'])
      await runNodeJob('topics', { ...base, LAKEHOUSE_CONSUMER_GROUP: `${engine}-${topic}` });
    const produced = await runNodeJob('produce', {
      ...base,
      LAKEHOUSE_EVENTS: String(count),
      LAKEHOUSE_DUPLICATE_RATIO: '0.01',
    });
    const node: Record<Stage, number> = { bronze: 0, silver: 0, gold: 0 };
    for (const stage of stages) {
      node[stage] = (
        await runNodeJob(stage, {
          ...base,
          LAKEHOUSE_DATA_DIR: path.join(work, 'node'),
          LAKEHOUSE_CONSUMER_GROUP: `node-${topic}`,
        })
      ).seconds;
    }
    const spark = {} as Record<Stage, SparkStageTiming>;
    for (const stage of stages) {
      const eventLog = path.join(work, `events-${stage}`);
      const run = await runSpark(stage, {
        ...base,
        LAKEHOUSE_DATA_DIR: path.join(work, 'spark'),
        LAKEHOUSE_CONSUMER_GROUP: `spark-${topic}`,
        LAKEHOUSE_SPARK_EVENT_LOG_DIR: eventLog,
      });
      const done = run.finished;
      if (!done) throw new Error(`spark ${stage} logged no "finished" line`);
      spark[stage] = {
        wall: run.seconds,
        launchToSession: Number(done.launch_to_session_ms) / 1000,
        phases: done.phases_ms as Record<string, number>,
        sparkStages: sparkStagesFromEventLog(eventLog),
      };
    }
    return { count, produce: produced.seconds, node, spark };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const counts = process.argv.slice(2).map(Number);
requireSparkInstall();
const broker = process.env.KAFKA_BOOTSTRAP_SERVER ? undefined : await startBroker();
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVER || broker!.bootstrap;
const results = [];
try {
  for (const count of counts.length ? counts : [10_000, 100_000, 1_000_000]) {
    const result = await bench(count, bootstrap);
    results.push(result);
    console.error(JSON.stringify(result));
  }
} finally {
  await broker?.stop();
}
const s = (x: number) => x.toFixed(1);
console.log(
  '| events | produce s | node bronze | node silver | node gold | node total | spark bronze | spark silver | spark gold | spark total | of which JVM+session start |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const nodeTotal = stages.reduce((t, st) => t + r.node[st], 0);
  const sparkTotal = stages.reduce((t, st) => t + r.spark[st].wall, 0);
  const startup = stages.reduce((t, st) => t + r.spark[st].launchToSession, 0);
  console.log(
    `| ${r.count} | ${s(r.produce)} | ${stages.map((st) => s(r.node[st])).join(' | ')} | ${s(nodeTotal)} | ${stages.map((st) => s(r.spark[st].wall)).join(' | ')} | ${s(sparkTotal)} | ${s(startup)} |`,
  );
}
console.log(
  '\n| events | stage | node s | spark wall s | JVM start→session s | job phases s | stop+exit s | Spark stages s | largest phases (s) |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of results) {
  for (const st of stages) {
    const t = r.spark[st];
    const phases = Object.values(t.phases).reduce((a, b) => a + b, 0) / 1000;
    const sparkStages = t.sparkStages.reduce((a, x) => a + x.ms, 0) / 1000;
    const largest = Object.entries(t.phases)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 3)
      .map(([k, ms]) => `${k} ${s(ms / 1000)}`)
      .join(', ');
    console.log(
      `| ${r.count} | ${st} | ${s(r.node[st])} | ${s(t.wall)} | ${s(t.launchToSession)} | ${s(phases)} | ${s(t.wall - t.launchToSession - phases)} | ${s(sparkStages)} | ${largest} |`,
    );
  }
}
process.exit(0);
