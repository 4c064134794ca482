// One send per partition on a real broker: every message lands in the partition KafkaJS's own send
// would have chosen for its key, in order, once.
import kafkajs from 'kafkajs';
const { Kafka, logLevel } = kafkajs;
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { partitionSender, topicPartitions } from '../../jobs/kafka/partition-sends.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { uniqueNames } from '../support/lake.ts';

async function readAll(kafka: kafkajs.Kafka, topic: string, count: number): Promise<Map<number, string[]>> {
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  const byPartition = new Map<number, string[]>();
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen} of ${count} messages of ${topic}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const values = byPartition.get(partition) ?? [];
        values.push(String(message.value));
        byPartition.set(partition, values);
        if (++seen === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return byPartition;
}

test('a batch sent one partition at a time lands as KafkaJS would place it, in order, once', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('per-partition');
  const reference = `${topic}-reference`;
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [topic, reference].map((name) => ({ topic: name, numPartitions: 5, replicationFactor: 1 })) });
  const partitions = await topicPartitions(admin, topic);
  await admin.disconnect();
  assert.is(partitions.length, 5);

  const messages = Array.from({ length: 300 }, (_, i) => ({ key: `vehicle-${i % 37}`, value: `event-${i}` }));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = partitionSender(producer, topic, partitions);
  await send(messages.slice(0, 150));
  await send(messages.slice(150));
  await producer.send({ topic: reference, acks: -1, messages });
  await producer.disconnect();

  const [sent, placed] = await Promise.all([readAll(kafka, topic, messages.length), readAll(kafka, reference, messages.length)]);
  assert.equal([...sent.keys()].sort(), [...placed.keys()].sort());
  for (const [partition, values] of placed) assert.equal(sent.get(partition), values, `partition ${partition}`);
});

test.run();
