// The writer lease shared by both engines: the Spark engine's (jobs/spark/lakehouse_lease.py, driven
// through test/spark/lease_driver.py with the Python of the Spark install) and the Node engine's
// (jobs/ops/lease.ts) believe and describe the same leases alike, and on a volume lake and on a
// REST catalog lake (SeaweedFS) they find the same lease object: one engine's lease stops the other,
// and an expired or untrusted one is taken over by either.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../jobs/config.ts';
import { type LakeSettings, lakeOf } from '../../jobs/lake/lake.ts';
import { acquireLease, defaultTiming, distrust, type LeaseRecord, parseLease } from '../../jobs/ops/lease.ts';
import { describeHolder } from '../../jobs/ops/run-record.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import { repoRoot, requireSparkInstall } from './spark-install.ts';

/** The Python lease driver: one JSON command, one JSON answer. */
class PythonLease {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: AsyncIterator<string>;

  constructor() {
    const python = path.join(requireSparkInstall(), 'venv/bin/python');
    this.child = spawn(python, [path.join(repoRoot, 'test/spark/lease_driver.py')], { stdio: 'pipe' });
    let stderr = '';
    this.child.stderr.on('data', (chunk) => (stderr += chunk));
    this.child.on('exit', (code) => {
      if (code) process.stderr.write(`lease_driver.py exited ${code}:\n${stderr}\n`);
    });
    this.answers = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async ask<T = any>(command: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    const { value, done } = await this.answers.next();
    if (done) throw new Error(`lease_driver.py ended before answering ${JSON.stringify(command)}`);
    return JSON.parse(value);
  }

  end(): void {
    this.child.stdin.end();
  }
}

const timing = defaultTiming;
const now = Date.UTC(2025, 0, 15, 12, 0, 0);
const lease = (fields: Record<string, unknown>) =>
  JSON.stringify({
    runId: 'r-1',
    stage: 'bronze',
    host: 'pod-a',
    pid: 42,
    acquiredAt: now - 1_000,
    expiresAt: now + 60_000,
    ...fields,
  });

// Leases as a writer, a wrong clock, a damaged file or anything else may leave them.
const leases: string[] = [
  lease({}),
  lease({ expiresAt: now - 1 }),
  lease({ expiresAt: now + timing.ttlMs + timing.skewMs }),
  lease({ expiresAt: now + timing.ttlMs + timing.skewMs + 1 }),
  lease({ expiresAt: now + 86_400_000 * 365 }),
  lease({ expiresAt: 8.64e15 }),
  lease({ expiresAt: 8.64e15 + 1 }),
  lease({ acquiredAt: now + timing.skewMs + 1, expiresAt: now + timing.skewMs + 2 }),
  lease({ acquiredAt: now + 1_500, expiresAt: now + 2_000 }),
  lease({ acquiredAt: now, expiresAt: now - 5 }),
  lease({ acquiredAt: 1.5, expiresAt: 2.5 }),
  lease({ acquiredAt: -1 }),
  lease({ acquiredAt: '2025-01-15T12:00:00Z' }),
  lease({ acquiredAt: null }),
  lease({ acquiredAt: true }),
  lease({}).replace(/"expiresAt":\d+/, '"expiresAt":1e400'),
  lease({ runId: '' }),
  lease({ runId: 7 }),
  lease({ stage: ['bronze'] }),
  lease({ host: { name: 'pod-a' } }),
  lease({ host: 'pod-\u00e9\u2028\u0001"' }),
  lease({ pid: -1 }),
  lease({ pid: 1.5 }),
  lease({ pid: 3.0 }),
  lease({ pid: 2 ** 53 }),
  lease({ pid: '42' }),
  JSON.stringify({ runId: 'r', stage: 's', host: 'h', acquiredAt: now, expiresAt: now + 1 }),
  '{"runId":"r","stage":"s","host":"h","pid":1,"acquiredAt":NaN,"expiresAt":1}',
  '{"runId":"r","stage":"s","host":"h","pid":1,"acquiredAt":12345678901234567890,"expiresAt":1}',
  '[]',
  'null',
  '"lease"',
  '',
  'not json',
  '{"runId":',
];

const parity = suite('both engines believe and describe a lease alike');
parity('distrust and describeHolder give the same words for every lease', async () => {
  const python = new PythonLease();
  try {
    const answers = await python.ask<[string | null, string][]>({
      op: 'distrust',
      now,
      leases: leases.map((text) => Buffer.from(text).toString('hex')),
    });
    leases.forEach((text, i) => {
      const record = parseLease(Buffer.from(text));
      assert.equal(answers[i], [distrust(record, now, timing) ?? null, describeHolder(record)], text);
    });
  } finally {
    python.end();
  }
});
parity.run();

/** A Node run's holder, as jobs/cli.ts makes one. */
const nodeHolder = (stage: string) => ({ runId: randomUUID(), stage, host: 'node-host', pid: process.pid });

for (const backend of ['volume', 'catalog'] as const) {
  const shared = suite(`one lease for both engines, ${backend} lake`);
  let settings: LakeSettings;
  let env: Record<string, string>;
  shared.before(async () => {
    if (backend === 'volume') {
      env = { LAKEHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lease-interop-')) };
    } else {
      env = { ...(await freshCatalogLake('lease-interop')) };
    }
    settings = loadConfig(new Map(), env);
  });
  const nodeLease = () => lakeOf(settings).lease();

  shared('a lease the Node engine holds stops the Spark engine, which names its holder after waiting', async () => {
    const held = await acquireLease(await nodeLease(), nodeHolder('bronze'), 0);
    assert.ok(held.acquired);
    const python = new PythonLease();
    try {
      const started = Date.now();
      const answer = await python.ask({ op: 'acquire', env, runId: 'spark-run', stage: 'silver', waitMs: 1_500 });
      assert.ok(Date.now() - started >= 1_500, 'it waited');
      assert.is(answer.acquired, false);
      assert.equal(answer.holder, held.lease.record);
      assert.equal(answer.waitedOn, [describeHolder(held.lease.record)]);
      assert.is(answer.location, (await nodeLease()).uri.replace(/^file:/, ''));
    } finally {
      python.end();
      await held.lease.release();
    }
  });

  shared('a lease the Spark engine holds stops the Node engine; released, the Node engine takes it', async () => {
    const python = new PythonLease();
    try {
      const answer = await python.ask({ op: 'acquire', env, runId: randomUUID(), stage: 'silver', waitMs: 0 });
      assert.ok(answer.acquired, JSON.stringify(answer));
      const refused = await acquireLease(await nodeLease(), nodeHolder('gold'), 0);
      assert.not.ok(refused.acquired);
      assert.equal(refused.acquired ? undefined : refused.holder, answer.record as LeaseRecord);
      assert.equal(await python.ask({ op: 'release' }), { released: true, lost: null });
      const taken = await acquireLease(await nodeLease(), nodeHolder('gold'), 0);
      assert.ok(taken.acquired);
      await taken.lease.release();
    } finally {
      python.end();
    }
  });

  shared("either engine takes over the other's expired lease", async () => {
    const short = { ...defaultTiming, ttlMs: 500, renewMs: 3_600_000 };
    const node = await acquireLease(await nodeLease(), nodeHolder('bronze'), 0, () => {}, short);
    assert.ok(node.acquired);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const python = new PythonLease();
    try {
      const answer = await python.ask({ op: 'acquire', env, runId: randomUUID(), stage: 'silver', waitMs: 0 });
      assert.ok(answer.acquired, JSON.stringify(answer));
      assert.equal(answer.tookOver, node.lease.record);
      assert.is(answer.distrusted, null);
      assert.equal(await python.ask({ op: 'release' }), { released: true, lost: null });

      const spark = await python.ask({
        op: 'acquire',
        env,
        runId: randomUUID(),
        stage: 'gold',
        waitMs: 0,
        timing: short,
      });
      assert.ok(spark.acquired);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const taken = await acquireLease(await nodeLease(), nodeHolder('maintain'), 0);
      assert.ok(taken.acquired);
      assert.equal(taken.lease.tookOver, spark.record);
      // The Spark run learns at its release that it lost the lease, and leaves the new one alone.
      const released = await python.ask({ op: 'release' });
      assert.is(released.released, true);
      const still = await (await nodeLease()).read();
      assert.is(still?.record.runId, taken.lease.record.runId);
      await taken.lease.release();
    } finally {
      python.end();
    }
  });

  shared('a lease neither can believe (held for a year) is taken over by the Spark engine, saying why', async () => {
    const object = await nodeLease();
    const year = { ...nodeHolder('bronze'), acquiredAt: Date.now(), expiresAt: Date.now() + 365 * 86_400_000 };
    assert.ok(await object.create(year));
    const python = new PythonLease();
    try {
      const answer = await python.ask({ op: 'acquire', env, runId: randomUUID(), stage: 'silver', waitMs: 0 });
      assert.ok(answer.acquired);
      assert.equal(answer.tookOver, year);
      assert.match(answer.distrusted, /^it claims to be held until .*: more than a lease's lifetime of 120s$/);
      await python.ask({ op: 'release' });
      assert.is(await object.read(), undefined, 'released');
    } finally {
      python.end();
    }
  });

  shared.run();
}
