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

export type RefusedResource = 'topic' | 'group' | 'cluster';

/** Who grants `job`'s user its ACLs: the topics job, when it grants them to that user. */
function grantedBy(config: Config, job: string): string {
  const producer = job === 'produce';
  const grantee = producer ? config.kafkaProducerUser : config.kafkaPipelineUser;
  return (
    'the topics job grants it when LAKEHOUSE_KAFKA_ACLS=true' +
    (grantee === config.kafkaUser
      ? ''
      : ` (to LAKEHOUSE_KAFKA_${producer ? 'PRODUCER' : 'PIPELINE'}_USER=${grantee}, not to LAKEHOUSE_KAFKA_USER=${config.kafkaUser})`)
  );
}

const operations = (names: string[]) => names.map((name) => `--operation ${name}`).join(' ');

/** What `job`'s user needs on the topic: the ACL, who grants it, and the kafka-acls.sh line that adds it. */
export function topicAclNeeded(config: Config, job: string): string {
  const needed = job === 'produce' ? ['WRITE', 'DESCRIBE'] : ['READ', 'DESCRIBE'];
  return (
    `it needs ${needed.join(' and ')} on the topic "${config.topic}" (LITERAL); ${grantedBy(config, job)}, or by hand: ` +
    `kafka-acls.sh --add --allow-principal User:${config.kafkaUser} ${operations(needed)} --topic ${config.topic}`
  );
}

/**
 * One line for Kafka refusing the job's user `resource`: the user, the resource, and the ACL it
 * needs, as jobAcls grants it and as an administrator would add it by hand. `group` is the consumer
 * group the refused operation used (bronze's run group, or the group itself).
 */
export function describeRefusal(resource: RefusedResource, config: Config, job: string, group: string): string {
  const at = `Kafka at ${config.bootstrapServers.join(',')}`;
  const user = config.kafkaUser;
  if (resource === 'cluster' || job === 'topics') {
    return (
      `${at} refused user "${user}" ${resource === 'cluster' ? 'an operation on the cluster' : `the topic "${config.topic}"`} ` +
      `(${resource.toUpperCase()}_AUTHORIZATION_FAILED): the topics job creates the topic and grants the jobs' ACLs, ` +
      `which needs a super user (the chart's lakehouse-admin) or CREATE, DESCRIBE and ALTER on the cluster`
    );
  }
  if (resource === 'group') {
    const prefix = config.consumerGroup;
    return (
      `${at} refused user "${user}" the consumer group "${group}" (GROUP_AUTHORIZATION_FAILED): it needs READ and ` +
      `DESCRIBE on consumer groups with the prefix "${prefix}" (PREFIXED), as bronze reads in "${prefix}.run-<id>" ` +
      `and commits to "${prefix}" (LAKEHOUSE_CONSUMER_GROUP); ${grantedBy(config, job)}, or by hand: kafka-acls.sh ` +
      `--add --allow-principal User:${user} ${operations(['READ', 'DESCRIBE'])} --group ${prefix} --resource-pattern-type prefixed`
    );
  }
  return `${at} refused user "${user}" the topic "${config.topic}" (TOPIC_AUTHORIZATION_FAILED): ${topicAclNeeded(config, job)}`;
}
