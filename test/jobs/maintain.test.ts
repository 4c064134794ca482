/**
 * Table maintenance on a real broker's lake: many small pipeline runs, then `maintain` compacts,
 * expires and removes orphans while every table's rows (read by PyIceberg and Spark, not the jobs'
 * own reader) and verify stay as they were; later runs go on incrementally; a maintain that loses
 * its commit to a pipeline run leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../jobs/config.ts';
import { CommitConflictError } from '../../jobs/lake/catalog/catalog.ts';
import { metadataVersion } from '../../jobs/lake/catalog/hadoop-catalog.ts';
import { localPath } from '../../jobs/lake/io/local-file-io.ts';
import { lineage } from '../../jobs/lake/iceberg/metadata.ts';
import { appendFiles, liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { headOf, lakeAt } from '../../jobs/lake/lake.ts';
import { summaryKeys, tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { compact, planCompaction } from '../../jobs/maintain/compact.ts';
import { consumedOf } from '../../jobs/maintain.ts';
import { expire, planExpiry } from '../../jobs/maintain/expire.ts';
import { logLine, runSparkStage } from '../spark/run-job.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { localPath as icebergLocalPath, pyiceberg, pyicebergInfo, sparkRows } from '../support/iceberg-readers.ts';
import type { Row } from '../support/iceberg-values.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames, type JobOutcome } from '../support/lake.ts';
import { findTable } from '../support/tables.ts';

interface Lake {
  readonly env: Record<string, string>;
  readonly dir: string;
}

const keys = ['bronze', 'silver', 'rejected', 'gold'] as const satisfies readonly TableKey[];
const result = (outcome: JobOutcome) => outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, any>;

async function newLake(label: string): Promise<Lake> {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames(label);
  const dir = temporaryDir(label);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    env: {
      KAFKA_BOOTSTRAP_SERVER: bootstrap,
      LAKEHOUSE_TOPIC: topic,
      LAKEHOUSE_CONSUMER_GROUP: group,
      LAKEHOUSE_DATA_DIR: dir,
      LAKEHOUSE_PARTITIONS: '3',
      LAKEHOUSE_INVALID_RATIO: '0.1',
      LAKEHOUSE_DUPLICATE_RATIO: '0.05',
      LAKEHOUSE_EVENTS: '40',
    },
  };
}

async function ok(job: string, lake: Lake, args: string[] = [], env: Record<string, string> = {}): Promise<JobOutcome> {
  const outcome = await runJob(job, { ...lake.env, ...env }, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

/** A table's lineage, newest first: snapshot, operation, the bronze snapshot it consumed, writer. */
async function historyOf(dir: string, key: TableKey): Promise<string> {
  const table = await findTable(dir, key);
  if (!table) return `${key}: no table`;
  return (
    `${key}:\n` +
    lineage(table.metadata)
      .map(
        (s) =>
          `  ${s['snapshot-id']} ${s.summary.operation} ${s.summary[summaryKeys.bronzeSnapshot] ?? '-'} ${s.summary[summaryKeys.writer] ?? ''}`,
      )
      .join('\n')
  );
}

let run = 0;
/** One small pipeline run: new events (a later hour each run, another seed), bronze, silver, gold. */
async function pipelineRun(
  lake: Lake,
  events = 40,
): Promise<{ bronze: number; silver: Record<string, any>; gold: Record<string, any> }> {
  run++;
  const start = new Date(Date.parse('2023-10-13T13:00:00Z') + run * 3_600_000 * 7).toISOString();
  await ok('produce', lake, ['--events', String(events), '--seed', String(100 + run), '--start-time', start]);
  const bronze = result(await ok('bronze', lake)).recordsRead as number;
  const silver = result(await ok('silver', lake));
  const gold = await ok('gold', lake);
  return { bronze, silver, gold: gold.lines.find((l) => l.msg === 'gold done') ?? {} };
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();
/** Every table's rows through PyIceberg, order-independent. */
async function rowsOf(lake: Lake): Promise<Record<TableKey, string[]>> {
  const reads = await pyiceberg(
    lake.dir,
    keys.map((k) => ({ table: tables[k].name })),
  );
  return Object.fromEntries(keys.map((k, i) => [k, sorted(reads[i].rows!)])) as Record<TableKey, string[]>;
}

const liveCount = async (lake: Lake, key: TableKey) => (await liveFiles((await findTable(lake.dir, key))!)).length;
const filesOnDisk = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));

/** The table's Parquet files on disk are exactly those its retained snapshots list, as PyIceberg reads them. */
async function assertOnlyReferencedFiles(lake: Lake, key: TableKey): Promise<void> {
  const info = await pyicebergInfo(lake.dir, tables[key].name);
  const reads = await pyiceberg(
    lake.dir,
    info.snapshots.map((s) => ({ table: tables[key].name, snapshotId: s.snapshotId, rows: false })),
  );
  const referenced = new Set(reads.flatMap((r) => r.files.map((f) => icebergLocalPath(f.path))));
  const onDisk = filesOnDisk(path.join(lake.dir, tables[key].namespace, tables[key].table, 'data')).filter((f) =>
    f.endsWith('.parquet'),
  );
  assert.equal(
    onDisk.sort(),
    [...referenced].sort(),
    `${key}: the data files on disk are those the retained snapshots list`,
  );
}

const maintain = suite('maintain');
let lake: Lake;
let before: Record<TableKey, string[]>;
let filesBefore: Record<TableKey, number>;
let firstBronzeSnapshot: string;

maintain.before(async () => {
  lake = await newLake('maintain');
  await ok('topics', lake);
  for (let i = 0; i < 6; i++) await pipelineRun(lake);
  await ok('verify', lake);
  before = await rowsOf(lake);
  filesBefore = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await liveCount(lake, k)]))) as Record<
    TableKey,
    number
  >;
  firstBronzeSnapshot = String(lineage((await findTable(lake.dir, 'bronze'))!.metadata).at(-1)!['snapshot-id']);
});

maintain(
  'compaction, expiry and orphan removal keep every row and verify, with fewer files and snapshots',
  async () => {
    assert.ok(filesBefore.bronze >= 12, `bronze has ${filesBefore.bronze} files after six runs`);
    const bronzeData = path.join(lake.dir, 'bronze/vehicles/data');
    // An unreferenced file two days old (a killed run's) and one just written (a running writer's).
    const stale = path.join(bronzeData, 'stale-orphan.parquet');
    const fresh = path.join(bronzeData, 'fresh-orphan.parquet');
    fs.writeFileSync(stale, 'x');
    fs.utimesSync(stale, new Date(Date.now() - 48 * 3_600_000), new Date(Date.now() - 48 * 3_600_000));
    fs.writeFileSync(fresh, 'y');

    const first = result(
      await ok('maintain', lake, [], { LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0', LAKEHOUSE_KEEP_SNAPSHOTS: '2' }),
    );
    assert.not.ok(fs.existsSync(stale), 'an unreferenced file older than the window is removed');
    assert.ok(fs.existsSync(fresh), 'an unreferenced file newer than the window stays');
    assert.is(first['bronze.vehicles'].filesBefore, filesBefore.bronze);
    assert.is(first['bronze.vehicles'].filesAfter, 3, 'one file per Kafka partition');
    assert.ok(first['silver.vehicles'].filesAfter < filesBefore.silver, JSON.stringify(first['silver.vehicles']));
    assert.ok(first['bronze.vehicles'].snapshotsExpired > 0);
    await ok('verify', lake);
    assert.equal(await rowsOf(lake), before, 'every table holds the same rows');

    // With no window, every data file that no retained snapshot lists goes (PyIceberg lists them).
    const second = result(
      await ok('maintain', lake, [], {
        LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0',
        LAKEHOUSE_KEEP_SNAPSHOTS: '2',
        LAKEHOUSE_ORPHAN_AGE_HOURS: '0',
      }),
    );
    assert.not.ok(fs.existsSync(fresh));
    assert.ok(second['bronze.vehicles'].orphansRemoved > 0, JSON.stringify(second['bronze.vehicles']));
    for (const key of keys) await assertOnlyReferencedFiles(lake, key);
    await ok('verify', lake);
    assert.equal(await rowsOf(lake), before, 'every table holds the same rows after orphan removal');
    const bronze = (await findTable(lake.dir, 'bronze'))!;
    assert.ok(bronze.metadata.properties[summaryKeys.expiredOffsetRanges], 'the expired offset ranges are recorded');
    assert.ok(
      headOf(bronze)!.summary[summaryKeys.nextOffsets],
      'the current snapshot still records where bronze resumes',
    );
  },
);

maintain('Spark reads every table after maintenance, with the same rows', async () => {
  const { tables: read } = await sparkRows(
    lake.dir,
    keys.map((k) => tables[k].name),
  );
  for (const [i, key] of keys.entries()) assert.equal(sorted(read[i].rows), before[key], key);
});

maintain('an expired snapshot is named as such by show; a retained one still reads', async () => {
  const gone = await runJob('show', lake.env, ['bronze.vehicles', '--snapshot', firstBronzeSnapshot]);
  assert.is(gone.exitCode, 2);
  const current = String(headOf(await findTable(lake.dir, 'bronze'))!['snapshot-id']);
  const kept = await runJob('show', lake.env, ['bronze.vehicles', '--snapshot', current, '--limit', '1']);
  assert.is(kept.exitCode, 0, describeFailure(kept));
});

maintain('a later pipeline run adds exactly the new events incrementally, and verify passes', async () => {
  const verified = result(await ok('verify', lake));
  const next = await pipelineRun(lake, 25);
  assert.is(next.bronze, 25, 'bronze resumed where its offsets end');
  assert.is(next.silver.bronze, 25, 'silver read only the new bronze snapshot');
  assert.is(next.gold.incremental, true, 'gold added to its state');
  assert.is(result(await ok('verify', lake)).bronze, verified.bronze + 25);
  // Compacting again only touches what silver and gold consumed; the lake stays verified.
  await ok('maintain', lake, [], {
    LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0',
    LAKEHOUSE_KEEP_SNAPSHOTS: '1',
    LAKEHOUSE_ORPHAN_AGE_HOURS: '0',
  });
  await ok('verify', lake);
  for (const key of keys) await assertOnlyReferencedFiles(lake, key);
  assert.ok(
    filesOnDisk(path.join(lake.dir, 'bronze/vehicles/data')).length < filesBefore.bronze,
    'fewer bronze files on disk than before maintenance',
  );
  const again = await pipelineRun(lake, 10);
  assert.is(again.bronze, 10);
  assert.is(again.gold.incremental, true);
  await ok('verify', lake);
});

maintain('a maintain that loses its commit to a pipeline run leaves nothing of its own behind', async () => {
  await pipelineRun(lake, 30);
  await pipelineRun(lake, 30);
  const config = loadConfig(new Map(), { LAKEHOUSE_DATA_DIR: lake.dir, LAKEHOUSE_FILE_ROWS: '1000000' });
  const stale = (await findTable(lake.dir, 'bronze'))!;
  const plan = await planCompaction(stale, await consumedOf(lakeAt(lake.dir), tables.bronze), config.fileRows);
  assert.ok(plan.groups.length > 0, 'there is something to compact');
  const expiry = planExpiry(stale.metadata, await consumedOf(lakeAt(lake.dir), tables.bronze), 0, 1);
  assert.ok(expiry.expired.length > 0, 'there is something to expire');
  await ok('produce', lake, ['--events', '5']);
  await ok('bronze', lake);
  const disk = filesOnDisk(localPath(stale.location)).sort();
  const lost = await compact(stale, plan, config.fileRows, config.rowGroupSize).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(lost, CommitConflictError);
  const refused = await expire(stale, expiry).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(refused, CommitConflictError);
  assert.equal(filesOnDisk(localPath(stale.location)).sort(), disk, 'no new file is left');
  assert.is(
    metadataVersion((await findTable(lake.dir, 'bronze'))!.metadataLocation),
    metadataVersion(stale.metadataLocation)! + 1,
    'only the pipeline committed',
  );
  for (const job of ['silver', 'gold', 'verify']) await ok(job, lake);
});

maintain(
  'a pipeline commit that meets a compaction is made again on top of it; one that meets another append is refused',
  async () => {
    await pipelineRun(lake, 30);
    await pipelineRun(lake, 30);
    const stale = (await findTable(lake.dir, 'bronze'))!;
    const head = headOf(stale)!;
    // What a bronze run with nothing new to read would commit: the same offsets, no files.
    const summary = {
      [summaryKeys.topic]: head.summary[summaryKeys.topic],
      [summaryKeys.clusterId]: head.summary[summaryKeys.clusterId],
      [summaryKeys.offsetRanges]: '{}',
      [summaryKeys.nextOffsets]: head.summary[summaryKeys.nextOffsets],
      [summaryKeys.writer]: 'test',
    };
    const config = loadConfig(new Map(), { LAKEHOUSE_DATA_DIR: lake.dir });
    const compacted = await compact(
      stale,
      await planCompaction(stale, await consumedOf(lakeAt(lake.dir), tables.bronze), config.fileRows),
      config.fileRows,
      config.rowGroupSize,
    );
    assert.ok(compacted.removed > 0, 'maintain compacted bronze');
    const appended = await appendFiles(stale, [], summary);
    assert.is(metadataVersion(appended.metadataLocation), metadataVersion(compacted.table.metadataLocation)! + 1);
    assert.is(headOf(appended)!['parent-snapshot-id'], headOf(compacted.table)!['snapshot-id']);
    assert.is(headOf(appended)!.summary['total-records'], head.summary['total-records']);
    const refused = await appendFiles(stale, [], summary).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(refused, CommitConflictError);
    for (const job of ['silver', 'gold', 'verify']) await ok(job, lake);
  },
);

maintain(
  'maintain and a pipeline run at the same time: the run loses nothing to maintain, and the lake verifies',
  async () => {
    for (let i = 0; i < 3; i++) {
      await ok('produce', lake, ['--events', '30', '--seed', String(900 + i)]);
      const held = result(await ok('verify', lake)).bronze as number;
      const [read, maintained] = await Promise.all([
        (async () => {
          const bronze = result(await ok('bronze', lake)).recordsRead as number;
          for (const job of ['silver', 'gold']) await ok(job, lake);
          return bronze;
        })(),
        runJob('maintain', { ...lake.env, LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0', LAKEHOUSE_KEEP_SNAPSHOTS: '1' }),
      ]);
      assert.is(maintained.exitCode, 0, describeFailure(maintained));
      // A pipeline commit that meets maintain's compaction is made again on top of it, not dropped.
      assert.is(read, 30);
      assert.is(result(await ok('verify', lake)).bronze, held + 30);
    }
    const final = await rowsOf(lake);
    const [{ rows }] = await pyiceberg(lake.dir, [{ table: tables.bronze.name }]);
    assert.is(final.bronze.length, rows!.length);
  },
);

maintain(
  'the Spark engine appends to the lake after a Node compaction (bronze, silver, gold), and verify passes',
  async () => {
    await ok('maintain', lake, [], {
      LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0',
      LAKEHOUSE_KEEP_SNAPSHOTS: '2',
      LAKEHOUSE_ORPHAN_AGE_HOURS: '0',
    });
    const bronze = (await findTable(lake.dir, 'bronze'))!;
    assert.is(headOf(bronze)!.summary.operation, 'replace', "bronze's current snapshot is a compaction");
    const held = result(await ok('verify', lake)).bronze as number;
    await ok('produce', lake, ['--events', '20', '--seed', '77']);
    const finished: string[] = [];
    for (const stage of ['bronze', 'silver', 'gold'] as const) {
      const run = await runSparkStage(stage, { ...lake.env, LAKEHOUSE_LOG_LEVEL: 'info' });
      finished.push(`spark ${stage}: ${JSON.stringify(logLine(run, 'finished').result)}`);
    }
    // This test failed twice in many runs (silver had not consumed Spark bronze's snapshot), never
    // when looked at: a failure says what each Spark stage did and what each table's history is.
    const verify = await runJob('verify', lake.env);
    assert.is(
      verify.exitCode,
      0,
      [
        describeFailure(verify),
        ...finished,
        ...(await Promise.all((['bronze', 'silver', 'rejected'] as const).map((t) => historyOf(lake.dir, t)))),
      ].join('\n'),
    );
    assert.is(result(verify).bronze, held + 20);
  },
);

maintain.run();

const lagging = suite('maintain while gold lags silver');
let own: Lake;

lagging(
  'two compactions of silver in a row, with no silver append left in its retained history: verify passes',
  async () => {
    own = await newLake('maintain-lag');
    // Every run's events fall in the same day, an hour apart, so each compaction finds several files per partition.
    const produce = (seed: number) =>
      ok('produce', own, [
        '--events',
        '40',
        '--seed',
        String(seed),
        '--start-time',
        `2024-03-01T${String(seed - 490).padStart(2, '0')}:00:00Z`,
      ]);
    await ok('topics', own);
    for (let seed = 501; seed < 504; seed++) {
      await produce(seed);
      for (const job of ['bronze', 'silver', 'gold']) await ok(job, own);
    }
    // Silver appends once more; gold has not read it, so the compaction leaves that append's files alone.
    await produce(504);
    for (const job of ['bronze', 'silver']) await ok(job, own);
    const settings = {
      LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0',
      LAKEHOUSE_KEEP_SNAPSHOTS: '2',
      LAKEHOUSE_ORPHAN_AGE_HOURS: '0',
    };
    await ok('maintain', own, [], settings);
    await ok('gold', own);
    // Now gold has read it: the next compaction takes those files too, and expiry keeps the two replaces.
    await ok('maintain', own, [], settings);
    const silver = (await findTable(own.dir, 'silver'))!;
    assert.equal(
      lineage(silver.metadata).map((s) => s.summary.operation),
      ['replace', 'replace'],
      await historyOf(own.dir, 'silver'),
    );
    const verify = await runJob('verify', own.env);
    assert.is(
      verify.exitCode,
      0,
      [describeFailure(verify), ...(await Promise.all(keys.map((k) => historyOf(own.dir, k))))].join('\n'),
    );
    assert.is(result(verify).bronze, 160);
    // And the next run goes on from there.
    await produce(505);
    for (const job of ['bronze', 'silver', 'gold']) await ok(job, own);
    assert.is(result(await ok('verify', own)).bronze, 200);
  },
);

lagging(
  'after the compactions, a silver snapshot that consumes a bronze snapshot again fails verify, naming both',
  async () => {
    const silver = (await findTable(own.dir, 'silver'))!;
    const marker = headOf(silver)!.summary[summaryKeys.bronzeSnapshot];
    const again = await appendFiles(silver, [], { [summaryKeys.bronzeSnapshot]: marker, [summaryKeys.writer]: 'test' });
    await ok('gold', own);
    const verify = await runJob('verify', own.env);
    assert.is(verify.exitCode, 1, describeFailure(verify));
    assert.match(
      describeFailure(verify),
      `silver snapshot ${headOf(again)!['snapshot-id']} consumed bronze snapshot ${marker} again`,
    );
  },
);

lagging.run();
