import type { Admin } from 'kafkajs';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createKafka, withinMs } from './client.ts';
import { TrackedSockets } from './sockets.ts';

/**
 * One conversation with Kafka through an admin client of its own, that tries once: connect and
 * `work` within `ms` in all, or fail. Whether Kafka answered or not, every socket the client opened
 * is closed when it ends, so a Kafka that accepts connections and never answers keeps none of ours
 * past the bound (a caller that asks again gets a new client).
 */
export async function withAdminWithin<T>(
  config: Config,
  logger: Logger,
  ms: number,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const sockets = new TrackedSockets();
  const kafka = createKafka(config, logger, { socketFactory: sockets.factory, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let answered = false;
  try {
    const value = await withinMs(ms, async () => {
      await admin.connect();
      return work(admin);
    });
    answered = true;
    return value;
  } finally {
    // KafkaJS's disconnect waits for the requests in flight: unanswered ones must fail first.
    if (!answered) sockets.destroyAll();
    await withinMs(1_000, () => admin.disconnect()).catch(() => {});
    sockets.destroyAll();
  }
}
