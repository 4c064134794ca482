import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { compileTemplate, detailOf } from './events/rules.ts';
import { eventValidator, type ReasonCode } from './events/validate.ts';
import { CommitConflictError, type LoadedTable, mayRemoveFilesAfter } from './lake/catalog/catalog.ts';
import type { TableFiles } from './lake/io/table-files.ts';
import { readDataFile } from './lake/data-file-source.ts';
import { deserialise } from './lake/iceberg/column-stats.ts';
import type { Snapshot, SnapshotId } from './lake/iceberg/metadata.ts';
import { appendFiles, liveFiles, type LiveFile } from './lake/iceberg/table.ts';
import { DataFileWriter, headOf, lakeOf, workDirOf } from './lake/lake.ts';
import { silverInput, type SilverInput } from './lake/lineage.ts';
import { bucketOf, EventSpill, type SourcedEvent } from './lake/spill.ts';
import { bronzeColumns, rejectedColumns, silverColumns, summaryKeys, tables } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';
import { progressReporter } from './progress.ts';

export interface SilverSummary extends RowCounts {
  readonly bronze: number;
  readonly silver: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly reasons: Partial<Record<ReasonCode, number>>;
  readonly bronzeSnapshots: number;
}

const dayMs = 86_400_000;
const duplicateDetail = compileTemplate(detailOf('duplicate', 'duplicate'), ['partition', 'offset']);
type Coordinate = number;
// partition and offset in one number: offsets stay far below 2^40 in any real topic.
const coordinate = (partition: number, offset: number): Coordinate => partition * 2 ** 40 + offset;

/** A bronze data file still to be placed, and whether its rejects are already in silver.rejected. */
interface PendingFile {
  readonly live: LiveFile;
  readonly rejectsCommitted: boolean;
}

export interface SilverPlan {
  readonly bronzeHead: Snapshot;
  readonly snapshots: readonly Snapshot[];
  /** In bronze's order: snapshot by snapshot, then by each file's first (partition, offset). */
  readonly files: readonly PendingFile[];
  readonly rows: number;
}

/** Silver's row of a valid event, read at `eventTime` from bronze's record at (partition, offset). */
export function silverRow(
  event: Pick<SourcedEvent, 'vehicleId' | 'type' | 'latitude' | 'longitude' | 'battery'>,
  eventTime: number,
  source: { readonly partition: number; readonly offset: number },
) {
  return {
    vehicle_id: event.vehicleId,
    type: event.type,
    latitude: event.latitude,
    longitude: event.longitude,
    battery: event.battery,
    event_time: eventTime,
    source_partition: source.partition,
    source_offset: source.offset,
  };
}

/**
 * The bronze files silver has still to place (see lineage.silverInput): those of the snapshots a
 * run that died between its two commits left half done (their rejects are not written again), then
 * those of the snapshots neither table holds. Undefined when there are none.
 */
export function planSilver(input: SilverInput, added: readonly LiveFile[]): SilverPlan | undefined {
  const snapshots = [...input.recover, ...input.pending];
  if (!input.bronzeHead || snapshots.length === 0) return undefined;
  const order = new Map<SnapshotId, number>(snapshots.map((s, i) => [s['snapshot-id'], i]));
  const recovered = new Set(input.recover.map((s) => s['snapshot-id']));
  const files = added
    .filter((live) => order.has(live.addedBy))
    .sort((a, b) => order.get(a.addedBy)! - order.get(b.addedBy)! || firstCoordinate(a) - firstCoordinate(b))
    .map((live) => ({ live, rejectsCommitted: recovered.has(live.addedBy) }));
  return {
    bronzeHead: input.bronzeHead,
    snapshots,
    files,
    rows: files.reduce((sum, f) => sum + f.live.file.recordCount, 0),
  };
}

async function planRun(
  bronze: LoadedTable,
  silver: LoadedTable,
  rejected: LoadedTable,
): Promise<SilverPlan | undefined> {
  const input = silverInput(bronze.metadata, silver.metadata, rejected.metadata);
  const ids = new Set([...input.recover, ...input.pending].map((s) => s['snapshot-id']));
  if (ids.size === 0) return undefined;
  return planSilver(input, await liveFiles(bronze, input.bronzeHead, ids));
}

function firstCoordinate(f: LiveFile): number {
  const partition = f.file.lowerBounds.get(4);
  const offset = f.file.lowerBounds.get(5);
  return partition && offset ? coordinate(deserialise('int', partition), deserialise('long', offset)) : 0;
}

/**
 * Bronze → silver, incrementally: the records of bronze snapshots silver has not seen are validated;
 * rejects go to `silver.rejected` with a reason, valid events are de-duplicated (against each other
 * and against the silver rows of the same days whose file statistics overlap them) and appended to
 * `silver.vehicles`. Every bronze record ends up exactly once in silver ∪ rejected, checked before
 * anything is committed.
 */
export async function runSilver(config: Config, logger: Logger): Promise<SilverSummary> {
  const lake = lakeOf(config);
  const bronze = await lake.find('bronze');
  if (!bronze) throw new Error(`no bronze table in ${lake.catalog.description}; run bronze first`);
  const silver = await lake.open('silver');
  const rejected = await lake.open('rejected');
  const plan = await planRun(bronze, silver, rejected);
  if (!plan) {
    logger.info('silver is up to date with bronze', {
      bronzeSnapshot: String(headOf(bronze)?.['snapshot-id'] ?? 'none'),
    });
    return {
      bronze: 0,
      silver: 0,
      rejected: 0,
      duplicates: 0,
      reasons: {},
      bronzeSnapshots: 0,
      rowCounts: rowCounts(0, 0),
    };
  }
  const catchUp = plan.files.filter((f) => f.rejectsCommitted).length;
  logger.info('silver plan', {
    bronzeSnapshots: plan.snapshots.length,
    bronzeFiles: plan.files.length,
    bronzeRows: plan.rows,
    ...(catchUp ? { filesWhoseRejectsAreCommitted: catchUp } : {}),
  });

  const workDir = path.join(workDirOf(config), `silver-${randomUUID()}`);
  removeAbandonedWork(path.dirname(workDir), logger);
  const silverWriter = new DataFileWriter(silver, silverColumns, config.rowGroupSize, config.fileRows, undefined, true);
  const rejectedWriter = new DataFileWriter(
    rejected,
    rejectedColumns,
    config.rowGroupSize,
    config.fileRows,
    undefined,
    true,
  );
  const spill = new EventSpill(path.join(workDir, 'days'));
  const reasons: Partial<Record<ReasonCode, number>> = {};
  let rejectedCommitted = false;
  const count = (reason: ReasonCode, n = 1) => (reasons[reason] = (reasons[reason] ?? 0) + n);
  const { validateBytes } = eventValidator(config);
  try {
    // Pass 1: validate every new bronze record; rejects are written now, valid events spilled by day.
    const timeRange = new Map<number, { min: number; max: number }>();
    const progress = progressReporter(logger, 'validated', plan.rows);
    let seen = 0;
    for (const { live, rejectsCommitted } of plan.files) {
      for await (const { rows, columns } of readDataFile(bronze.files, live.file, bronzeColumns, [
        'key',
        'value',
        'partition',
        'offset',
      ])) {
        const key = columns.key as ArrayLike<Uint8Array | null>;
        const value = columns.value as ArrayLike<Uint8Array | null>;
        const partition = columns.partition as ArrayLike<number>;
        const offset = columns.offset as ArrayLike<number>;
        for (let i = 0; i < rows; i++) {
          const result = validateBytes(value[i] ?? null);
          if (result.ok) {
            const e = result.event;
            const day = Math.floor(e.timestamp / dayMs);
            const range = timeRange.get(day);
            if (!range) timeRange.set(day, { min: e.timestamp, max: e.timestamp });
            else if (e.timestamp < range.min) range.min = e.timestamp;
            else if (e.timestamp > range.max) range.max = e.timestamp;
            spill.add(day, {
              vehicleId: e.vehicleId,
              type: e.type,
              latitude: e.latitude,
              longitude: e.longitude,
              battery: e.battery,
              eventTime: e.timestamp,
              partition: partition[i],
              offset: offset[i],
              existing: false,
            });
          } else {
            count(result.reason);
            if (!rejectsCommitted) {
              rejectedWriter.write({
                raw_value: value[i] ?? null,
                key: key[i] ?? null,
                source_partition: partition[i],
                source_offset: offset[i],
                reason: result.reason,
                field: result.field,
                detail: result.detail,
              });
            }
          }
        }
        progress((seen += rows));
      }
    }
    spill.finish();

    // Pass 2: day by day, keep the first occurrence of each (vehicle, event time).
    const candidates = await silverFilesOverlapping(silver, timeRange);
    const duplicates = new Map<Coordinate, Coordinate>();
    for (const [day, newEvents] of spill.keys()) {
      const existing = candidates.get(day) ?? [];
      const existingRows = existing.reduce((sum, f) => sum + f.file.recordCount, 0);
      await deduplicateDay(
        silver.files,
        spill,
        day,
        existing,
        newEvents + existingRows,
        config.dedupBucketEvents,
        path.join(workDir, `day-${day}`),
        duplicates,
        (e) => {
          silverWriter.write(silverRow(e, e.eventTime, e));
        },
      );
      silverWriter.closeOpenFiles();
      spill.drop(day);
    }
    if (duplicates.size > 0) {
      count('duplicate', duplicates.size);
      await quarantineDuplicates(bronze.files, plan.files, duplicates, rejectedWriter);
    }

    const silverFiles = await silverWriter.finish();
    const rejectedFiles = await rejectedWriter.finish();
    const rejectedTotal = Object.values(reasons).reduce((sum, n) => sum + (n ?? 0), 0);
    const summary = {
      bronze: plan.rows,
      silver: silverWriter.rows,
      rejected: rejectedTotal - duplicates.size,
      duplicates: duplicates.size,
      reasons,
      bronzeSnapshots: plan.snapshots.length,
    };
    const balanced = summary.silver + summary.rejected + summary.duplicates === summary.bronze;
    logger.info('silver reconciliation', {
      reconciliation: `bronze ${summary.bronze} = silver ${summary.silver} + rejected ${summary.rejected} + duplicates ${summary.duplicates}`,
      balanced,
    });
    if (!balanced)
      throw new Error(`silver does not reconcile with bronze, nothing committed: ${JSON.stringify(summary)}`);

    // silver.rejected first: a run that dies between the two commits is completed by the next one
    // without writing its rejects twice (see planRun).
    const marker = { [summaryKeys.bronzeSnapshot]: String(plan.bronzeHead['snapshot-id']) };
    if (rejectedFiles.length > 0) {
      await appendFiles(rejected, rejectedFiles, { ...marker, [summaryKeys.writer]: 'node silver' });
      rejectedCommitted = true;
      logger.info('silver.rejected committed', { files: rejectedFiles.length });
    }
    await appendFiles(silver, silverFiles, { ...marker, [summaryKeys.writer]: 'node silver' });
    logger.info('silver done', { ...summary, silverFiles: silverFiles.length, rejectedFiles: rejectedFiles.length });
    // Out: rows written to silver.vehicles and silver.rejected (duplicates are rejected rows).
    return { ...summary, rowCounts: rowCounts(summary.bronze, summary.silver + summary.rejected + summary.duplicates) };
  } catch (error) {
    if (mayRemoveFilesAfter(error)) {
      await silverWriter.abort();
      if (!rejectedCommitted) await rejectedWriter.abort();
    }
    if (error instanceof CommitConflictError) {
      throw new Error(
        `another silver run committed first; this run added nothing${rejectedCommitted ? ' to silver.vehicles (its rejects are committed; the next run completes silver without repeating them)' : ''} (${error.message})`,
      );
    }
    throw error;
  } finally {
    spill.remove();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Spill directories of silver runs that were killed: older than any run lives (a Job's deadline). */
function removeAbandonedWork(dir: string, logger: Logger): void {
  if (!fs.existsSync(dir)) return;
  const dayAgo = Date.now() - dayMs;
  for (const name of fs.readdirSync(dir)) {
    const entry = path.join(dir, name);
    if (name.startsWith('silver-') && fs.statSync(entry).mtimeMs < dayAgo) {
      fs.rmSync(entry, { recursive: true, force: true });
      logger.info('removed the spill files of a silver run that was killed', { dir: entry });
    }
  }
}

/**
 * Per day, the silver files a new event of that day can collide with: files of the day's partition
 * whose event_time bounds overlap the new events' range. Events arrive roughly in time order, so
 * this is usually the last file or two, whatever silver already holds.
 */
async function silverFilesOverlapping(
  silver: LoadedTable,
  ranges: ReadonlyMap<number, { min: number; max: number }>,
): Promise<Map<number, LiveFile[]>> {
  const byDay = new Map<number, LiveFile[]>();
  if (ranges.size === 0 || !headOf(silver)) return byDay;
  const partitionName = tables.silver.partitionBy[0].name;
  for (const live of await liveFiles(silver)) {
    const day = live.file.partition[partitionName];
    const range = day === null || day === undefined ? undefined : ranges.get(day);
    if (!range) continue;
    const lower = live.file.lowerBounds.get(6);
    const upper = live.file.upperBounds.get(6);
    if (
      lower &&
      upper &&
      (deserialise('timestamptz', upper) < range.min || deserialise('timestamptz', lower) > range.max)
    )
      continue;
    const list = byDay.get(day!) ?? [];
    list.push(live);
    byDay.set(day!, list);
  }
  return byDay;
}

async function* existingEvents(tableFiles: TableFiles, files: readonly LiveFile[]): AsyncGenerator<SourcedEvent> {
  const names = ['vehicle_id', 'event_time', 'source_partition', 'source_offset'];
  for (const { file } of files) {
    for await (const { rows, columns: c } of readDataFile(tableFiles, file, silverColumns, names)) {
      for (let i = 0; i < rows; i++) {
        yield {
          vehicleId: c.vehicle_id[i] as string,
          eventTime: c.event_time[i] as number,
          partition: c.source_partition[i] as number,
          offset: c.source_offset[i] as number,
          existing: true,
          // Only the key (vehicle, time) of a row already in silver is read; it is never written again.
          type: '',
          latitude: 0,
          longitude: 0,
          battery: 0,
        };
      }
    }
  }
}

/**
 * Passes the new events of one day that are not duplicates to `keep`, recording each duplicate's original. Rows
 * already in silver always win; among new events the first in (partition, offset) order wins. A
 * day with more events than `bucketEvents` is split by hash so that one bucket is in memory at a time.
 */
async function deduplicateDay(
  silverTable: TableFiles,
  spill: EventSpill,
  day: number,
  existing: readonly LiveFile[],
  total: number,
  bucketEvents: number,
  workDir: string,
  duplicates: Map<Coordinate, Coordinate>,
  keep: (event: SourcedEvent) => void,
): Promise<void> {
  const buckets = Math.max(1, Math.ceil(total / bucketEvents));
  if (buckets === 1) {
    const known: SourcedEvent[] = [];
    for await (const e of existingEvents(silverTable, existing)) known.push(e);
    keepFirst(known, spill, day, duplicates, keep);
    return;
  }
  const split = new EventSpill(workDir);
  for await (const e of existingEvents(silverTable, existing))
    split.add(bucketOf(e.vehicleId, e.eventTime, buckets), e);
  for (const e of spill.read(day)) split.add(bucketOf(e.vehicleId, e.eventTime, buckets), e);
  split.finish();
  for (const [bucket] of split.keys()) keepFirst([], split, bucket, duplicates, keep);
  split.remove();
}

/**
 * De-duplicates the events of `known` followed by those of one spill key: passes those that are
 * kept (and not already in silver) to `keep`, vehicle by vehicle in the order first seen. Events are
 * kept as positions (in `known`: -1 - index; in the key's records: the byte where they start) and
 * read again only to compare two or to be kept.
 */
function keepFirst(
  known: readonly SourcedEvent[],
  spill: EventSpill,
  key: number,
  duplicates: Map<Coordinate, Coordinate>,
  keep: (event: SourcedEvent) => void,
): void {
  const records = spill.records(key);
  const eventOf = (at: number) => (at < 0 ? known[-1 - at] : spill.eventAt(records, at));
  // vehicle id → event time → the event kept so far
  const kept = new Map<string, Map<number, number>>();
  const add = (vehicleId: string, eventTime: number, at: number) => {
    let times = kept.get(vehicleId);
    if (!times) kept.set(vehicleId, (times = new Map()));
    const otherAt = times.get(eventTime);
    if (otherAt === undefined) {
      times.set(eventTime, at);
      return;
    }
    const other = eventOf(otherAt);
    const e = eventOf(at);
    const otherWins = other.existing || coordinate(other.partition, other.offset) < coordinate(e.partition, e.offset);
    const [winner, drop] = otherWins ? [other, e] : [e, other];
    times.set(eventTime, otherWins ? otherAt : at);
    duplicates.set(coordinate(drop.partition, drop.offset), coordinate(winner.partition, winner.offset));
  };
  for (let i = 0; i < known.length; i++) add(known[i].vehicleId, known[i].eventTime, -1 - i);
  spill.scan(records, add);
  for (const times of kept.values())
    for (const at of times.values()) {
      const e = eventOf(at);
      if (!e.existing) keep(e);
    }
}

/** Duplicates keep their own raw record: read back from the new bronze files by (partition, offset). */
async function quarantineDuplicates(
  bronzeFiles: TableFiles,
  files: readonly PendingFile[],
  duplicates: ReadonlyMap<Coordinate, Coordinate>,
  rejected: DataFileWriter<typeof rejectedColumns>,
): Promise<void> {
  for (const { live, rejectsCommitted } of files) {
    if (rejectsCommitted) continue;
    for await (const { rows, columns } of readDataFile(bronzeFiles, live.file, bronzeColumns, [
      'key',
      'value',
      'partition',
      'offset',
    ])) {
      const partition = columns.partition as ArrayLike<number>;
      const offset = columns.offset as ArrayLike<number>;
      for (let i = 0; i < rows; i++) {
        const original = duplicates.get(coordinate(partition[i], offset[i]));
        if (original === undefined) continue;
        const originalPartition = Math.floor(original / 2 ** 40);
        rejected.write({
          raw_value: (columns.value as ArrayLike<Uint8Array | null>)[i] ?? null,
          key: (columns.key as ArrayLike<Uint8Array | null>)[i] ?? null,
          source_partition: partition[i],
          source_offset: offset[i],
          reason: 'duplicate',
          field: null,
          detail: duplicateDetail({
            partition: String(originalPartition),
            offset: String(original - originalPartition * 2 ** 40),
          }),
        });
      }
    }
  }
}
