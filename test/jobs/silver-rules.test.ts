/**
 * Silver's rules on a real broker, each job its own process: the accepted vehicle types come from
 * LAKEHOUSE_VEHICLE_TYPES (silver, gold and verify), and ids that differ only in lone surrogates,
 * which UTF-8 cannot hold, are rejected one by one instead of being stored as one id.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { query } from '../support/duckdb.ts';
import { describeFailure, newLake, runJob, temporaryDir, type TestLake } from '../support/lake.ts';
import { tableSql } from '../support/tables.ts';

const rules = suite('silver rules');

async function ok(job: string, env: Record<string, string>, args: string[] = []) {
  const outcome = await runJob(job, env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

/** Sends raw values to the lake's topic as a client of its own would, one partition, in order. */
async function send(lake: TestLake, values: string[]): Promise<void> {
  const { bootstrap } = await sharedBroker();
  const producer = testKafka(bootstrap).producer();
  await producer.connect();
  await producer.send({
    topic: lake.env.LAKEHOUSE_TOPIC,
    messages: values.map((value, i) => ({ key: `k${i}`, value, partition: 0 })),
  });
  await producer.disconnect();
}

const event = (vehicleId: string, type: string, timestamp: number) =>
  `{"vehicleId":"${vehicleId}","type":"${type}","latitude":48.85,"longitude":2.35,"battery":50,"timestamp":${timestamp}}`;

rules('with --vehicle-types car,bike,scooter,truck a truck event reaches silver and gold has a truck row', async () => {
  const lake = await newLake('truck', { LAKEHOUSE_EVENTS: '30', LAKEHOUSE_INVALID_RATIO: '0' });
  await ok('topics', lake.env);
  await ok('produce', lake.env);
  await send(lake, [event('TRUCK_000', 'truck', 1697203300000), event('TRUCK_001', 'truck', 1697203301000)]);
  const trucks = ['--vehicle-types', 'car,bike,scooter,truck'];
  for (const job of ['bronze', 'silver', 'gold', 'verify']) await ok(job, lake.env, trucks);
  const silver = await query<{ type: string; n: number }>(
    `select type, count(*)::int as n from ${await tableSql(lake.dir, 'silver')} group by type order by type`,
  );
  assert.equal(silver, [
    { type: 'bike', n: 10 },
    { type: 'car', n: 10 },
    { type: 'scooter', n: 10 },
    { type: 'truck', n: 2 },
  ]);
  const gold = await query<{ type: string; event_count: bigint; vehicle_count: bigint }>(
    `select type, event_count, vehicle_count from ${await tableSql(lake.dir, 'gold')} where type = 'truck'`,
  );
  assert.equal(
    gold.map((g) => [g.type, Number(g.event_count), Number(g.vehicle_count)]),
    [['truck', 2, 2]],
  );
  // Verify holds silver to the setting too: with the default list a truck row breaks the rules.
  const strict = await runJob('verify', lake.env);
  assert.is(strict.exitCode, 1, describeFailure(strict));
  assert.match(
    String(strict.lines.find((l) => l.msg === 'failed')?.error),
    /every silver row passes the rules.*unknown_type: type "truck" is not one of car, bike, scooter/,
  );

  // The same topic read with the default list: the trucks are rejected, the detail naming the list.
  const defaults = {
    ...lake.env,
    LAKEHOUSE_DATA_DIR: temporaryDir('truck-default'),
    LAKEHOUSE_CONSUMER_GROUP: `${lake.env.LAKEHOUSE_CONSUMER_GROUP}-defaults`,
  };
  for (const job of ['bronze', 'silver', 'gold', 'verify']) await ok(job, defaults);
  const rejected = await query<{ reason: string; field: string; detail: string }>(
    `select reason, field, detail from ${await tableSql(defaults.LAKEHOUSE_DATA_DIR, 'rejected')} order by source_offset`,
  );
  assert.equal(rejected, [
    { reason: 'unknown_type', field: 'type', detail: 'type "truck" is not one of car, bike, scooter' },
    { reason: 'unknown_type', field: 'type', detail: 'type "truck" is not one of car, bike, scooter' },
  ]);
});

rules('a bad LAKEHOUSE_VEHICLE_TYPES stops silver before it reads anything, naming the setting (exit 2)', async () => {
  const lake = await newLake('bad-types');
  for (const [env, args, setting, message] of [
    [{ LAKEHOUSE_VEHICLE_TYPES: 'car,Truck' }, [], 'LAKEHOUSE_VEHICLE_TYPES', '"Truck" is not a lowercase name'],
    [{}, ['--vehicle-types', 'car,bike,car'], '--vehicle-types', '"car" is named twice'],
    [{ LAKEHOUSE_VEHICLE_TYPES: ' , ' }, [], 'LAKEHOUSE_VEHICLE_TYPES', 'must name at least one'],
  ] as const) {
    const outcome = await runJob('silver', { ...lake.env, ...env }, [...args]);
    assert.is(outcome.exitCode, 2, describeFailure(outcome));
    const failure = outcome.lines.find((l) => l.msg === 'failed');
    assert.is(failure?.setting, setting);
    assert.match(String(failure?.error), message);
  }
});

rules(
  'ids that differ only in lone surrogates are each rejected, naming the field, never merged into one',
  async () => {
    const lake = await newLake('surrogates');
    await ok('topics', lake.env);
    const time = 1697203200000;
    // JSON escapes: the bytes on the topic are ASCII; the strings they stand for are not Unicode text.
    await send(lake, [
      event('S\\ud800', 'car', time),
      event('S\\udbff', 'car', time),
      event('S', 'car', time),
      event('S\\ud83d\\ude00', 'car', time),
      event('T', 'car\\udfff', time),
    ]);
    for (const job of ['bronze', 'silver', 'gold', 'verify']) await ok(job, lake.env);
    const silver = await query<{ vehicle_id: string }>(
      `select vehicle_id from ${await tableSql(lake.dir, 'silver')} order by source_offset`,
    );
    assert.equal(
      silver.map((r) => r.vehicle_id),
      ['S', 'S😀'],
    );
    const rejected = await query<{ offset: bigint; reason: string; field: string; detail: string }>(
      `select source_offset as offset, reason, field, detail from ${await tableSql(lake.dir, 'rejected')} order by source_offset`,
    );
    assert.equal(
      rejected.map((r) => [Number(r.offset), r.reason, r.field, r.detail]),
      [
        [
          0,
          'wrong_type',
          'vehicleId',
          'vehicleId must be well-formed Unicode text, got the string "S\\ud800", which holds a lone surrogate',
        ],
        [
          1,
          'wrong_type',
          'vehicleId',
          'vehicleId must be well-formed Unicode text, got the string "S\\udbff", which holds a lone surrogate',
        ],
        [
          4,
          'wrong_type',
          'type',
          'type must be well-formed Unicode text, got the string "car\\udfff", which holds a lone surrogate',
        ],
      ],
    );
  },
);

rules.run();
