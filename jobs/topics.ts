import kafkajs, { type Admin } from 'kafkajs';
import type { Config } from './config.ts';
import { grantJobAcls } from './kafka/acls.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import { waitForTopicLeaders } from './kafka/topic-leaders.ts';
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
          // KafkaJS's wait fails on a broker that does not serve the new topic yet: waited for below.
          waitForLeaders: false,
          topics: [
            {
              topic: config.topic,
              numPartitions: config.partitions,
              replicationFactor: config.replicationFactor,
              configEntries: [{ name: MIN_INSYNC, value: String(config.minInsyncReplicas) }],
            },
          ],
        });
    if (!created) await checkMinInsync(admin, config, logger);
    const partitions = await waitForTopicLeaders(
      admin,
      config.topic,
      config.kafkaWaitSeconds * 1000,
      `LAKEHOUSE_KAFKA_WAIT_SECONDS=${config.kafkaWaitSeconds}`,
    );
    if (!created && partitions !== config.partitions) {
      logger.warn('topic exists with a different partition count; keeping it', {
        topic: config.topic,
        partitions,
        configured: config.partitions,
      });
    }
    logger.info(created ? 'topic created' : 'topic already exists', {
      topic: config.topic,
      partitions,
      replicationFactor: config.replicationFactor,
      minInsyncReplicas: config.minInsyncReplicas,
    });
    await grantJobAcls(admin, config, logger);
    return { topic: config.topic, created, partitions };
  });
}

const MIN_INSYNC = 'min.insync.replicas';

/**
 * An existing topic keeps its min.insync.replicas: a non-incremental AlterConfigs (all KafkaJS
 * offers) would reset the topic's other settings. A difference is reported with the command to apply it.
 */
async function checkMinInsync(admin: Admin, config: Config, logger: Logger): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: config.topic, configNames: [MIN_INSYNC] }],
  });
  const actual = described.resources[0]?.configEntries.find((e) => e.configName === MIN_INSYNC)?.configValue;
  if (actual !== undefined && Number(actual) !== config.minInsyncReplicas) {
    logger.warn(
      `topic ${config.topic} has ${MIN_INSYNC}=${actual}, configured ${config.minInsyncReplicas}; keeping the topic's (kafka-configs.sh --alter --entity-type topics --entity-name ${config.topic} --add-config ${MIN_INSYNC}=${config.minInsyncReplicas} applies it)`,
      { topic: config.topic, actual: Number(actual), configured: config.minInsyncReplicas },
    );
  }
}
