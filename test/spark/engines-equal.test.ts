// The Spark engine (jobs/spark) and the Node engine (jobs/*.ts) read the same topic into two lakes,
// which DuckDB then compares: the same files' schemas, the same rows in every layer, the same
// quarantine, gold equal to 1e-9. Needs ci/spark/install.sh to have run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sharedBroker } from '../support/broker-fixture.ts';
import { LakePair, layers, type Layer } from './lake-compare.ts';
import { logLine, runNodeJob, runSparkStage } from './run-job.ts';
import { requireSparkInstall } from './spark-install.ts';

const run = `${process.pid}-${Date.now()}`;
const topic = `engines-equal-${run}`;
const work = mkdtempSync(path.join(tmpdir(), 'engines-equal-'));
const nodeLake = path.join(work, 'node');
const sparkLake = path.join(work, 'spark');

const baseEnv = (bootstrap: string): NodeJS.ProcessEnv => ({
  KAFKA_BOOTSTRAP_SERVER: bootstrap,
  LAKEHOUSE_TOPIC: topic,
  LAKEHOUSE_PARTITIONS: '3',
  LAKEHOUSE_KAFKA_WAIT_SECONDS: '60',
  LAKEHOUSE_ROW_GROUP_SIZE: '500',
  LAKEHOUSE_LOG_LEVEL: 'info',
});
const nodeEnv = (bootstrap: string) => ({ ...baseEnv(bootstrap), LAKEHOUSE_DATA_DIR: nodeLake, LAKEHOUSE_CONSUMER_GROUP: `node-${run}` });
const sparkEnv = (bootstrap: string) => ({ ...baseEnv(bootstrap), LAKEHOUSE_DATA_DIR: sparkLake, LAKEHOUSE_CONSUMER_GROUP: `spark-${run}` });

let lakes: LakePair;
// uvu drops an error thrown by a before hook without printing it, so the setup's failure (for
// instance "run ci/spark/install.sh") is kept and thrown by every test instead.
let setupFailure: unknown;
const setUp = async () => {
  requireSparkInstall();
  const { bootstrap } = await sharedBroker();
  await runNodeJob('topics', baseEnv(bootstrap));
  // A first batch, read by both engines' bronze; then a second batch whose events repeat the first
  // batch's (vehicleId, timestamp) pairs under another seed, so de-duplication spans runs.
  await runNodeJob('produce', { ...baseEnv(bootstrap), LAKEHOUSE_EVENTS: '1500', LAKEHOUSE_INVALID_RATIO: '0.1', LAKEHOUSE_DUPLICATE_RATIO: '0.05', LAKEHOUSE_SEED: '42' });
  await runNodeJob('bronze', nodeEnv(bootstrap));
  await runSparkStage('bronze', sparkEnv(bootstrap));
  await runNodeJob('produce', { ...baseEnv(bootstrap), LAKEHOUSE_EVENTS: '900', LAKEHOUSE_INVALID_RATIO: '0.2', LAKEHOUSE_DUPLICATE_RATIO: '0.02', LAKEHOUSE_SEED: '7' });
  for (const job of ['bronze', 'silver', 'gold'] as const) {
    await runNodeJob(job, nodeEnv(bootstrap));
    await runSparkStage(job, sparkEnv(bootstrap));
  }
  lakes = await LakePair.open(nodeLake, sparkLake);
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

test('both lakes hold the same number of rows in every layer, and all records were read', async () => {
  if (setupFailure) throw setupFailure;
  for (const layer of Object.keys(layers) as Layer[]) {
    assert.is(await lakes.count(sparkLake, layer), await lakes.count(nodeLake, layer), `${layer} row count`);
  }
  assert.is(await lakes.count(sparkLake, 'bronze'), 2400, 'bronze holds both batches');
  const [silver, rejected, gold] = await Promise.all([
    lakes.count(sparkLake, 'silver'), lakes.count(sparkLake, 'rejected'), lakes.count(sparkLake, 'gold'),
  ]);
  assert.is(silver + rejected, 2400, 'silver + rejected (duplicates included) = bronze');
  assert.is(gold, 3, 'one gold row per type');
});

test('bronze: the same records at the same (partition, offset), in files named alike', async () => {
  if (setupFailure) throw setupFailure;
  const diff = await lakes.difference('bronze', ['key', 'value', 'topic', 'partition', 'offset', 'kafka_timestamp']);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
  const names = (lake: string) => readdirSync(path.join(lake, layers.bronze)).sort();
  const pattern = /^part-p\d{5}-o\d{20}-\d{20}\.parquet$/;
  assert.ok(names(sparkLake).every((n) => pattern.test(n)), `Spark bronze files: ${names(sparkLake).join(' ')}`);
  // Both engines ran bronze twice over the same two batches, so the offset ranges coincide.
  assert.equal(names(sparkLake), names(nodeLake));
});

test('silver: the same events, as sets', async () => {
  if (setupFailure) throw setupFailure;
  const diff = await lakes.difference('silver', ['vehicle_id', 'type', 'latitude', 'longitude', 'battery', 'event_time', 'source_partition', 'source_offset']);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
});

test('quarantine: the same (partition, offset, reason, field), raw value and key, every reason code present', async () => {
  if (setupFailure) throw setupFailure;
  const diff = await lakes.difference('rejected', ['source_partition', 'source_offset', 'reason', 'field', 'raw_value', 'key']);
  assert.equal(diff, { onlyLeft: [], onlyRight: [] });
  const reasons = await lakes.rows(`select distinct reason from ${lakes.glob(sparkLake, 'rejected')} order by reason`);
  assert.equal(reasons.map((r) => r.reason), ['duplicate', 'malformed_json', 'missing_field', 'out_of_range', 'unknown_type', 'wrong_type']);
  // Duplicates name the first occurrence in the same words.
  const dupDiff = await lakes.rows(
    `select source_partition, source_offset, detail from ${lakes.glob(nodeLake, 'rejected')} where reason = 'duplicate'
     except all select source_partition, source_offset, detail from ${lakes.glob(sparkLake, 'rejected')} where reason = 'duplicate'`,
  );
  assert.equal(dupDiff, []);
});

test('gold: sorted by type, every value equal (averages to 1e-9), computed_at aside', async () => {
  if (setupFailure) throw setupFailure;
  const node = await lakes.gold(nodeLake);
  const spark = await lakes.gold(sparkLake);
  assert.equal(spark.map((r) => r.type), ['bike', 'car', 'scooter']);
  assert.equal(spark.map((r) => r.type), node.map((r) => r.type));
  for (const [i, row] of spark.entries()) {
    for (const [column, value] of Object.entries(row)) {
      if (column === 'computed_at') continue;
      const expected = node[i][column];
      if (typeof value === 'number' && typeof expected === 'number' && !Number.isInteger(expected)) {
        assert.ok(Math.abs(value - expected) <= 1e-9, `${row.type}.${column}: spark ${value}, node ${expected}`);
      } else {
        assert.equal(value, expected, `${row.type}.${column}`);
      }
    }
  }
});

test('every layer has the contract schema of the Node engine: physical types, annotations, repetition', async () => {
  if (setupFailure) throw setupFailure;
  for (const layer of Object.keys(layers) as Layer[]) {
    const first = (lake: string) => {
      const dir = path.join(lake, layers[layer]);
      const files = readdirSync(dir).filter((n) => n.endsWith('.parquet')).sort();
      assert.ok(files.length > 0, `${dir} has Parquet files`);
      return path.join(dir, files[0]);
    };
    assert.equal(await lakes.parquetSchema(first(sparkLake)), await lakes.parquetSchema(first(nodeLake)), `${layer} schema`);
  }
});

test('Spark bounds row groups by LAKEHOUSE_ROW_GROUP_SIZE rows, as the Node jobs do', async () => {
  if (setupFailure) throw setupFailure;
  for (const layer of ['bronze', 'silver', 'rejected'] as const) {
    const [row] = await lakes.rows(
      `select max(row_group_num_rows)::INTEGER as largest, count(distinct (file_name, row_group_id))::INTEGER as groups
       from parquet_metadata('${path.join(sparkLake, layers[layer], '*.parquet')}')`,
    );
    assert.ok((row.largest as number) <= 500, `${layer}: a row group of ${row.largest} rows`);
    assert.ok((row.groups as number) > 1, `${layer}: ${row.groups} row groups`);
  }
});

test("Spark's bookkeeping stays out of the lake: only *.parquet in the layers, no staging left", () => {
  if (setupFailure) throw setupFailure;
  for (const layer of Object.keys(layers) as Layer[]) {
    const dir = path.join(sparkLake, layers[layer]);
    const other = readdirSync(dir).filter((n) => !n.endsWith('.parquet') || n.startsWith('.'));
    assert.equal(other, [], `${dir} holds only Parquet files`);
  }
  const staging = path.join(sparkLake, '.spark-staging');
  assert.ok(!existsSync(staging) || readdirSync(staging).length === 0, 'no staging directory left behind');
  const names = (dir: string) => readdirSync(path.join(sparkLake, dir)).sort();
  assert.equal(names('silver'), ['rejected', 'vehicles']);
  assert.equal(names(layers.gold), ['part-00000.parquet']);
});

test('a Spark bronze re-run with nothing new adds nothing and clears a dead run\'s leftovers, and the Node verify job accepts the Spark lake', async () => {
  if (setupFailure) throw setupFailure;
  const { bootstrap } = await sharedBroker();
  const before = readdirSync(path.join(sparkLake, layers.bronze)).sort();
  // What a bronze run killed before publishing leaves: its staging directory and a temporary file.
  const leftovers = [path.join(sparkLake, '.spark-staging', 'bronze-999999-deadbeef', 'out'), path.join(sparkLake, layers.bronze, '.part-p00000.123.tmp')];
  mkdirSync(leftovers[0], { recursive: true });
  writeFileSync(leftovers[1], 'half a file');
  const rerun = await runSparkStage('bronze', sparkEnv(bootstrap));
  for (const leftover of leftovers) assert.not.ok(existsSync(leftover), `${leftover} removed`);
  assert.is((logLine(rerun, 'finished').result as { records: number }).records, 0);
  assert.equal(readdirSync(path.join(sparkLake, layers.bronze)).sort(), before);
  // verify also checks that the consumer group's committed offsets match bronze.
  await runNodeJob('verify', sparkEnv(bootstrap));
});

test.run();
