import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { validateRaw, type ReasonCode } from './events/validate.ts';
import { listParquetFiles, removeStaleTemporaries, replaceDirectory } from './lake/atomic.ts';
import { PartitionedParquetSink } from './lake/parquet-sink.ts';
import { countRows, readColumnBatches } from './lake/parquet-source.ts';
import { lakePaths } from './lake/paths.ts';
import { EventSpill } from './lake/spill.ts';
import { rejectedColumns, silverColumns } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { progressReporter } from './progress.ts';

export interface SilverSummary {
  readonly bronze: number;
  readonly silver: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly reasons: Partial<Record<ReasonCode, number>>;
}

type Coordinate = number;
// partition and offset in one number: offsets stay far below 2^40 in any real topic.
const coordinate = (partition: number, offset: number): Coordinate => partition * 2 ** 40 + offset;

/**
 * Bronze → silver: every bronze record is either a clean event in `silver/vehicles` or, with a
 * reason, in `silver/rejected`; both directories are rebuilt from all of bronze and swapped in.
 */
export async function runSilver(config: Config, logger: Logger): Promise<SilverSummary> {
  const paths = lakePaths(config.dataDir);
  fs.mkdirSync(paths.silverRoot, { recursive: true });
  removeStaleTemporaries(paths.silverRoot);
  const bronzeFiles = listParquetFiles(paths.bronze);
  const bronzeRows = await countRows(bronzeFiles);
  const staging = path.join(paths.silverRoot, `.staging.${process.pid}.${Date.now()}`);
  const stagedSilver = path.join(staging, 'vehicles');
  const stagedRejected = path.join(staging, 'rejected');
  fs.mkdirSync(stagedSilver, { recursive: true });
  fs.mkdirSync(stagedRejected, { recursive: true });

  const silver = new PartitionedParquetSink(stagedSilver, silverColumns, config.rowGroupSize, config.fileRows);
  const rejected = new PartitionedParquetSink(stagedRejected, rejectedColumns, config.rowGroupSize, config.fileRows);
  const spill = new EventSpill(path.join(staging, 'spill'), Math.max(1, Math.ceil(bronzeRows / config.dedupBucketEvents)));
  const reasons: Partial<Record<ReasonCode, number>> = {};
  const count = (reason: ReasonCode) => (reasons[reason] = (reasons[reason] ?? 0) + 1);
  logger.info('silver plan', { bronzeFiles: bronzeFiles.length, bronzeRows, buckets: spill.buckets });

  try {
    // Pass 1: validate every bronze record; rejects are written now, valid events spilled by key.
    const progress = progressReporter(logger, 'validated', bronzeRows);
    let seen = 0;
    for await (const { rows, key, value, partition, offset } of bronzeRecords(bronzeFiles)) {
      for (let i = 0; i < rows; i++) {
        const result = validateRaw(value[i] ? Buffer.from(value[i]!).toString('utf8') : null);
        if (result.ok) {
          const e = result.event;
          spill.add({
            vehicleId: e.vehicleId, type: e.type, latitude: e.latitude, longitude: e.longitude,
            battery: e.battery, eventTime: e.timestamp, partition: partition[i], offset: offset[i],
          });
        } else {
          count(result.reason);
          rejected.write({
            raw_value: value[i] ?? null, key: key[i] ?? null, source_partition: partition[i], source_offset: offset[i],
            reason: result.reason, field: result.field, detail: result.detail,
          });
        }
      }
      progress((seen += rows));
    }
    spill.finish();

    // Pass 2: one bucket at a time, keep the first occurrence of each (vehicle, event time).
    const duplicates = new Map<Coordinate, Coordinate>();
    for (let bucket = 0; bucket < spill.buckets; bucket++) {
      // vehicle id → event time → where it was first seen (number keys hash fast)
      const firstSeen = new Map<string, Map<number, Coordinate>>();
      for (const e of spill.read(bucket)) {
        let times = firstSeen.get(e.vehicleId);
        if (!times) firstSeen.set(e.vehicleId, (times = new Map()));
        const original = times.get(e.eventTime);
        if (original !== undefined) {
          duplicates.set(coordinate(e.partition, e.offset), original);
          continue;
        }
        times.set(e.eventTime, coordinate(e.partition, e.offset));
        silver.write({
          vehicle_id: e.vehicleId, type: e.type, latitude: e.latitude, longitude: e.longitude, battery: e.battery,
          event_time: e.eventTime, source_partition: e.partition, source_offset: e.offset,
        });
      }
    }
    spill.remove();
    if (duplicates.size > 0) {
      await quarantineDuplicates(bronzeFiles, duplicates, rejected);
      reasons.duplicate = duplicates.size;
    }

    silver.close();
    rejected.close();
    replaceDirectory(stagedSilver, paths.silver);
    replaceDirectory(stagedRejected, paths.rejected);
    fs.rmSync(staging, { recursive: true, force: true });

    const summary = { bronze: bronzeRows, silver: silver.rows, rejected: rejected.rows - duplicates.size, duplicates: duplicates.size, reasons };
    const balanced = summary.silver + summary.rejected + summary.duplicates === summary.bronze;
    logger.info('silver done', { ...summary, reconciliation: `bronze ${bronzeRows} = silver ${summary.silver} + rejected ${summary.rejected} + duplicates ${summary.duplicates}`, balanced });
    if (!balanced) throw new Error(`silver does not reconcile with bronze: ${JSON.stringify(summary)}`);
    return summary;
  } catch (error) {
    silver.abort();
    rejected.abort();
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Duplicates keep their own raw record: read back from bronze by (partition, offset). */
async function quarantineDuplicates(
  bronzeFiles: readonly string[],
  duplicates: ReadonlyMap<Coordinate, Coordinate>,
  rejected: PartitionedParquetSink<typeof rejectedColumns>,
): Promise<void> {
  for await (const { rows, key, value, partition, offset } of bronzeRecords(bronzeFiles)) {
    for (let i = 0; i < rows; i++) {
      const original = duplicates.get(coordinate(partition[i], offset[i]));
      if (original === undefined) continue;
      const originalPartition = Math.floor(original / 2 ** 40);
      rejected.write({
        raw_value: value[i] ?? null, key: key[i] ?? null, source_partition: partition[i], source_offset: offset[i],
        reason: 'duplicate', field: null,
        detail: `same vehicleId and timestamp as partition ${originalPartition} offset ${original - originalPartition * 2 ** 40}`,
      });
    }
  }
}

interface BronzeRecords {
  readonly rows: number;
  readonly key: ArrayLike<Uint8Array | null>;
  readonly value: ArrayLike<Uint8Array | null>;
  readonly partition: ArrayLike<number>;
  readonly offset: ArrayLike<number>;
}

/** The bronze columns silver needs, one row group at a time, in (partition, offset) order. */
async function* bronzeRecords(files: readonly string[]): AsyncGenerator<BronzeRecords> {
  for (const file of files) {
    for await (const { rows, columns } of readColumnBatches(file, ['key', 'value', 'partition', 'offset'])) {
      yield { rows, ...(columns as Omit<BronzeRecords, 'rows'>) };
    }
  }
}
