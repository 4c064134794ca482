/**
 * `forget` on a real broker's lake: bad input changes nothing; a run killed before, between and after its
 * commits leaves a lake that verify accepts or that it names as an incomplete erasure, and the next
 * run with the same ids completes it; afterwards no table (read by PyIceberg), no retained snapshot
 * (time travel fails), no file on disk (bytes, DuckDB over every Parquet file, every Avro file
 * decoded) holds the vehicles, verify passes, and later pipeline runs do not bring them back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeOffsets, VehicleMatcher, vehicleDigest, vehicleIdsOf } from '../../jobs/forget/plan.ts';
import { loadConfig } from '../../jobs/config.ts';
import { readDataRows } from '../../jobs/lake/data-file-source.ts';
import { decodeAvroFile } from '../../jobs/lake/iceberg/avro.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { lakeOf } from '../../jobs/lake/lake.ts';
import { lineage } from '../../jobs/lake/iceberg/metadata.ts';
import { erasedOffsets, erasureKeys, pendingErasure } from '../../jobs/lake/lineage.ts';
import { nextOffsetsOf } from '../../jobs/lake/offsets.ts';
import { tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { filesOf } from '../../jobs/maintain/orphans.ts';
import { query } from '../support/duckdb.ts';
import { pyiceberg } from '../support/iceberg-readers.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import type { Row } from '../support/iceberg-values.ts';
import { describeFailure, newLake, runJob, type JobOutcome, type TestLake } from '../support/lake.ts';
import { findTable, metadataOnDisk } from '../support/tables.ts';
import { runSparkStage } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';

const keys = ['bronze', 'silver', 'rejected', 'gold'] as const satisfies readonly TableKey[];
const finished = (o: JobOutcome) => o.lines.find((l) => l.msg === 'finished')?.result as Record<string, any>;

async function ok(job: string, lake: TestLake, args: string[] = []): Promise<JobOutcome> {
  const outcome = await runJob(job, lake.env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

let run = 0;
async function pipelineRun(lake: TestLake, engine: 'node' | 'spark' = 'node'): Promise<void> {
  run++;
  const start = new Date(Date.parse('2023-10-13T13:00:00Z') + run * 3_600_000).toISOString();
  await ok('produce', lake, ['--events', '60', '--seed', String(7 + run), '--start-time', start]);
  await ok('bronze', lake);
  if (engine === 'spark') for (const stage of ['silver', 'gold'] as const) await runSparkStage(stage, lake.env);
  else for (const job of ['silver', 'gold']) await ok(job, lake);
}

const filesUnder = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();

/** Every file of the lake with its size and modification time: "nothing changed" is this staying equal. */
const stateOf = (dir: string) =>
  filesUnder(dir)
    .filter((f) => !f.includes(`${path.sep}.work${path.sep}`))
    .map((f) => {
      const s = fs.statSync(f);
      return `${path.relative(dir, f)} ${s.size} ${s.mtimeMs}`;
    });

async function readAll(lake: TestLake): Promise<Record<TableKey | 'runs', Row[]>> {
  const reads = await pyiceberg(lake.dir, [...keys.map((k) => ({ table: tables[k].name })), { table: 'ops.runs' }]);
  return Object.fromEntries([...keys, 'runs'].map((k, i) => [k, reads[i].rows!])) as Record<TableKey | 'runs', Row[]>;
}

const base64Names = (value: unknown, id: string) =>
  typeof value === 'string' && Buffer.from(value, 'base64').includes(Buffer.from(JSON.stringify(id)));

/** Whether a row (as PyIceberg reads it) names the vehicle: its id, or a key or raw value holding it. */
const rowNames = (row: Row, id: string) =>
  row.vehicle_id === id ||
  base64Names(row.value, id) ||
  base64Names(row.raw_value, id) ||
  base64Names(row.key, id) ||
  (typeof row.key === 'string' && Buffer.from(row.key, 'base64').toString() === id);

const env = { lake: undefined as unknown as TestLake };
let forgotten: string[] = [];
let before: Record<TableKey | 'runs', Row[]>;
let oldSnapshots: Record<TableKey, string[]>;

test.before(async () => {
  env.lake = await newLake('forget', {
    LAKEHOUSE_PARTITIONS: '3',
    LAKEHOUSE_INVALID_RATIO: '0.15',
    LAKEHOUSE_DUPLICATE_RATIO: '0.05',
  });
  await ok('topics', env.lake);
  await pipelineRun(env.lake);
  before = await readAll(env.lake);
  // Two vehicles: the one with the most silver rows, and one with a rejected record if another has one.
  const counts = new Map<string, number>();
  for (const row of before.silver)
    counts.set(row.vehicle_id as string, (counts.get(row.vehicle_id as string) ?? 0) + 1);
  const byCount = [...counts].sort((a, b) => b[1] - a[1]).map(([id]) => id);
  const rejectedToo = byCount.find((id) => before.rejected.some((r) => rowNames(r, id)));
  forgotten = [byCount[0], rejectedToo && rejectedToo !== byCount[0] ? rejectedToo : byCount[1]];
  oldSnapshots = Object.fromEntries(
    keys.map((k) => [k, (metadataOnDisk(env.lake.dir, k)!.snapshots ?? []).map((s) => String(s['snapshot-id']))]),
  ) as Record<TableKey, string[]>;
});

test('the plan: which records name a vehicle, the ids, the erased offsets', () => {
  const matcher = new VehicleMatcher(['CAR_007']);
  const value = (text: string) => Buffer.from(text);
  assert.ok(matcher.valueNames(value('{"vehicleId":"CAR_007","type":"car"}')));
  assert.ok(matcher.valueNames(value('{"vehicleId":"\\u0043AR_007"}')), 'escaped otherwise');
  assert.ok(matcher.valueNames(value('{"vehicleId":"CAR_007",')), 'malformed JSON');
  assert.not.ok(matcher.valueNames(value('{"vehicleId":"CAR_0071"}')), 'another vehicle');
  assert.not.ok(matcher.valueNames(null));
  assert.ok(matcher.keyNames(value('CAR_007')));
  assert.not.ok(matcher.keyNames(value('CAR_0070')));
  assert.equal(vehicleIdsOf(['forget', '--vehicle', 'A', '--vehicle=B', '--vehicle', 'A']), ['A', 'B']);
  assert.throws(() => vehicleIdsOf(['forget', '--vehicle=']), /--vehicle: a vehicle id is empty/);
  assert.throws(() => vehicleIdsOf(['forget', '--vehicle', '--topic', 't']), /empty/);
  assert.equal(
    [
      ...mergeOffsets(
        new Map([[0, [[3, 5]]]]),
        new Map([
          [0, [5, 9]],
          [2, [1]],
        ]),
      ),
    ],
    [
      [
        0,
        [
          [3, 6],
          [9, 10],
        ],
      ],
      [2, [[1, 2]]],
    ],
  );
  assert.is.not(vehicleDigest('a', 'CAR_007'), vehicleDigest('b', 'CAR_007'), 'salted');
});

test('bad input exits 2 with one line and changes nothing', async () => {
  const lake = env.lake;
  const state = stateOf(lake.dir);
  for (const args of [[], ['--vehicle', forgotten[0], '--vehicle', '']]) {
    const outcome = await runJob('forget', lake.env, args);
    assert.is(outcome.exitCode, 2, `forget ${args.join(' ')}: ${describeFailure(outcome)}`);
    const errors = outcome.lines.filter((l) => l.level === 'error');
    assert.is(errors.length, 1, JSON.stringify(outcome.lines));
    assert.match(String(errors[0].error), /--vehicle/);
  }
  assert.equal(stateOf(lake.dir), state, 'the lake is as it was (no run recorded, no lease left)');
});

test('killed before, between and after its commits, then completed by the next run with the same ids', async () => {
  const lake = env.lake;
  const args = forgotten.flatMap((id) => ['--vehicle', id]);
  const killedAt = async (msg: string, table?: string) =>
    runJob('forget', lake.env, args, (line, child) => {
      if (line.msg === msg && (table === undefined || line.table === table)) child.kill('SIGKILL');
    });
  const first = await killedAt('erasing');
  assert.is.not(first.exitCode, 0, 'killed');
  // Killed before its first commit or just after it: verify accepts the lake or names the erasure.
  const afterFirst = await runJob('verify', lake.env);
  if (pendingErasure(metadataOnDisk(lake.dir, 'bronze'))) {
    assert.is(afterFirst.exitCode, 1);
    assert.match(JSON.stringify(afterFirst.lines), /erasure of \d+ vehicles by forget run [^ ]+ is incomplete/);
  } else assert.is(afterFirst.exitCode, 0, describeFailure(afterFirst));

  // Killed between its commits: the erasure is pending.
  const second = await killedAt('table erased', tables.silver.name);
  assert.is.not(second.exitCode, 0, 'killed');
  assert.ok(pendingErasure(metadataOnDisk(lake.dir, 'bronze')), 'bronze records the erasure as pending');
  // Killed after its commits, while it expires snapshots and deletes files: verify names the erasure.
  const third = await killedAt('history dropped', 'silver');
  assert.is.not(third.exitCode, 0, 'killed');
  const pending = pendingErasure(metadataOnDisk(lake.dir, 'bronze'));
  assert.ok(pending, 'still pending');
  assert.ok(!JSON.stringify(pending).includes(forgotten[0]), 'not the id in clear');
  const afterThird = await runJob('verify', lake.env);
  assert.is(afterThird.exitCode, 1, describeFailure(afterThird));
  assert.match(JSON.stringify(afterThird.lines), /is incomplete; run forget again with the same --vehicle ids/);

  // Another set of ids cannot complete it: bad input, nothing changed.
  if (forgotten.length > 1) {
    const state = stateOf(lake.dir);
    const partial = await runJob('forget', lake.env, ['--vehicle', forgotten[1]]);
    assert.is(partial.exitCode, 2, describeFailure(partial));
    assert.match(JSON.stringify(partial.lines), /are not among the --vehicle ids given/);
    assert.equal(stateOf(lake.dir), state);
  }

  const done = finished(await ok('forget', lake, args));
  assert.is(done.completed, pending.run, 'the pending erasure was completed');
  assert.is(pendingErasure(metadataOnDisk(lake.dir, 'bronze')), undefined);
  for (const digest of done.digests) assert.match(digest, /^[0-9a-f]{64}$/);
  assert.ok(
    forgotten.every((id) => done.digests.includes(vehicleDigest(pending.salt, id))),
    'the digests are the salted SHA-256 of the ids',
  );
  await ok('verify', lake);
  // Once more: nothing left to do.
  const again = finished(await ok('forget', lake, args));
  assert.equal(again.removed, { bronze: 0, rejected: 0, silver: 0 });
});

test('no table, snapshot or file holds the vehicles; every other row is kept', async () => {
  const lake = env.lake;
  const after = await readAll(lake);
  for (const key of keys)
    for (const id of forgotten)
      assert.not.ok(
        after[key].some((r) => rowNames(r, id)),
        `${key} still names the vehicle`,
      );
  // Every row that did not name them is still there, in every table but gold (recomputed).
  const erased = erasedOffsets(metadataOnDisk(lake.dir, 'bronze'));
  const isErased = (p: number, o: number) => (erased.get(p) ?? []).some(([from, to]) => o >= from && o < to);
  const kept = (key: 'bronze' | 'silver' | 'rejected', rows: Row[]) =>
    rows
      .filter((r) =>
        key === 'bronze'
          ? !isErased(r.partition as number, r.offset as number)
          : !isErased(r.source_partition as number, r.source_offset as number),
      )
      .map((r) => JSON.stringify(r))
      .sort();
  for (const key of ['bronze', 'silver', 'rejected'] as const)
    assert.equal(kept(key, after[key]).length, kept(key, before[key]).length, `${key} kept its other rows`);
  assert.ok(after.bronze.length < before.bronze.length);
  const events = after.gold.reduce((n, r) => n + Number(r.event_count), 0);
  assert.is(events, after.silver.length, "gold's running sums do not count the vehicles");

  // Each table keeps only its latest snapshot, and whatever that references exists.
  for (const key of keys) {
    const table = await findTable(lake.dir, key);
    assert.is(table!.metadata.snapshots!.length, 1, `${key} keeps one snapshot`);
    for (const file of await filesOf(table!, table!.metadata.snapshots!))
      assert.ok(await table!.files.stat(file, 'file'), file);
  }
  // Time travel to a snapshot from before the erasure fails (PyIceberg).
  const old = oldSnapshots.silver[0];
  const travel = await pyiceberg(lake.dir, [{ table: tables.silver.name, snapshotId: old }]).then(
    () => 'read',
    (error: Error) => error.message,
  );
  assert.is.not(travel, 'read', `silver snapshot ${old} is gone`);
  assert.ok(metadataOnDisk(lake.dir, 'bronze')!.properties[erasureKeys.erasedOffsets]);

  // No file of the lake holds the ids: as bytes, in any Parquet value (DuckDB), in any Avro record.
  const files = filesUnder(lake.dir);
  const ids = forgotten.map((id) => Buffer.from(id));
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    for (const id of ids) assert.not.ok(bytes.includes(id), `${file} holds a forgotten id`);
    if (file.endsWith('.parquet')) {
      const rows = await query(`SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`);
      const text = JSON.stringify(rows, (_k, v) =>
        typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      );
      for (const id of forgotten) assert.not.ok(text.includes(id), `${file} (DuckDB) holds ${id}`);
    }
    if (file.endsWith('.avro')) {
      const { records } = await decodeAvroFile(fs.readFileSync(file), file);
      const text = JSON.stringify(records, (_k, v) =>
        typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('latin1') : v,
      );
      for (const id of forgotten) assert.not.ok(text.includes(id), `${file} (Avro) holds ${id}`);
    }
  }
  const forgets = after.runs.filter((r) => r.stage === 'forget');
  assert.ok(
    forgets.some((r) => r.outcome === 'succeeded'),
    'ops.runs records the erasure',
  );
});

test('later runs, silver and gold on the Spark engine, do not bring the vehicles back', async () => {
  requireSparkInstall();
  const lake = env.lake;
  const erasedEnd = nextOffsetsOf(lineage(metadataOnDisk(lake.dir, 'bronze')!)[0]);
  await pipelineRun(lake, 'spark');
  await ok('verify', lake);
  const [bronze, silver] = await pyiceberg(lake.dir, [{ table: tables.bronze.name }, { table: tables.silver.name }]);
  const after = { bronze: bronze.rows!, silver: silver.rows! };
  for (const row of after.silver.filter((r) => forgotten.includes(r.vehicle_id as string)))
    assert.ok(
      (row.source_offset as number) >= (erasedEnd.get(row.source_partition as number) ?? 0),
      'only new events of the vehicle, none of the erased ones',
    );
  for (const row of after.bronze)
    assert.ok(
      !(erasedOffsets(metadataOnDisk(lake.dir, 'bronze')).get(row.partition as number) ?? []).some(
        ([from, to]) => (row.offset as number) >= from && (row.offset as number) < to,
      ),
      'no erased offset read again',
    );
});

test('on the catalog lake (LAKEHOUSE_CATALOG=rest): nothing of the vehicles is left in the object store; verify passes', async () => {
  // The same topic, read into a lake of its own in SeaweedFS's catalog.
  const lake: TestLake = {
    dir: env.lake.dir,
    env: {
      ...env.lake.env,
      ...(await freshCatalogLake('forget')),
      LAKEHOUSE_CATALOG: 'rest',
      LAKEHOUSE_CONSUMER_GROUP: `${env.lake.env.LAKEHOUSE_CONSUMER_GROUP}-catalog`,
    },
  };
  for (const job of ['bronze', 'silver', 'gold']) await ok(job, lake);
  const done = finished(
    await ok(
      'forget',
      lake,
      forgotten.flatMap((id) => ['--vehicle', id]),
    ),
  );
  assert.ok(done.removed.bronze > 0 && done.removed.silver > 0, JSON.stringify(done.removed));
  await ok('verify', lake);
  const catalogLake = lakeOf(loadConfig(new Map(), lake.env));
  for (const key of keys) {
    const table = (await catalogLake.find(key))!;
    assert.is(table.metadata.snapshots!.length, 1, `${key} keeps one snapshot`);
    const live = new Set((await liveFiles(table)).map((f) => table.files.resolve(f.file.path, 'data file')));
    const listed: string[] = [];
    for await (const { uri } of table.files.list()) {
      listed.push(table.files.resolve(uri, 'file'));
      const bytes = Buffer.from(await table.files.read(uri, 'file'));
      for (const id of forgotten) assert.not.ok(bytes.includes(Buffer.from(id)), `${uri} holds ${id}`);
    }
    assert.equal(
      listed.filter((f) => f.endsWith('.parquet')).sort(),
      [...live].sort(),
      `${key}: the only data files in the store are the current snapshot's`,
    );
    for (const { file } of await liveFiles(table))
      for await (const row of readDataRows(table.files, [file], tables[key].columns))
        for (const id of forgotten)
          assert.not.ok(
            JSON.stringify(row, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)).includes(
              id,
            ),
            `${key} ${file.path} names ${id}`,
          );
  }
});

test.run();
