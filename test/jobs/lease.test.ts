/**
 * The lake's writer lease: in process (acquire, renew, release, take over an expired lease), and
 * between job processes on a real broker: overlapping pipelines end with every invariant holding,
 * a run that cannot get the lease says so in one line and changes nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileUri, LocalFileIO } from '../../jobs/lake/io/local-file-io.ts';
import { acquireLease, LeaseObject, leasePath, type LeaseRecord, type LeaseTiming } from '../../jobs/ops/lease.ts';
import { hostName } from '../../jobs/ops/runs.ts';
import { query } from '../support/duckdb.ts';
import { pyicebergRows } from '../support/iceberg-readers.ts';
import { describeFailure, newLake, runJob, temporaryDir, type JobOutcome, type TestLake } from '../support/lake.ts';
import { tableSql } from '../support/tables.ts';

const fast: LeaseTiming = { ttlMs: 400, renewMs: 100, pollMs: 50, settleMs: 20, skewMs: 10_000 };
const holder = (runId: string) => ({ runId, stage: 'bronze', host: 'test-host', pid: process.pid });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The lease of the volume lake at `root`, as the jobs keep it. */
const leaseAt = (root: string) => new LeaseObject(new LocalFileIO(), fileUri(leasePath(root)));

function plantLease(root: string, record: Partial<LeaseRecord> & { expiresAt: number }): LeaseRecord {
  const lease: LeaseRecord = {
    runId: 'planted-run',
    stage: 'silver',
    host: 'pod-that-died',
    pid: 999_999,
    acquiredAt: Date.now() - 3_600_000,
    ...record,
  };
  fs.mkdirSync(path.dirname(leasePath(root)), { recursive: true });
  fs.writeFileSync(leasePath(root), JSON.stringify(lease));
  return lease;
}

const unit = suite('writer lease');

unit('one holder at a time; renewed past its ttl; free again once released', async () => {
  const root = temporaryDir('lease');
  const first = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
  assert.ok(first.acquired);
  const second = await acquireLease(leaseAt(root), holder('b'), 0, undefined, fast);
  assert.is(second.acquired, false);
  assert.is(!second.acquired && second.holder?.runId, 'a');
  await sleep(3 * fast.ttlMs);
  assert.is(
    (await acquireLease(leaseAt(root), holder('c'), 0, undefined, fast)).acquired,
    false,
    'renewal keeps it held',
  );
  if (first.acquired) await first.lease.release();
  assert.is(fs.existsSync(leasePath(root)), false);
  const third = await acquireLease(leaseAt(root), holder('d'), 0, undefined, fast);
  assert.ok(third.acquired);
  if (third.acquired) await third.lease.release();
});

unit('a waiting run gets the lease when its holder releases it', async () => {
  const root = temporaryDir('lease-wait');
  const first = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
  let waited: string | undefined;
  const second = acquireLease(leaseAt(root), holder('b'), 5_000, (h) => (waited = h?.runId), fast);
  await sleep(200);
  if (first.acquired) await first.lease.release();
  const got = await second;
  assert.ok(got.acquired);
  assert.is(waited, 'a');
  if (got.acquired) await got.lease.release();
});

unit('an expired lease (its holder died) is taken over by exactly one of several runs', async () => {
  const root = temporaryDir('lease-stale');
  const planted = plantLease(root, { expiresAt: Date.now() - 1_000 });
  const results = await Promise.all(
    ['a', 'b', 'c', 'd', 'e'].map((id) => acquireLease(leaseAt(root), holder(id), 0, undefined, fast)),
  );
  const winners = results.filter((r) => r.acquired);
  assert.is(winners.length, 1);
  const [winner] = winners;
  assert.is(winner.acquired && winner.lease.tookOver?.runId, planted.runId);
  const onDisk = JSON.parse(fs.readFileSync(leasePath(root), 'utf8')) as LeaseRecord;
  assert.is(onDisk.runId, winner.acquired ? winner.lease.record.runId : '');
  if (winner.acquired) await winner.lease.release();
});

unit(
  'a holder whose lease was taken over (it stalled past its expiry) learns so at renewal and does not remove the new lease',
  async () => {
    const root = temporaryDir('lease-lost');
    const got = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
    assert.ok(got.acquired);
    const other = plantLease(root, { runId: 'took-it', expiresAt: Date.now() + fast.ttlMs });
    await sleep(3 * fast.renewMs);
    if (got.acquired) {
      assert.is(got.lease.lost?.runId, 'took-it');
      await got.lease.release();
    }
    assert.equal(JSON.parse(fs.readFileSync(leasePath(root), 'utf8')), other);
  },
);

unit(
  'the lease of a run killed on this host (its pid is gone) is taken over without waiting for its expiry',
  async () => {
    const root = temporaryDir('lease-dead-pid');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    plantLease(root, { runId: 'killed-here', host: hostName(), pid: deadPid, expiresAt: Date.now() + fast.ttlMs });
    const got = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
    assert.ok(got.acquired);
    assert.is(got.acquired && got.lease.tookOver?.runId, 'killed-here');
    if (got.acquired) await got.lease.release();
    plantLease(root, { runId: 'alive-here', host: hostName(), pid: process.pid, expiresAt: Date.now() + fast.ttlMs });
    assert.is(
      (await acquireLease(leaseAt(root), holder('b'), 0, undefined, fast)).acquired,
      false,
      'a live holder keeps it',
    );
  },
);

unit(
  "a lease that claims more than its lifetime (its writer's clock a year ahead) is taken over at once, saying why",
  async () => {
    const year = 365 * 24 * 3_600_000;
    const claims: [string, Partial<LeaseRecord> & { expiresAt: number }][] = [
      ['acquired now, expiring in a year', { acquiredAt: Date.now(), expiresAt: Date.now() + year }],
      ['acquired a year from now', { acquiredAt: Date.now() + year, expiresAt: Date.now() + year + fast.ttlMs }],
    ];
    for (const [label, claim] of claims) {
      const root = temporaryDir('lease-future');
      const planted = plantLease(root, { runId: 'clock-ahead', host: 'pod-clock-ahead', ...claim });
      const got = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
      assert.ok(got.acquired, `${label}: not taken over`);
      if (!got.acquired) continue;
      assert.equal(got.lease.tookOver, planted, label);
      assert.match(String(got.lease.distrusted), /ahead of this host's clock|more than a lease's lifetime/, label);
      await got.lease.release();
    }
  },
);

unit('lease content the reader cannot trust is taken over at once, never waited on', async () => {
  // A lease that would hold for 100 ms more if it were believed; `undefined` leaves a field out.
  const lease = (fields: Record<string, unknown>) =>
    JSON.stringify({
      runId: 'r',
      stage: 'gold',
      host: 'h',
      pid: 1,
      acquiredAt: Date.now(),
      expiresAt: Date.now() + 100,
      ...fields,
    });
  const contents: [string, string][] = [
    ['expiresAt missing', lease({ expiresAt: undefined })],
    ['expiresAt a string', lease({ expiresAt: String(Date.now() + 3_600_000) })],
    ['expiresAt null (NaN)', lease({ expiresAt: null })],
    ['expiresAt beyond any date', lease({ expiresAt: 1e300 })],
    ['acquiredAt negative', lease({ acquiredAt: -5 })],
    ['runId missing', lease({ runId: undefined })],
    ['host empty', lease({ host: '' })],
    ['pid a string', lease({ pid: 'x' })],
    ['expires before it was acquired', lease({ acquiredAt: Date.now() + 5_000, expiresAt: Date.now() + 3_000 })],
    ['not JSON', '{"runId": "r", "expiresAt": 99999999999999'],
    ['a JSON array', '[1, 2]'],
    ['JSON null', 'null'],
  ];
  for (const [label, text] of contents) {
    const root = temporaryDir('lease-untrusted');
    fs.mkdirSync(path.dirname(leasePath(root)), { recursive: true });
    fs.writeFileSync(leasePath(root), text);
    const got = await acquireLease(leaseAt(root), holder('a'), 0, undefined, fast);
    assert.ok(got.acquired, `${label}: not taken over`);
    if (got.acquired) await got.lease.release();
  }
});

unit('a lease within its lifetime (a clock a little ahead or behind included) is not taken over', async () => {
  const timing = { ...fast, ttlMs: 30_000 };
  const trusted: [string, Partial<LeaseRecord> & { expiresAt: number }][] = [
    ['just renewed', { acquiredAt: Date.now() - 1_000, expiresAt: Date.now() + timing.ttlMs }],
    ["writer's clock 5 s ahead", { acquiredAt: Date.now() + 5_000, expiresAt: Date.now() + 5_000 + timing.ttlMs }],
    ["writer's clock 5 s behind", { acquiredAt: Date.now() - 5_000, expiresAt: Date.now() - 5_000 + timing.ttlMs }],
  ];
  for (const [label, claim] of trusted) {
    const root = temporaryDir('lease-trusted');
    plantLease(root, { runId: 'alive', host: 'pod-alive', ...claim });
    const got = await acquireLease(leaseAt(root), holder('a'), 0, undefined, timing);
    assert.is(got.acquired, false, label);
    assert.is(!got.acquired && got.holder?.runId, 'alive', label);
  }
});

unit.run();

type Lake = TestLake;

async function ok(
  job: string,
  lake: Lake,
  env: Record<string, string> = {},
  onLine?: Parameters<typeof runJob>[3],
): Promise<JobOutcome> {
  const outcome = await runJob(job, { ...lake.env, ...env }, [], onLine);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

const skippedLine = (outcome: JobOutcome) => outcome.lines.find((l) => l.msg === 'skipped');

/** bronze → silver → gold, each only after the previous one ended with exit 0 (as the CronJob runs them). */
async function pipeline(
  lake: Lake,
  env: Record<string, string> = {},
  onBronzeLine?: Parameters<typeof runJob>[3],
): Promise<JobOutcome[]> {
  const runs = [await ok('bronze', lake, env, onBronzeLine)];
  for (const job of ['silver', 'gold']) runs.push(await ok(job, lake, env));
  return runs;
}

async function assertWhole(lake: Lake, produced: number): Promise<void> {
  const verify = await ok('verify', lake);
  assert.is(
    verify.lines.find((l) => l.msg === 'finished')?.result &&
      (verify.lines.find((l) => l.msg === 'finished')!.result as { bronze: number }).bronze,
    produced,
  );
  const [bronze] = await query<{ n: number; distinct: number }>(
    `select count(*)::int as n, count(distinct (partition, "offset"))::int as distinct from ${await tableSql(lake.dir, 'bronze')}`,
  );
  assert.equal(bronze, { n: produced, distinct: produced }, 'no record lost or doubled');
}

const jobs = suite('writer lease between job processes on a real broker');

jobs(
  'a run that finds the lease held skips at once with LAKEHOUSE_LEASE_WAIT_SECONDS=0: one line, exit 0, nothing touched, recorded as skipped',
  async () => {
    const lake = await newLake('lease-held');
    await ok('topics', lake);
    const held = plantLease(lake.dir, {
      runId: 'the-other-run',
      stage: 'gold',
      host: 'pod-a',
      expiresAt: Date.now() + 100_000,
    });
    const outcome = await ok('bronze', lake, { LAKEHOUSE_LEASE_WAIT_SECONDS: '0' });
    assert.is(outcome.lines.length, 1, JSON.stringify(outcome.lines));
    const line = skippedLine(outcome)!;
    assert.ok(line, 'a skipped line');
    assert.is(line.outcome, 'skipped');
    assert.match(String(line.reason), /held by gold run the-other-run on pod-a \(pid 999999\) since /);
    assert.is(fs.existsSync(path.join(lake.dir, 'bronze')), false, 'bronze touched nothing');
    assert.equal(JSON.parse(fs.readFileSync(leasePath(lake.dir), 'utf8')), held, 'the holder keeps its lease');
    const runs = await pyicebergRows(lake.dir, 'ops.runs');
    assert.equal(
      runs.map((r) => [r.stage, r.outcome]),
      [
        ['topics', 'succeeded'],
        ['bronze', 'skipped'],
      ],
    );
    assert.match(String(runs[1].error), /the-other-run/);
  },
);

jobs('a stale lease (holder killed, lease expired) is taken over and the run does its work', async () => {
  const lake = await newLake('lease-stale', { LAKEHOUSE_EVENTS: '20' });
  await ok('topics', lake);
  await ok('produce', lake);
  plantLease(lake.dir, { runId: 'killed-run', expiresAt: Date.now() - 1_000 });
  const bronze = await ok('bronze', lake, { LAKEHOUSE_LEASE_WAIT_SECONDS: '0' });
  const warning = bronze.lines.find((l) => String(l.msg).startsWith('took over an expired lake writer lease'));
  assert.match(String(warning?.previous), /killed-run/);
  assert.is(
    (bronze.lines.find((l) => l.msg === 'finished')?.result as { recordsRead: number } | undefined)?.recordsRead,
    20,
  );
  assert.is(fs.existsSync(leasePath(lake.dir)), false, 'released at the end');
});

jobs(
  "a lease dated a year ahead (its writer's clock was wrong) does not stop the lake: taken over with a warning naming the holder and its claimed expiry",
  async () => {
    const lake = await newLake('lease-future', { LAKEHOUSE_EVENTS: '20' });
    await ok('topics', lake);
    await ok('produce', lake);
    const year = 365 * 24 * 3_600_000;
    plantLease(lake.dir, {
      runId: 'clock-ahead-run',
      host: 'pod-clock-ahead',
      acquiredAt: Date.now() + year,
      expiresAt: Date.now() + year + 120_000,
    });
    const bronze = await ok('bronze', lake, { LAKEHOUSE_LEASE_WAIT_SECONDS: '0' });
    assert.not.ok(skippedLine(bronze), 'bronze did not skip');
    const warning = bronze.lines.find((l) => String(l.msg).startsWith('took over a lake writer lease it cannot trust'));
    assert.ok(warning, JSON.stringify(bronze.lines.slice(0, 3)));
    assert.is(warning!.level, 'warn');
    assert.match(String(warning!.previous), /silver run clock-ahead-run on pod-clock-ahead/);
    assert.match(String(warning!.previous), new RegExp(`lease until ${new Date(Date.now() + year).getUTCFullYear()}-`));
    assert.match(String(warning!.reason), /ahead of this host's clock/);
    assert.is(
      (bronze.lines.find((l) => l.msg === 'finished')?.result as { recordsRead: number } | undefined)?.recordsRead,
      20,
    );
  },
);

jobs(
  'two overlapping pipelines that wait (hooks): both complete one after the other, verify passes, nothing lost or doubled',
  async () => {
    const lake = await newLake('lease-wait', { LAKEHOUSE_EVENTS: '300', LAKEHOUSE_DUPLICATE_RATIO: '0.05' });
    await ok('topics', lake);
    await ok('produce', lake);
    const [a, b] = await Promise.all([pipeline(lake), pipeline(lake)]);
    const all = [...a, ...b];
    assert.ok(
      all.some((o) => o.lines.some((l) => l.msg === 'waiting for the lake writer lease')),
      'one run waited for the other',
    );
    assert.ok(
      all.every((o) => !skippedLine(o)),
      'nobody skipped',
    );
    await assertWhole(lake, 300);
    const runs = await pyicebergRows(lake.dir, 'ops.runs');
    for (const stage of ['bronze', 'silver', 'gold']) {
      const ofStage = runs.filter((r) => r.stage === stage);
      assert.equal(
        ofStage.map((r) => r.outcome),
        ['succeeded', 'succeeded'],
        stage,
      );
    }
    const bronzes = runs
      .filter((r) => r.stage === 'bronze')
      .sort((x, y) => (x.started_at as number) - (y.started_at as number));
    assert.equal(bronzes.map((r) => r.rows_out).sort(), [0, 300], 'the second bronze found nothing left to read');
  },
);

jobs(
  'two overlapping pipelines that do not wait (CronJob): the second bronze is skipped with one line; after the next run verify passes, nothing lost or doubled',
  async () => {
    const lake = await newLake('lease-skip', { LAKEHOUSE_EVENTS: '300', LAKEHOUSE_LEASE_WAIT_SECONDS: '0' });
    await ok('topics', lake);
    await ok('produce', lake);
    let startSecond!: () => void;
    const aHoldsLease = new Promise<void>((resolve) => (startSecond = resolve));
    const first = pipeline(lake, {}, (line) => {
      if (line.msg === 'bronze plan') startSecond();
    });
    await aHoldsLease;
    const second = pipeline(lake);
    const [a, b] = await Promise.all([first, second]);
    const skipped = skippedLine(b[0]);
    assert.ok(skipped, `the second bronze skipped: ${JSON.stringify(b[0].lines)}`);
    assert.is(b[0].lines.length, 1);
    assert.match(String(skipped!.reason), /held by bronze run \S+ on .+ since /);
    assert.ok(!skippedLine(a[0]), 'the first bronze ran');
    // The second pipeline's later stages may take the lease just as the first one's bronze lets go of
    // it, and then the first one's silver (or gold) is the one skipped: what a skipped stage left
    // undone is done by the next scheduled run, as the CronJob's next tick would.
    await pipeline(lake);
    await assertWhole(lake, 300);
    const runs = await pyicebergRows(lake.dir, 'ops.runs');
    assert.equal(
      runs
        .filter((r) => r.stage === 'bronze')
        .map((r) => r.outcome)
        .sort(),
      ['skipped', 'succeeded', 'succeeded'],
    );
  },
);

jobs.run();
