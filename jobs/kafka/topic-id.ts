/**
 * A topic's id: the Uuid Kafka gives a topic when it is created, so that one deleted and created
 * again under the same name is another topic (its offsets start over). Asked with a Metadata request
 * of version 10 or later (metadata-topic-ids.ts), which KafkaJS does not have, sent on a broker
 * connection of KafkaJS's own making, signed in (TLS, SASL) exactly as the job's clients are.
 */
/// <reference path="./kafkajs-internals.d.ts" />
import Broker from 'kafkajs/src/broker/index.js';
import { createLogger, LEVELS } from 'kafkajs/src/loggers/index.js';
import ConnectionPool from 'kafkajs/src/network/connectionPool.js';
import type { Config } from '../config.ts';
import {
  METADATA_API_KEY,
  METADATA_TOPIC_ID_VERSIONS,
  metadataRequest,
  parseMetadataTopics,
  type TopicIdAnswer,
} from './metadata-topic-ids.ts';
import { kafkaSecurityOptions } from './security.ts';
import { TrackedSockets } from './sockets.ts';

const ZERO_UUID = Buffer.alloc(16).toString('base64url');

/** Kafka error codes a topic's metadata may carry, by the names Kafka's docs use. */
const errorNames: Record<number, string> = { 3: 'UNKNOWN_TOPIC_OR_PARTITION', 29: 'TOPIC_AUTHORIZATION_FAILED' };

function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** Asks one broker; undefined when it speaks no Metadata version with topic ids (Kafka before 2.8). */
async function askBroker(config: Config, address: string, topic: string): Promise<string | undefined> {
  const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} });
  const sockets = new TrackedSockets();
  const broker = new Broker({
    connectionPool: new ConnectionPool({
      ...hostAndPort(address),
      ...kafkaSecurityOptions(config),
      logger,
      socketFactory: sockets.factory,
      clientId: `${config.clientId}-topic-id`,
      connectionTimeout: 10_000,
      requestTimeout: 30_000,
    }),
    logger,
    allowAutoTopicCreation: false,
  });
  try {
    await broker.connect();
    const supported = broker.versions[METADATA_API_KEY];
    if (!supported || supported.maxVersion < METADATA_TOPIC_ID_VERSIONS.min) return undefined;
    const version = Math.min(supported.maxVersion, METADATA_TOPIC_ID_VERSIONS.max);
    const body = metadataRequest(version, [topic]);
    const topics = await broker.connectionPool.send<TopicIdAnswer[]>({
      request: {
        apiKey: METADATA_API_KEY,
        apiVersion: version,
        apiName: 'Metadata',
        encode: async () => ({ buf: body, buffer: body }),
      },
      response: { decode: async (payload) => parseMetadataTopics(payload), parse: async (answer) => answer },
    });
    const found = topics.find((t) => t.name === topic);
    if (!found) throw new Error(`Kafka at ${address} answered no metadata for topic "${topic}"`);
    if (found.errorCode !== 0)
      throw new Error(
        `Kafka at ${address} answered ${errorNames[found.errorCode] ?? `error ${found.errorCode}`} for the id of topic "${topic}"`,
      );
    return found.topicId === ZERO_UUID ? undefined : found.topicId;
  } finally {
    await broker.disconnect().catch(() => {});
    sockets.destroyAll();
  }
}

/**
 * The topic's id as Kafka's tools print it (URL-safe base64, no padding), from the first bootstrap
 * server that answers; undefined when Kafka has no topic ids (before 2.8).
 */
export async function topicIdOf(config: Config, topic: string): Promise<string | undefined> {
  let failure: unknown;
  for (const address of config.bootstrapServers) {
    try {
      return await askBroker(config, address, topic);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}
