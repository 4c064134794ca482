// The topics job on a real broker: the topic's min.insync.replicas, an existing topic kept as it is,
// and a new topic the broker does not serve yet waited for (bounded).
import kafkajs from 'kafkajs';
const { ConfigResourceTypes } = kafkajs;
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TopicNotServedError, waitForTopicLeaders } from '../../jobs/kafka/topic-leaders.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { describeFailure, runJob, uniqueNames } from '../support/lake.ts';

async function minInsyncOf(bootstrap: string, topic: string): Promise<string | undefined> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return described.resources[0]?.configEntries[0]?.configValue;
  } finally {
    await admin.disconnect();
  }
}

test('topics sets min.insync.replicas on the topic it creates, and names the difference on an existing topic without changing it', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('min-insync');
  const env = { KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_TOPIC: topic, LAKEHOUSE_MIN_INSYNC_REPLICAS: '2' };
  const created = await runJob('topics', env);
  assert.is(created.exitCode, 0, describeFailure(created));
  assert.is(await minInsyncOf(bootstrap, topic), '2');
  const again = await runJob('topics', { ...env, LAKEHOUSE_MIN_INSYNC_REPLICAS: '1' });
  assert.is(again.exitCode, 0, describeFailure(again));
  const warning = again.lines.find((l) => l.level === 'warn');
  assert.match(String(warning?.msg), new RegExp(`topic ${topic} has min.insync.replicas=2, configured 1`));
  assert.is(await minInsyncOf(bootstrap, topic), '2');
});

test('a topic Kafka does not serve yet ("does not host this topic-partition") is asked for again until it is', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('served-later');
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    const started = Date.now();
    const waiting = waitForTopicLeaders(admin, topic, 60_000, 'LAKEHOUSE_KAFKA_WAIT_SECONDS=60');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 4 }] });
    assert.is(await waiting, 4);
    assert.ok(Date.now() - started >= 1_500);
  } finally {
    await admin.disconnect();
  }
});

test('a topic Kafka never serves: the wait ends at its bound, naming the topic and the setting', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('never-served');
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    const started = Date.now();
    const error = await waitForTopicLeaders(admin, topic, 2_000, 'LAKEHOUSE_KAFKA_WAIT_SECONDS=2').catch((e) => e);
    assert.instance(error, TopicNotServedError);
    assert.match(
      error.message,
      `topic "${topic}" was created, but Kafka still answers "This server does not host this topic-partition" (UNKNOWN_TOPIC_OR_PARTITION) for it after 2 s (LAKEHOUSE_KAFKA_WAIT_SECONDS=2)`,
    );
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await admin.disconnect();
  }
});

test.run();
