/**
 * End to end on a real Apache Kafka broker: each job runs as its own process, as in the chart, and
 * the lake is cross-read with DuckDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { headOf } from '../../jobs/lake/lake.ts';
import { findTable } from '../support/tables.ts';
import { nextOffsetsOf } from '../../jobs/lake/offsets.ts';
import { testKafka } from '../support/broker-fixture.ts';
import { query } from '../support/duckdb.ts';
import { describeFailure, newLake, runJob, type JobOutcome, type TestLake } from '../support/lake.ts';
import { tableFiles, tableSql } from '../support/tables.ts';

type Lake = TestLake;

async function ok(job: string, lake: Lake, args: string[] = []): Promise<JobOutcome> {
  const outcome = await runJob(job, lake.env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

const result = (outcome: JobOutcome) => outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, any>;
/** DuckDB sources over the data files each table's current snapshot lists. */
const tablesOf = async (lake: Lake) => {
  const sql = (key: 'bronze' | 'silver' | 'rejected' | 'gold') =>
    tableSql(lake.dir, key).catch(() => `no_data_files_in_${key}`);
  return {
    bronze: await sql('bronze'),
    silver: await sql('silver'),
    rejected: await sql('rejected'),
    gold: await sql('gold'),
  };
};

const pipeline = suite('pipeline on a real broker');
let lake: Lake;

pipeline.before(async () => {
  lake = await newLake('e2e');
});

pipeline(
  "a producer that fails logs how many events Kafka had acknowledged (its Job's retry sends them all again)",
  async () => {
    const fresh = await newLake('producer-fails');
    const outcome = await runJob('produce', fresh.env);
    assert.is(outcome.exitCode, 1, 'no topic yet: the producer fails');
    const stopped = outcome.lines.find((l) => l.msg === 'stopped before every event was acknowledged');
    assert.ok(stopped, describeFailure(outcome));
    assert.is(stopped.acknowledged, 0);
    assert.is(stopped.asked, 30);
  },
);

pipeline(
  'before the first event (a scheduled run right after install), bronze, silver and gold succeed with nothing to do',
  async () => {
    const empty = await newLake('empty');
    await ok('topics', empty);
    assert.is(result(await ok('bronze', empty)).recordsRead, 0);
    assert.is(result(await ok('silver', empty)).silver, 0);
    assert.equal(result(await ok('gold', empty)).rows, []);
    for (const key of ['bronze', 'silver', 'gold'] as const) assert.equal(await tableFiles(empty.dir, key), [], key);
  },
);

pipeline('30 events: bronze 30 rows, silver 28-30, gold 3 rows, verify passes', async () => {
  const topics = result(await ok('topics', lake));
  assert.equal(topics, { topic: lake.env.LAKEHOUSE_TOPIC, created: true, partitions: 3 });
  assert.is(result(await ok('produce', lake)).sent, 30);
  assert.is(result(await ok('bronze', lake)).recordsRead, 30);
  await ok('silver', lake);
  await ok('gold', lake);
  await ok('verify', lake);

  const d = await tablesOf(lake);
  const [bronze] = await query(`select count(*)::int as n, count(distinct (partition, "offset"))::int as coordinates,
    count(distinct topic)::int as topics, epoch_ms(min(kafka_timestamp)) > 0 as stamped from ${d.bronze}`);
  assert.equal(bronze, { n: 30, coordinates: 30, topics: 1, stamped: true });
  const [{ silver }] = await query<{ silver: number }>(`select count(*)::int as silver from ${d.silver}`);
  const [{ rejected }] = await query<{ rejected: number }>(`select count(*)::int as rejected from ${d.rejected}`);
  assert.ok(silver >= 28 && silver <= 30, `silver has ${silver} rows`);
  assert.is(silver + rejected, 30);
  const gold = await query(`select type, event_count::int as n from ${d.gold} order by type`);
  assert.equal(
    gold.map((r) => r.type),
    ['bike', 'car', 'scooter'],
  );
});

pipeline('gold equals what DuckDB computes from silver', async () => {
  const d = await tablesOf(lake);
  const expected =
    await query(`select type, count(*)::bigint as event_count, count(distinct vehicle_id)::bigint as vehicle_count,
      avg(battery) as avg_battery, min(battery) as min_battery, max(battery) as max_battery,
      avg(latitude) as avg_latitude, avg(longitude) as avg_longitude,
      min(event_time) as first_event_at, max(event_time) as last_event_at
    from ${d.silver} group by type order by type`);
  const actual = await query(`select * exclude (computed_at) from ${d.gold} order by type`);
  assert.is(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    for (const [column, want] of Object.entries(expected[i])) {
      const got = actual[i][column];
      if (typeof want === 'number')
        assert.ok(
          Math.abs((got as number) - want) <= 1e-9 * Math.max(1, Math.abs(want)),
          `${column}: ${got} vs ${want}`,
        );
      else assert.equal(got, want, column);
    }
  }
  const [schema] = await query(
    `select typeof(event_count) as a, typeof(min_battery) as b, typeof(avg_battery) as c, typeof(first_event_at) as d from ${d.gold} limit 1`,
  );
  assert.equal(schema, { a: 'BIGINT', b: 'INTEGER', c: 'DOUBLE', d: 'TIMESTAMP WITH TIME ZONE' });
});

pipeline('every rejected record keeps its raw value, its source offset and a reason', async () => {
  const d = await tablesOf(lake);
  const rejected = await query(
    `select raw_value, source_partition, source_offset, reason, field, detail from ${d.rejected}`,
  );
  assert.ok(rejected.length > 0);
  for (const r of rejected) {
    assert.instance(r.raw_value, Uint8Array);
    assert.ok(
      ['malformed_json', 'missing_field', 'wrong_type', 'unknown_type', 'out_of_range'].includes(r.reason as string),
      String(r.reason),
    );
    assert.ok((r.detail as string).length > 0);
  }
  const [{ joined }] = await query<{ joined: number }>(`select count(*)::int as joined from ${d.rejected} r
    join ${d.bronze} b on b.partition = r.source_partition and b."offset" = r.source_offset and b.value = r.raw_value`);
  assert.is(joined, rejected.length);
});

pipeline('a second bronze run with no new records adds no snapshot; topics is idempotent', async () => {
  const before = fs.readdirSync(path.join(lake.dir, 'bronze/vehicles/metadata')).sort();
  assert.is(result(await ok('bronze', lake)).recordsRead, 0);
  assert.equal(fs.readdirSync(path.join(lake.dir, 'bronze/vehicles/metadata')).sort(), before);
  assert.is(result(await ok('topics', lake)).created, false);
});

pipeline(
  'new records are appended incrementally; verify checks the cut gold last saw while later stages are pending',
  async () => {
    // Another seed, same clock: the first 30 repeat earlier (vehicle, time) keys, the last 10 are new.
    await ok('produce', lake, ['--events', '40', '--seed', '9']);
    assert.is(result(await ok('bronze', lake)).recordsRead, 40);
    const pending = result(await ok('verify', lake));
    assert.is(pending.bronze, 30, 'verify checked bronze as silver consumed it');
    assert.equal(pending.snapshotsAhead, { 'bronze.vehicles': 1 });
    const silverRun = result(await ok('silver', lake));
    assert.is(silverRun.bronze, 40, 'silver read only the new bronze snapshot');
    const goldPending = result(await ok('verify', lake));
    assert.is(goldPending.bronze, 30, 'gold has not seen the new silver snapshot: the cut stays where gold is');
    assert.is(goldPending.snapshotsAhead['silver.vehicles'], 1);
    await ok('gold', lake);
    const current = result(await ok('verify', lake));
    assert.is(current.bronze, 70);
    assert.equal(current.snapshotsAhead, {});
  },
);

pipeline(
  "a bronze run setting the group's offsets while verify reads them passes; offsets no snapshot ends at fail, naming the partition",
  async () => {
    await ok('produce', lake, ['--events', '12', '--seed', '10']);
    const cut = nextOffsetsOf(headOf(await findTable(lake.dir, 'bronze')));
    await ok('bronze', lake);
    const next = nextOffsetsOf(headOf(await findTable(lake.dir, 'bronze')));
    const moved = [...next]
      .filter(([partition, offset]) => offset !== cut.get(partition))
      .map(([partition]) => partition);
    assert.ok(moved.length > 1, 'the new events went to several partitions');
    const admin = testKafka(lake.env.KAFKA_BOOTSTRAP_SERVER).admin();
    await admin.connect();
    const setOffsets = (offsets: Map<number, number>) =>
      admin.setOffsets({
        groupId: lake.env.LAKEHOUSE_CONSUMER_GROUP,
        topic: lake.env.LAKEHOUSE_TOPIC,
        partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) })),
      });
    try {
      // Half-way through the run's commit: its first moved partition is set, the others still where the cut ends.
      await setOffsets(new Map([...cut, [moved[0], next.get(moved[0])!]]));
      assert.is(result(await ok('verify', lake)).bronze, 70, 'verify checks the cut gold saw');
      await setOffsets(new Map([...next, [moved[0], next.get(moved[0])! + 3]]));
      const ahead = await runJob('verify', lake.env);
      assert.is(ahead.exitCode, 1, describeFailure(ahead));
      assert.match(
        describeFailure(ahead),
        `partition ${moved[0]}: bronze ends before offset ${cut.get(moved[0])} (or a later snapshot's end) but the group ${lake.env.LAKEHOUSE_CONSUMER_GROUP} committed ${next.get(moved[0])! + 3}`,
      );
    } finally {
      await setOffsets(next);
      await admin.disconnect();
    }
    for (const job of ['silver', 'gold']) await ok(job, lake);
    assert.is(result(await ok('verify', lake)).bronze, 82);
  },
);

pipeline.run();

const dedup = suite('duplicates');

dedup('duplicates go to quarantine with reason "duplicate"; silver keeps the first occurrence', async () => {
  const lake = await newLake('dup', {
    LAKEHOUSE_EVENTS: '200',
    LAKEHOUSE_DUPLICATE_RATIO: '0.1',
    LAKEHOUSE_PARTITIONS: '1',
  });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) await ok(job, lake);
  const d = await tablesOf(lake);
  const [counts] =
    await query(`select count(*)::int as n, count(distinct (vehicle_id, event_time))::int as distinct_keys,
    min(source_offset)::int as first from ${d.silver}`);
  assert.is(counts.n, counts.distinct_keys);
  const [{ duplicates }] = await query<{ duplicates: number }>(
    `select count(*)::int as duplicates from ${d.rejected} where reason = 'duplicate'`,
  );
  assert.is(duplicates, 20);
  // Each duplicate's original is in silver at a smaller offset.
  const [{ earlier }] = await query<{ earlier: number }>(`select count(*)::int as earlier from ${d.rejected} r
    join ${d.silver} s on json_extract_string(decode(r.raw_value), '$.vehicleId') = s.vehicle_id
      and json_extract(decode(r.raw_value), '$.timestamp')::bigint = epoch_ms(s.event_time) and s.source_offset < r.source_offset
    where r.reason = 'duplicate'`);
  assert.is(earlier, 20);
});

dedup('de-duplication across many spill buckets finds exactly the duplicates DuckDB finds', async () => {
  const lake = await newLake('buckets', {
    LAKEHOUSE_EVENTS: '3000',
    LAKEHOUSE_DUPLICATE_RATIO: '0.05',
    LAKEHOUSE_DEDUP_BUCKET_EVENTS: '100',
  });
  for (const job of ['topics', 'produce', 'bronze']) await ok(job, lake);
  await ok('silver', lake);
  const d = await tablesOf(lake);
  const [silver] = await query(
    `select count(*)::int as n, count(distinct (vehicle_id, event_time))::int as keys from ${d.silver}`,
  );
  const [bronze] =
    await query(`select count(distinct (json_extract_string(decode(value), '$.vehicleId'), json_extract(decode(value), '$.timestamp')::bigint))::int as keys
    from ${d.bronze} b anti join (select * from ${d.rejected} where reason <> 'duplicate') r
      on b.partition = r.source_partition and b."offset" = r.source_offset`);
  assert.is(silver.n, silver.keys);
  assert.is(silver.n, bronze.keys);
  const [{ duplicates }] = await query<{ duplicates: number }>(
    `select count(*)::int as duplicates from ${d.rejected} where reason = 'duplicate'`,
  );
  assert.is(duplicates, 150);
  await ok('gold', lake);
  await ok('verify', lake);
});

dedup.run();

const crash = suite('crash safety');

/** Counts bronze rows and distinct (partition, offset) coordinates of the current snapshot. */
async function bronzeCoordinates(lake: Lake) {
  const [bronze] = await query(
    `select count(*)::int as n, count(distinct (partition, "offset"))::int as coordinates from ${await tableSql(lake.dir, 'bronze')}`,
  );
  return bronze;
}

// Bronze killed at each step of a run: while reading, with its data files written but not
// committed, and committed but before the consumer group's offsets are set.
for (const [when, kill] of [
  ['while it reads', (line: Record<string, unknown>) => line.msg === 'progress'],
  ['before its commit', (line: Record<string, unknown>) => line.msg === 'bronze data files written'],
  ['after its commit', (line: Record<string, unknown>) => line.msg === 'bronze committed'],
] as const) {
  crash(`bronze killed with SIGKILL ${when}, then re-run: every offset exactly once`, async () => {
    const lake = await newLake('kill', {
      LAKEHOUSE_EVENTS: '3000',
      LAKEHOUSE_FILE_ROWS: '100',
      LAKEHOUSE_PARTITIONS: '2',
    });
    await ok('topics', lake);
    await ok('produce', lake);
    const killed = await runJob('bronze', lake.env, [], (line, child) => {
      if (kill(line)) child.kill('SIGKILL');
    });
    assert.is.not(killed.exitCode, 0);
    await ok('bronze', lake);
    assert.equal(await bronzeCoordinates(lake), { n: 3000, coordinates: 3000 });
    await ok('silver', lake);
    await ok('gold', lake);
    await ok('verify', lake);
  });
}

crash('two bronze runs started together: one commits, the other says so and adds nothing', async () => {
  const lake = await newLake('race', { LAKEHOUSE_EVENTS: '2000', LAKEHOUSE_PARTITIONS: '3' });
  await ok('topics', lake);
  await ok('produce', lake);
  const [a, b] = await Promise.all([runJob('bronze', lake.env), runJob('bronze', lake.env)]);
  assert.is(a.exitCode, 0, describeFailure(a));
  assert.is(b.exitCode, 0, describeFailure(b));
  const read = [result(a).recordsRead, result(b).recordsRead].sort((x, y) => x - y);
  // Either they overlapped (one lost the race: 0 and 2000) or one finished before the other began.
  assert.equal(read, [0, 2000]);
  assert.equal(await bronzeCoordinates(lake), { n: 2000, coordinates: 2000 });
  for (const job of ['silver', 'gold', 'verify']) await ok(job, lake);
});

for (const [when, kill] of [
  ['while it validates', (line: Record<string, unknown>) => line.msg === 'progress'],
  ['just before its commits', (line: Record<string, unknown>) => line.msg === 'silver reconciliation'],
  ['after committing silver.rejected', (line: Record<string, unknown>) => line.msg === 'silver.rejected committed'],
] as const) {
  crash(`silver killed with SIGKILL ${when}, then re-run: the invariants hold`, async () => {
    const lake = await newLake('silver-kill', {
      LAKEHOUSE_EVENTS: '3000',
      LAKEHOUSE_INVALID_RATIO: '0.2',
      LAKEHOUSE_DUPLICATE_RATIO: '0.1',
      LAKEHOUSE_FILE_ROWS: '200',
    });
    for (const job of ['topics', 'produce', 'bronze']) await ok(job, lake);
    await runJob('silver', lake.env, [], (line, child) => {
      if (kill(line)) child.kill('SIGKILL');
    });
    for (const job of ['silver', 'gold', 'verify']) await ok(job, lake);
  });
}

crash(
  'two silver runs at once: one commits, the other fails saying so, and a re-run leaves the lake whole',
  async () => {
    const lake = await newLake('silver-race', { LAKEHOUSE_EVENTS: '2000', LAKEHOUSE_DUPLICATE_RATIO: '0.05' });
    for (const job of ['topics', 'produce', 'bronze']) await ok(job, lake);
    const runs = await Promise.all([runJob('silver', lake.env), runJob('silver', lake.env)]);
    assert.ok(
      runs.some((r) => r.exitCode === 0),
      runs.map(describeFailure).join('\n'),
    );
    for (const lost of runs.filter((r) => r.exitCode !== 0)) {
      assert.match(String(lost.lines.find((l) => l.msg === 'failed')?.error), /another silver run committed first/);
    }
    for (const job of ['silver', 'gold', 'verify']) await ok(job, lake);
  },
);

crash(
  'silver killed between its two commits, then re-run: every bronze record once in silver or rejected',
  async () => {
    const lake = await newLake('silver-crash', {
      LAKEHOUSE_EVENTS: '300',
      LAKEHOUSE_INVALID_RATIO: '0.2',
      LAKEHOUSE_DUPLICATE_RATIO: '0.1',
    });
    for (const job of ['topics', 'produce', 'bronze', 'silver']) await ok(job, lake);
    // The state a silver run leaves when it dies right after committing silver.rejected: roll
    // silver.vehicles back to its version before the run (its data files stay, unreferenced).
    const metadata = path.join(lake.dir, 'silver/vehicles/metadata');
    const versions = fs
      .readdirSync(metadata)
      .filter((f) => /^v\d+\.metadata\.json$/.test(f))
      .map((f) => Number(/\d+/.exec(f)![0]));
    const latest = Math.max(...versions);
    fs.rmSync(path.join(metadata, `v${latest}.metadata.json`));
    fs.writeFileSync(path.join(metadata, 'version-hint.text'), String(latest - 1));
    const rejectedBefore = (
      await query<{ n: number }>(`select count(*)::int as n from ${await tableSql(lake.dir, 'rejected')}`)
    )[0].n;
    const rerun = result(await ok('silver', lake));
    assert.is(rerun.bronze, 300);
    const rejectedAfter = (
      await query<{ n: number }>(`select count(*)::int as n from ${await tableSql(lake.dir, 'rejected')}`)
    )[0].n;
    assert.is(rejectedAfter, rejectedBefore, 'the rejects were not written twice');
    await ok('gold', lake);
    await ok('verify', lake);
  },
);

crash('an event repeated in a later run is quarantined as a duplicate of the earlier one', async () => {
  const lake = await newLake('late-dup', { LAKEHOUSE_EVENTS: '60', LAKEHOUSE_INVALID_RATIO: '0' });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold']) await ok(job, lake);
  // A later run: 20 new events (a later start time) and, sent again, the first run's first 10.
  await ok('produce', lake, ['--events', '20', '--start-time', '2023-10-14T08:00:00Z']);
  await ok('produce', lake, ['--events', '10']);
  await ok('bronze', lake);
  const run = result(await ok('silver', lake));
  assert.equal({ silver: run.silver, duplicates: run.duplicates }, { silver: 20, duplicates: 10 });
  const d = await tablesOf(lake);
  const [{ n }] = await query<{ n: number }>(
    `select count(*)::int as n from ${d.rejected} where reason = 'duplicate' and detail like 'same vehicleId and timestamp as partition % offset %'`,
  );
  assert.is(n, 10);
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
  assert.equal(await tableFiles(lake.dir, 'bronze'), []);
});

crash.run();
