// The readers themselves, on a lake whose rows are known: the four contract tables created and
// filled by Spark SQL in two runs (spark-fixture.ts). PyIceberg, Spark and DuckDB over the
// manifest-listed files must each return exactly those rows, now and at the first run's snapshot.
// Needs ci/spark/install.sh to have run.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { duckdbRowsOf, pyiceberg, sparkRows, type SparkTableRead, type TableRead } from '../support/iceberg-readers.ts';
import { assertContractSchema, assertSparkColumns, tableKeys, tableNames } from './contract-schema.ts';
import { sharedSparkFixtureLake, type FixtureLake } from './spark-fixture.ts';

let lake: string;
let fixture: FixtureLake;
let current: Record<TableKey, TableRead>;
let spark: Record<TableKey, SparkTableRead>;
let sparkAtRun1: Record<'silver' | 'gold', SparkTableRead>;
// uvu drops an error thrown by a before hook without printing it: keep it for every test to throw.
let setupFailure: unknown;

const byKey = <T extends { table: string }>(reads: T[]) =>
  Object.fromEntries(tableKeys.map((k) => [k, reads.find((r) => r.table === tables[k].name)!])) as Record<TableKey, T>;
const firstSnapshot = (read: TableRead) => read.snapshots.find((s) => s.parentId === null)!;

test.before(async () => {
  try {
    ({ lake, ...fixture } = await sharedSparkFixtureLake());
    current = byKey(
      await pyiceberg(
        lake,
        tableNames.map((table) => ({ table })),
      ),
    );
    const started = performance.now();
    const read = await sparkRows(lake, [
      ...tableNames,
      { table: 'silver.vehicles', snapshotId: firstSnapshot(current.silver).snapshotId },
      { table: 'gold.stats', snapshotId: firstSnapshot(current.gold).snapshotId },
    ]);
    console.log(
      `  fixture: spark-sql ${fixture.seconds.toFixed(1)} s; Spark read of 6 tables ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    spark = byKey(read.tables.slice(0, 4));
    sparkAtRun1 = { silver: read.tables[4], gold: read.tables[5] };
  } catch (error) {
    setupFailure = error;
  }
});

test("PyIceberg reads every table's rows exactly, with the contract's schema and partitioning", () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) {
    assert.equal(current[key].rows, fixture.afterRun2[key], `${key} rows`);
    assertContractSchema(current[key], key);
  }
});

test("Spark SQL reads every table's rows exactly, typed as the contract says", () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) {
    assert.equal(spark[key].rows, fixture.afterRun2[key], `${key} rows`);
    assertSparkColumns(spark[key], key);
    assert.is(spark[key].currentSnapshotId, current[key].currentSnapshotId, `${key} current snapshot`);
    assert.equal(
      spark[key].snapshots.map((s) => s.snapshotId).sort(),
      current[key].snapshots.map((s) => s.snapshotId).sort(),
      `${key} snapshots`,
    );
  }
});

test("DuckDB over the manifest-listed files reads every table's rows exactly, and only those files", async () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) assert.equal(await duckdbRowsOf(current[key]), fixture.afterRun2[key], `${key} rows`);
  // Gold's first file is still on disk after the overwrite: a directory glob would read it too.
  const onDisk = readdirSync(path.join(lake, 'gold/stats/data')).filter((f) => f.endsWith('.parquet'));
  assert.ok(
    onDisk.length > current.gold.files.length,
    `${onDisk.length} gold files on disk, ${current.gold.files.length} listed`,
  );
});

test("time travel: PyIceberg by snapshot id and by time, Spark by VERSION AS OF, give the first run's rows", async () => {
  if (setupFailure) throw setupFailure;
  const silver1 = firstSnapshot(current.silver);
  const gold1 = firstSnapshot(current.gold);
  const second = (read: TableRead) => read.snapshots.find((s) => s.parentId !== null)!;
  assert.ok(second(current.gold).timestampMs > gold1.timestampMs, 'the runs committed at different times');
  const [silverById, goldById, silverAsOf, goldAsOf, goldAtSecond] = await pyiceberg(lake, [
    { table: 'silver.vehicles', snapshotId: silver1.snapshotId },
    { table: 'gold.stats', snapshotId: gold1.snapshotId },
    { table: 'silver.vehicles', asOfMs: silver1.timestampMs },
    { table: 'gold.stats', asOfMs: second(current.gold).timestampMs - 1 },
    { table: 'gold.stats', asOfMs: second(current.gold).timestampMs },
  ]);
  for (const read of [silverById, silverAsOf]) assert.equal(read.rows, fixture.afterRun1.silver);
  for (const read of [goldById, goldAsOf]) assert.equal(read.rows, fixture.afterRun1.gold);
  assert.is(goldAsOf.readSnapshotId, gold1.snapshotId);
  assert.equal(goldAtSecond.rows, fixture.afterRun2.gold, "as of the second commit's own time");
  assert.equal(sparkAtRun1.silver.rows, fixture.afterRun1.silver);
  assert.equal(sparkAtRun1.gold.rows, fixture.afterRun1.gold);
  try {
    await pyiceberg(lake, [{ table: 'gold.stats', asOfMs: gold1.timestampMs - 1 }]);
    assert.unreachable('a time before the first snapshot was read');
  } catch (error) {
    assert.match(String(error), /gold.stats has no snapshot at or before/);
  }
});

test("the current metadata file is found as Iceberg's Hadoop tables find it, past a stale or missing version hint", async () => {
  if (setupFailure) throw setupFailure;
  const hint = path.join(lake, 'silver/vehicles/metadata/version-hint.text');
  assert.is(current.silver.versionHint, path.basename(current.silver.metadataFile).match(/^v(\d+)\./)![1]);
  try {
    writeFileSync(hint, '1');
    const [stale] = await pyiceberg(lake, [{ table: 'silver.vehicles', rows: false }]);
    assert.is(stale.metadataFile, current.silver.metadataFile);
    rmSync(hint);
    const [missing] = await pyiceberg(lake, [{ table: 'silver.vehicles', rows: false }]);
    assert.is(missing.metadataFile, current.silver.metadataFile);
    assert.is(missing.versionHint, null);
  } finally {
    writeFileSync(hint, current.silver.versionHint!); // the lake is shared with other test files
  }
});

test.run();
