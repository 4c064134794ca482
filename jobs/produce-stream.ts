import { rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { Config } from './config.ts';
import { createFleet, fleetSizeFor } from './events/fleet.ts';
import { recordMixer, type GeneratedRecord } from './events/mix.ts';
import { createKafka } from './kafka/client.ts';
import { PartitionedSender, senderLimits } from './kafka/partitioned-sender.ts';
import type { Logger } from './log.ts';
import { tokenBucket } from './token-bucket.ts';

/** How long a stopping producer waits for the send in flight to be acknowledged (the pod's grace period is longer). */
export const STOP_FLUSH_SECONDS = 20;
// The loop wakes at most this often, so each send carries a few ticks' worth of events, not one.
const TICK_MS = 50;
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
 * then it stops generating, waits (bounded) for the sends in flight, disconnects and returns what
 * Kafka acknowledged. A Kafka that is away or a topic not yet created is waited for, not fatal.
 * Events go out through the partitioned idempotent sender of mode `once`: each request holds one
 * partition's batch, and a failed one is sent again as it was, so the topic holds exactly the
 * events Kafka acknowledged, even when a broker dies mid-request.
 */
export async function runContinuousProduce(config: Config, logger: Logger, stop: AbortSignal): Promise<StreamSummary> {
  const counts = { sent: 0, acknowledged: 0, valid: 0, invalid: 0, duplicates: 0, unconfirmed: 0 };
  const vehicles = fleetSizeFor(config.eventsPerSecond);
  const ready = readySignal(config.readyFile, logger);
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
  try {
    const kafka = createKafka(config, logger);
    const partitions = await waitForTopic(kafka, config, logger, stop);
    if (partitions === undefined) return summary();
    const abandon = new AbortController();
    const sender = await PartitionedSender.open<GeneratedRecord>(kafka, config.topic, partitions, {
      ...senderLimits,
      acknowledged: (records) => {
        counts.acknowledged += records.length;
        for (const record of records) counts[record.kind === 'duplicate' ? 'duplicates' : record.kind]++;
        ready.acknowledged();
      },
      resend: async (error, attempt, partition) => {
        if (abandon.signal.aborted) return false;
        const retryInMs = Math.min(1_000 * attempt, 10_000);
        logger.warn('send failed; sending the same events again', {
          partition,
          attempt,
          retryInMs,
          error: error.message,
        });
        await sleep(retryInMs, undefined, { signal: abandon.signal }).catch(() => {});
        return !abandon.signal.aborted;
      },
    });
    logger.info('streaming', { topic: config.topic, eventsPerSecond: config.eventsPerSecond, vehicles, partitions });
    started = performance.now();
    await stream(config, logger, stop, sender, counts, abandon);
    return summary();
  } finally {
    ready.stopped();
  }
}

/** The loop: each tick's events handed to the sender and flushed, until `stop` aborts. */
async function stream(
  config: Config,
  logger: Logger,
  stop: AbortSignal,
  sender: PartitionedSender<GeneratedRecord>,
  counts: { sent: number; acknowledged: number; unconfirmed: number },
  abandon: AbortController,
): Promise<void> {
  const fleet = createFleet({
    seed: config.seed,
    vehicles: fleetSizeFor(config.eventsPerSecond),
    startTime: Date.now(),
  });
  const mix = recordMixer(config);
  const bucket = tokenBucket(config.eventsPerSecond, Math.max(config.eventsPerSecond, 1));
  let inFlightSince: number | undefined;
  const watch = watchProgress(logger, config.eventsPerSecond, counts, () => inFlightSince);
  const stopped = aborted(stop);
  try {
    while (!stop.aborted) {
      const n = bucket.take(senderLimits.batchSize);
      if (n === 0) {
        await sleep(Math.max(bucket.msUntilNext(), TICK_MS), undefined, { signal: stop }).catch(() => {});
        continue;
      }
      const now = Date.now();
      const since = performance.now();
      inFlightSince = since;
      // A partition's buffer that fills (a tick of batchSize events, all for one partition) goes out
      // at once; the flush below waits for it and reports its failure.
      for (let i = 0; i < n; i++) sender.add(mix(() => fleet.next(now)))?.catch(() => {});
      counts.sent += n;
      const delivery = sender.flush().then(() => {
        const waited = performance.now() - since;
        if (waited > STALL_MS) logger.info('kafka acknowledges again', { waitedSeconds: Math.round(waited / 1000) });
        inFlightSince = undefined;
      });
      if (await settledBefore(delivery, stopped)) continue;
      // Stopping with sends in flight: their acknowledgements are waited for, within a bound.
      if (await settledBefore(delivery, sleep(STOP_FLUSH_SECONDS * 1000))) continue;
      abandon.abort();
      delivery.catch(() => {});
      counts.unconfirmed = counts.sent - counts.acknowledged;
      logger.warn('stopped before Kafka acknowledged the last send', {
        unconfirmed: counts.unconfirmed,
        waitedSeconds: STOP_FLUSH_SECONDS,
      });
    }
  } finally {
    watch.stop();
    await settledBefore(abandon.signal.aborted ? sender.abandon() : sender.disconnect(), sleep(5_000)).catch(() => {});
  }
}

/**
 * The readiness file (LAKEHOUSE_READY_FILE): removed at start (a restarted container keeps its
 * /tmp), created at the first acknowledgement, removed at the end.
 */
function readySignal(file: string, logger: Logger) {
  let ready = false;
  if (file) rmSync(file, { force: true });
  return {
    acknowledged(): void {
      if (ready || !file) return;
      ready = true;
      writeFileSync(file, `${new Date().toISOString()}\n`);
      logger.info('ready: Kafka acknowledged the first events', { readyFile: file });
    },
    stopped(): void {
      if (file) rmSync(file, { force: true });
    },
  };
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
 * after the Deployment has started. Says so at most every 30 s. The topic's partition count, or
 * undefined when stopped first.
 */
async function waitForTopic(
  kafka: Kafka,
  config: Config,
  logger: Logger,
  stop: AbortSignal,
): Promise<number | undefined> {
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
      if (topics === undefined) return undefined;
      const partitions =
        topics.includes(config.topic) &&
        (await settledOr(
          admin.fetchTopicMetadata({ topics: [config.topic] }).then((m) => m.topics[0]?.partitions.length ?? 0),
          stopped,
        ));
      if (partitions === undefined) return undefined;
      if (partitions) {
        logger.info('topic found', { topic: config.topic, partitions, attempt });
        return partitions;
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
  return undefined;
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
