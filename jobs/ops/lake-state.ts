/**
 * The lake's state as `status` and the metrics exporter report it, read in two parts that fail
 * apart: the lake (each table's last commit, rows and files from its metadata alone, bronze's
 * offsets, the run history) and Kafka (the topic's offsets); bronze's lag per partition is the one
 * minus the other.
 */
import path from 'node:path';
import type { Config } from '../config.ts';
import { withAdminWithin } from '../kafka/bounded-admin.ts';
import { requireTopic } from '../kafka/client.ts';
import { answeredNothing, listenerMismatch } from '../kafka/listener-probe.ts';
import { KafkaAccessError, securityFailure } from '../kafka/security.ts';
import type { LoadedTable } from '../lake/catalog/catalog.ts';
import { headOf, type Lake, lakeOf, lakeTables, type LakeTableKey } from '../lake/lake.ts';
import { pendingSnapshots } from '../lake/lineage.ts';
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

/** Each table of the lake, read downstream first (as verify reads them: each one's input is then committed). */
async function loadTables(lake: Lake): Promise<Record<LakeTableKey, LoadedTable | undefined>> {
  const order: LakeTableKey[] = ['gold', 'silver', 'rejected', 'bronze', 'runs'];
  const loaded = {} as Record<LakeTableKey, LoadedTable | undefined>;
  for (const key of order) loaded[key] = await lake.find(key);
  return loaded;
}

export function tableStates(loaded: Record<LakeTableKey, LoadedTable | undefined>): TableState[] {
  const states: TableState[] = [];
  for (const key of Object.keys(lakeTables) as LakeTableKey[]) {
    const table = loaded[key];
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

/** What the lake itself says. */
export interface LakePart {
  readonly tables: readonly TableState[];
  readonly stages: readonly StageRuns[];
  /** Per Kafka partition, the first offset bronze's current snapshot does not hold. */
  readonly bronzeNext: ReadonlyMap<number, number>;
  /** Per stage, the snapshots of its input it has still to read (lineage.pendingSnapshots). */
  readonly pending: { readonly silver: number; readonly gold: number };
}

/** Reads the lake's tables and brings `history` up to date; throws naming the lake. */
export async function readLake(config: Config, history: RunHistory): Promise<LakePart> {
  try {
    const lake = lakeOf(config);
    const loaded = await loadTables(lake);
    await history.refresh(lake);
    const pending = pendingSnapshots({
      bronze: loaded.bronze?.metadata,
      silver: loaded.silver?.metadata,
      rejected: loaded.rejected?.metadata,
      gold: loaded.gold?.metadata,
    });
    return {
      tables: tableStates(loaded),
      stages: history.byStage(),
      bronzeNext: nextOffsetsOf(headOf(loaded.bronze)),
      pending,
    };
  } catch (error) {
    throw new Error(`${lakeOf(config).catalog.description} could not be read: ${(error as Error).message}`);
  }
}

/** What Kafka says of the topic: per partition, its first and next offsets. */
export interface KafkaPart {
  readonly topic: string;
  readonly partitions: readonly { readonly partition: number; readonly low: number; readonly high: number }[];
}

/** KafkaJS's own log lines would repeat, on every refresh against an unreachable Kafka, the error reported once. */
const quiet = (job: string): Logger => ({ job, log: () => {}, info: () => {}, warn: () => {}, error: () => {} });

/**
 * The topic's offsets per partition, within `ms` (at least a second), on a client of its own whose
 * connections are all closed when it ends; throws naming the brokers when Kafka does not answer.
 */
export async function readKafka(config: Config, job: string, ms: number): Promise<KafkaPart> {
  const bound = Math.max(ms, 1_000);
  try {
    const offsets = await withAdminWithin(config, quiet(job), bound, async (admin) => {
      await requireTopic(admin, config, job);
      return admin.fetchTopicOffsets(config.topic);
    });
    return {
      topic: config.topic,
      partitions: offsets
        .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
        .sort((a, b) => a.partition - b.partition),
    };
  } catch (error) {
    if (error instanceof KafkaAccessError) throw error;
    // A listener of another protocol closes the connection at once (a Kafka that does not answer is not probed).
    const cause =
      securityFailure(error, config) ??
      (answeredNothing(error, false) ? await listenerMismatch(error, config) : undefined);
    throw new Error(
      cause ??
        `Kafka at ${config.bootstrapServers.join(',')} did not give the topic's end offsets within ${bound / 1000}s: ${(error as Error).message}`,
    );
  }
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

export function lagOf(kafka: KafkaPart, bronzeNext: ReadonlyMap<number, number>): PartitionLag[] {
  return kafka.partitions.map(({ partition, low, high }) => {
    const next = bronzeNext.get(partition) ?? low;
    return { topic: kafka.topic, partition, endOffset: high, bronzeNext: next, lag: Math.max(0, high - next) };
  });
}

/**
 * One part as last read: the values of the last read that succeeded and when it was, and the
 * error of the last read if that one failed (the values are then older than the last attempt).
 */
export interface PartState<T> {
  readonly value?: T;
  readonly readAt?: number;
  readonly error?: string;
}

export type KafkaState =
  | { readonly ok: true; readonly partitions: readonly PartitionLag[] }
  | { readonly ok: false; readonly error: string };

/** Everything `status` prints and the exporter serves; a part that could not be read says why. */
export interface LakeReport {
  readonly at: number;
  readonly dataDir: string;
  readonly tables: readonly TableState[];
  /** Per stage, the snapshots of its input it has still to read; undefined when the lake was never read. */
  readonly pending?: { readonly silver: number; readonly gold: number };
  /** Bronze's lag per partition, known when both Kafka and the lake were read once. */
  readonly kafka: KafkaState;
  readonly stages: readonly StageRuns[];
  /** Why the last read of the lake's tables or run history failed, if it did. */
  readonly lakeError?: string;
  /** Why the last read of Kafka failed, if it did. */
  readonly kafkaError?: string;
  /** When the tables, stages and bronze offsets shown were read (undefined: never). */
  readonly lakeReadAt?: number;
  /** When the topic's offsets behind the lag were read (undefined: never). */
  readonly kafkaReadAt?: number;
}

export function assembleReport(
  config: Config,
  lake: PartState<LakePart>,
  kafka: PartState<KafkaPart>,
  at = Date.now(),
): LakeReport {
  let lag: KafkaState;
  if (!kafka.value) lag = { ok: false, error: kafka.error ?? 'Kafka has not been read yet' };
  else if (!lake.value)
    lag = { ok: false, error: `bronze's offsets are unknown: ${lake.error ?? 'the lake has not been read yet'}` };
  else lag = { ok: true, partitions: lagOf(kafka.value, lake.value.bronzeNext) };
  return {
    at,
    dataDir: path.resolve(config.dataDir),
    tables: lake.value?.tables ?? [],
    pending: lake.value?.pending,
    kafka: lag,
    stages: lake.value?.stages ?? [],
    lakeError: lake.error,
    kafkaError: kafka.error,
    lakeReadAt: lake.readAt,
    kafkaReadAt: kafka.readAt,
  };
}

/** Runs `read` once: its value and when, or why it failed. Never throws. */
export async function readPart<T>(read: () => Promise<T>): Promise<PartState<T>> {
  try {
    const value = await read();
    return { value, readAt: Date.now() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Reads the lake and Kafka (within LAKEHOUSE_KAFKA_WAIT_SECONDS) now, side by side; never throws. */
export async function lakeReport(config: Config, history: RunHistory, job: string): Promise<LakeReport> {
  const at = Date.now();
  const [lake, kafka] = await Promise.all([
    readPart(() => readLake(config, history)),
    readPart(() => readKafka(config, job, config.kafkaWaitSeconds * 1000)),
  ]);
  return assembleReport(config, lake, kafka, at);
}
