import type { Admin, Kafka } from 'kafkajs';

/**
 * What KafkaJS's `admin.setOffsets` does (join the group with no partition fetched, seek, which
 * commits), with a consumer whose fetch wait is short: KafkaJS's own one waits its 5 s default fetch
 * wait, with every partition paused, before it stops, which was 5 s of every bronze run.
 */
export async function setGroupOffsets(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: { partition: number; offset: string }[],
): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const state = groups[0]?.state ?? 'Dead';
  if (state !== 'Empty' && state !== 'Dead')
    throw new Error(`The consumer group must have no running instances, current state: ${state}`);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // The first fetch after the seeks (none is sent: the topic is paused) means they were committed.
      consumer.on(consumer.events.FETCH, () => resolve());
      // KafkaJS stops the consumer for good on an error it does not retry (Kafka refusing the group):
      // no fetch would ever come.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
      consumer.pause([{ topic }]);
      for (const p of partitions) consumer.seek({ topic, ...p });
    });
  } finally {
    await consumer.disconnect();
  }
}
