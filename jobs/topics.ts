import type { Config } from './config.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import type { Logger } from './log.ts';

export interface TopicsSummary {
  readonly topic: string;
  readonly created: boolean;
  readonly partitions: number;
}

/** Creates the events topic; an existing topic is accepted as it is (its partition count is reported). */
export async function runTopics(config: Config, logger: Logger): Promise<TopicsSummary> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  return withAdmin(kafka, async (admin) => {
    // Asking first keeps an upgrade's log free of KafkaJS's "Topic creation errors" line.
    const exists = (await admin.listTopics()).includes(config.topic);
    const created = exists
      ? false
      : await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic: config.topic, numPartitions: config.partitions, replicationFactor: config.replicationFactor }],
        });
    const metadata = await admin.fetchTopicMetadata({ topics: [config.topic] });
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    if (!created && partitions !== config.partitions) {
      logger.warn('topic exists with a different partition count; keeping it', { topic: config.topic, partitions, configured: config.partitions });
    }
    logger.info(created ? 'topic created' : 'topic already exists', { topic: config.topic, partitions, replicationFactor: config.replicationFactor });
    return { topic: config.topic, created, partitions };
  });
}
