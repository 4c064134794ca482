import fs from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from './config.ts';
import { createKafka, waitForKafka, withAdmin } from './kafka/client.ts';
import { removeStaleTemporaries } from './lake/atomic.ts';
import { ParquetSink } from './lake/parquet-sink.ts';
import { bronzeFileName, lakePaths, parseBronzeFileName } from './lake/paths.ts';
import { bronzeColumns } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { progressReporter } from './progress.ts';

export interface BronzeSummary {
  readonly recordsRead: number;
  readonly filesWritten: number;
  /** Per partition: the next offset to read after this run (what is committed). */
  readonly nextOffsets: Record<number, number>;
}

interface PartitionRange {
  readonly partition: number;
  /** First offset not yet in the lake. */
  next: number;
  /** High watermark seen at start: bronze reads up to here and stops. */
  readonly end: number;
}

/**
 * Where each partition resumes: the lake, not the consumer group, is the record of what has been
 * ingested. A file is named after the offsets it holds, so after a crash between publishing a file
 * and committing its offsets the re-run starts right after the file and nothing is read twice.
 */
export function offsetsInLake(bronzeDir: string): Map<number, number> {
  const next = new Map<number, number>();
  if (!fs.existsSync(bronzeDir)) return next;
  for (const name of fs.readdirSync(bronzeDir)) {
    const file = parseBronzeFileName(name);
    if (!file) continue;
    const after = Number(file.lastOffset) + 1;
    if (after > (next.get(file.partition) ?? 0)) next.set(file.partition, after);
  }
  return next;
}

async function planRanges(admin: Admin, config: Config, bronzeDir: string, logger: Logger): Promise<PartitionRange[]> {
  const inLake = offsetsInLake(bronzeDir);
  const watermarks = await admin.fetchTopicOffsets(config.topic);
  return watermarks
    .map(({ partition, low, high }) => {
      const resumeAt = inLake.get(partition) ?? 0;
      if (resumeAt < Number(low)) {
        logger.warn('records expired from Kafka before bronze read them', { partition, lost: Number(low) - resumeAt, resumeAt, low: Number(low) });
      }
      return { partition, next: Math.max(resumeAt, Number(low)), end: Number(high) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Reads every partition from where the lake ends up to the high watermark seen at start. */
export async function runBronze(config: Config, logger: Logger): Promise<BronzeSummary> {
  const { bronze: bronzeDir } = lakePaths(config.dataDir);
  fs.mkdirSync(bronzeDir, { recursive: true });
  const stale = removeStaleTemporaries(bronzeDir);
  if (stale > 0) logger.warn('removed unfinished files of an earlier run', { count: stale });

  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  const ranges = await withAdmin(kafka, (admin) => planRanges(admin, config, bronzeDir, logger));
  const toRead = ranges.reduce((sum, r) => sum + Math.max(0, r.end - r.next), 0);
  logger.info('bronze plan', { topic: config.topic, toRead, partitions: ranges.map((r) => ({ partition: r.partition, from: r.next, to: r.end })) });

  const summary = { recordsRead: 0, filesWritten: 0 };
  if (toRead > 0) Object.assign(summary, await consume(kafka, config, ranges, bronzeDir, logger, toRead));
  const nextOffsets = Object.fromEntries(ranges.map((r) => [r.partition, r.next]));
  logger.info('bronze done', { ...summary, nextOffsets });
  return { ...summary, nextOffsets };
}

async function consume(
  kafka: Kafka,
  config: Config,
  ranges: PartitionRange[],
  bronzeDir: string,
  logger: Logger,
  toRead: number,
): Promise<{ recordsRead: number; filesWritten: number }> {
  const byPartition = new Map(ranges.map((r) => [r.partition, r]));
  const open = new Map<number, { sink: ParquetSink<typeof bronzeColumns>; firstOffset: number }>();
  let remaining = ranges.filter((r) => r.next < r.end).length;
  let recordsRead = 0;
  let filesWritten = 0;
  const progress = progressReporter(logger, 'read', toRead);

  const consumer = kafka.consumer({
    groupId: config.consumerGroup,
    sessionTimeout: 30_000,
    // Fetch responses live outside the JS heap: these sizes keep bronze under 256 MiB RSS at any
    // number of events (npm run bench), at little cost in throughput against 4/16 MiB.
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxBytes: 8 * 1024 * 1024,
    allowAutoTopicCreation: false,
  });
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const publish = async (partition: number) => {
    const file = open.get(partition);
    if (!file) return;
    const range = byPartition.get(partition)!;
    const name = bronzeFileName({ partition, firstOffset: BigInt(file.firstOffset), lastOffset: BigInt(range.next - 1) });
    file.sink.close(name);
    open.delete(partition);
    filesWritten++;
    // Only now that the file is durable may the group move past its records.
    await consumer.commitOffsets([{ topic: config.topic, partition, offset: String(range.next) }]);
    logger.info('bronze file written', { file: name, partition, rows: range.next - file.firstOffset });
  };

  // The lake decides where each partition resumes, whatever the group last committed. Seeking on
  // every join also covers KafkaJS restarting the consumer (e.g. while a new broker's group
  // coordinator is still loading): reading goes on from what is already in the open files.
  const removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const range of ranges) consumer.seek({ topic: config.topic, partition: range.partition, offset: String(range.next) });
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        try {
          const range = byPartition.get(batch.partition);
          if (!range || range.next >= range.end) return;
          const ingestedAt = Date.now();
          let lastRead: string | undefined;
          for (const message of batch.messages) {
            const offset = Number(message.offset);
            if (offset < range.next) continue;
            if (offset >= range.end) break;
            let file = open.get(batch.partition);
            if (!file) {
              file = { sink: new ParquetSink(bronzeDir, bronzeColumns, config.rowGroupSize), firstOffset: offset };
              open.set(batch.partition, file);
            }
            file.sink.write({
              key: message.key ?? null,
              value: message.value ?? null,
              topic: batch.topic,
              partition: batch.partition,
              offset,
              kafka_timestamp: Number(message.timestamp),
              ingested_at: ingestedAt,
            });
            range.next = offset + 1;
            recordsRead++;
            lastRead = message.offset;
            if (file.sink.rows >= config.fileRows) await publish(batch.partition);
          }
          // Once per batch: KafkaJS parses the offset string into a Long on every call.
          if (lastRead !== undefined) resolveOffset(lastRead);
          progress(recordsRead);
          if (range.next >= range.end) {
            await publish(batch.partition);
            if (--remaining === 0) finish();
          }
          await heartbeat();
        } catch (error) {
          fail(error as Error);
          throw error;
        }
      },
    });
    await finished;
  } finally {
    removeJoinListener();
    for (const { sink } of open.values()) sink.abort();
    await consumer.disconnect();
  }
  return { recordsRead, filesWritten };
}
