/**
 * The lake's state as `status` and the metrics exporter report it: each table's last commit, rows
 * and files (from its metadata alone), bronze's lag behind Kafka per partition, and the run history.
 */
import path from 'node:path';
import type { Config } from '../config.ts';
import { createKafka, requireTopic, withAdmin, withinMs } from '../kafka/client.ts';
import { headOf, lakeAt, lakeTables, type LakeTableKey } from '../lake/lake.ts';
import { nextOffsetsOf } from '../lake/offsets.ts';
import type { Logger } from '../log.ts';
import type { RunHistory, StageRuns } from './run-history.ts';

export interface TableState {
  readonly table: string;
  /** False when the table was never created. */
  readonly exists: boolean;
  /** Epoch ms of the current snapshot, if the table has one. */
  readonly lastCommitMs?: number;
  readonly snapshots: number;
  readonly rows: number;
  readonly dataFiles: number;
}

export async function tableStates(dataDir: string): Promise<TableState[]> {
  const lake = lakeAt(dataDir);
  const states: TableState[] = [];
  for (const key of Object.keys(lakeTables) as LakeTableKey[]) {
    const table = await lake.find(key);
    const head = headOf(table);
    states.push({
      table: lakeTables[key].name,
      exists: table !== undefined,
      lastCommitMs: head?.['timestamp-ms'],
      snapshots: table?.metadata.snapshots?.length ?? 0,
      rows: Number(head?.summary['total-records'] ?? 0),
      dataFiles: Number(head?.summary['total-data-files'] ?? 0),
    });
  }
  return states;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Kafka's end offset (high watermark): the next offset to be written. */
  readonly endOffset: number;
  /** The first offset bronze does not hold (its current snapshot says), or the partition's start when it holds none. */
  readonly bronzeNext: number;
  readonly lag: number;
}

/** KafkaJS's own log lines would repeat, on every scrape of an unreachable Kafka, the error reported once. */
const quiet = (job: string): Logger => ({ job, log: () => {}, info: () => {}, warn: () => {}, error: () => {} });

/**
 * Per partition of the topic: Kafka's end offset minus the next offset bronze's table records.
 * Bounded by LAKEHOUSE_KAFKA_WAIT_SECONDS (at least a second); throws when Kafka does not answer.
 */
export async function bronzeLag(config: Config, job: string): Promise<PartitionLag[]> {
  const next = nextOffsetsOf(headOf(await lakeAt(config.dataDir).find('bronze')));
  const kafka = createKafka(config, quiet(job));
  const ms = Math.max(config.kafkaWaitSeconds, 1) * 1000;
  const offsets = await withinMs(ms, () =>
    withAdmin(kafka, async (admin) => {
      await requireTopic(admin, config);
      return admin.fetchTopicOffsets(config.topic);
    }),
  ).catch((error: Error) => {
    throw new Error(
      `Kafka at ${config.bootstrapServers.join(',')} did not give the topic's end offsets within ${ms / 1000}s: ${error.message}`,
    );
  });
  return offsets
    .map((o) => {
      const endOffset = Number(o.high);
      const bronzeNext = next.get(o.partition) ?? Number(o.low);
      return {
        topic: config.topic,
        partition: o.partition,
        endOffset,
        bronzeNext,
        lag: Math.max(0, endOffset - bronzeNext),
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

export type KafkaState =
  | { readonly ok: true; readonly partitions: readonly PartitionLag[] }
  | { readonly ok: false; readonly error: string };

/** Everything `status` prints and the exporter serves; a part that could not be read says why. */
export interface LakeReport {
  readonly at: number;
  readonly dataDir: string;
  readonly tables: readonly TableState[];
  readonly kafka: KafkaState;
  readonly stages: readonly StageRuns[];
  /** Why the lake's tables or run history could not be read, if so. */
  readonly lakeError?: string;
}

/** Reads the lake and Kafka; never throws (each failure is in the report). */
export async function lakeReport(config: Config, history: RunHistory, job: string): Promise<LakeReport> {
  const at = Date.now();
  const kafka: Promise<KafkaState> = bronzeLag(config, job).then(
    (partitions) => ({ ok: true, partitions }),
    (error: Error) => ({ ok: false, error: error.message }),
  );
  let tables: TableState[] = [];
  let lakeError: string | undefined;
  try {
    tables = await tableStates(config.dataDir);
    await history.refresh(config.dataDir);
  } catch (error) {
    lakeError = `the lake at ${path.resolve(config.dataDir)} could not be read: ${(error as Error).message}`;
  }
  return {
    at,
    dataDir: path.resolve(config.dataDir),
    tables,
    kafka: await kafka,
    stages: lakeError ? [] : history.byStage(),
    lakeError,
  };
}
