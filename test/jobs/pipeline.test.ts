/**
 * End to end on a real Apache Kafka broker: each job runs as its own process, as in the chart, and
 * the lake is cross-read with DuckDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sharedBroker } from '../support/broker-fixture.ts';
import { parquet, query } from '../support/duckdb.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames, type JobOutcome } from '../support/lake.ts';

interface Lake {
  readonly env: Record<string, string>;
  readonly dir: string;
}

async function newLake(label: string, settings: Record<string, string> = {}): Promise<Lake> {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames(label);
  const dir = temporaryDir(label);
  return {
    dir,
    env: { KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_TOPIC: topic, LAKEHOUSE_CONSUMER_GROUP: group, LAKEHOUSE_DATA_DIR: dir, ...settings },
  };
}

async function ok(job: string, lake: Lake, args: string[] = []): Promise<JobOutcome> {
  const outcome = await runJob(job, lake.env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

const result = (outcome: JobOutcome) => outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, any>;
const dirs = (lake: Lake) => ({
  bronze: path.join(lake.dir, 'bronze/vehicles'),
  silver: path.join(lake.dir, 'silver/vehicles'),
  rejected: path.join(lake.dir, 'silver/rejected'),
  gold: path.join(lake.dir, 'gold/stats'),
});

const pipeline = suite('pipeline on a real broker');
let lake: Lake;

pipeline.before(async () => {
  lake = await newLake('e2e');
});

pipeline('30 events: bronze 30 rows, silver 28-30, gold 3 rows, verify passes', async () => {
  const topics = result(await ok('topics', lake));
  assert.equal(topics, { topic: lake.env.LAKEHOUSE_TOPIC, created: true, partitions: 3 });
  assert.is(result(await ok('produce', lake)).sent, 30);
  assert.is(result(await ok('bronze', lake)).recordsRead, 30);
  await ok('silver', lake);
  await ok('gold', lake);
  await ok('verify', lake);

  const d = dirs(lake);
  const [bronze] = await query(`select count(*)::int as n, count(distinct (partition, "offset"))::int as coordinates,
    count(distinct topic)::int as topics, min(kafka_timestamp) > 0 as stamped from ${parquet(d.bronze)}`);
  assert.equal(bronze, { n: 30, coordinates: 30, topics: 1, stamped: true });
  const [{ silver }] = await query<{ silver: number }>(`select count(*)::int as silver from ${parquet(d.silver)}`);
  const [{ rejected }] = await query<{ rejected: number }>(`select count(*)::int as rejected from ${parquet(d.rejected)}`);
  assert.ok(silver >= 28 && silver <= 30, `silver has ${silver} rows`);
  assert.is(silver + rejected, 30);
  const gold = await query(`select type, event_count::int as n from ${parquet(d.gold)} order by type`);
  assert.equal(gold.map((r) => r.type), ['bike', 'car', 'scooter']);
});

pipeline('gold equals what DuckDB computes from silver', async () => {
  const d = dirs(lake);
  const expected = await query(`select type, count(*)::bigint as event_count, count(distinct vehicle_id)::bigint as vehicle_count,
      avg(battery) as avg_battery, min(battery) as min_battery, max(battery) as max_battery,
      avg(latitude) as avg_latitude, avg(longitude) as avg_longitude,
      min(event_time) as first_event_at, max(event_time) as last_event_at
    from ${parquet(d.silver)} group by type order by type`);
  const actual = await query(`select * exclude (computed_at) from ${parquet(d.gold)} order by type`);
  assert.is(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    for (const [column, want] of Object.entries(expected[i])) {
      const got = actual[i][column];
      if (typeof want === 'number') assert.ok(Math.abs((got as number) - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${column}: ${got} vs ${want}`);
      else assert.equal(got, want, column);
    }
  }
  const [schema] = await query(`select typeof(event_count) as a, typeof(min_battery) as b, typeof(avg_battery) as c, typeof(first_event_at) as d from ${parquet(d.gold)} limit 1`);
  assert.equal(schema, { a: 'BIGINT', b: 'INTEGER', c: 'DOUBLE', d: 'BIGINT' });
});

pipeline('every rejected record keeps its raw value, its source offset and a reason', async () => {
  const d = dirs(lake);
  const rejected = await query(`select raw_value, source_partition, source_offset, reason, field, detail from ${parquet(d.rejected)}`);
  assert.ok(rejected.length > 0);
  for (const r of rejected) {
    assert.type(r.raw_value, 'string');
    assert.ok(['malformed_json', 'missing_field', 'wrong_type', 'unknown_type', 'out_of_range'].includes(r.reason as string), String(r.reason));
    assert.ok((r.detail as string).length > 0);
  }
  const [{ joined }] = await query<{ joined: number }>(`select count(*)::int as joined from ${parquet(d.rejected)} r
    join ${parquet(d.bronze)} b on b.partition = r.source_partition and b."offset" = r.source_offset and b.value = r.raw_value`);
  assert.is(joined, rejected.length);
});

pipeline('a second bronze run with no new records writes nothing; topics is idempotent', async () => {
  const before = fs.readdirSync(dirs(lake).bronze).sort();
  assert.is(result(await ok('bronze', lake)).recordsRead, 0);
  assert.equal(fs.readdirSync(dirs(lake).bronze).sort(), before);
  assert.is(result(await ok('topics', lake)).created, false);
});

pipeline('new records are appended incrementally, and verify catches a stale silver and a stale gold', async () => {
  // Another seed, same clock: the first 30 repeat earlier (vehicle, time) keys, the last 10 are new.
  await ok('produce', lake, ['--events', '40', '--seed', '9']);
  assert.is(result(await ok('bronze', lake)).recordsRead, 40);
  const stale = await runJob('verify', lake.env);
  assert.is(stale.exitCode, 1);
  const failure = stale.lines.find((l) => l.msg === 'failed');
  assert.is(failure?.invariant, 'silver + rejected + duplicates = bronze');
  await ok('silver', lake);
  const staleGold = await runJob('verify', lake.env);
  assert.is(staleGold.exitCode, 1);
  assert.is(staleGold.lines.find((l) => l.msg === 'failed')?.invariant, 'sum of gold event_count = silver rows');
  await ok('gold', lake);
  assert.is(result(await ok('verify', lake)).bronze, 70);
});

pipeline.run();

const dedup = suite('duplicates');

dedup('duplicates go to quarantine with reason "duplicate"; silver keeps the first occurrence', async () => {
  const lake = await newLake('dup', { LAKEHOUSE_EVENTS: '200', LAKEHOUSE_DUPLICATE_RATIO: '0.1', LAKEHOUSE_PARTITIONS: '1' });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) await ok(job, lake);
  const d = dirs(lake);
  const [counts] = await query(`select count(*)::int as n, count(distinct (vehicle_id, event_time))::int as distinct_keys,
    min(source_offset)::int as first from ${parquet(d.silver)}`);
  assert.is(counts.n, counts.distinct_keys);
  const [{ duplicates }] = await query<{ duplicates: number }>(`select count(*)::int as duplicates from ${parquet(d.rejected)} where reason = 'duplicate'`);
  assert.is(duplicates, 20);
  // Each duplicate's original is in silver at a smaller offset.
  const [{ earlier }] = await query<{ earlier: number }>(`select count(*)::int as earlier from ${parquet(d.rejected)} r
    join ${parquet(d.silver)} s on json_extract_string(r.raw_value, '$.vehicleId') = s.vehicle_id
      and json_extract(r.raw_value, '$.timestamp')::bigint = s.event_time and s.source_offset < r.source_offset
    where r.reason = 'duplicate'`);
  assert.is(earlier, 20);
});

dedup('de-duplication across many spill buckets finds exactly the duplicates DuckDB finds', async () => {
  const lake = await newLake('buckets', { LAKEHOUSE_EVENTS: '3000', LAKEHOUSE_DUPLICATE_RATIO: '0.05', LAKEHOUSE_DEDUP_BUCKET_EVENTS: '100' });
  for (const job of ['topics', 'produce', 'bronze']) await ok(job, lake);
  const silverRun = await ok('silver', lake);
  assert.ok((silverRun.lines.find((l) => l.msg === 'silver plan')?.buckets as number) >= 30);
  const d = dirs(lake);
  const [silver] = await query(`select count(*)::int as n, count(distinct (vehicle_id, event_time))::int as keys from ${parquet(d.silver)}`);
  const [bronze] = await query(`select count(distinct (json_extract_string(value, '$.vehicleId'), json_extract(value, '$.timestamp')::bigint))::int as keys
    from ${parquet(d.bronze)} b anti join (select * from ${parquet(d.rejected)} where reason <> 'duplicate') r
      on b.partition = r.source_partition and b."offset" = r.source_offset`);
  assert.is(silver.n, silver.keys);
  assert.is(silver.n, bronze.keys);
  const [{ duplicates }] = await query<{ duplicates: number }>(`select count(*)::int as duplicates from ${parquet(d.rejected)} where reason = 'duplicate'`);
  assert.is(duplicates, 150);
  await ok('gold', lake);
  await ok('verify', lake);
});

dedup.run();

const crash = suite('crash safety');

crash('bronze killed with SIGKILL after its first file, then re-run: every offset exactly once', async () => {
  const lake = await newLake('kill', { LAKEHOUSE_EVENTS: '3000', LAKEHOUSE_FILE_ROWS: '100', LAKEHOUSE_PARTITIONS: '2' });
  await ok('topics', lake);
  await ok('produce', lake);
  const killed = await runJob('bronze', lake.env, [], (line, child) => {
    if (line.msg === 'bronze file written') child.kill('SIGKILL');
  });
  assert.is.not(killed.exitCode, 0);
  const filesAfterKill = fs.readdirSync(dirs(lake).bronze).filter((f) => f.endsWith('.parquet')).length;
  assert.ok(filesAfterKill >= 1 && filesAfterKill < 30, `${filesAfterKill} files after the kill`);

  const rerun = result(await ok('bronze', lake));
  assert.ok(rerun.recordsRead > 0 && rerun.recordsRead < 3000, `re-run read ${rerun.recordsRead}`);
  const [bronze] = await query(`select count(*)::int as n, count(distinct (partition, "offset"))::int as coordinates from ${parquet(dirs(lake).bronze)}`);
  assert.equal(bronze, { n: 3000, coordinates: 3000 });
  await ok('silver', lake);
  await ok('gold', lake);
  await ok('verify', lake);
});

crash('a bad setting stops a job before it does anything, naming the setting', async () => {
  const lake = await newLake('config', { LAKEHOUSE_ROW_GROUP_SIZE: 'lots' });
  const outcome = await runJob('bronze', lake.env);
  assert.is(outcome.exitCode, 2);
  const failure = outcome.lines.find((l) => l.msg === 'failed');
  assert.is(failure?.setting, 'LAKEHOUSE_ROW_GROUP_SIZE');
  assert.not.ok(fs.existsSync(path.join(lake.dir, 'bronze')));
});

crash.run();
