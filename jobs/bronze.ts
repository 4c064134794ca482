import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from './config.ts';
import { createKafka, requireTopic, waitForKafka, withAdmin } from './kafka/client.ts';
import { authorizationFailure } from './kafka/authorization.ts';
import { setGroupOffsets } from './kafka/group-offsets.ts';
import { KafkaAccessError } from './kafka/security.ts';
import { topicIdOf } from './kafka/topic-id.ts';
import { CommitConflictError, mayRemoveFilesAfter } from './lake/catalog/catalog.ts';
import type { Snapshot } from './lake/iceberg/metadata.ts';
import type { DataFile } from './lake/iceberg/manifest.ts';
import { appendFiles } from './lake/iceberg/table.ts';
import { DataFileWriter, headOf, lakeOf } from './lake/lake.ts';
import { addGap, gapSummary, nextOffsetsOf, offsetSummary } from './lake/offsets.ts';
import { bronzeColumns, summaryKeys } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';
import { progressReporter } from './progress.ts';

export interface BronzeSummary extends RowCounts {
  readonly recordsRead: number;
  readonly filesWritten: number;
  /** Per partition: the next offset to read after this run (what the table now ends at). */
  readonly nextOffsets: Record<number, number>;
  readonly snapshotId?: string;
}

export interface PartitionRange {
  readonly partition: number;
  /** First offset of this run. */
  readonly first: number;
  /** First offset not yet in the lake. */
  next: number;
  /** High watermark seen at start: bronze reads up to here and stops. */
  readonly end: number;
  /** Offsets `[first, next)` Kafka no longer had when this run came to them. */
  readonly gaps: [number, number][];
}

export interface KafkaView {
  readonly clusterId: string;
  /** The topic's id; undefined from a Kafka without topic ids (before 2.8). */
  readonly topicId?: string;
  readonly watermarks: { partition: number; low: number; high: number }[];
}

async function describeTopic(admin: Admin, config: Config): Promise<KafkaView> {
  const { clusterId } = await admin.describeCluster();
  await requireTopic(admin, config, 'bronze');
  const offsets = await admin.fetchTopicOffsets(config.topic);
  return {
    clusterId,
    topicId: await topicIdOf(config, config.topic),
    watermarks: offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })),
  };
}

/**
 * Where each partition resumes: bronze's current snapshot records what the table holds, as the
 * Kafka Connect Iceberg sink keeps its offsets with the data. A lake that does not belong to this
 * cluster or topic is refused, never mixed. What Kafka deleted before bronze came to read it (from
 * where the table ends, or from offset 0 for a partition bronze never read) is a gap: recorded in
 * the table as data loss, never skipped quietly.
 */
export function planRanges(
  head: Snapshot | undefined,
  source: { readonly topic: string; readonly bootstrapServers: readonly string[] },
  kafka: KafkaView,
): PartitionRange[] {
  const recordedCluster = head?.summary[summaryKeys.clusterId];
  if (recordedCluster && recordedCluster !== kafka.clusterId) {
    throw new Error(
      `the lake's bronze table was read from Kafka cluster ${recordedCluster}, but ${source.bootstrapServers.join(',')} is cluster ${kafka.clusterId}; refusing to mix their offsets (use a new lake: another LAKEHOUSE_DATA_DIR, or on a catalog another LAKEHOUSE_CATALOG_WAREHOUSE)`,
    );
  }
  const recordedTopic = head?.summary[summaryKeys.topic];
  if (recordedTopic && recordedTopic !== source.topic) {
    throw new Error(
      `the lake's bronze table holds topic "${recordedTopic}", not "${source.topic}"; refusing to mix them`,
    );
  }
  const recordedTopicId = head?.summary[summaryKeys.topicId];
  if (recordedTopicId && kafka.topicId && recordedTopicId !== kafka.topicId) {
    throw new Error(
      `the lake's bronze table holds offsets of topic "${source.topic}" with id ${recordedTopicId}, but the topic now has id ${kafka.topicId}: it was deleted and created again, and its offsets are not the ones the lake holds; refusing to continue (nothing was changed; point LAKEHOUSE_DATA_DIR at a new lake)`,
    );
  }
  const resume = nextOffsetsOf(head);
  return kafka.watermarks
    .map(({ partition, low, high }) => {
      const resumeAt = resume.get(partition) ?? 0;
      if (resumeAt > high) {
        throw new Error(
          `partition ${partition}: the lake already holds offsets up to ${resumeAt - 1} but the topic ends at ${high - 1}; the topic was recreated or the broker lost data — refusing to continue (nothing was changed)`,
        );
      }
      const first = Math.max(resumeAt, low);
      const gaps: [number, number][] = resumeAt < low ? [[resumeAt, low]] : [];
      return { partition, first: resumeAt < low ? resumeAt : first, next: first, end: high, gaps };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Reads every partition from where the table ends up to the high watermark seen at start, and appends one snapshot. */
export async function runBronze(config: Config, logger: Logger): Promise<BronzeSummary> {
  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  const view = await withAdmin(kafka, (admin) => describeTopic(admin, config));
  const table = await lakeOf(config).open('bronze');
  const ranges = planRanges(headOf(table), config, view);
  for (const { partition, gaps } of ranges)
    for (const [from, to] of gaps)
      logger.warn('records were deleted from Kafka before bronze read them: recorded as data loss', {
        partition,
        from,
        to,
        lost: to - from,
      });
  const toRead = ranges.reduce((sum, r) => sum + Math.max(0, r.end - r.next), 0);
  const lost = ranges.some((r) => r.gaps.length > 0);
  logger.info('bronze plan', {
    topic: config.topic,
    toRead,
    fromSnapshot: String(headOf(table)?.['snapshot-id'] ?? 'none'),
    partitions: ranges.map((r) => ({ partition: r.partition, from: r.next, to: r.end })),
  });

  const nextOffsets = new Map([...nextOffsetsOf(headOf(table))]);
  let result: { recordsRead: number; files: readonly DataFile[]; snapshotId?: string } = { recordsRead: 0, files: [] };
  if (toRead > 0 || lost) {
    const writer = new DataFileWriter(
      table,
      bronzeColumns,
      config.rowGroupSize,
      config.fileRows,
      (row) => row.partition,
      true,
    );
    try {
      const recordsRead = toRead > 0 ? await consume(kafka, config, ranges, writer, logger, toRead) : 0;
      const files = await writer.finish();
      for (const r of ranges) nextOffsets.set(r.partition, r.next);
      const read = ranges.filter((r) => r.next > r.first);
      const gaps = new Map<number, [number, number][]>();
      for (const r of ranges) for (const [from, to] of r.gaps) addGap(gaps, r.partition, from, to);
      logger.info('bronze data files written', { files: files.length, records: recordsRead });
      const committed = await appendFiles(table, files, {
        [summaryKeys.topic]: config.topic,
        [summaryKeys.clusterId]: view.clusterId,
        ...(view.topicId ? { [summaryKeys.topicId]: view.topicId } : {}),
        ...offsetSummary(read, nextOffsets),
        ...gapSummary(gaps),
        [summaryKeys.writer]: 'node bronze',
      });
      result = { recordsRead, files, snapshotId: String(headOf(committed)!['snapshot-id']) };
      logger.info('bronze committed', { snapshotId: result.snapshotId, metadata: committed.metadataLocation });
    } catch (error) {
      if (mayRemoveFilesAfter(error)) await writer.abort();
      if (error instanceof CommitConflictError) {
        logger.warn('another bronze run committed first; this run added nothing and removed its files', {
          conflict: error.detail,
        });
        return { recordsRead: 0, filesWritten: 0, nextOffsets: {}, rowCounts: rowCounts(0, 0) };
      }
      throw error;
    }
  }
  // Only so that lag shows in Kafka's tools: the table, not the group, is the record of what was read.
  await withAdmin(kafka, (admin) => commitGroupOffsets(kafka, admin, config, nextOffsets, logger));
  const summary = {
    recordsRead: result.recordsRead,
    filesWritten: result.files.length,
    nextOffsets: Object.fromEntries(nextOffsets),
    snapshotId: result.snapshotId,
  };
  logger.info('bronze done', summary);
  return { ...summary, rowCounts: rowCounts(result.recordsRead, result.recordsRead) };
}

async function commitGroupOffsets(
  kafka: Kafka,
  admin: Admin,
  config: Config,
  next: ReadonlyMap<number, number>,
  logger: Logger,
): Promise<void> {
  if (next.size === 0) return;
  try {
    await setGroupOffsets(
      kafka,
      admin,
      config.consumerGroup,
      config.topic,
      [...next].map(([partition, offset]) => ({ partition, offset: String(offset) })),
    );
  } catch (error) {
    // A missing ACL fails every run the same way, and verify after it: say so now.
    const refused = authorizationFailure(error, config, 'bronze', { kafka, group: config.consumerGroup });
    if (refused)
      throw new KafkaAccessError(
        `${refused}; the records read are in bronze, only the consumer group's offsets were not set`,
      );
    logger.warn('could not record the offsets in the consumer group (lag tools will lag behind)', {
      group: config.consumerGroup,
      error: (error as Error).message,
    });
  }
}

async function consume(
  kafka: Kafka,
  config: Config,
  ranges: PartitionRange[],
  writer: DataFileWriter<typeof bronzeColumns>,
  logger: Logger,
  toRead: number,
): Promise<number> {
  const byPartition = new Map(ranges.map((r) => [r.partition, r]));
  let remaining = ranges.filter((r) => r.next < r.end).length;
  let recordsRead = 0;
  const progress = progressReporter(logger, 'read', toRead);

  // A group of its own for each run: runs never split partitions between them (two runs at once
  // each read everything, and the table's commit lets one of them win), and nothing is committed to it.
  const groupId = `${config.consumerGroup}.run-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 30_000,
    // Fetch responses live outside the JS heap: these sizes keep bronze under 256 MiB RSS with the
    // parquet worker's heap beside its own (npm run bench). 2 MiB a fetch rather than 4 cost no
    // throughput at 10^7 events (a little faster) and ~10 MiB less peak RSS.
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 2 * 1024 * 1024,
    // A fetch waits this long for records that are not there yet: disconnecting waits for the
    // fetch in flight, so at the end of the range KafkaJS's 5 s default was 5 s of every run.
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // It may fail before it is awaited (the consumer stopped while joining).
  finished.catch(() => {});
  const failure = (error: unknown, what: string) => {
    const refused = authorizationFailure(error, config, 'bronze', { kafka, group: groupId });
    if (refused) return new KafkaAccessError(`${refused}; nothing was committed`);
    return new Error(
      `Kafka at ${config.bootstrapServers.join(',')} ${what} (${(error as Error).message}); nothing was committed`,
    );
  };

  // The table decides where each partition resumes. Seeking on every join also covers KafkaJS
  // restarting the consumer: reading goes on from what is already in the open files.
  let lastHeard = Date.now();
  const removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, () => {
    lastHeard = Date.now();
    for (const range of ranges)
      consumer.seek({ topic: config.topic, partition: range.partition, offset: String(range.next) });
  });
  // KafkaJS restarts a consumer whose broker went away forever; bronze gives up after the wait
  // the settings allow, naming the brokers, instead of hanging until the Job's deadline.
  const watchdog = setInterval(() => {
    const silent = (Date.now() - lastHeard) / 1000;
    if (silent > Math.max(config.kafkaWaitSeconds, 1)) {
      fail(
        new Error(
          `Kafka at ${config.bootstrapServers.join(',')} sent nothing for ${Math.round(silent)}s with ${remaining} partition(s) still to read (LAKEHOUSE_KAFKA_WAIT_SECONDS=${config.kafkaWaitSeconds}); nothing was committed`,
        ),
      );
    }
  }, 1000);
  // KafkaJS stops a consumer for good on an error it does not retry (Kafka refusing the group or the
  // topic to this user): that is the failure, not the silence the watchdog would later report.
  const removeCrashListener = consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(failure(payload.error, "stopped bronze's consumer"));
  });
  // Kafka going away between the plan and the first fetch fails here rather than in the watchdog.
  await consumer.connect().catch((error) => {
    removeCrashListener();
    clearInterval(watchdog);
    throw failure(error, 'failed as bronze began reading');
  });
  try {
    await consumer.subscribe({ topic: config.topic, fromBeginning: true }).catch((error) => {
      throw failure(error, 'failed as bronze began reading');
    });
    await consumer.run({
      autoCommit: false,
      // Resolving each batch moves KafkaJS's fetch position on (nothing is committed to the run's group).
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        lastHeard = Date.now();
        try {
          const range = byPartition.get(batch.partition);
          if (!range || range.next >= range.end) return;
          const ingestedAt = Date.now();
          for (const message of batch.messages) {
            const offset = Number(message.offset);
            if (offset < range.next) continue;
            if (offset > range.next) {
              // Kafka skipped ahead: the records between were deleted (retention) while bronze read.
              const to = Math.min(offset, range.end);
              range.gaps.push([range.next, to]);
              logger.warn('records were deleted from Kafka while bronze read them: recorded as data loss', {
                partition: batch.partition,
                from: range.next,
                to,
              });
              range.next = to;
            }
            if (offset >= range.end) break;
            // KafkaJS's buffers are slices of whole fetch responses: the writer's off-thread sink
            // copies them as it takes them, so a buffered row group does not keep those alive.
            writer.write({
              key: message.key,
              value: message.value,
              topic: batch.topic,
              partition: batch.partition,
              offset,
              kafka_timestamp: Number(message.timestamp),
              ingested_at: ingestedAt,
            });
            range.next = offset + 1;
            recordsRead++;
          }
          progress(recordsRead);
          if (range.next >= range.end && --remaining === 0) finish();
        } catch (error) {
          fail(error as Error);
          throw error;
        }
      },
    });
    await finished;
  } finally {
    clearInterval(watchdog);
    removeJoinListener();
    removeCrashListener();
    // A consumer whose broker is gone may never finish disconnecting.
    await Promise.race([consumer.disconnect(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }
  return recordsRead;
}
