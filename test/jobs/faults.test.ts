/** Faults a job must survive with a clear word and an intact lake: Kafka going away, SIGTERM. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBroker } from '../../dev/broker/broker.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { describeFailure, newLake, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';
import { query } from '../support/duckdb.ts';
import { tableFiles, tableSql } from '../support/tables.ts';

const faults = suite('faults');

faults(
  'Kafka stops answering mid-bronze: bronze fails within the wait, naming the broker, and commits nothing',
  async () => {
    const broker = await startBroker();
    let stopped: Promise<void> | undefined;
    try {
      const { topic, group } = uniqueNames('dead-broker');
      const dir = temporaryDir('dead-broker');
      const env = {
        KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
        LAKEHOUSE_TOPIC: topic,
        LAKEHOUSE_CONSUMER_GROUP: group,
        LAKEHOUSE_DATA_DIR: dir,
        LAKEHOUSE_EVENTS: '20000',
        LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
        LAKEHOUSE_KAFKA_WAIT_SECONDS: '5',
      };
      for (const job of ['topics', 'produce']) assert.is((await runJob(job, env)).exitCode, 0);
      const started = Date.now();
      const bronze = await runJob('bronze', env, [], (line) => {
        if (line.msg === 'bronze plan') stopped ??= broker.stop();
      });
      const seconds = (Date.now() - started) / 1000;
      assert.is(bronze.exitCode, 1, describeFailure(bronze));
      const failure = bronze.lines.find((l) => l.msg === 'failed');
      assert.match(String(failure?.error), new RegExp(`Kafka at ${broker.bootstrap}`));
      assert.ok(seconds < 60, `bronze took ${seconds}s to give up`);
      assert.equal(await tableFiles(dir, 'bronze'), []);
    } finally {
      await (stopped ?? broker.stop());
    }
  },
);

faults('SIGTERM stops a job with a "failed" line naming the signal; a re-run completes', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('sigterm');
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_DATA_DIR: temporaryDir('sigterm'),
    LAKEHOUSE_EVENTS: '5000',
    LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
  };
  for (const job of ['topics', 'produce']) assert.is((await runJob(job, env)).exitCode, 0);
  const stopped = await runJob('bronze', env, [], (line, child) => {
    if (line.msg === 'bronze plan') child.kill('SIGTERM');
  });
  assert.is(stopped.exitCode, 143);
  const last = stopped.lines.at(-1)!;
  assert.equal([last.msg, last.signal], ['failed', 'SIGTERM']);
  for (const job of ['bronze', 'silver', 'gold', 'verify']) {
    const outcome = await runJob(job, env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
});

faults(
  'awkward records are placed, never fatal: a 70,000-character id, the last safe timestamp, bytes that are not UTF-8, a BOM',
  async () => {
    const { bootstrap } = await sharedBroker();
    const { topic, group } = uniqueNames('poison');
    const dir = temporaryDir('poison');
    const env = {
      KAFKA_BOOTSTRAP_SERVER: bootstrap,
      LAKEHOUSE_TOPIC: topic,
      LAKEHOUSE_CONSUMER_GROUP: group,
      LAKEHOUSE_DATA_DIR: dir,
      LAKEHOUSE_PARTITIONS: '1',
    };
    assert.is((await runJob('topics', env)).exitCode, 0);
    const event = (vehicleId: string, timestamp: number) =>
      JSON.stringify({ vehicleId, type: 'car', latitude: 1, longitude: 2, battery: 3, timestamp });
    const values = [
      Buffer.from(event('X'.repeat(70_000), 1697203200000)),
      Buffer.from(event('CAR_LAST', Number.MAX_SAFE_INTEGER)),
      Buffer.concat([Buffer.from('{"vehicleId":"V'), Buffer.from([0xff]), Buffer.from('1"}')]),
      Buffer.concat([Buffer.from('{"vehicleId":"V'), Buffer.from([0xfe]), Buffer.from('1"}')]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(event('CAR_BOM', 1697203201000))]),
    ];
    const kafka = testKafka(bootstrap);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: values.map((value, i) => ({ key: Buffer.from([0xff, i]), value })) });
    await producer.disconnect();
    for (const job of ['bronze', 'silver', 'gold', 'verify']) {
      const outcome = await runJob(job, env);
      assert.is(outcome.exitCode, 0, describeFailure(outcome));
    }
    const bronze = await query<{ value: string; key: string }>(
      `select hex(value) as value, hex(key) as key from ${await tableSql(dir, 'bronze')} order by "offset"`,
    );
    assert.equal(
      bronze.map((r) => r.value),
      values.map((v) => v.toString('hex').toUpperCase()),
      'bronze keeps the bytes as sent',
    );
    assert.equal(
      bronze.map((r) => r.key),
      values.map((_, i) => Buffer.from([0xff, i]).toString('hex').toUpperCase()),
    );
    const silver = await query<{ id_length: number; time: bigint }>(
      `select length(vehicle_id)::int as id_length, epoch_ms(event_time) as time from ${await tableSql(dir, 'silver')} order by source_offset`,
    );
    assert.equal(
      silver.map((r) => [r.id_length, Number(r.time)]),
      [
        [70_000, 1697203200000],
        [8, Number.MAX_SAFE_INTEGER],
      ],
    );
    const rejected = await query<{ reason: string; detail: string }>(
      `select reason, detail from ${await tableSql(dir, 'rejected')} order by source_offset`,
    );
    assert.equal(
      rejected.map((r) => r.reason),
      ['malformed_json', 'malformed_json', 'malformed_json'],
    );
    assert.equal(
      rejected.slice(0, 2).map((r) => r.detail),
      ['the value is not valid UTF-8', 'the value is not valid UTF-8'],
    );
  },
);

faults('Kafka that never answers: a job gives up within the wait it was given, naming the broker', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const dir = temporaryDir('closed-port');
  const started = Date.now();
  // Nobody listens there, so no credentials are needed to find that out.
  const outcome = await runJob('bronze', {
    KAFKA_BOOTSTRAP_SERVER: `127.0.0.1:${port}`,
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '3',
    LAKEHOUSE_DATA_DIR: dir,
    LAKEHOUSE_KAFKA_SECURITY: 'plaintext',
  });
  const seconds = (Date.now() - started) / 1000;
  assert.is(outcome.exitCode, 1);
  assert.match(
    String(outcome.lines.find((l) => l.msg === 'failed')?.error),
    new RegExp(`Kafka at 127.0.0.1:${port} did not answer within 3s`),
  );
  assert.ok(seconds < 15, `gave up after ${seconds}s`);
  // Only the lake's own records: the run's failure in ops.runs (ops/) and the writer lease's directory.
  assert.equal(fs.readdirSync(dir).sort(), ['.lakehouse', 'ops'], 'no table is created before Kafka answers');
});

faults('a mistyped topic is named at once by produce and by bronze', async () => {
  const { bootstrap } = await sharedBroker();
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: 'vehicles-evnets',
    LAKEHOUSE_DATA_DIR: temporaryDir('typo'),
  };
  for (const job of ['produce', 'bronze']) {
    const outcome = await runJob(job, env);
    assert.is(outcome.exitCode, 1, job);
    assert.match(
      String(outcome.lines.find((l) => l.msg === 'failed')?.error),
      /topic "vehicles-evnets" does not exist/,
    );
  }
  assert.equal(
    fs.readdirSync(env.LAKEHOUSE_DATA_DIR).sort(),
    ['.lakehouse', 'ops'],
    'no table, only the runs recorded',
  );
});

faults(
  'records retention deleted before bronze read them are recorded as a gap, and verify reports the loss, naming it',
  async () => {
    const { bootstrap } = await sharedBroker();
    const { env, dir } = await newLake('retention', { LAKEHOUSE_PARTITIONS: '1', LAKEHOUSE_EVENTS: '100' });
    const topic = env.LAKEHOUSE_TOPIC;
    for (const job of ['topics', 'produce', 'bronze']) assert.is((await runJob(job, env)).exitCode, 0, job);
    await runJob('produce', { ...env, LAKEHOUSE_START_TIME: '2023-10-14T13:20:00Z' });
    // What retention does, on demand: offsets 100..149 are gone before bronze's next run.
    const kafka = testKafka(bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '150' }] });
    await admin.disconnect();
    const bronze = await runJob('bronze', env);
    assert.is(bronze.exitCode, 0, describeFailure(bronze));
    assert.ok(bronze.lines.some((l) => l.level === 'warn' && String(l.msg).includes('recorded as data loss')));
    for (const job of ['silver', 'gold']) assert.is((await runJob(job, env)).exitCode, 0, job);
    const verify = await runJob('verify', env);
    assert.is(verify.exitCode, 1);
    const failure = verify.lines.find((l) => l.msg === 'failed')!;
    assert.is(failure.invariant, 'no Kafka record was lost before bronze read it');
    assert.match(String(failure.error), /partition 0 offsets 100\.\.149 \(50 records/);
    const [{ n }] = await query<{ n: number }>(`select count(*)::int as n from ${await tableSql(dir, 'bronze')}`);
    assert.is(n, 150);
  },
);

/** The bronze table's metadata directory listing: a refused run must leave it as it was. */
const bronzeMetadata = (dir: string) => fs.readdirSync(path.join(dir, 'bronze/vehicles/metadata')).sort();

faults(
  'a topic deleted and created again with fewer records stops bronze naming both topic ids (or, with no id recorded, the offsets), and changes nothing',
  async () => {
    const { bootstrap } = await sharedBroker();
    const { env, dir } = await newLake('recreated', { LAKEHOUSE_PARTITIONS: '1', LAKEHOUSE_EVENTS: '30' });
    const topic = env.LAKEHOUSE_TOPIC;
    for (const job of ['topics', 'produce', 'bronze']) assert.is((await runJob(job, env)).exitCode, 0, job);
    const admin = testKafka(bootstrap).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    for (let i = 0; (await admin.listTopics()).includes(topic) && i < 100; i++)
      await new Promise((r) => setTimeout(r, 100));
    await admin.disconnect();
    // The topic is created again (retrying while Kafka finishes the deletion) and gets fewer records than bronze holds.
    for (let i = 0; i < 50 && (await runJob('topics', env)).exitCode !== 0; i++)
      await new Promise((r) => setTimeout(r, 200));
    assert.is((await runJob('produce', { ...env, LAKEHOUSE_EVENTS: '10' })).exitCode, 0);
    const before = bronzeMetadata(dir);
    const byId = await runJob('bronze', env);
    assert.is(byId.exitCode, 1, describeFailure(byId));
    assert.match(
      String(byId.lines.find((l) => l.msg === 'failed')?.error),
      /with id \S+, but the topic now has id \S+: it was deleted and created again/,
    );
    assert.equal(bronzeMetadata(dir), before);
    // A lake written before topic ids were recorded (or from a Kafka older than 2.8) is refused by its offsets.
    const metadata = path.join(dir, 'bronze/vehicles/metadata');
    const version = fs.readFileSync(path.join(metadata, 'version-hint.text'), 'utf8').trim();
    const file = path.join(metadata, `v${version}.metadata.json`);
    const table = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const snapshot of table.snapshots) delete snapshot.summary['lakehouse.kafka.topic-id'];
    fs.writeFileSync(file, JSON.stringify(table));
    const byOffsets = await runJob('bronze', env);
    assert.is(byOffsets.exitCode, 1, describeFailure(byOffsets));
    assert.match(
      String(byOffsets.lines.find((l) => l.msg === 'failed')?.error),
      /partition 0: the lake already holds offsets up to 29 but the topic ends at 9/,
    );
    assert.equal(bronzeMetadata(dir), before);
  },
);

faults('a lake read from another Kafka cluster stops bronze naming both cluster ids, and changes nothing', async () => {
  const { env, dir } = await newLake('other-cluster', { LAKEHOUSE_PARTITIONS: '1', LAKEHOUSE_EVENTS: '20' });
  for (const job of ['topics', 'produce', 'bronze', 'produce']) assert.is((await runJob(job, env)).exitCode, 0, job);
  const metadata = path.join(dir, 'bronze/vehicles/metadata');
  const version = fs.readFileSync(path.join(metadata, 'version-hint.text'), 'utf8').trim();
  const file = path.join(metadata, `v${version}.metadata.json`);
  const text = fs.readFileSync(file, 'utf8');
  const ours = /"lakehouse\.kafka\.cluster-id"\s*:\s*"([^"]+)"/.exec(text)![1];
  fs.writeFileSync(file, text.replaceAll(ours, 'AnotherClusterIdxxxxxx'));
  const before = bronzeMetadata(dir);
  const bronze = await runJob('bronze', env);
  assert.is(bronze.exitCode, 1, describeFailure(bronze));
  const error = String(bronze.lines.find((l) => l.msg === 'failed')?.error);
  assert.match(error, /AnotherClusterIdxxxxxx/);
  assert.ok(error.includes(ours), error);
  assert.equal(bronzeMetadata(dir), before);
});

faults.run();
