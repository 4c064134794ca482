import type { Message } from 'kafkajs';
import type { JobContext } from './cli.ts';
import type { Config } from './config.ts';
import { generateRecords } from './events/generate.ts';
import { createKafka, idempotentProducer, requireTopic, waitForKafka, withAdmin } from './kafka/client.ts';
import { partitionSender, topicPartitions } from './kafka/partition-sends.ts';
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

// Messages per produce request; large enough to amortise the round trip, small enough to stay
// well under the broker's default message.max.bytes per partition batch.
const batchSize = 1_000;

/** Mode `once` sends `config.events` generated events; `continuous` streams until stopped (produce-stream.ts). */
export async function runProduce(config: Config, logger: Logger, context: JobContext): Promise<ProduceSummary | StreamSummary> {
  if (config.producerMode === 'continuous') return runContinuousProduce(config, logger, context.stopSignal());
  return produceOnce(config, logger);
}

/** Sends `config.events` generated events, keyed by vehicle id, with an idempotent producer. */
async function produceOnce(config: Config, logger: Logger): Promise<ProduceSummary> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  const partitions = await withAdmin(kafka, async (admin) => {
    await requireTopic(admin, config);
    return topicPartitions(admin, config.topic);
  });
  const producer = idempotentProducer(kafka);
  await producer.connect();
  const send = partitionSender(producer, config.topic, partitions);
  const counts = { sent: 0, valid: 0, invalid: 0, duplicates: 0 };
  const progress = progressReporter(logger, 'sent', config.events);
  try {
    let batch: Message[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await send(batch);
      counts.sent += batch.length;
      batch = [];
      progress(counts.sent);
    };
    const records = generateRecords(config.events, {
      seed: config.seed,
      invalidRatio: config.invalidRatio,
      duplicateRatio: config.duplicateRatio,
      startTime: config.startTime,
    });
    for (const record of records) {
      batch.push({ key: record.key, value: record.value });
      if (record.kind === 'valid') counts.valid++;
      else if (record.kind === 'invalid') counts.invalid++;
      else counts.duplicates++;
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  logger.info('events sent', { topic: config.topic, ...counts });
  return { ...counts, rowCounts: rowCounts(null, counts.sent) };
}
