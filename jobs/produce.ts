import type { JobContext } from './job.ts';
import type { Config } from './config.ts';
import { generateRecords } from './events/generate.ts';
import { createKafka, requireTopic, waitForKafka, withAdmin } from './kafka/client.ts';
import { PartitionedSender, senderLimits } from './kafka/partitioned-sender.ts';
import type { Logger } from './log.ts';
import { runContinuousProduce, type StreamSummary } from './produce-stream.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';
import { progressReporter } from './progress.ts';

export interface ProduceSummary extends RowCounts {
  readonly sent: number;
  readonly valid: number;
  readonly invalid: number;
  readonly duplicates: number;
}

/** Mode `once` sends `config.events` generated events; `continuous` streams until stopped (produce-stream.ts). */
export async function runProduce(
  config: Config,
  logger: Logger,
  context: JobContext,
): Promise<ProduceSummary | StreamSummary> {
  if (config.producerMode === 'continuous') return runContinuousProduce(config, logger, context.stopSignal());
  return produceOnce(config, logger);
}

/** Sends `config.events` generated events, keyed by vehicle id, with idempotent producers (one per partition). */
async function produceOnce(config: Config, logger: Logger): Promise<ProduceSummary> {
  const counts = { sent: 0, valid: 0, invalid: 0, duplicates: 0 };
  try {
    return await sendAll(config, logger, counts);
  } catch (error) {
    // A retried producer Job sends every event again: what this one had acknowledged tells how
    // many records the topic holds twice (0 when Kafka failed before any send was acknowledged).
    logger.warn('stopped before every event was acknowledged', { acknowledged: counts.sent, asked: config.events });
    throw error;
  }
}

async function sendAll(
  config: Config,
  logger: Logger,
  counts: { sent: number; valid: number; invalid: number; duplicates: number },
): Promise<ProduceSummary> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  const partitions = await withAdmin(kafka, async (admin) => {
    await requireTopic(admin, config, 'produce');
    const { topics } = await admin.fetchTopicMetadata({ topics: [config.topic] });
    return topics[0].partitions.length;
  });
  const progress = progressReporter(logger, 'sent', config.events);
  const sender = await PartitionedSender.open(kafka, config.topic, partitions, {
    ...senderLimits,
    acknowledged: (messages) => progress((counts.sent += messages.length)),
  });
  try {
    const records = generateRecords(config.events, {
      seed: config.seed,
      invalidRatio: config.invalidRatio,
      duplicateRatio: config.duplicateRatio,
      startTime: config.startTime,
    });
    for (const record of records) {
      const full = sender.add(record);
      if (full) await full;
      if (record.kind === 'valid') counts.valid++;
      else if (record.kind === 'invalid') counts.invalid++;
      else counts.duplicates++;
    }
    await sender.flush();
  } finally {
    await sender.disconnect();
  }
  logger.info('events sent', { topic: config.topic, ...counts });
  return { ...counts, rowCounts: rowCounts(null, counts.sent) };
}
