// Where the Kafka distribution and the broker's bookkeeping live on this machine.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const KAFKA_VERSION = '4.1.1';

export function lakehouseCache(): string {
  return process.env.LAKEHOUSE_CACHE || join(homedir(), '.cache', 'lakehouse');
}

/** Keyed by version; fetch-kafka.sh fills its libs/ and writes .complete when done. */
export function kafkaHome(): string {
  return join(lakehouseCache(), `kafka-${KAFKA_VERSION}`);
}
