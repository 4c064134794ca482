import { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry, type Producer } from 'kafkajs';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { topicAclNeeded } from './acls.ts';
import { authorizationFailure, Refusals, refusedResource, watchRefusals } from './authorization.ts';
import { answeredNothing, listenerMismatch } from './listener-probe.ts';
import { KafkaAccessError, kafkaSecurityOptions, securityFailure } from './security.ts';

// KafkaJS warns on every start that its default partitioner changed in 2.0; we rely on the new one.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A KafkaJS client whose own log lines come out in the job's JSON format, and whose authorization
 * errors are kept for authorizationFailure; `overrides` win over the defaults.
 */
export function createKafka(config: Config, logger: Logger, overrides: Partial<KafkaConfig> = {}): Kafka {
  const refusals = new Refusals();
  const kafka = new Kafka({ ...kafkaOptions(config, logger, refusals), ...overrides });
  watchRefusals(kafka, refusals);
  return kafka;
}

function kafkaOptions(config: Config, logger: Logger, refusals?: Refusals): KafkaConfig {
  return {
    clientId: `${config.clientId}-${logger.job}`,
    brokers: [...config.bootstrapServers],
    ...kafkaSecurityOptions(config),
    connectionTimeout: 10_000,
    requestTimeout: 60_000,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = log;
        // KafkaJS logs every error response at ERROR even when it retries it (a group coordinator
        // still loading, say); a failure that matters ends the job with its own "failed" line.
        const retried =
          level === logLevel.ERROR && namespace === 'Connection' && String(message).startsWith('Response ');
        if (retried) refusals?.observe(rest.error);
        logger.log(retried ? 'warn' : (levels[level] ?? 'info'), `kafkajs: ${message}`, { namespace, ...rest });
      },
  };
}

/**
 * Waits, with capped exponential backoff, until the cluster answers a metadata request. Every Job
 * does this itself because Helm runs post-install hooks without waiting for Kafka to be ready.
 */
export async function waitForKafka(_kafka: Kafka, config: Config, logger: Logger): Promise<void> {
  // A probe of its own that tries each connection once: this loop does the retrying, and sees a
  // refused certificate at the first attempt rather than after KafkaJS's own retries.
  const probe = new Kafka({ ...kafkaOptions(config, logger), retry: { retries: 0 } });
  const deadline = Date.now() + config.kafkaWaitSeconds * 1000;
  let delay = 500;
  let attempt = 0;
  let nextProbe = 0;
  for (;;) {
    attempt++;
    const admin = probe.admin({ retry: { retries: 0 } });
    try {
      // KafkaJS's own connection timeouts and retries would stretch the wait far past the setting.
      const cluster = await withinMs(Math.max(deadline - Date.now(), 1000), async () => {
        await admin.connect();
        return admin.describeCluster();
      });
      logger.info('kafka is reachable', { attempt, brokers: cluster.brokers.length, controller: cluster.controller });
      return;
    } catch (error) {
      let fatal = securityFailure(error, config);
      // A client of the wrong protocol only sees its connections closed: ask the listener what it speaks.
      if (!fatal && answeredNothing(error, true) && Date.now() >= nextProbe) {
        nextProbe = Date.now() + probeEveryMs;
        fatal = await listenerMismatch(error, config);
      }
      if (fatal) throw new KafkaAccessError(fatal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `Kafka at ${config.bootstrapServers.join(',')} did not answer within ${config.kafkaWaitSeconds}s ` +
            `(KAFKA_BOOTSTRAP_SERVER / --bootstrap-server): ${(error as Error).message}`,
        );
      }
      logger.info('waiting for kafka', {
        attempt,
        retryInMs: Math.min(delay, remaining),
        error: (error as Error).message,
      });
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)));
      delay = Math.min(delay * 2, 10_000);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/** How often waitForKafka may probe the listener while Kafka keeps closing its connections. */
const probeEveryMs = 10_000;

/** `work`'s value, or an error once `ms` have passed (the work itself is left to finish or fail). */
export async function withinMs<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)}s`)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fails naming the topic when it does not exist (producers and consumers would otherwise retry for
 * minutes). Kafka lists only the topics a user may describe, and answers a user asking for a topic
 * it may not describe TOPIC_AUTHORIZATION_FAILED whether it exists or not: that answer names the
 * ACL too.
 */
export async function requireTopic(admin: Admin, config: Config, job: string): Promise<void> {
  const topics = await admin.listTopics();
  if (topics.includes(config.topic)) return;
  // A topic that does not exist may be retried by KafkaJS for a while: a refusal comes at once.
  const asked = await withinMs(5_000, () => admin.fetchTopicMetadata({ topics: [config.topic] })).then(
    () => ({ exists: true, error: undefined }),
    (error: unknown) => ({ exists: false, error }),
  );
  if (asked.exists) return;
  const missing = `topic "${config.topic}" does not exist at ${config.bootstrapServers.join(',')} (LAKEHOUSE_TOPIC / --topic; the topics job creates it)`;
  if (refusedResource(asked.error) === 'topic') {
    throw new KafkaAccessError(
      `${missing}, or Kafka refuses user "${config.kafkaUser}" to describe it (it answers both with ` +
        `TOPIC_AUTHORIZATION_FAILED); if it exists, ${topicAclNeeded(config, job)}`,
    );
  }
  const refused = authorizationFailure(asked.error, config, job);
  if (refused) throw new KafkaAccessError(refused);
  throw new Error(missing);
}

/** Runs `work` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The producer of every produce run: idempotent, one request in flight (so order holds), no topic auto-creation. */
export function idempotentProducer(kafka: Kafka): Producer {
  // Idempotence needs unbounded retries (KafkaJS warns otherwise); the Job's activeDeadlineSeconds
  // bounds a producer that cannot reach Kafka, a stop signal the continuous one.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}
