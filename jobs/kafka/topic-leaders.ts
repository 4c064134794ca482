import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { findProperty } from './security.ts';

/** What a broker answers for a topic its metadata does not hold yet (KafkaJS's error types). */
const NOT_THERE_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** A topic Kafka still does not serve once the wait is over. */
export class TopicNotServedError extends Error {}

/**
 * Waits until Kafka answers `topic`'s metadata with a leader for every partition, and returns the
 * partition count. Right after a topic is created, a broker that has not applied the controller's
 * record yet answers "This server does not host this topic-partition" (UNKNOWN_TOPIC_OR_PARTITION),
 * which KafkaJS's own wait for leaders does not retry: that answer, and leaders not elected yet, are
 * asked again until `timeoutMs`; any other error is thrown at once.
 */
export async function waitForTopicLeaders(
  admin: Admin,
  topic: string,
  timeoutMs: number,
  setting: string,
  pollMs = 200,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    let answer: string;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
      const leaderless = partitions.filter((p) => p.leader < 0).map((p) => p.partitionId);
      if (partitions.length > 0 && leaderless.length === 0) return partitions.length;
      answer = partitions.length === 0 ? 'no partitions' : `no leader for partitions ${leaderless.join(', ')}`;
    } catch (error) {
      const type = findProperty(error, 'type');
      if (!type || !NOT_THERE_YET.has(type)) throw error;
      answer = `"${(error as Error).message}" (${type})`;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs)
      throw new TopicNotServedError(
        `topic "${topic}" was created, but Kafka still answers ${answer} for it after ${Math.round(waited / 1000)} s (${setting}); run the topics job again once the brokers agree`,
      );
    await sleep(Math.min(pollMs, timeoutMs - waited));
  }
}
