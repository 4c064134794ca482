/**
 * `rollback --to` on a real broker, each job its own process, the tables read back by PyIceberg:
 * the lake goes back to the cut of an earlier gold snapshot (also when a rollback is SIGKILLed
 * between its commits and run again), verify passes, and the next pipeline run reads again from
 * Kafka exactly what the rollback dropped. One small lake of two pipeline runs serves every test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { currentSnapshot, lineage } from '../../jobs/lake/iceberg/metadata.ts';
import { lakeAt } from '../../jobs/lake/lake.ts';
import { acquireLease } from '../../jobs/ops/lease.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { pyiceberg } from '../support/iceberg-readers.ts';
import { describeFailure, newLake, runJob, type JobOutcome, type TestLake } from '../support/lake.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import type { LakeLocation } from '../support/spark-iceberg.ts';
import { metadataOnDisk } from '../support/tables.ts';
import { runSparkStage } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';
import { loadConfig } from '../../jobs/config.ts';
import { lakeOf } from '../../jobs/lake/lake.ts';

const rollback = suite('rollback --to on a real broker');
let lake: TestLake;
/** Gold's snapshot after each pipeline run, and the rows of every table then. */
const golds: string[] = [];
const rowsAfter: string[][][] = [];

const tableNames = ['bronze.vehicles', 'silver.vehicles', 'silver.rejected', 'gold.stats'];
/** Columns that say when a row was written, not what it holds. */
const whenWritten = new Set(['ingested_at', 'computed_at']);

/** Each table's rows as PyIceberg reads them, when-written columns left out, sorted. */
/** A JSON parser's own message differs between the engines (as in spark/engines-equal); the rest of a detail does not. */
const engineNeutral = (detail: unknown) =>
  typeof detail === 'string' && detail.startsWith('not JSON: ') ? "not JSON: (the parser's message)" : detail;

async function rowSets(dir: LakeLocation): Promise<string[][]> {
  const reads = await pyiceberg(
    dir,
    tableNames.map((table) => ({ table })),
  );
  return reads.map((read) =>
    (read.rows ?? [])
      .map((row) =>
        JSON.stringify(Object.fromEntries(Object.entries(row).filter(([k]) => !whenWritten.has(k))), (key, v) =>
          typeof v === 'bigint' ? String(v) : key === 'detail' ? engineNeutral(v) : v,
        ),
      )
      .sort(),
  );
}

async function ok(job: string, args: string[] = [], env: Record<string, string> = {}): Promise<JobOutcome> {
  const outcome = await runJob(job, { ...lake.env, ...env }, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

async function pipelineRun(startTime: string): Promise<void> {
  await ok('produce', [], { LAKEHOUSE_START_TIME: startTime });
  for (const job of ['bronze', 'silver', 'gold']) await ok(job);
}

const goldHead = () => String(currentSnapshot(metadataOnDisk(lake.dir, 'gold')!)!['snapshot-id']);
/** Every table's metadata files: a refused rollback must leave them as they were. */
const metadataFiles = () =>
  ['bronze/vehicles', 'silver/vehicles', 'silver/rejected', 'gold/stats'].flatMap((t) =>
    fs.readdirSync(path.join(lake.dir, t, 'metadata')).sort(),
  );
/** The consumer group's committed offsets per partition. */
async function groupOffsets(): Promise<Record<number, string>> {
  const admin = testKafka((await sharedBroker()).bootstrap).admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({
      groupId: lake.env.LAKEHOUSE_CONSUMER_GROUP,
      topics: [lake.env.LAKEHOUSE_TOPIC],
    });
    return Object.fromEntries(topic.partitions.map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

rollback.before(async () => {
  lake = await newLake('rollback', { LAKEHOUSE_EVENTS: '40', LAKEHOUSE_INVALID_RATIO: '0.1' });
  await ok('topics');
  for (const day of ['13', '14']) {
    await pipelineRun(`2023-10-${day}T13:20:00Z`);
    golds.push(goldHead());
    rowsAfter.push(await rowSets(lake.dir));
  }
  await ok('verify');
});

rollback('bad input: exit 2, one line naming --to, nothing changed', async () => {
  const before = metadataFiles();
  const bronzeSnapshot = String(currentSnapshot(metadataOnDisk(lake.dir, 'bronze')!)!['snapshot-id']);
  const cases: [string[], RegExp][] = [
    [['--to', ''], /--to: is empty/],
    [['--to', '2001-01-01T00:00:00Z'], /before gold\.stats's first snapshot/],
    [['--to', '12345'], /gold\.stats has no snapshot 12345/],
    [['--to', bronzeSnapshot], /is a snapshot of bronze\.vehicles, not of gold\.stats/],
    [['--to', 'yesterday'], /neither a snapshot id nor an ISO 8601 time/],
  ];
  for (const [args, message] of cases) {
    const outcome = await runJob('rollback', lake.env, args);
    assert.is(outcome.exitCode, 2, `${args.join(' ')}: ${describeFailure(outcome)}`);
    const errors = outcome.lines.filter((l) => l.level === 'error');
    assert.is(errors.length, 1, JSON.stringify(errors));
    assert.match(String(errors[0].error), message);
  }
  assert.equal(metadataFiles(), before);
});

rollback('refused while another writer holds the lease', async () => {
  const held = await acquireLease(
    await lakeAt(lake.dir).lease(),
    {
      runId: 'other-writer',
      stage: 'silver',
      host: 'test',
      pid: process.pid,
    },
    0,
  );
  assert.ok(held.acquired);
  const before = metadataFiles();
  try {
    const outcome = await runJob('rollback', { ...lake.env, LAKEHOUSE_LEASE_WAIT_SECONDS: '0' }, ['--to', golds[0]]);
    assert.is(outcome.exitCode, 1, describeFailure(outcome));
    assert.match(
      String(outcome.lines.find((l) => l.msg === 'failed')?.error),
      /^refused: the lake's writer lease is held by .*other-writer.*run it again once that writer is done$/,
    );
  } finally {
    await held.lease.release();
  }
  assert.equal(metadataFiles(), before);
});

rollback(
  'SIGKILLed after its first table commit, the lake still verifies; run again it completes: the tables hold the cut, and the next pipeline run (silver on the Spark engine) reads the dropped records again exactly once',
  async () => {
    let killed = false;
    const dying = await runJob('rollback', lake.env, ['--to', golds[0]], (line, child) => {
      if (line.msg === 'table rolled back' && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    assert.ok(killed, describeFailure(dying));
    await ok('verify');

    const done = await ok('rollback', ['--to', golds[0]]);
    const result = done.lines.find((l) => l.msg === 'finished')!.result as Record<string, unknown>;
    assert.ok((result.tablesRolledBack as string[]).includes('bronze.vehicles'));
    assert.ok((result.recordsToReread as number) > 0);
    await ok('verify');
    // Each table holds what it held after the first run (PyIceberg reads the new snapshots), history kept.
    assert.equal(await rowSets(lake.dir), rowsAfter[0]);
    assert.ok(lineage(metadataOnDisk(lake.dir, 'gold')!).length < metadataOnDisk(lake.dir, 'gold')!.snapshots!.length);
    // Bronze's consumer group went back with it.
    const bronzeAtCut = JSON.parse(
      currentSnapshot(metadataOnDisk(lake.dir, 'bronze')!)!.summary['lakehouse.kafka.next-offsets'],
    ) as Record<string, number>;
    assert.equal(await groupOffsets(), Object.fromEntries(Object.entries(bronzeAtCut).map(([p, o]) => [p, String(o)])));
    // Run again on a rolled-back lake, it has nothing left to do.
    const again = await ok('rollback', ['--to', golds[0]]);
    assert.equal((again.lines.find((l) => l.msg === 'finished')!.result as any).tablesRolledBack, []);

    // The catch-up's silver on the Spark engine: it too reads only the appends after the rollback.
    requireSparkInstall();
    await ok('bronze');
    await runSparkStage('silver', lake.env);
    await ok('gold');
    await ok('verify');
    // The lake equals the one that never had the dropped run: its records were read again once.
    assert.equal(await rowSets(lake.dir), rowsAfter[1]);
  },
);

rollback(
  'records Kafka no longer holds: refused naming partitions and offsets, nothing changed; --accept-loss records them, and verify reports the loss',
  async () => {
    // Back to the first run again: what the catch-up read is dropped, and Kafka has lost part of it.
    const bronze = metadataOnDisk(lake.dir, 'bronze')!;
    const firstRun = lineage(bronze).reverse()[0];
    const cutEnd = JSON.parse(firstRun.summary['lakehouse.kafka.next-offsets']) as Record<string, number>;
    const admin = testKafka((await sharedBroker()).bootstrap).admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [lake.env.LAKEHOUSE_TOPIC] });
    await admin.deleteTopicRecords({
      topic: lake.env.LAKEHOUSE_TOPIC,
      partitions: [{ partition: 0, offset: String(cutEnd['0'] + 2) }],
    });
    await admin.disconnect();
    const before = metadataFiles();
    // By time this once: the moment gold's first snapshot was committed.
    const gold = metadataOnDisk(lake.dir, 'gold')!;
    const firstGold = gold.snapshots!.find((s) => String(s['snapshot-id']) === golds[0])!;
    const at = new Date(firstGold['timestamp-ms']).toISOString();
    const refused = await runJob('rollback', lake.env, ['--to', at]);
    assert.is(refused.exitCode, 2, describeFailure(refused));
    const expected = `partition 0 offsets ${cutEnd['0']}..${cutEnd['0'] + 1} (2 records)`;
    assert.ok(
      String(refused.lines.find((l) => l.msg === 'failed')?.error).includes(expected),
      describeFailure(refused),
    );
    assert.equal(metadataFiles(), before);

    const accepted = await ok('rollback', ['--to', at, '--accept-loss']);
    assert.is((accepted.lines.find((l) => l.msg === 'finished')!.result as any).goldSnapshot, golds[0]);
    const verify = await runJob('verify', lake.env);
    assert.is(verify.exitCode, 1, describeFailure(verify));
    const failure = verify.lines.find((l) => l.msg === 'failed')!;
    assert.is(failure.invariant, 'no Kafka record was lost before bronze read it');
    assert.ok(String(failure.error).includes(`partition 0 offsets ${cutEnd['0']}..${cutEnd['0'] + 1} (2 records`));
  },
);

rollback.run();

const catalog = suite('rollback on a catalog lake (LAKEHOUSE_CATALOG=rest)');

catalog('back to the first run and caught up: verify passes after each, the tables equal those before', async () => {
  const settings = await freshCatalogLake('rollback');
  const own = await newLake('rollback-rest', { ...settings, LAKEHOUSE_EVENTS: '20' });
  const run = async (job: string, args: string[] = [], env: Record<string, string> = {}) => {
    const outcome = await runJob(job, { ...own.env, ...env }, args);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  };
  await run('topics');
  const goldIds: string[] = [];
  for (const day of ['13', '14']) {
    await run('produce', [], { LAKEHOUSE_START_TIME: `2023-10-${day}T13:20:00Z` });
    for (const job of ['bronze', 'silver', 'gold']) await run(job);
    const gold = await lakeOf(loadConfig(new Map(), own.env)).find('gold');
    goldIds.push(String(currentSnapshot(gold!.metadata)!['snapshot-id']));
  }
  const before = await rowSets(settings);
  await run('rollback', ['--to', goldIds[0]]);
  await run('verify');
  for (const job of ['bronze', 'silver', 'gold', 'verify']) await run(job);
  assert.equal(await rowSets(settings), before);
});

catalog.run();
