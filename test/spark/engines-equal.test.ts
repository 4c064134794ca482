// The Spark engine (jobs/spark) and the Node engine (jobs/*.ts) read the same topic into two lakes:
// the Node engine's on a volume, the Spark engine's through an Iceberg REST catalog on S3 (SeaweedFS),
// so both backends are held to the same result. The Spark lake's tables are read back with PyIceberg
// through the catalog and held to the contract (schemas, field ids, partitioning, snapshot summaries);
// both lakes' rows are compared with DuckDB over their data files (every layer, the quarantine, gold
// to 1e-9) and bronze's offset summaries. Needs ci/spark/install.sh to have run.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contract } from '../../jobs/contract.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import { LakePair, layers, readTables, type Layer, type TableInfo } from './lake-compare.ts';
import { logLine, runNodeJob, runSparkStage } from './run-job.ts';
import { requireSparkInstall } from './spark-install.ts';

const run = `${process.pid}-${Date.now()}`;
const topic = `engines-equal-${run}`;
const work = mkdtempSync(path.join(tmpdir(), 'engines-equal-'));
const nodeLake = path.join(work, 'node');
const sparkLake = path.join(work, 'spark');
const { tables, summaryKeys: keys, rules } = contract();
const reasonCodes = rules.reasons.map((r) => r.code);

const baseEnv = (bootstrap: string): NodeJS.ProcessEnv => ({
  KAFKA_BOOTSTRAP_SERVER: bootstrap,
  LAKEHOUSE_TOPIC: topic,
  LAKEHOUSE_PARTITIONS: '3',
  LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
  LAKEHOUSE_ROW_GROUP_SIZE: '500',
  LAKEHOUSE_LOG_LEVEL: 'info',
  // Both batches start at the same instant, so the second repeats (vehicleId, timestamp) pairs of the first.
  LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
});
const nodeEnv = (bootstrap: string) => ({
  ...baseEnv(bootstrap),
  LAKEHOUSE_DATA_DIR: nodeLake,
  LAKEHOUSE_CONSUMER_GROUP: `node-${run}`,
});
/** The Spark lake: a fresh table bucket of the test's SeaweedFS catalog (set by setUp). */
let sparkCatalog: CatalogSettings;
const sparkEnv = (bootstrap: string) => ({
  ...baseEnv(bootstrap),
  ...sparkCatalog,
  LAKEHOUSE_DATA_DIR: sparkLake,
  LAKEHOUSE_CONSUMER_GROUP: `spark-${run}`,
});

let lakes: LakePair;
let spark: Record<Layer, TableInfo | null>;
// uvu drops an error thrown by a before hook without printing it, so the setup's failure (for
// instance "run ci/spark/install.sh") is kept and thrown by every test instead.
let setupFailure: unknown;
const setUp = async () => {
  requireSparkInstall();
  const { bootstrap } = await sharedBroker();
  sparkCatalog = await freshCatalogLake('engines-equal');
  // One topic, a consumer group per engine: the topics job grants the pipeline user each group.
  for (const env of [nodeEnv(bootstrap), sparkEnv(bootstrap)]) await runNodeJob('topics', env);
  // A first batch, read by both engines' bronze and silver; then a second batch whose events repeat
  // some of the first batch's (vehicleId, timestamp) pairs under another seed, so silver's
  // de-duplication spans runs.
  await runNodeJob('produce', {
    ...baseEnv(bootstrap),
    LAKEHOUSE_EVENTS: '1500',
    LAKEHOUSE_INVALID_RATIO: '0.1',
    LAKEHOUSE_DUPLICATE_RATIO: '0.05',
    LAKEHOUSE_SEED: '42',
  });
  for (const job of ['bronze', 'silver'] as const) {
    await runNodeJob(job, nodeEnv(bootstrap));
    await runSparkStage(job, sparkEnv(bootstrap));
  }
  await runNodeJob('produce', {
    ...baseEnv(bootstrap),
    LAKEHOUSE_EVENTS: '900',
    LAKEHOUSE_INVALID_RATIO: '0.2',
    LAKEHOUSE_DUPLICATE_RATIO: '0.02',
    LAKEHOUSE_SEED: '7',
  });
  for (const job of ['bronze', 'silver', 'gold'] as const) {
    await runNodeJob(job, nodeEnv(bootstrap));
    await runSparkStage(job, sparkEnv(bootstrap));
  }
  lakes = await LakePair.open(nodeLake, { name: sparkLake, catalog: sparkCatalog });
  spark = lakes.tables(sparkLake);
};

test.before(async () => {
  try {
    await setUp();
  } catch (error) {
    setupFailure = error;
  }
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

const sparkTable = (layer: Layer): TableInfo => {
  if (setupFailure) throw setupFailure;
  const table = spark[layer];
  assert.ok(table, `the Spark lake has no Iceberg table at ${tables[layer].location}`);
  return table!;
};
const last = (table: TableInfo) => table.snapshots.at(-1)!;
const offsets = (json: string | undefined): Record<string, unknown> => JSON.parse(json ?? 'null');

test('Spark writes the four tables of the contract: format 2, field ids, types, nullability, partitioning', () => {
  for (const layer of Object.keys(layers) as Layer[]) {
    const table = sparkTable(layer);
    assert.is(table.formatVersion, 2, layer);
    assert.equal(
      table.schema,
      tables[layer].schema.fields.map(({ id, name, type, required }) => ({ id, name, type, required })),
      `${layer} schema`,
    );
    assert.equal(
      table.partitionSpec,
      tables[layer].partitionBy.map((p) => ({ ...p })),
      `${layer} partitioning`,
    );
  }
  assert.is(sparkTable('bronze').properties['commit.retry.num-retries'], '0');
});

test('bronze: one append snapshot per run with new records, whose summaries record the offsets it holds', async () => {
  const bronze = sparkTable('bronze');
  assert.equal(
    bronze.snapshots.map((s) => s.operation),
    ['append', 'append'],
  );
  assert.equal(
    bronze.snapshots.map((s) => s.parentId),
    [null, bronze.snapshots[0].snapshotId],
  );
  const [first, second] = bronze.snapshots.map((s) => s.summary);
  for (const summary of [first, second]) {
    assert.is(summary[keys.topic], topic);
    assert.is(summary[keys.writer], 'spark bronze');
    assert.match(summary[keys.clusterId] ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.match(summary[keys.topicId] ?? '', /^[A-Za-z0-9_-]{22}$/);
  }
  assert.is(second[keys.clusterId], first[keys.clusterId]);
  // The second run starts where the first ended, and next-offsets accumulate.
  const ranges1 = offsets(first[keys.offsetRanges]) as Record<string, [number, number]>;
  const ranges2 = offsets(second[keys.offsetRanges]) as Record<string, [number, number]>;
  const next1 = offsets(first[keys.nextOffsets]) as Record<string, number>;
  for (const [p, [from]] of Object.entries(ranges2)) assert.is(from, next1[p] ?? 0, `partition ${p}`);
  for (const [p, [from]] of Object.entries(ranges1)) assert.is(from, 0, `partition ${p}`);
  // The table holds exactly the offsets its summaries name, each once.
  const held =
    await lakes.rows(`select "partition"::VARCHAR as p, min("offset")::INTEGER as first, (max("offset") + 1)::INTEGER as next, count(*)::INTEGER as n,
    count(distinct "offset")::INTEGER as distinct_n from ${lakes.source(sparkLake, 'bronze')} group by 1 order by 1`);
  assert.equal(Object.fromEntries(held.map((r) => [r.p, Number(r.next)])), offsets(second[keys.nextOffsets]));
  for (const r of held)
    assert.ok(
      r.n === r.distinct_n && Number(r.n) === Number(r.next) - Number(r.first),
      `partition ${r.p}: ${JSON.stringify(r)}`,
    );
  // The Node engine's summaries name the same offsets, cluster and topic id.
  const node = lakes.tables(nodeLake).bronze;
  assert.ok(node, "the Node engine's bronze table");
  const summaries = (t: TableInfo) =>
    t.snapshots.map((s) => [
      s.summary[keys.topic],
      s.summary[keys.offsetRanges],
      s.summary[keys.nextOffsets],
      s.summary[keys.clusterId],
      s.summary[keys.topicId],
    ]);
  assert.equal(summaries(bronze), summaries(node!));
});

test('both lakes hold the same number of rows in every layer, and all records were read', async () => {
  if (setupFailure) throw setupFailure;
  for (const layer of Object.keys(layers) as Layer[]) {
    assert.is(await lakes.count(sparkLake, layer), await lakes.count(nodeLake, layer), `${layer} row count`);
  }
  assert.is(await lakes.count(sparkLake, 'bronze'), 2400, 'bronze holds both batches');
  const [silver, rejected, gold] = await Promise.all([
    lakes.count(sparkLake, 'silver'),
    lakes.count(sparkLake, 'rejected'),
    lakes.count(sparkLake, 'gold'),
  ]);
  assert.is(silver + rejected, 2400, 'silver + rejected (duplicates included) = bronze');
  assert.is(gold, 3, 'one gold row per type');
  for (const layer of Object.keys(layers) as Layer[])
    assert.is(sparkTable(layer).rows, await lakes.count(sparkLake, layer), `PyIceberg and DuckDB agree on ${layer}`);
});

test('bronze: the same records at the same (partition, offset), key and value as bytes', async () => {
  if (setupFailure) throw setupFailure;
  const diff = await lakes.difference('bronze', ['key', 'value', 'topic', 'partition', 'offset', 'kafka_timestamp']);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
});

test('silver: the same events, as sets; both silver tables record the bronze snapshot they hold', async () => {
  const vehicles = sparkTable('silver');
  const rejected = sparkTable('rejected');
  const diff = await lakes.difference('silver', [
    'vehicle_id',
    'type',
    'latitude',
    'longitude',
    'battery',
    'event_time',
    'source_partition',
    'source_offset',
  ]);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
  const tip = last(sparkTable('bronze')).snapshotId;
  for (const table of [vehicles, rejected]) {
    assert.equal(
      table.snapshots.map((s) => s.operation),
      ['append', 'append'],
    );
    assert.is(table.snapshots[0].summary[keys.bronzeSnapshot], sparkTable('bronze').snapshots[0].snapshotId);
    assert.is(last(table).summary[keys.bronzeSnapshot], tip);
    assert.is(last(table).summary[keys.writer], 'spark silver');
  }
});

test('quarantine: the same (partition, offset, reason, field), raw value, key and detail, every reason code present', async () => {
  if (setupFailure) throw setupFailure;
  const diff = await lakes.difference('rejected', [
    'source_partition',
    'source_offset',
    'reason',
    'field',
    'raw_value',
    'key',
  ]);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
  // The details word for word (both engines fill in the contract's templates), but a JSON parser's own message.
  const details = (lake: string) =>
    `select source_partition, source_offset, detail from ${lakes.source(lake, 'rejected')} where detail not like 'not JSON: %'`;
  assert.equal(await lakes.rows(`${details(nodeLake)} except all ${details(sparkLake)} limit 5`), []);
  assert.equal(await lakes.rows(`${details(sparkLake)} except all ${details(nodeLake)} limit 5`), []);
  const reasons = await lakes.rows(
    `select distinct reason from ${lakes.source(sparkLake, 'rejected')} order by reason`,
  );
  assert.equal(
    reasons.map((r) => r.reason),
    reasonCodes.filter((c) => c !== 'not_an_object').sort(),
  );
  // Duplicates name the first occurrence in the same words, across runs too.
  const duplicates = (lake: string) =>
    `select source_partition, source_offset, detail from ${lakes.source(lake, 'rejected')} where reason = 'duplicate'`;
  assert.equal(await lakes.rows(`${duplicates(nodeLake)} except all ${duplicates(sparkLake)}`), []);
  const firstRun = offsets(sparkTable('bronze').snapshots[0].summary[keys.nextOffsets]) as Record<string, number>;
  const spanning = (await lakes.rows(duplicates(sparkLake))).filter((r) => {
    const [, p, o] = /partition (\d+) offset (\d+)$/.exec(r.detail as string)!;
    return Number(r.source_offset) >= firstRun[String(r.source_partition)] && Number(o) < firstRun[p];
  });
  assert.ok(spanning.length > 0, 'some duplicates of the second run repeat silver rows of the first');
});

test("gold: one overwrite snapshot of silver's current snapshot, sorted by type, every value equal to Node's and to a fresh aggregation", async () => {
  const gold = sparkTable('gold');
  assert.is(last(gold).operation, 'overwrite');
  assert.is(last(gold).summary[keys.silverSnapshot], last(sparkTable('silver')).snapshotId);
  const node = await lakes.gold(nodeLake);
  const fromSpark = await lakes.gold(sparkLake);
  const fresh =
    await lakes.rows(`select type, count(*)::BIGINT as event_count, count(distinct vehicle_id)::BIGINT as vehicle_count,
    avg(battery) as avg_battery, min(battery) as min_battery, max(battery) as max_battery, avg(latitude) as avg_latitude,
    avg(longitude) as avg_longitude, epoch_ms(min(event_time)) as first_event_at, epoch_ms(max(event_time)) as last_event_at
    from ${lakes.source(sparkLake, 'silver')} group by type order by type`);
  assert.equal(
    fromSpark.map((r) => r.type),
    ['bike', 'car', 'scooter'],
  );
  for (const [expected, what] of [
    [node, 'node'],
    [fresh, 'a fresh aggregation of silver'],
  ] as const) {
    assert.equal(
      fromSpark.map((r) => r.type),
      expected.map((r) => r.type),
      what,
    );
    for (const [i, row] of fromSpark.entries()) {
      for (const [column, value] of Object.entries(row)) {
        if (column === 'computed_at' || !(column in expected[i])) continue;
        const want = Number(expected[i][column] as number | bigint);
        if (typeof value === 'number' && !Number.isInteger(want)) {
          assert.ok(Math.abs(value - want) <= 1e-9, `${row.type}.${column}: spark ${value}, ${what} ${want}`);
        } else {
          assert.equal(
            typeof value === 'bigint' || typeof value === 'number' ? Number(value) : value,
            typeof value === 'string' ? expected[i][column] : want,
            `${row.type}.${column} (${what})`,
          );
        }
      }
    }
  }
});

test('a Spark bronze re-run with nothing new commits nothing, and the Node verify job accepts the Spark lake', async () => {
  if (setupFailure) throw setupFailure;
  const { bootstrap } = await sharedBroker();
  const rerun = await runSparkStage('bronze', sparkEnv(bootstrap));
  assert.is((logLine(rerun, 'finished').result as { records: number }).records, 0);
  assert.equal(
    readTables({ name: sparkLake, catalog: sparkCatalog }).bronze!.snapshots.map((s) => s.snapshotId),
    sparkTable('bronze').snapshots.map((s) => s.snapshotId),
  );
  // verify reads the tables with the Node engine's reader and checks every invariant, Kafka's committed offsets included.
  await runNodeJob('verify', sparkEnv(bootstrap));
});

test('Spark bronze refuses a lake whose offsets belong to another Kafka cluster, naming both ids, and changes nothing', async () => {
  if (setupFailure) throw setupFailure;
  const { bootstrap } = await sharedBroker();
  const copy = path.join(work, 'other-cluster');
  // A copy of the Node lake (Spark reads the volume layout too) with another cluster's id.
  cpSync(nodeLake, copy, { recursive: true });
  const metadata = path.join(copy, tables.bronze.location, 'metadata');
  const version = readFileSync(path.join(metadata, 'version-hint.text'), 'utf8').trim();
  const file = path.join(metadata, `v${version}.metadata.json`);
  const ours = last(lakes.tables(nodeLake).bronze!).summary[keys.clusterId];
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll(ours, 'AnotherClusterIdxxxxxx'));
  const before = readdirSync(metadata).sort();
  const onCopy = { ...baseEnv(bootstrap), LAKEHOUSE_DATA_DIR: copy, LAKEHOUSE_CONSUMER_GROUP: `spark-${run}` };
  const failed: string = await runSparkStage('bronze', onCopy).then(
    () => {
      throw new Error('bronze accepted offsets of another cluster');
    },
    (error: Error) => error.message,
  );
  assert.match(failed, /exited 1/);
  assert.match(failed, /AnotherClusterIdxxxxxx/);
  assert.match(failed, new RegExp(ours));
  assert.equal(readdirSync(metadata).sort(), before, 'no new metadata');
});

test.run();
