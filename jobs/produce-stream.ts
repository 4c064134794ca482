import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from './config.ts';
import { createFleet, fleetSizeFor } from './events/fleet.ts';
import { recordMixer, type GeneratedRecord } from './events/mix.ts';
import { createKafka, idempotentProducer } from './kafka/client.ts';
import type { Logger } from './log.ts';
import { tokenBucket } from './token-bucket.ts';

/** How long a stopping producer waits for the send in flight to be acknowledged (the pod's grace period is longer). */
export const STOP_FLUSH_SECONDS = 20;
// The loop wakes at most this often, so each send carries a few ticks' worth of events, not one.
const TICK_MS = 50;
const MAX_BATCH = 1_000;
const PROGRESS_MS = 10_000;
// A send unacknowledged for this long means Kafka is away (a healthy one answers in milliseconds).
const STALL_MS = 10_000;
// Waiting for Kafka or for the topic is said at most this often.
const WAITING_LOG_MS = 30_000;

export interface StreamSummary {
  readonly mode: 'continuous';
  readonly eventsPerSecond: number;
  readonly vehicles: number;
  /** Handed to Kafka: acknowledged plus unconfirmed. */
  readonly sent: number;
  /** Acknowledged by Kafka (acks=all): every one of them is on the topic. */
  readonly acknowledged: number;
  readonly valid: number;
  readonly invalid: number;
  readonly duplicates: number;
  /** Sent but not acknowledged when the producer had to stop: they may or may not be on the topic. */
  readonly unconfirmed: number;
  /** Time spent streaming (waiting for Kafka or the topic not included), and the rate over it. */
  readonly seconds: number;
  readonly perSecond: number;
}

/**
 * Streams `config.eventsPerSecond` events a second from a simulated fleet until `stop` aborts:
 * then it stops generating, waits (bounded) for the send in flight, disconnects and returns what
 * Kafka acknowledged. A Kafka that is away or a topic not yet created is waited for, not fatal.
 */
export async function runContinuousProduce(config: Config, logger: Logger, stop: AbortSignal): Promise<StreamSummary> {
  const counts = { sent: 0, acknowledged: 0, valid: 0, invalid: 0, duplicates: 0, unconfirmed: 0 };
  const vehicles = fleetSizeFor(config.eventsPerSecond);
  let started: number | undefined;
  const summary = (): StreamSummary => {
    const seconds = started === undefined ? 0 : (performance.now() - started) / 1000;
    return {
      mode: 'continuous',
      eventsPerSecond: config.eventsPerSecond,
      vehicles,
      ...counts,
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: seconds > 0 ? Math.round(counts.acknowledged / seconds) : 0,
    };
  };
  const kafka = createKafka(config, logger);
  if (!(await waitForTopic(kafka, config, logger, stop))) return summary();
  const producer = idempotentProducer(kafka);
  await producer.connect();
  logger.info('streaming', { topic: config.topic, eventsPerSecond: config.eventsPerSecond, vehicles });
  started = performance.now();

  const fleet = createFleet({ seed: config.seed, vehicles, startTime: Date.now() });
  const mix = recordMixer(config);
  const bucket = tokenBucket(config.eventsPerSecond, Math.max(config.eventsPerSecond, 1));
  let inFlightSince: number | undefined;
  const watch = watchProgress(logger, config.eventsPerSecond, counts, () => inFlightSince);
  const abandon = new AbortController();
  const deliver = async (records: GeneratedRecord[]) => {
    inFlightSince = performance.now();
    await sendUntilAcknowledged(
      producer,
      config.topic,
      records.map(({ key, value }) => ({ key, value })),
      logger,
      abandon.signal,
    );
    const waited = performance.now() - inFlightSince;
    if (waited > STALL_MS) logger.info('kafka acknowledges again', { waitedSeconds: Math.round(waited / 1000) });
    inFlightSince = undefined;
    counts.acknowledged += records.length;
    for (const record of records) counts[record.kind === 'duplicate' ? 'duplicates' : record.kind]++;
  };
  const stopped = aborted(stop);
  try {
    while (!stop.aborted) {
      const n = bucket.take(MAX_BATCH);
      if (n === 0) {
        await sleep(Math.max(bucket.msUntilNext(), TICK_MS), undefined, { signal: stop }).catch(() => {});
        continue;
      }
      const now = Date.now();
      const records = Array.from({ length: n }, () => mix(() => fleet.next(now)));
      counts.sent += n;
      const delivery = deliver(records);
      if (!(await settledBefore(delivery, stopped))) {
        // Stopping with a send in flight: its acknowledgement is waited for, within a bound.
        if (!(await settledBefore(delivery, sleep(STOP_FLUSH_SECONDS * 1000)))) {
          abandon.abort();
          delivery.catch(() => {});
          counts.unconfirmed = n;
          logger.warn('stopped before Kafka acknowledged the last send', {
            unconfirmed: n,
            waitedSeconds: STOP_FLUSH_SECONDS,
          });
        }
      }
    }
  } finally {
    watch.stop();
    await settledBefore(producer.disconnect(), sleep(5_000)).catch(() => {});
  }
  return summary();
}

/**
 * Sends with acks=all and, when a send fails (Kafka away longer than the client's own retries),
 * sends the same messages again until they are acknowledged or `abandon` aborts. The idempotent
 * producer keeps its id and gives a partition's messages of a failed request the same sequence
 * numbers again, so the broker drops what it had already written. (Of a send that failed on one
 * broker after succeeding on another, the part that succeeded is written twice: silver quarantines
 * those copies as duplicates.)
 */
async function sendUntilAcknowledged(
  producer: Producer,
  topic: string,
  messages: Message[],
  logger: Logger,
  abandon: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      return;
    } catch (error) {
      if (abandon.aborted) throw error;
      const retryInMs = Math.min(1_000 * attempt, 10_000);
      logger.warn('send failed; sending the same events again', {
        attempt,
        retryInMs,
        error: (error as Error).message,
      });
      await sleep(retryInMs, undefined, { signal: abandon }).catch(() => {});
    }
  }
}

/**
 * Logs progress every ten seconds (and a warning when that was under 90 % of the asked rate), and a
 * warning (at most every 30 s) while a send has waited longer than ten seconds for its acknowledgement.
 */
function watchProgress(
  logger: Logger,
  target: number,
  counts: { sent: number; acknowledged: number },
  inFlightSince: () => number | undefined,
) {
  let last = { time: performance.now(), acknowledged: 0 };
  let warned = -Infinity;
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last.time >= PROGRESS_MS) {
      const perSecond = Math.round(((counts.acknowledged - last.acknowledged) * 1000) / (now - last.time));
      logger.info('progress', { acknowledged: counts.acknowledged, sent: counts.sent, perSecond });
      // Tokens beyond a second's worth are dropped, so a producer that cannot keep up must say so.
      if (perSecond < target * 0.9) logger.warn('sending slower than asked', { perSecond, eventsPerSecond: target });
      last = { time: now, acknowledged: counts.acknowledged };
    }
    const since = inFlightSince();
    if (since !== undefined && now - since > STALL_MS && now - warned >= WAITING_LOG_MS) {
      logger.warn('kafka has not acknowledged a send; retrying', { waitingSeconds: Math.round((now - since) / 1000) });
      warned = now;
    }
  }, 1_000);
  return { stop: () => clearInterval(timer) };
}

/**
 * Waits until Kafka answers and lists the topic; the topics job, a post-install hook, runs only
 * after the Deployment has started. Says so at most every 30 s. False when stopped first.
 */
async function waitForTopic(kafka: Kafka, config: Config, logger: Logger, stop: AbortSignal): Promise<boolean> {
  let lastSaid = -Infinity;
  let attempt = 0;
  const stopped = aborted(stop);
  while (!stop.aborted) {
    attempt++;
    const admin = kafka.admin({ retry: { retries: 0 } });
    let waiting: { msg: string; fields: Record<string, unknown> };
    try {
      const topics = await settledOr(
        admin.connect().then(() => admin.listTopics()),
        stopped,
      );
      if (topics === undefined) return false;
      if (topics.includes(config.topic)) {
        logger.info('topic found', { topic: config.topic, attempt });
        return true;
      }
      waiting = {
        msg: 'waiting for the topic',
        fields: { topic: config.topic, hint: 'the topics job creates it (LAKEHOUSE_TOPIC / --topic)' },
      };
    } catch (error) {
      waiting = {
        msg: 'waiting for kafka',
        fields: { bootstrapServers: config.bootstrapServers.join(','), error: (error as Error).message },
      };
    } finally {
      void admin.disconnect().catch(() => {});
    }
    if (performance.now() - lastSaid >= WAITING_LOG_MS) {
      logger.info(waiting.msg, { attempt, ...waiting.fields });
      lastSaid = performance.now();
    }
    await sleep(Math.min(500 * attempt, 5_000), undefined, { signal: stop }).catch(() => {});
  }
  return false;
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Whether `work` settled before `other` did (a rejection of `work` is thrown). */
async function settledBefore(work: Promise<unknown>, other: Promise<unknown>): Promise<boolean> {
  return Promise.race([work.then(() => true), other.then(() => false)]);
}

/** `work`'s value, or undefined when `other` settles first. */
async function settledOr<T>(work: Promise<T>, other: Promise<unknown>): Promise<T | undefined> {
  return Promise.race([work, other.then(() => undefined)]);
}
