/**
 * The run history (ops.runs), `status` and the metrics exporter, against a real broker: each job
 * runs as its own process, as in the chart; ops.runs is read back with PyIceberg and DuckDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runJobProcess } from '../../dev/job-process.ts';
import { lakeAt } from '../../jobs/lake/lake.ts';
import { appendRun } from '../../jobs/ops/runs.ts';
import { RunHistory } from '../../jobs/ops/run-history.ts';
import {
  parseMetrics,
  sampleOf,
  scrapeUntil,
  startExporter as startProcess,
  type Sample,
} from '../support/exporter.ts';
import { compiledJobs } from '../support/compiled-jobs.ts';
import { duckdbRowsOf, pyiceberg } from '../support/iceberg-readers.ts';
import {
  describeFailure,
  newLake as newTestLake,
  runJob,
  temporaryDir,
  type JobOutcome,
  type TestLake,
} from '../support/lake.ts';

type Lake = TestLake;
const newLake = (label: string, settings: Record<string, string> = {}) =>
  newTestLake(label, { LAKEHOUSE_KAFKA_WAIT_SECONDS: '20', ...settings });

async function ok(job: string, lake: Lake, args: string[] = []): Promise<JobOutcome> {
  const outcome = await runJob(job, lake.env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

/** `status` as a person or a machine gets it: its stdout. */
async function status(
  lake: Lake,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ exitCode: number; text: string }> {
  const lines: string[] = [];
  const run = await runJobProcess('status', args, { ...process.env, ...lake.env, ...env }, (line) => lines.push(line), {
    entry: await compiledJobs(),
  });
  return { exitCode: run.exitCode, text: lines.join('\n') };
}

/** Starts `metrics` on the test lake as its own process; resolves once it serves. */
const startExporter = (lake: Lake, env: Record<string, string> = {}) => startProcess({ ...lake.env, ...env });

const lagOf = (samples: Sample[]) =>
  samples.filter((s) => s.name === 'lakehouse_kafka_lag_records').reduce((sum, s) => sum + s.value, 0);

const history = suite('ops.runs, status and /metrics on a real broker');
let lake: Lake;

history.before(async () => {
  lake = await newLake('ops');
});

history(
  'a run is recorded per job: failed silver before bronze, then succeeded runs with rows in and out',
  async () => {
    await ok('topics', lake);
    await ok('produce', lake);
    const early = await runJob('silver', lake.env);
    assert.is(early.exitCode, 1);

    const read = await pyiceberg(lake.dir, [{ table: 'ops.runs' }]);
    const rows = read[0].rows!;
    assert.equal(
      rows.map((r) => [r.stage, r.outcome]),
      [
        ['topics', 'succeeded'],
        ['produce', 'succeeded'],
        ['silver', 'failed'],
      ],
    );
    const [topics, produce, silver] = rows;
    assert.equal([produce.rows_in, produce.rows_out], [null, 30]);
    assert.equal([topics.rows_in, topics.rows_out, topics.error], [null, null, null]);
    assert.match(String(silver.error), /no bronze table/);
    assert.not.match(String(silver.error), /\n/);
    for (const row of rows) {
      assert.is(row.engine, 'node');
      assert.match(String(row.run_id), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.ok((row.ended_at as number) >= (row.started_at as number), 'ended after it started');
      assert.ok(String(row.host).length > 0);
    }
    // DuckDB over the data files PyIceberg lists: the same rows.
    const duck = await duckdbRowsOf(read[0]);
    assert.equal(duck.map((r) => r.run_id).sort(), rows.map((r) => r.run_id).sort());
  },
);

history('status and /metrics show the lag before bronze and 0 after it', async () => {
  const before = await status(lake, ['--json']);
  assert.is(before.exitCode, 0, before.text);
  const report = JSON.parse(before.text);
  assert.is(report.kafka.ok, true);
  assert.is(
    report.kafka.partitions.reduce((sum: number, p: { lag: number }) => sum + p.lag, 0),
    30,
  );
  assert.is(report.stages.find((s: { stage: string }) => s.stage === 'silver').lastRun.outcome, 'failed');

  const exporter = await startExporter(lake);
  try {
    assert.equal((await exporter.get('/healthz')).status, 200);
    const first = await exporter.get('/metrics');
    assert.is(first.status, 200);
    assert.is(first.type, 'text/plain; version=0.0.4; charset=utf-8');
    parseMetrics(first.text);
    const samples = await scrapeUntil(exporter, (s) => sampleOf(s, 'lakehouse_up')?.value === 1, 'lakehouse_up 1');
    assert.is(sampleOf(samples, 'lakehouse_lake_up')?.value, 1);
    assert.is(sampleOf(samples, 'lakehouse_kafka_up')?.value, 1);
    for (const part of ['lake', 'kafka'])
      assert.ok(sampleOf(samples, `lakehouse_${part}_state_age_seconds`)!.value < 15, `${part} state is fresh`);
    assert.is(lagOf(samples), 30);
    assert.is(sampleOf(samples, 'lakehouse_stage_consecutive_failures', { stage: 'silver' })?.value, 1);
    assert.is(sampleOf(samples, 'lakehouse_stage_seconds_since_last_success', { stage: 'silver' })?.value, Infinity);
    assert.is(sampleOf(samples, 'lakehouse_runs_total', { stage: 'produce', outcome: 'succeeded' })?.value, 1);
    assert.is(sampleOf(samples, 'lakehouse_table_rows', { table: 'ops.runs' })?.value, 3);

    await ok('bronze', lake);
    await ok('silver', lake);
    // The exporter reads the lake every few seconds: the next reads show bronze caught up.
    const after = await scrapeUntil(
      exporter,
      (s) =>
        lagOf(s) === 0 && sampleOf(s, 'lakehouse_runs_total', { stage: 'silver', outcome: 'succeeded' })?.value === 1,
      'bronze and silver seen',
    );
    assert.is(sampleOf(after, 'lakehouse_table_rows', { table: 'bronze.vehicles' })?.value, 30);
    assert.is(sampleOf(after, 'lakehouse_stage_consecutive_failures', { stage: 'silver' })?.value, 0);
    assert.is(sampleOf(after, 'lakehouse_runs_total', { stage: 'silver', outcome: 'failed' })?.value, 1);
    assert.is(sampleOf(after, 'lakehouse_runs_total', { stage: 'silver', outcome: 'succeeded' })?.value, 1);
    const sinceBronze = sampleOf(after, 'lakehouse_stage_seconds_since_last_success', { stage: 'bronze' })!.value;
    assert.ok(sinceBronze >= 0 && sinceBronze < 60, `bronze succeeded ${sinceBronze}s ago`);
    assert.ok(
      sampleOf(after, 'lakehouse_table_last_commit_timestamp_seconds', { table: 'silver.vehicles' })!.value > 1.7e9,
    );
  } finally {
    const stopped = await exporter.stop();
    assert.is(stopped.exitCode, 0, describeFailure(stopped));
    assert.ok(
      stopped.lines.some((l) => l.msg === 'finished'),
      'SIGTERM ends the exporter finished',
    );
  }
  // Scrapes record nothing: ops.runs holds the jobs' runs only.
  const runs = (await pyiceberg(lake.dir, [{ table: 'ops.runs' }]))[0].rows!;
  assert.equal(
    runs.map((r) => r.stage),
    ['topics', 'produce', 'silver', 'bronze', 'silver'],
  );
  assert.equal(
    runs.slice(3).map((r) => [r.outcome, r.rows_in, r.rows_out]),
    [
      ['succeeded', 30, 30],
      ['succeeded', 30, 30],
    ],
  );

  const text = await status(lake);
  assert.match(text.text, /Bronze lag behind Kafka: 0 record\(s\)/);
  assert.match(text.text, /ops\.runs/);
  assert.match(text.text, /bronze\s+node\s+\S+\s+\S+\s+succeeded\s+30\s+30/);
});

history('with Kafka unreachable, status says so and prints the rest; /metrics has lakehouse_up 0', async () => {
  const down = { KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:1', LAKEHOUSE_KAFKA_WAIT_SECONDS: '2' };
  const started = Date.now();
  const text = await status(lake, [], down);
  assert.is(text.exitCode, 0);
  assert.ok(Date.now() - started < 15_000, 'bounded by LAKEHOUSE_KAFKA_WAIT_SECONDS');
  assert.match(text.text, /Kafka is unreachable/);
  assert.match(text.text, /bronze\.vehicles\s+\S+\s+1\s+30/);
  const exporter = await startExporter(lake, down);
  try {
    const samples = await scrapeUntil(exporter, (s) => sampleOf(s, 'lakehouse_lake_up')?.value === 1, 'the lake read');
    assert.is(sampleOf(samples, 'lakehouse_up')?.value, 0);
    assert.is(sampleOf(samples, 'lakehouse_kafka_up')?.value, 0);
    assert.is(sampleOf(samples, 'lakehouse_table_rows', { table: 'bronze.vehicles' })?.value, 30);
  } finally {
    const stopped = await exporter.stop();
    assert.ok(
      stopped.lines.some((l) => l.level === 'warn' && String(l.msg).startsWith('lakehouse_up 0')),
      'the error is logged',
    );
  }
});

history('status against a Kafka listener of another protocol says which protocol it speaks, at once', async () => {
  const started = Date.now();
  const text = await status(lake, [], { LAKEHOUSE_KAFKA_SECURITY: 'plaintext', LAKEHOUSE_KAFKA_WAIT_SECONDS: '60' });
  assert.is(text.exitCode, 0);
  assert.ok(Date.now() - started < 15_000, `status took ${Date.now() - started} ms`);
  assert.match(text.text, /speaks TLS with SASL authentication \(SASL_SSL\) but LAKEHOUSE_KAFKA_SECURITY=plaintext/);
});

history('a lake whose metadata is broken gives lakehouse_up 0 and a log line; the exporter keeps serving', async () => {
  const broken = temporaryDir('ops-broken');
  fs.mkdirSync(path.join(broken, 'bronze/vehicles/metadata'), { recursive: true });
  fs.writeFileSync(path.join(broken, 'bronze/vehicles/metadata/v1.metadata.json'), '{"format-version": 2, trunc');
  const exporter = await startExporter({ ...lake, env: { ...lake.env, LAKEHOUSE_DATA_DIR: broken } });
  try {
    // Kafka answers: only the lake part fails, and without bronze's offsets there is no lag.
    const samples = await scrapeUntil(exporter, (s) => sampleOf(s, 'lakehouse_kafka_up')?.value === 1, 'Kafka read');
    assert.is(sampleOf(samples, 'lakehouse_up')?.value, 0);
    assert.is(sampleOf(samples, 'lakehouse_lake_up')?.value, 0);
    assert.is(sampleOf(samples, 'lakehouse_lake_state_age_seconds'), undefined, 'the lake was never read');
    assert.is(sampleOf(samples, 'lakehouse_kafka_lag_records'), undefined, "no lag without bronze's position");
    assert.is((await exporter.get('/healthz')).status, 200);
  } finally {
    const stopped = await exporter.stop();
    assert.is(stopped.exitCode, 0, describeFailure(stopped));
    const warning = stopped.lines.find((l) => String(l.msg).startsWith('lakehouse_up 0'));
    assert.match(String(warning?.error), /could not be read/);
  }
});

history('a job stopped by SIGTERM is recorded as stopped', async () => {
  let sent = false;
  // Nobody listens there, so no credentials are needed to find that out.
  const nowhere = {
    KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:1',
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
    LAKEHOUSE_KAFKA_SECURITY: 'plaintext',
  };
  const outcome = await runJob('bronze', { ...lake.env, ...nowhere }, [], (line, child) => {
    if (line.msg === 'waiting for kafka' && !sent) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  assert.is(outcome.exitCode, 143);
  const runs = (await pyiceberg(lake.dir, [{ table: 'ops.runs' }]))[0].rows!;
  const last = runs.at(-1)!;
  assert.equal([last.stage, last.outcome], ['bronze', 'stopped']);
  assert.match(String(last.error), /stopped by SIGTERM/);
});

history.run();

const appends = suite('ops.runs appends');

appends('parallel appends all land (a lost commit is retried on the new head)', async () => {
  const dir = temporaryDir('ops-appends');
  const runs = Array.from({ length: 8 }, (_, i) => ({
    run_id: `run-${i}`,
    stage: 'verify',
    engine: 'node',
    host: 'test',
    started_at: 1_700_000_000_000 + i,
    ended_at: 1_700_000_001_000 + i,
    outcome: i % 2 ? 'failed' : 'succeeded',
    rows_in: i,
    rows_out: null,
    error: i % 2 ? 'boom' : null,
  }));
  const results = await Promise.all(runs.map((run) => appendRun(lakeAt(dir), run)));
  assert.ok(results.every((r) => r.recorded));
  assert.ok(
    results.some((r) => r.recorded && r.attempts > 1),
    'some appends had to retry',
  );
  const history = new RunHistory();
  await history.refresh(lakeAt(dir));
  const [verify] = history.byStage();
  assert.equal(verify.totals, { succeeded: 4, failed: 4, skipped: 0, stopped: 0 });
  assert.is(verify.last.run_id, 'run-7');
  assert.is(verify.lastSuccess?.run_id, 'run-6');
  assert.is(verify.consecutiveFailures, 1);
});

appends('a lake root that does not exist is not created to record a run', async () => {
  const missing = `${temporaryDir('ops-missing')}/not-a-lake`;
  const result = await appendRun(lakeAt(missing), {
    run_id: 'x',
    stage: 'topics',
    engine: 'node',
    host: 'test',
    started_at: 1,
    ended_at: 2,
    outcome: 'succeeded',
    rows_in: null,
    rows_out: null,
    error: null,
  });
  assert.is(result.recorded, false);
  assert.is(fs.existsSync(missing), false);
});

appends.run();
