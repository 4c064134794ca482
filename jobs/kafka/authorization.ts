/**
 * Kafka refusing an operation for lack of an ACL, as one line naming the user, the resource and the
 * ACL it needs (acls.ts). KafkaJS loses one such refusal on the way: a consumer group the user may
 * not use surfaces as "Failed to find group coordinator", the broker's answer only in KafkaJS's log
 * of the response, which `Refusals` watches for each client.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.ts';
import { describeRefusal, type RefusedResource } from './acls.ts';
import { findProperty } from './security.ts';

const refusalTypes: Readonly<Record<string, RefusedResource>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
};

// KafkaJS's messages for those error codes (kafkajs/src/protocol/error.js), as it logs a response.
const refusalMessages: readonly [RegExp, RefusedResource][] = [
  [/^Not authorized to access topics/, 'topic'],
  [/^Not authorized to access group/, 'group'],
  [/^Cluster authorization failed/, 'cluster'],
];

/** The authorization errors Kafka answered one client's requests with. */
export class Refusals {
  private readonly seen = new Set<RefusedResource>();

  /** Takes the `error` of each response error KafkaJS logs. */
  observe(error: unknown): void {
    for (const [pattern, resource] of refusalMessages) if (pattern.test(String(error))) this.seen.add(resource);
  }

  has(resource: RefusedResource): boolean {
    return this.seen.has(resource);
  }
}

const byClient = new WeakMap<Kafka, Refusals>();

export function watchRefusals(kafka: Kafka, refusals: Refusals): void {
  byClient.set(kafka, refusals);
}

/** What `error` says Kafka refused, using what `kafka`'s responses said when KafkaJS dropped the reason. */
export function refusedResource(error: unknown, kafka?: Kafka): RefusedResource | undefined {
  const type = findProperty(error, 'type');
  if (type && type in refusalTypes) return refusalTypes[type];
  for (const [pattern, resource] of refusalMessages)
    if (pattern.test(String((error as Error)?.message))) return resource;
  for (let e = error as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.name === 'KafkaJSGroupCoordinatorNotFound' && kafka && byClient.get(kafka)?.has('group')) return 'group';
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * One line naming the user, the resource and the ACL it needs when `error` is an authorization
 * failure, else undefined. `group` is the consumer group the failed operation used.
 */
export function authorizationFailure(
  error: unknown,
  config: Config,
  job: string,
  { kafka, group }: { readonly kafka?: Kafka; readonly group?: string } = {},
): string | undefined {
  const resource = refusedResource(error, kafka);
  return resource && describeRefusal(resource, config, job, group ?? config.consumerGroup);
}
