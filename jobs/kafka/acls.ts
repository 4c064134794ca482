import kafkajs, { type Admin, type AclEntry } from 'kafkajs';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

/**
 * The least privilege of the two job users, on this topic and consumer group only: the producer
 * writes the topic; the pipeline reads it and uses the group. The group is a prefix because bronze
 * reads in a group of its own per run (`<group>.run-<id>`) and commits to `<group>` itself.
 * Granting an ACL that exists changes nothing, so every topics run (an upgrade) may repeat it.
 */
export function jobAcls(config: Config): AclEntry[] {
  const allow = (user: string, resourceType: number, resourceName: string, pattern: number, operations: number[]) =>
    operations.map(
      (operation) =>
        ({
          resourceType,
          resourceName,
          resourcePatternType: pattern,
          principal: `User:${user}`,
          host: '*',
          operation,
          permissionType: AclPermissionTypes.ALLOW,
        }) as AclEntry,
    );
  const { TOPIC, GROUP } = AclResourceTypes;
  const { READ, WRITE, DESCRIBE } = AclOperationTypes;
  return [
    ...allow(config.kafkaProducerUser, TOPIC, config.topic, ResourcePatternTypes.LITERAL, [WRITE, DESCRIBE]),
    ...allow(config.kafkaPipelineUser, TOPIC, config.topic, ResourcePatternTypes.LITERAL, [READ, DESCRIBE]),
    ...allow(config.kafkaPipelineUser, GROUP, config.consumerGroup, ResourcePatternTypes.PREFIXED, [READ, DESCRIBE]),
  ];
}

/** Grants jobAcls when the jobs sign in as users and LAKEHOUSE_KAFKA_ACLS is on. */
export async function grantJobAcls(admin: Admin, config: Config, logger: Logger): Promise<boolean> {
  if (!config.kafkaSecurity.startsWith('sasl_') || !config.kafkaAcls) return false;
  await admin.createAcls({ acl: jobAcls(config) });
  logger.info('acls granted', {
    topic: config.topic,
    consumerGroupPrefix: config.consumerGroup,
    producer: config.kafkaProducerUser,
    pipeline: config.kafkaPipelineUser,
  });
  return true;
}
