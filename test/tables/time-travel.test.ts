// Time travel on a lake written by the Node engine in two incremental runs: PyIceberg reads the
// tables at the first run's snapshots, by id and by time, and gets what the first run left, while
// the current snapshots hold both runs. Needs ci/spark/install.sh (PyIceberg) to have run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { pyiceberg, type TableRead } from '../support/iceberg-readers.ts';
import type { Row } from '../support/iceberg-values.ts';
import { sharedNodeLake, type NodeLake } from './node-lake.ts';

const travelled = ['bronze', 'silver', 'rejected', 'gold'] as const satisfies readonly TableKey[];
let lake: NodeLake;
let byId: Record<TableKey, TableRead>;
let asOfBetween: Record<TableKey, TableRead>;
let asOfCommit: Record<TableKey, TableRead>;
let setupFailure: unknown;

const snapshotOf = (read: TableRead) => read.snapshots.find((s) => s.snapshotId === read.currentSnapshotId)!;
const keyed = (reads: TableRead[]) =>
  Object.fromEntries(travelled.map((k, i) => [k, reads[i]])) as Record<TableKey, TableRead>;
const eventCount = (rows: Row[]) => rows.reduce((sum, r) => sum + (r.event_count as number), 0);

test.before(async () => {
  try {
    lake = await sharedNodeLake();
    const run1 = lake.run1.tables;
    byId = keyed(
      await pyiceberg(
        lake.dir,
        travelled.map((k) => ({ table: tables[k].name, snapshotId: run1[k].currentSnapshotId! })),
      ),
    );
    asOfBetween = keyed(
      await pyiceberg(
        lake.dir,
        travelled.map((k) => ({ table: tables[k].name, asOfMs: lake.betweenRunsMs })),
      ),
    );
    asOfCommit = keyed(
      await pyiceberg(
        lake.dir,
        travelled.map((k) => ({ table: tables[k].name, asOfMs: snapshotOf(run1[k]).timestampMs })),
      ),
    );
  } catch (error) {
    setupFailure = error;
  }
});

test("the second run added to every table: the current snapshots differ from the first run's", () => {
  if (setupFailure) throw setupFailure;
  for (const key of travelled) {
    assert.is.not(
      lake.run2.tables[key].currentSnapshotId,
      lake.run1.tables[key].currentSnapshotId,
      `${key} has a new snapshot`,
    );
  }
  assert.ok(lake.run2.tables.silver.rows!.length > lake.run1.tables.silver.rows!.length, 'silver grew');
  assert.ok(eventCount(lake.run2.tables.gold.rows!) > eventCount(lake.run1.tables.gold.rows!), 'gold counts grew');
});

test("at the first run's snapshot ids, every table holds exactly the first run's rows", () => {
  if (setupFailure) throw setupFailure;
  for (const key of travelled) {
    assert.is(byId[key].readSnapshotId, lake.run1.tables[key].currentSnapshotId);
    assert.equal(byId[key].rows, lake.run1.tables[key].rows, `${key} rows at the first run's snapshot`);
  }
  assert.is(byId.bronze.rows!.length, lake.run1.sent, "bronze: the first run's records");
  assert.is(byId.bronze.rows!.length, lake.run1.bronzeRead, 'bronze: what the first bronze run read');
  assert.is(
    byId.silver.rows!.length + byId.rejected.rows!.length,
    lake.run1.sent,
    "silver + rejected: the first run's records",
  );
  assert.is(eventCount(byId.gold.rows!), byId.silver.rows!.length, "gold's counts: the first run's silver");
});

test("as of a time between the runs, and as of the first run's commit time, PyIceberg reads the first run's snapshots", () => {
  if (setupFailure) throw setupFailure;
  for (const key of travelled) {
    for (const read of [asOfBetween[key], asOfCommit[key]]) {
      assert.is(read.readSnapshotId, lake.run1.tables[key].currentSnapshotId, `${key} snapshot as of a time`);
      assert.equal(read.rows, lake.run1.tables[key].rows, `${key} rows as of a time`);
    }
  }
});

test.run();
