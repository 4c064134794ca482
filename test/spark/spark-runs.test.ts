// The Spark stages on the same footing as the Node jobs: they take the lake's writer lease, the same
// object a Node run takes, and record every run in ops.runs (engine spark), which `status` shows.
// On a volume lake and on a REST catalog lake (SeaweedFS): a Spark stage skips on the lease a Node
// run holds (a Node bronze waiting for a Kafka that is not there), and a Node stage skips on, or
// waits for, the lease a Spark run holds.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../dev/broker/net.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { loadConfig } from '../../jobs/config.ts';
import { readDataRows } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { headOf, lakeOf } from '../../jobs/lake/lake.ts';
import { type RunRow, runsColumns } from '../../jobs/lake/table-schema.ts';
import type { LeaseRecord } from '../../jobs/ops/lease.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { runJob, type JobOutcome } from '../support/lake.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import { type JobRun, logLine, runCommand, runNodeJob, runSparkStage } from './run-job.ts';
import { repoRoot, requireSparkInstall } from './spark-install.ts';

const id = `${process.pid}-${Date.now()}`;
let bootstrap: string;
let volumeEnv: Record<string, string>;
let catalogEnv: Record<string, string>;
let setupFailure: unknown;

const setUp = async () => {
  requireSparkInstall();
  ({ bootstrap } = await sharedBroker());
  const base = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: `spark-runs-${id}`,
    LAKEHOUSE_PARTITIONS: '2',
    LAKEHOUSE_EVENTS: '300',
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
  };
  volumeEnv = {
    ...base,
    LAKEHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'spark-runs-')),
    LAKEHOUSE_CONSUMER_GROUP: `spark-runs-volume-${id}`,
  };
  const catalog: CatalogSettings = await freshCatalogLake('spark-runs');
  catalogEnv = {
    ...base,
    ...catalog,
    LAKEHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'spark-runs-catalog-')),
    LAKEHOUSE_CONSUMER_GROUP: `spark-runs-catalog-${id}`,
  };
  for (const env of [volumeEnv, catalogEnv]) await runNodeJob('topics', env);
  await runNodeJob('produce', volumeEnv);
  for (const env of [volumeEnv, catalogEnv]) await runNodeJob('bronze', env);
};
const ready = setUp().catch((error) => {
  setupFailure = error;
});
const settingUp = async () => {
  await ready;
  if (setupFailure) throw setupFailure;
};

/** Settings that point a stage at a Kafka nobody listens on: it waits for it (holding the lease), then fails. */
async function noKafka(env: Record<string, string>, waitSeconds: number): Promise<Record<string, string>> {
  return {
    ...env,
    KAFKA_BOOTSTRAP_SERVER: `127.0.0.1:${await freePort()}`,
    LAKEHOUSE_KAFKA_SECURITY: 'plaintext',
    LAKEHOUSE_KAFKA_WAIT_SECONDS: String(waitSeconds),
  };
}

/** A run that may fail: its output, and whether it exited 0. */
async function attempt(run: Promise<JobRun>): Promise<JobRun & { ok: boolean }> {
  try {
    return { ...(await run), ok: true };
  } catch (error) {
    return { stdout: (error as Error).message, stderr: '', seconds: Number.NaN, ok: false };
  }
}

/** The lease as it is now, read the way the Node jobs read it; undefined when none is held. */
async function leaseNow(env: Record<string, string>): Promise<LeaseRecord | undefined> {
  return (await (await lakeOf(loadConfig(new Map(), env)).lease()).read())?.record;
}

async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; ) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} within ${seconds} s`);
}

/** Every row of ops.runs, read by the Node engine's checked reader. */
async function runRows(env: Record<string, string>): Promise<RunRow[]> {
  const table = await lakeOf(loadConfig(new Map(), env)).find('runs');
  if (!table || !headOf(table)) return [];
  const rows: RunRow[] = [];
  const files = (await liveFiles(table)).map((f) => f.file);
  for await (const row of readDataRows(table.files, files, runsColumns)) rows.push(row);
  return rows;
}

/** `status --json` of the lake. */
async function status(env: Record<string, string>): Promise<any> {
  const run = await runCommand(path.join(repoRoot, 'node_modules/.bin/tsx'), ['jobs/main.ts', 'status', '--json'], {
    ...process.env,
    ...env,
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '10',
  });
  return JSON.parse(run.stdout);
}

/**
 * A Spark stage started while a Node bronze run holds the lease (it waits for a Kafka that is not
 * there): its one and last line is `skipped`, naming that run; then the Node run is stopped.
 */
async function sparkSkipsOnNodeLease(env: Record<string, string>) {
  let node: ChildProcess | undefined;
  let spark: Promise<JobRun & { ok: boolean }> | undefined;
  let holder: LeaseRecord | undefined;
  const nodeRun: JobOutcome = await runJob('bronze', await noKafka(env, 600), [], (line, child) => {
    node = child;
    if (line.msg === 'waiting for kafka' && !spark)
      spark = (async () => {
        holder = await until('the Node bronze holds the lease', 30, () => leaseNow(env));
        const skipped = await attempt(runSparkStage('silver', { ...env, LAKEHOUSE_LEASE_WAIT_SECONDS: '0' }));
        node?.kill('SIGTERM');
        return skipped;
      })();
  });
  assert.ok(spark, `the Node bronze waited for Kafka: ${JSON.stringify(nodeRun.lines.slice(-3))}`);
  const skipped = await spark!;
  assert.ok(skipped.ok, skipped.stdout);
  assert.is(holder!.stage, 'bronze');
  assert.is(holder!.pid, node!.pid);
  const last = logLine(skipped, 'skipped');
  assert.is(last.outcome, 'skipped');
  assert.is(last.engine, 'spark');
  assert.match(String(last.reason), `skipped: the lake's writer lease is held by bronze run ${holder!.runId} on `);
  assert.match(String(last.reason), `(pid ${holder!.pid})`);
  assert.not.ok(skipped.stdout.includes('"msg": "finished"'), 'silver did nothing');
  assert.is(await leaseNow(env), undefined, 'the stopped Node run released the lease');
  return holder!;
}

test('volume lake: a Spark stage skips on the lease a Node run holds, naming it, and records the skip', async () => {
  await settingUp();
  const holder = await sparkSkipsOnNodeLease(volumeEnv);
  const rows = await runRows(volumeEnv);
  const skip = rows.find((r) => r.stage === 'silver' && r.engine === 'spark');
  assert.ok(skip, JSON.stringify(rows));
  assert.is(skip!.outcome, 'skipped');
  assert.match(skip!.error ?? '', `held by bronze run ${holder.runId}`);
  assert.ok(rows.some((r) => r.stage === 'bronze' && r.engine === 'node' && r.outcome === 'stopped'));
});

test('volume lake: a Node stage skips on the lease a Spark run holds, or waits for it', async () => {
  await settingUp();
  // A Spark bronze waiting 25 s for a Kafka that is not there holds the lease meanwhile, then fails.
  const spark = attempt(runSparkStage('bronze', await noKafka(volumeEnv, 25)));
  const holder = await until('the Spark bronze holds the lease', 240, async () => {
    const lease = await leaseNow(volumeEnv);
    return lease?.stage === 'bronze' ? lease : undefined;
  });
  const skipped = await runJob('silver', { ...volumeEnv, LAKEHOUSE_LEASE_WAIT_SECONDS: '0' });
  assert.is(skipped.exitCode, 0);
  const last = skipped.lines.at(-1)!;
  assert.is(last.msg, 'skipped');
  assert.match(String(last.reason), `held by bronze run ${holder.runId} on ${holder.host} (pid ${holder.pid})`);
  const waited = await runJob('gold', { ...volumeEnv, LAKEHOUSE_LEASE_WAIT_SECONDS: '300' });
  const sparkRun = await spark;
  assert.not.ok(sparkRun.ok, 'the Spark bronze fails without Kafka');
  assert.match(sparkRun.stdout, /gave no description of topic/);
  assert.is(waited.exitCode, 0);
  assert.ok(
    waited.lines.some((l) => l.msg === 'waiting for the lake writer lease' && String(l.heldBy).includes(holder.runId)),
  );
  assert.is(waited.lines.at(-1)!.msg, 'finished');
  const rows = await runRows(volumeEnv);
  const failed = rows.find((r) => r.run_id === holder.runId);
  assert.ok(failed, 'the Spark run is in ops.runs by the run id its lease named');
  assert.equal([failed!.stage, failed!.engine, failed!.outcome], ['bronze', 'spark', 'failed']);
  assert.match(failed!.error ?? '', /gave no description of topic/);
});

test('volume lake: Spark silver and gold record their runs with rows in and out; status shows them', async () => {
  await settingUp();
  for (const stage of ['silver', 'gold'] as const) await runSparkStage(stage, volumeEnv);
  const rows = await runRows(volumeEnv);
  const spark = (stage: string) =>
    rows.filter((r) => r.engine === 'spark' && r.stage === stage && r.outcome === 'succeeded');
  const [silver] = spark('silver');
  const [gold] = spark('gold');
  assert.ok(silver && gold, JSON.stringify(rows));
  assert.equal([silver!.rows_in, silver!.rows_out], [300, 300]);
  assert.is(gold!.rows_out, 3);
  assert.ok(silver!.ended_at >= silver!.started_at && silver!.host.length > 0);
  const report = await status(volumeEnv);
  const stage = (name: string) => report.stages.find((s: { stage: string }) => s.stage === name);
  assert.equal(
    [stage('silver').lastRun.engine, stage('silver').lastRun.outcome, stage('silver').lastRun.rowsIn],
    ['spark', 'succeeded', 300],
  );
  assert.equal(stage('silver').runs, { succeeded: 1, failed: 0, skipped: 2, stopped: 0 });
  assert.is(stage('gold').lastRun.engine, 'spark');
  assert.is(stage('bronze').consecutiveFailures, 1, "the Spark bronze's failure counts");
});

test('catalog lake: a Spark stage skips on the lease a Node run holds; its runs go to the catalog’s ops.runs and status shows them', async () => {
  await settingUp();
  const holder = await sparkSkipsOnNodeLease(catalogEnv);
  await runSparkStage('silver', catalogEnv);
  const rows = await runRows(catalogEnv);
  const spark = rows.filter((r) => r.engine === 'spark');
  assert.equal(spark.map((r) => [r.stage, r.outcome]).sort(), [
    ['silver', 'skipped'],
    ['silver', 'succeeded'],
  ]);
  assert.match(spark.find((r) => r.outcome === 'skipped')!.error ?? '', `held by bronze run ${holder.runId}`);
  const report = await status(catalogEnv);
  const silver = report.stages.find((s: { stage: string }) => s.stage === 'silver');
  assert.equal([silver.lastRun.engine, silver.lastRun.outcome, silver.lastRun.rowsIn], ['spark', 'succeeded', 300]);
});

test.run();
