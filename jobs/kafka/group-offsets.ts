import type { Admin, Kafka } from 'kafkajs';

/**
 * Sets a consumer group's offsets on `topic` in one OffsetCommit request, so that a tool reading
 * the group sees all partitions moved or none (KafkaJS's `admin.setOffsets` seeks, which commits one
 * partition per request). As `admin.setOffsets` does, it joins the group with a consumer that
 * fetches nothing (the topic paused) and commits once the consumer runs; its fetch wait is short,
 * as KafkaJS's own one waits its 5 s default before it stops.
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
      let committing = false;
      // The first fetch (none is sent: the topic is paused) means the consumer runs: KafkaJS
      // commits nothing for a consumer that has not joined yet.
      consumer.on(consumer.events.FETCH, () => {
        if (committing) return;
        committing = true;
        consumer.commitOffsets(partitions.map((p) => ({ topic, ...p }))).then(resolve, reject);
      });
      // KafkaJS stops the consumer for good on an error it does not retry (Kafka refusing the group):
      // no fetch would ever come.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
      consumer.pause([{ topic }]);
    });
  } finally {
    await consumer.disconnect();
  }
}
