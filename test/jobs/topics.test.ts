// The topics job on a real broker: the topic's min.insync.replicas, and an existing topic kept as it is.
import kafkajs from 'kafkajs';
const { ConfigResourceTypes } = kafkajs;
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test.run();
