// The topic's id on a real broker: the Node engine reads the id Kafka's own tool prints, bronze
// records it in its snapshots, and refuses the topic once it was deleted and created again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runKafkaTool } from '../../dev/broker/broker.ts';
import { javaClientConfigFile, knownBroker, withBrokerAccess } from '../../dev/broker/clients.ts';
import { loadConfig } from '../../jobs/config.ts';
import { topicIdOf } from '../../jobs/kafka/topic-id.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { describeFailure, newLake, runJob, uniqueNames } from '../support/lake.ts';
import { metadataOnDisk } from '../support/tables.ts';

/** The topic's id as kafka-topics.sh --describe prints it. */
async function kafkaToolTopicId(bootstrap: string, topic: string): Promise<string> {
  const output = await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrap,
    '--command-config',
    javaClientConfigFile(knownBroker(bootstrap)!, 'admin'),
    '--describe',
    '--topic',
    topic,
  ]);
  const id = /TopicId: (\S+)/.exec(output)?.[1];
  if (!id) throw new Error(`no TopicId in:\n${output}`);
  return id;
}

test("the topic id the pipeline user reads is the one Kafka's own tool prints", async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('topic-id');
  const env = { KAFKA_BOOTSTRAP_SERVER: bootstrap, LAKEHOUSE_TOPIC: topic };
  assert.is((await runJob('topics', env)).exitCode, 0);
  // As bronze asks: once the pipeline user's other reads of the topic succeed (the ACLs the topics
  // job granted take effect a moment later).
  const pipeline = testKafka(bootstrap, 'pipeline').admin();
  await pipeline.connect();
  await pipeline.fetchTopicOffsets(topic).finally(() => pipeline.disconnect());
  const id = await topicIdOf(loadConfig(new Map(), withBrokerAccess('bronze', env)), topic);
  assert.match(id ?? '', /^[A-Za-z0-9_-]{22}$/);
  assert.is(id, await kafkaToolTopicId(bootstrap, topic));
});

test('bronze records the topic id, and refuses the topic deleted and created again, changing nothing', async () => {
  const { bootstrap } = await sharedBroker();
  const lake = await newLake('topic-recreated', { LAKEHOUSE_EVENTS: '40' });
  for (const job of ['topics', 'produce', 'bronze']) {
    const outcome = await runJob(job, lake.env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
  const topic = lake.env.LAKEHOUSE_TOPIC!;
  const firstId = await kafkaToolTopicId(bootstrap, topic);
  const before = metadataOnDisk(lake.dir, 'bronze')!;
  assert.is(before.snapshots!.at(-1)!.summary[summaryKeys.topicId], firstId);

  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    // Deletion completes in the background: the topics job creates the new one once it is gone.
    for (let attempt = 0; (await admin.listTopics()).includes(topic); attempt++) {
      assert.ok(attempt < 100, 'the topic is deleted');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
  // More records than the lake read, so that only the id tells the topics apart.
  for (const job of ['topics', 'produce', 'produce']) {
    const outcome = await runJob(job, lake.env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
  const secondId = await kafkaToolTopicId(bootstrap, topic);
  assert.is.not(secondId, firstId);
  const refused = await runJob('bronze', lake.env);
  assert.is(refused.exitCode, 1);
  assert.match(
    String(refused.lines.at(-1)?.error),
    `holds offsets of topic "${topic}" with id ${firstId}, but the topic now has id ${secondId}: it was deleted and created again`,
  );
  assert.equal(metadataOnDisk(lake.dir, 'bronze'), before, 'bronze is unchanged');
});

test.run();
