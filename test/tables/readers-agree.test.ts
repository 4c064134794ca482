// The tables layer: a lake written by the Node engine (two incremental runs on a real broker) is
// read by PyIceberg, by Spark SQL with Iceberg's runtime and by DuckDB over exactly the data files
// the current snapshots' manifests list; all three agree row for row, and the schemas, partitioning
// and snapshot summaries are the contract's. Needs ci/spark/install.sh to have run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { summaryKeys, tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { duckdbRowsOf, pyiceberg, sparkRows, type SparkTableRead, type TableRead } from '../support/iceberg-readers.ts';
import type { Row } from '../support/iceberg-values.ts';
import { assertContractSchema, assertSparkColumns, tableKeys, tableNames } from './contract-schema.ts';
import { sharedNodeLake, type NodeLake } from './node-lake.ts';

let lake: NodeLake;
let current: Record<TableKey, TableRead>;
let spark: Record<TableKey, SparkTableRead>;
let duckdb: Record<TableKey, Row[]>;
/** ops.runs, the jobs' run history, as each reader reads it. */
let runs: { pyiceberg: TableRead; spark: SparkTableRead; duckdb: Row[] };
// uvu drops an error thrown by a before hook without printing it: keep it for every test to throw.
let setupFailure: unknown;

test.before(async () => {
  try {
    lake = await sharedNodeLake();
    current = lake.run2.tables;
    const { tables: read, seconds } = await sparkRows(lake.dir, [...tableNames, 'ops.runs']);
    console.log(`  Spark read of the 5 tables: ${seconds.toFixed(1)} s`);
    const [runsRead] = await pyiceberg(lake.dir, [{ table: 'ops.runs' }]);
    runs = { pyiceberg: runsRead, spark: read[tableKeys.length], duckdb: await duckdbRowsOf(runsRead) };
    spark = Object.fromEntries(tableKeys.map((k, i) => [k, read[i]])) as Record<TableKey, SparkTableRead>;
    duckdb = Object.fromEntries(
      await Promise.all(tableKeys.map(async (k) => [k, await duckdbRowsOf(current[k])])),
    ) as Record<TableKey, Row[]>;
  } catch (error) {
    setupFailure = error;
  }
});

test('PyIceberg, Spark and DuckDB over the manifest-listed files read the same rows in every table', () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) {
    assert.ok(current[key].rows!.length > 0, `${key} is empty`);
    assert.equal(spark[key].rows, current[key].rows, `${key}: Spark vs PyIceberg`);
    assert.equal(duckdb[key], current[key].rows, `${key}: DuckDB vs PyIceberg`);
  }
  const count = (key: TableKey) => current[key].rows!.length;
  assert.is(count('bronze'), lake.run1.sent + lake.run2.sent, 'bronze holds every record sent');
  assert.is(count('silver') + count('rejected'), count('bronze'), 'silver + rejected = bronze');
  assert.is(count('gold'), new Set(current.silver.rows!.map((r) => r.type)).size, 'one gold row per type');
  assert.is(
    current.gold.rows!.reduce((sum, r) => sum + (r.event_count as number), 0),
    count('silver'),
    'gold event_count sums to silver',
  );
});

test("every table has the contract's field ids, types, required flags and partitioning, as PyIceberg and Spark see them", () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) {
    assertContractSchema(current[key], key);
    assertSparkColumns(spark[key], key);
  }
});

test('Spark and PyIceberg see the same snapshots, current snapshot and summaries; the summaries link the tables', () => {
  if (setupFailure) throw setupFailure;
  const ids = (key: TableKey) => new Set(current[key].snapshots.map((s) => s.snapshotId));
  for (const key of tableKeys) {
    assert.is(spark[key].currentSnapshotId, current[key].currentSnapshotId, `${key} current snapshot`);
    const bySpark = new Map(spark[key].snapshots.map((s) => [s.snapshotId, s]));
    assert.is(bySpark.size, current[key].snapshots.length, `${key} snapshot count`);
    for (const s of current[key].snapshots) {
      const other = bySpark.get(s.snapshotId);
      assert.ok(other, `${key}: Spark lacks snapshot ${s.snapshotId}`);
      assert.equal(
        { ...other, summary: undefined },
        {
          snapshotId: s.snapshotId,
          parentId: s.parentId,
          timestampMs: s.timestampMs,
          operation: s.operation,
          summary: undefined,
        },
      );
      assert.equal(other.summary, s.summary, `${key} ${s.snapshotId} summary`);
      assert.ok(s.summary[summaryKeys.writer], `${key} ${s.snapshotId} names its writer`);
    }
  }
  for (const s of current.bronze.snapshots.filter((s) => s.operation === 'append')) {
    assert.is(s.summary[summaryKeys.topic], current.bronze.rows![0].topic);
    for (const key of [summaryKeys.offsetRanges, summaryKeys.nextOffsets])
      assert.type(JSON.parse(s.summary[key]), 'object', key);
  }
  for (const key of ['silver', 'rejected'] as const) {
    for (const s of current[key].snapshots.filter((s) => s.summary[summaryKeys.bronzeSnapshot] !== undefined)) {
      assert.ok(
        ids('bronze').has(s.summary[summaryKeys.bronzeSnapshot]),
        `${key} ${s.snapshotId} names a bronze snapshot`,
      );
    }
  }
  const goldSnapshots = current.gold.snapshots.filter((s) => s.summary[summaryKeys.silverSnapshot] !== undefined);
  assert.ok(goldSnapshots.length >= 2, 'gold committed in both runs');
  for (const s of goldSnapshots)
    assert.ok(ids('silver').has(s.summary[summaryKeys.silverSnapshot]), `gold ${s.snapshotId} names a silver snapshot`);
});

test("each table's version-hint.text names its current metadata file, as StaticTable and Spark read it", () => {
  if (setupFailure) throw setupFailure;
  for (const key of tableKeys) {
    const version = /\/v(\d+)\.metadata\.json$/.exec(current[key].metadataFile)?.[1];
    assert.is(
      current[key].versionHint,
      version,
      `${tables[key].name}: hint "${current[key].versionHint}", current v${version}`,
    );
  }
});

test('ops.runs, the run history the jobs appended, reads the same in PyIceberg, Spark and DuckDB: one succeeded row per job run', () => {
  if (setupFailure) throw setupFailure;
  const rows = runs.pyiceberg.rows!;
  assert.equal(runs.spark.rows, rows, 'Spark vs PyIceberg');
  assert.equal(runs.duckdb, rows, 'DuckDB vs PyIceberg');
  assertContractSchema(runs.pyiceberg, 'runs');
  assertSparkColumns(runs.spark, 'runs');
  const stages = ['produce', 'bronze', 'silver', 'gold', 'verify'];
  assert.equal(
    rows.map((r) => r.stage),
    ['topics', ...stages, ...stages],
  );
  assert.ok(rows.every((r) => r.outcome === 'succeeded' && r.engine === 'node' && r.error === null));
  const bronze = rows.filter((r) => r.stage === 'bronze').map((r) => r.rows_out);
  assert.equal(bronze, [lake.run1.bronzeRead, lake.run2.bronzeRead]);
});

test.run();
