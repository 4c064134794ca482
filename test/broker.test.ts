// KafkaJS 2.2.4 against a real Apache Kafka 4.1 broker (KIP-896 removed the oldest protocol
// versions, and KafkaJS is not tested upstream against Kafka 4): the calls the lakehouse jobs use.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Partitioners, type Kafka, type KafkaMessage } from 'kafkajs';
import { brokerRunning, runKafkaTool, startBroker } from '../dev/broker/broker.ts';
import { ensureKafkaLibs } from '../dev/broker/kafka-libs.ts';
import { kafkaHome } from '../dev/broker/paths.ts';
import { javaClientConfigFile, knownBroker } from '../dev/broker/clients.ts';
import { sharedBroker, testKafka } from './support/broker-fixture.ts';

const run = `${process.pid}-${Date.now()}`;
const topic = `broker-test-${run}`;
const groupId = `broker-test-group-${run}`;
const keys = ['CAR_000', 'CAR_001', 'BIKE_002', 'SCOOTER_003', 'BUS_004', 'CAR_005', 'BIKE_006'];
const messageCount = 42;

async function client(): Promise<Kafka> {
  const { bootstrap } = await sharedBroker();
  // KafkaJS logs retried, harmless broker answers at ERROR level (topic already exists, coordinator
  // loading on a fresh broker); a real failure still surfaces as a thrown error.
  return testKafka(bootstrap, 'admin', { clientId: 'broker-test' });
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('admin.createTopics creates 3 partitions, and a second identical call is harmless', async () => {
  const admin = (await client()).admin();
  await admin.connect();
  try {
    const spec = { topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true };
    assert.is(await admin.createTopics(spec), true, 'first call creates the topic');
    assert.is(await admin.createTopics(spec), false, 'second call reports it already existed');
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
    assert.ok(
      metadata.topics[0].partitions.every((p) => p.leader >= 0),
      'every partition has a leader',
    );
  } finally {
    await admin.disconnect();
  }
});

test('idempotent producer, consumer group, committed offsets and high watermarks agree', async () => {
  const kafka = await client();
  const sent = Array.from({ length: messageCount }, (_, i) => ({
    key: keys[i % keys.length],
    value: JSON.stringify({ seq: i, vehicleId: keys[i % keys.length] }),
  }));

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const acks: { partition: number; baseOffset?: string }[] = [];
  try {
    // Two batches, so the idempotent sequence numbers are exercised across requests.
    for (const batch of [sent.slice(0, 20), sent.slice(20)]) {
      const metadata = await producer.send({ topic, acks: -1, messages: batch });
      acks.push(...metadata.map((m) => ({ partition: m.partition, baseOffset: m.baseOffset })));
    }
  } finally {
    await producer.disconnect();
  }
  assert.ok(acks.length > 0, 'send returned record metadata');

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  // Keyed by position: a consumer restart (KafkaJS restarts on a retriable crash) may redeliver.
  const byPosition = new Map<string, { partition: number; message: KafkaMessage }>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const allRead = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          byPosition.set(`${partition}:${message.offset}`, { partition, message });
          if (byPosition.size === messageCount) resolve();
        },
      });
    });
    await withDeadline(allRead, 60_000, `consuming ${messageCount} messages`);
    const received = [...byPosition.values()];

    const nextOffsets = new Map<number, number>();
    for (const { partition, message } of received) {
      nextOffsets.set(partition, Math.max(nextOffsets.get(partition) ?? 0, Number(message.offset) + 1));
    }
    await consumer.commitOffsets(
      [...nextOffsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
    );

    const values = received.map(({ message }) => message.value?.toString()).sort();
    assert.equal(values, sent.map((m) => m.value).sort(), 'every sent value read exactly once');
    for (const { partition, message } of received) {
      const samePartition = received.filter((r) => r.message.key?.toString() === message.key?.toString());
      assert.ok(
        samePartition.every((r) => r.partition === partition),
        `key ${message.key} stays on one partition`,
      );
      assert.is(JSON.parse(message.value!.toString()).vehicleId, message.key?.toString());
    }

    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committedByPartition = Object.fromEntries(
        committed[0].partitions.map((p) => [p.partition, Number(p.offset)]),
      );
      const watermarks = await admin.fetchTopicOffsets(topic);
      assert.is(watermarks.length, 3);
      let total = 0;
      for (const { partition, high, low } of watermarks) {
        assert.is(low, '0', `partition ${partition} low watermark`);
        assert.is(
          committedByPartition[partition] ?? -1,
          Number(high) === 0 ? -1 : Number(high),
          `partition ${partition}: committed offset equals the high watermark`,
        );
        assert.is(
          Number(high),
          received.filter((r) => r.partition === partition).length,
          `partition ${partition}: high watermark equals the records read from it`,
        );
        total += Number(high);
      }
      assert.is(total, messageCount, 'high watermarks add up to what was sent: no duplicates');
    } finally {
      await admin.disconnect();
    }
  } finally {
    await consumer.disconnect();
  }
});

test("runKafkaTool runs Kafka's ProducerPerformance from the broker's classpath", async () => {
  const { bootstrap } = await sharedBroker();
  const output = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    `${topic}-perf`,
    '--num-records',
    '2000',
    '--record-size',
    '100',
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${bootstrap}`,
    'acks=all',
    '--producer.config',
    javaClientConfigFile(knownBroker(bootstrap)!, 'admin'),
  ]);
  assert.match(output, /^2000 records sent, [\d.]+ records\/sec/m);
});

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  assert.unreachable('expected a rejection');
  return '';
}

test('startBroker rejects a bad setting with an error naming it', async () => {
  assert.match(await failureOf(startBroker({ config: { 'bad key': 1 } })), 'bad property name "bad key"');
  assert.match(await failureOf(startBroker({ maxHeap: 'lots' })), 'maxHeap must be a JVM size');
  // Kafka's own validation, reported through the storage tool's stderr.
  const message = await failureOf(startBroker({ config: { 'num.partitions': 'many' } }));
  assert.match(message, 'Invalid value many for configuration num.partitions');
});

test('npm run broker -- start|status|stop: one detached broker, found again, then nothing left', async () => {
  await ensureKafkaLibs();
  // A cache of its own, so this never touches a broker a developer started; the jars are shared.
  const cache = mkdtempSync(join(tmpdir(), 'lakehouse-cli-test-'));
  symlinkSync(kafkaHome(), join(cache, 'kafka-4.1.1'));
  const cli = async (command: string) => {
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'dev/broker/cli.ts', command],
        {
          env: { ...process.env, LAKEHOUSE_CACHE: cache },
          timeout: 180_000,
        },
      );
      return { code: 0, lines: stdout.trim().split('\n') };
    } catch (error) {
      const failure = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failure.code ?? -1, lines: `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim().split('\n') };
    }
  };
  let handle: { pid: number; dataDir: string } | undefined;
  try {
    assert.equal(await cli('status'), { code: 1, lines: ['not running'] });
    const started = await cli('start');
    assert.is(started.code, 0, started.lines.join('\n'));
    const bootstrap = started.lines.at(-1)!;
    assert.match(bootstrap, /^127\.0\.0\.1:\d+$/);
    handle = JSON.parse(readFileSync(join(cache, 'broker-state.json'), 'utf8'));
    assert.ok(brokerRunning(handle!), 'the broker outlives the CLI that started it');

    const again = await cli('start');
    assert.is(again.lines.at(-1), bootstrap, 'a second start reports the running broker');
    const status = await cli('status');
    assert.is(status.code, 0);
    assert.match(status.lines[0], `running ${bootstrap}`);

    const stopped = await cli('stop');
    assert.is(stopped.code, 0, stopped.lines.join('\n'));
    assert.not.ok(brokerRunning(handle!), 'no broker JVM left');
    assert.not.ok(existsSync(handle!.dataDir), 'data dir removed');
    assert.not.ok(existsSync(join(cache, 'broker-state.json')), 'state file removed');
  } finally {
    if (handle && brokerRunning(handle)) process.kill(handle.pid, 'SIGKILL');
    if (handle) rmSync(handle.dataDir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
});

test.run();
