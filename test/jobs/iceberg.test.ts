/**
 * The Iceberg table format as the jobs write it: atomic commits, one winner of two, ids beyond 2^53,
 * readers that look past a stale version hint, time travel, and schema evolution — read back by
 * our own reader and by PyIceberg, an independent one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CommitConflictError, type LoadedTable } from '../../jobs/lake/catalog/catalog.ts';
import { metadataVersion } from '../../jobs/lake/catalog/hadoop-catalog.ts';
import { parseJson } from '../../jobs/lake/iceberg/json.ts';
import { currentSchema, currentSnapshot, lineage, snapshotAsOf } from '../../jobs/lake/iceberg/metadata.ts';
import { appendFiles, liveFiles, overwriteFiles } from '../../jobs/lake/iceberg/table.ts';
import { DataFileWriter, lakeAt } from '../../jobs/lake/lake.ts';
import { tables, type TableSpec } from '../../jobs/lake/table-schema.ts';
import { temporaryDir } from '../support/lake.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';

const gold = tables.gold;
const goldRow = (type: string, events: number) => ({
  type,
  event_count: events,
  vehicle_count: 1,
  avg_battery: 50,
  min_battery: 1,
  max_battery: 99,
  avg_latitude: 48.85,
  avg_longitude: 2.35,
  first_event_at: 1697203200000,
  last_event_at: 1697203260000,
  computed_at: 1697203300000,
});

async function commitRows(
  table: LoadedTable,
  rows: ReturnType<typeof goldRow>[],
  mode: 'append' | 'overwrite' = 'append',
  spec: TableSpec = gold,
) {
  const writer = new DataFileWriter(table, spec.columns, 100, 1000);
  for (const row of rows) writer.write(row as never);
  const files = await writer.finish();
  return mode === 'append'
    ? appendFiles(table, files, { 'lakehouse.writer': 'test' })
    : overwriteFiles(table, files, { 'lakehouse.writer': 'test' });
}

/** Opens (creating when absent) a table of the lake at `root`, as the jobs do. */
const openTable = (root: string, spec: TableSpec) => lakeAt(root).openSpec(spec);
const versionOf = (table: LoadedTable) => metadataVersion(table.metadataLocation);

function pyiceberg(script: string, ...args: string[]): unknown {
  const python = path.join(requireSparkInstall(), 'venv/bin/python');
  return JSON.parse(execFileSync(python, ['-c', script, ...args], { encoding: 'utf8' }));
}

test('a table is created once, in the HadoopCatalog layout', async () => {
  const root = temporaryDir('iceberg-create');
  const a = await openTable(root, gold);
  const b = await openTable(root, gold);
  assert.is(a.metadata['table-uuid'], b.metadata['table-uuid']);
  assert.is(versionOf(b), 1);
  assert.ok(fs.existsSync(path.join(root, 'gold/stats/metadata/v1.metadata.json')));
  assert.is(fs.readFileSync(path.join(root, 'gold/stats/metadata/version-hint.text'), 'utf8'), '1');
});

test('of two commits from the same version exactly one wins; the other is told, and nothing is lost', async () => {
  const root = temporaryDir('iceberg-race');
  const base = await openTable(root, gold);
  const first = await commitRows(base, [goldRow('car', 1)]);
  try {
    await commitRows(base, [goldRow('bike', 2)]);
    assert.unreachable('the second commit from the same base must fail');
  } catch (error) {
    assert.instance(error, CommitConflictError);
    assert.match((error as Error).message, /another writer committed first \(version 2 exists\)/);
  }
  const latest = (await lakeAt(root).load(gold))!;
  assert.is(versionOf(latest), versionOf(first));
  assert.is((await liveFiles(latest)).length, 1);
  const second = await commitRows(latest, [goldRow('bike', 2)]);
  assert.is(versionOf(second), 3);
  assert.is((await liveFiles(second)).length, 2);
});

test('snapshot ids use the whole 64-bit range and survive a round trip exactly', async () => {
  const root = temporaryDir('iceberg-ids');
  let table = await openTable(root, gold);
  for (let i = 0; i < 5; i++) table = await commitRows(table, [goldRow('car', i)]);
  const reread = (await lakeAt(root).load(gold))!;
  const ids = lineage(reread.metadata).map((s) => s['snapshot-id']);
  assert.is(ids.length, 5);
  for (const id of ids) assert.ok(typeof id === 'bigint');
  assert.equal(
    ids,
    lineage(table.metadata).map((s) => s['snapshot-id']),
  );
  assert.equal(parseJson('{"id": 9223372036854775807}'), { id: 9223372036854775807n });
  // A snapshot id that happens to fit a number is still a bigint, so it equals the same id read
  // from a manifest or a summary (about one random id in a thousand is below 2^53).
  assert.equal(
    parseJson(
      '{"snapshot-id": 5, "parent-snapshot-id": 4, "current-snapshot-id": -1, "refs": {"main": {"snapshot-id": 5}}}',
    ),
    { 'snapshot-id': 5n, 'parent-snapshot-id': 4n, 'current-snapshot-id': -1n, refs: { main: { 'snapshot-id': 5n } } },
  );
});

test('readers find versions newer than a stale hint (a writer that died before updating it)', async () => {
  const root = temporaryDir('iceberg-hint');
  const table = await commitRows(await openTable(root, gold), [goldRow('car', 1)]);
  fs.writeFileSync(path.join(root, 'gold/stats/metadata/version-hint.text'), '1');
  assert.is(versionOf((await lakeAt(root).load(gold))!), versionOf(table));
});

test('an overwrite replaces every file; older snapshots stay readable by id and by time', async () => {
  const root = temporaryDir('iceberg-travel');
  const first = await commitRows(await openTable(root, gold), [goldRow('car', 1), goldRow('bike', 1)]);
  const firstSnapshot = currentSnapshot(first.metadata)!;
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = await commitRows(first, [goldRow('car', 5)], 'overwrite');
  assert.is((await liveFiles(second)).length, 1);
  assert.is(currentSnapshot(second.metadata)!.summary['total-records'], '1');
  assert.is(currentSnapshot(second.metadata)!.summary['deleted-records'], '2');
  assert.is((await liveFiles(second, firstSnapshot)).length, 1);
  assert.is(snapshotAsOf(second.metadata, firstSnapshot['timestamp-ms'])!['snapshot-id'], firstSnapshot['snapshot-id']);

  const counts = pyiceberg(
    `
import json, sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
print(json.dumps([t.scan().to_arrow().num_rows, t.scan(snapshot_id=int(sys.argv[2])).to_arrow().num_rows]))
`,
    path.join(root, 'gold/stats'),
    String(firstSnapshot['snapshot-id']),
  );
  assert.equal(counts, [1, 2]);
});

test('a column added to the contract evolves the table; old snapshots keep their schema and read it as null', async () => {
  const root = temporaryDir('iceberg-evolve');
  const older: TableSpec = { ...gold, columns: gold.columns.filter((c) => c.name !== 'computed_at') };
  const { computed_at: _dropped, ...oldRow } = goldRow('car', 1);
  const v1 = await commitRows(await openTable(root, older), [oldRow as never], 'append', older);
  const evolved = await openTable(root, {
    ...gold,
    columns: [...older.columns, { ...gold.columns.at(-1)!, nullable: true }],
  });
  assert.is(evolved.metadata.schemas.length, 2);
  assert.ok(currentSchema(evolved.metadata).fields.some((f) => f.name === 'computed_at' && f.id === 11));
  await commitRows(evolved, [goldRow('bike', 2)]);
  const read = pyiceberg(
    `
import json, sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
rows = t.scan().to_arrow().sort_by('type').to_pylist()
old = t.scan(snapshot_id=int(sys.argv[2])).to_arrow()
print(json.dumps([[[r['type'], r['computed_at'] is None] for r in rows], old.column_names[-1], old.num_rows]))
`,
    path.join(root, 'gold/stats'),
    String(currentSnapshot(v1.metadata)!['snapshot-id']),
  );
  assert.equal(read, [
    [
      ['bike', false],
      ['car', true],
    ],
    'last_event_at',
    1,
  ]);
});

test.run();
