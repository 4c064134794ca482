/**
 * `forget --vehicle ID [--vehicle ID ...]`: erases vehicles from the lake (docs/curation.md). Every
 * row that names them leaves bronze, silver.rejected and silver.vehicles (one `overwrite` snapshot
 * each, rewriting only the files that held them), gold is recomputed, every older snapshot of the
 * four tables is expired and every file nothing references any more is deleted. Bronze records the
 * erased offsets (verify expects exactly those absent) and, until the last step is done, the
 * erasure as pending: a run that dies is completed by the next one with the same ids.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import {
  pendingProblem,
  mergeOffsets,
  offsetRangesJson,
  vehicleDigest,
  VehicleMatcher,
  vehicleFlag,
  vehicleIdsOf,
} from './forget/plan.ts';
import { runGold } from './gold.ts';
import type { JobContext } from './job.ts';
import { type LoadedTable, mayRemoveFilesAfter } from './lake/catalog/catalog.ts';
import { readDataFile } from './lake/data-file-source.ts';
import type { DataFile } from './lake/iceberg/manifest.ts';
import { lineage, type SnapshotId } from './lake/iceberg/metadata.ts';
import { liveFiles, rewriteFiles, expireSnapshots } from './lake/iceberg/table.ts';
import type { OutputFile } from './lake/io/file-io.ts';
import { headOf, type Lake, lakeOf } from './lake/lake.ts';
import { erasedOffsets, erasureKeys, pendingErasure, type PendingErasure, silverInput } from './lake/lineage.ts';
import { expiredOffsetProperties } from './lake/offsets.ts';
import { ParquetSink } from './lake/parquet-sink.ts';
import { changeOnlyKeys, summaryKeys, type ColumnSpec } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { columnsOf } from './maintain/compact.ts';
import { removeOrphans } from './maintain/orphans.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';

/**
 * Checks forget's own arguments before the run takes the lease, so that bad input changes nothing
 * (not even ops.runs): the ids, and that they cover an erasure left incomplete. The job checks the
 * latter again under the lease.
 */
export async function checkForgetArguments(argv: readonly string[], config: Config): Promise<void> {
  const ids = vehicleIdsOf(argv);
  const bronze = await lakeOf(config).find('bronze');
  const wrongIds = pendingProblem(pendingErasure(bronze?.metadata), ids);
  if (wrongIds) problem(wrongIds);
}

type ErasedTable = 'bronze' | 'rejected' | 'silver';

/** Where each table keeps a record's Kafka partition and offset, and how a row names a vehicle. */
const shapes: Record<ErasedTable, { partition: string; offset: string; names: string[] }> = {
  bronze: { partition: 'partition', offset: 'offset', names: ['key', 'value'] },
  rejected: { partition: 'source_partition', offset: 'source_offset', names: ['key', 'raw_value'] },
  silver: { partition: 'source_partition', offset: 'source_offset', names: ['vehicle_id'] },
};

export interface ForgetResult extends RowCounts {
  readonly vehicles: number;
  /** The salted SHA-256 digests the lake records (jobs/forget/plan.ts, vehicleDigest), not the ids. */
  readonly digests: readonly string[];
  /** Rows removed per table. */
  readonly removed: Record<ErasedTable, number>;
  readonly goldRecomputed: boolean;
  readonly snapshotsExpired: Record<string, number>;
  readonly filesDeleted: Record<string, number>;
  /** Set when this run finished an erasure an earlier run left incomplete. */
  readonly completed?: string;
}

/** A data file holding rows to erase, with the Kafka offsets its rows span (to find it again cheaply). */
interface Candidate {
  readonly file: DataFile;
  /** Per partition, the lowest and highest offset of the file's rows. */
  readonly spans: Map<number, [number, number]>;
}

interface Scan {
  readonly files: Candidate[];
  /** Per partition, the offsets of rows that name a vehicle. */
  readonly named: Map<number, number[]>;
  readonly rows: number;
}

function columnsOrFail(table: LoadedTable): ColumnSpec[] {
  const columns = columnsOf(table);
  if (!columns) throw new Error(`${table.spec.name}: a column has a type the Node writer does not write`);
  return columns;
}

/** Reads the live files of a table: which rows name a vehicle, and each file's offset spans. */
async function scan(table: LoadedTable, key: ErasedTable, matcher: VehicleMatcher): Promise<Scan> {
  const shape = shapes[key];
  const columns = columnsOrFail(table);
  const files: Candidate[] = [];
  const named = new Map<number, number[]>();
  let rows = 0;
  for (const { file } of await liveFiles(table)) {
    const spans = new Map<number, [number, number]>();
    for await (const batch of readDataFile(table.files, file, columns, [
      shape.partition,
      shape.offset,
      ...shape.names,
    ])) {
      const c = batch.columns as Record<string, ArrayLike<unknown>>;
      for (let i = 0; i < batch.rows; i++) {
        const partition = c[shape.partition][i] as number;
        const offset = c[shape.offset][i] as number;
        const span = spans.get(partition);
        if (!span) spans.set(partition, [offset, offset]);
        else {
          span[0] = Math.min(span[0], offset);
          span[1] = Math.max(span[1], offset);
        }
        const names =
          key === 'silver'
            ? matcher.isVehicle(c.vehicle_id[i])
            : matcher.keyNames(c.key[i] as Uint8Array | null) ||
              matcher.valueNames(c[shape.names[1]][i] as Uint8Array | null);
        if (names) named.set(partition, [...(named.get(partition) ?? []), offset]);
        rows++;
      }
    }
    files.push({ file, spans });
  }
  return { files, named, rows };
}

/** Whether one of the erased offsets falls within the file's spans. */
function mayHold(candidate: Candidate, erased: ReadonlyMap<number, ReadonlySet<number>>): boolean {
  for (const [partition, [low, high]] of candidate.spans)
    for (const offset of erased.get(partition) ?? []) if (offset >= low && offset <= high) return true;
  return false;
}

interface Rewrite {
  readonly removed: DataFile[];
  readonly added: { file: DataFile; output: OutputFile }[];
  rows: number;
}

/** Writes each file that holds an erased offset again without those rows (not at all when none is left). */
async function rewrite(
  table: LoadedTable,
  key: ErasedTable,
  candidates: readonly Candidate[],
  erased: ReadonlyMap<number, ReadonlySet<number>>,
  rowGroupSize: number,
  run: string,
): Promise<Rewrite> {
  const shape = shapes[key];
  const columns = columnsOrFail(table);
  const result: Rewrite = { removed: [], added: [], rows: 0 };
  try {
    for (const { file } of candidates.filter((c) => mayHold(c, erased))) {
      const directory = path.posix.dirname(table.files.relative(file.path, 'data file'));
      const output = table.files.output(
        `${directory}/${String(result.added.length).padStart(5, '0')}-erased-${run}.parquet`,
      );
      const sink = new ParquetSink(output.localPath, columns, rowGroupSize);
      let dropped = 0;
      try {
        for await (const batch of readDataFile(
          table.files,
          file,
          columns,
          columns.map((c) => c.name),
        )) {
          const c = batch.columns as Record<string, ArrayLike<unknown>>;
          for (let i = 0; i < batch.rows; i++) {
            if (erased.get(c[shape.partition][i] as number)?.has(c[shape.offset][i] as number)) {
              dropped++;
              continue;
            }
            const row: Record<string, unknown> = {};
            for (const column of columns) row[column.name] = c[column.name][i] ?? null;
            sink.write(row as never);
          }
        }
      } catch (error) {
        sink.abort();
        await output.discard();
        throw error;
      }
      if (dropped === 0) {
        sink.abort();
        await output.discard();
        continue;
      }
      result.removed.push(file);
      result.rows += dropped;
      if (sink.rows === 0) {
        sink.abort();
        await output.discard();
      } else {
        const written = sink.close(file.partition as Record<string, number | null>);
        result.added.push({ file: { ...written, path: output.uri }, output });
      }
    }
    for (const { output } of result.added) await output.publish();
    return result;
  } catch (error) {
    for (const { output } of result.added) await output.discard();
    throw error;
  }
}

/** The state keys of the table's head (resume offsets, markers), carried forward as compaction carries them. */
function carried(table: LoadedTable): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headOf(table)?.summary ?? {}).filter(
      ([k]) => k.startsWith('lakehouse.') && !changeOnlyKeys.includes(k) && !k.startsWith('lakehouse.erasure.'),
    ),
  );
}

/** Commits the rewrite as the table's erasure snapshot; on failure its new files are removed. */
async function commitErasure(
  table: LoadedTable,
  done: Rewrite,
  summary: Record<string, string>,
  properties: Record<string, string> = {},
): Promise<LoadedTable> {
  try {
    return await rewriteFiles(
      table,
      done.removed,
      done.added.map((a) => a.file),
      summary,
      properties,
    );
  } catch (error) {
    if (mayRemoveFilesAfter(error)) for (const { output } of done.added) await output.discard();
    throw error;
  }
}

/**
 * Expires every snapshot but the head (each older one holds the vehicles, or is the ancestor of
 * one that does) and deletes every file of the table that nothing retained references: the files
 * that held the vehicles, the manifests and manifest lists that named them, older metadata versions.
 */
async function dropHistory(lake: Lake, key: 'bronze' | 'silver' | 'rejected' | 'gold') {
  let table = await lake.find(key);
  const head = headOf(table);
  if (!table || !head) return { expired: 0, deleted: 0 };
  const older = (table.metadata.snapshots ?? []).filter((s) => s['snapshot-id'] !== head['snapshot-id']);
  if (older.length > 0) {
    const chain = lineage(table.metadata).reverse().slice(0, -1);
    const properties = key === 'bronze' ? expiredOffsetProperties(table.metadata.properties, chain) : {};
    table = await expireSnapshots(table, new Set<SnapshotId>(older.map((s) => s['snapshot-id'])), properties);
  }
  const orphans = await removeOrphans(table, 0, new Set(), 0);
  return { expired: older.length, deleted: orphans.removed };
}

function problem(message: string): never {
  throw new ConfigError('--vehicle', message);
}

async function forget(config: Config, logger: Logger, context: JobContext): Promise<ForgetResult> {
  const ids = vehicleIdsOf(context.argv);
  const matcher = new VehicleMatcher(ids);
  const lake = lakeOf(config);
  const gold = await lake.find('gold');
  const silver = await lake.find('silver');
  const rejected = await lake.find('rejected');
  const bronze = await lake.find('bronze');
  const pending = pendingErasure(bronze?.metadata);
  const wrongIds = pendingProblem(pending, ids);
  if (wrongIds) problem(wrongIds);
  const nothing: ForgetResult = {
    vehicles: ids.length,
    digests: [],
    removed: { bronze: 0, rejected: 0, silver: 0 },
    goldRecomputed: false,
    snapshotsExpired: {},
    filesDeleted: {},
    rowCounts: rowCounts(0, 0),
  };
  if (!bronze || !headOf(bronze)) {
    logger.info('nothing to forget: bronze.vehicles has no snapshot', { lake: lake.catalog.description });
    return nothing;
  }
  // Silver reads the files bronze's appends added: a file rewritten before silver read it would be lost to it.
  const input = silverInput(bronze.metadata, silver?.metadata, rejected?.metadata);
  if (input.pending.length + input.recover.length > 0)
    throw new Error(
      `silver has ${input.pending.length + input.recover.length} bronze snapshots still to read; run silver (and gold) first, then forget`,
    );

  const present = { bronze, rejected, silver } as Record<ErasedTable, LoadedTable | undefined>;
  const scans = {} as Record<ErasedTable, Scan | undefined>;
  const erasedNow = new Map<number, Set<number>>();
  let scanned = 0;
  for (const key of ['bronze', 'rejected', 'silver'] as const) {
    const table = present[key];
    if (!table || !headOf(table)) continue;
    scans[key] = await scan(table, key, matcher);
    scanned += scans[key].rows;
    for (const [partition, offsets] of scans[key].named) {
      const set = erasedNow.get(partition) ?? new Set();
      for (const o of offsets) set.add(o);
      erasedNow.set(partition, set);
    }
  }
  if (erasedNow.size === 0 && !pending) {
    logger.info('nothing to forget: no row names these vehicles', { vehicles: ids.length });
    return { ...nothing, rowCounts: rowCounts(scanned, 0) };
  }

  const salt = pending?.salt ?? randomUUID();
  const digests = [...new Set([...(pending?.vehicles ?? []), ...ids.map((id) => vehicleDigest(salt, id))])];
  const record: PendingErasure = { run: pending?.run ?? context.runId, salt, vehicles: digests };
  const allErased = mergeOffsets(erasedOffsets(bronze.metadata), erasedNow);
  logger.info(pending ? 'completing an incomplete erasure' : 'erasing', {
    vehicles: ids.length,
    erasure: record.run,
    offsets: [...erasedNow.values()].reduce((n, s) => n + s.size, 0),
  });

  const removed = { bronze: 0, rejected: 0, silver: 0 };
  const stamp = { [erasureKeys.run]: context.runId, [summaryKeys.writer]: 'node forget' };
  // Bronze first: its commit records the erasure as pending, so a run that dies after it is completed by the next.
  const bronzeDone = await rewrite(
    bronze,
    'bronze',
    scans.bronze!.files,
    erasedNow,
    config.rowGroupSize,
    context.runId,
  );
  const bronzeErased = await commitErasure(
    bronze,
    bronzeDone,
    { ...carried(bronze), ...stamp, [erasureKeys.vehicles]: digests.join(',') },
    { [erasureKeys.erasedOffsets]: offsetRangesJson(allErased), [erasureKeys.pending]: JSON.stringify(record) },
  );
  removed.bronze = bronzeDone.rows;
  logger.info('table erased', { table: bronze.spec.name, rows: bronzeDone.rows, files: bronzeDone.removed.length });
  const marker = { [summaryKeys.bronzeSnapshot]: String(headOf(bronzeErased)!['snapshot-id']) };
  for (const key of ['rejected', 'silver'] as const) {
    const table = present[key];
    if (!table || !headOf(table)) continue;
    const done = await rewrite(table, key, scans[key]!.files, erasedNow, config.rowGroupSize, context.runId);
    await commitErasure(table, done, { ...carried(table), ...marker, ...stamp });
    removed[key] = done.rows;
    logger.info('table erased', { table: table.spec.name, rows: done.rows, files: done.removed.length });
  }
  let goldRecomputed = false;
  if (gold && headOf(gold) && silver) {
    await runGold(config, logger);
    goldRecomputed = true;
  }

  const snapshotsExpired: Record<string, number> = {};
  const filesDeleted: Record<string, number> = {};
  // Downstream first, so that each table's marker names a snapshot its input still has.
  for (const key of ['gold', 'silver', 'rejected', 'bronze'] as const) {
    const { expired, deleted } = await dropHistory(lake, key);
    snapshotsExpired[key] = expired;
    filesDeleted[key] = deleted;
    logger.info('history dropped', { table: key, snapshotsExpired: expired, filesDeleted: deleted });
  }
  const latest = (await lake.find('bronze'))!;
  await latest.catalog.commit(
    latest,
    [{ action: 'set-properties', updates: { [erasureKeys.pending]: '' } }],
    [{ type: 'assert-table-uuid', uuid: latest.metadata['table-uuid'] }],
  );
  const result: ForgetResult = {
    vehicles: ids.length,
    digests,
    removed,
    goldRecomputed,
    snapshotsExpired,
    filesDeleted,
    ...(pending ? { completed: pending.run } : {}),
    rowCounts: rowCounts(scanned, removed.bronze + removed.rejected + removed.silver),
  };
  logger.info('forgotten', { ...result });
  return result;
}

export const runForget = Object.assign(forget, { flags: [vehicleFlag], checkArguments: checkForgetArguments });
