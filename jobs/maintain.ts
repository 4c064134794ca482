import type { Config } from './config.ts';
import { CommitConflictError, type LoadedTable } from './lake/catalog/catalog.ts';
import { liveFiles } from './lake/iceberg/table.ts';
import { headOf, type Lake, lakeOf, type TableKey, tables } from './lake/lake.ts';
import { type Consumed, consumedByReaders } from './lake/lineage.ts';
import type { TableSpec } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { compact, planCompaction } from './maintain/compact.ts';
import { expire, planExpiry } from './maintain/expire.ts';
import { filesOf, removeOrphans } from './maintain/orphans.ts';

export interface TableMaintenance {
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly filesCompacted: number;
  readonly snapshotsExpired: number;
  readonly orphansRemoved: number;
  readonly orphanBytes: number;
  /** Set when a step lost its commit to another writer twice, or could not run. */
  readonly skipped?: string;
}

const hourMs = 3_600_000;

/**
 * A step that commits, run on the table as it is now; when another writer commits first (the step
 * has removed its new files), once more on the table as that writer left it.
 */
async function withRetry<T>(lake: Lake, spec: TableSpec, step: (table: LoadedTable) => Promise<T>): Promise<T> {
  try {
    return await step((await lake.load(spec))!);
  } catch (error) {
    if (!(error instanceof CommitConflictError)) throw error;
    return step((await lake.load(spec))!);
  }
}

/** What the table's reader and verify have consumed of it, read from the lake as it is now (downstream first). */
export async function consumedOf(lake: Lake, spec: TableSpec): Promise<Consumed> {
  const key = (Object.keys(tables) as TableKey[]).find((k) => tables[k].name === spec.name);
  if (key === undefined) return { kind: 'all' };
  const gold = await lake.find('gold');
  const silver = await lake.find('silver');
  const rejected = await lake.find('rejected');
  const bronze = await lake.find('bronze');
  return consumedByReaders({
    bronze: bronze?.metadata,
    silver: silver?.metadata,
    rejected: rejected?.metadata,
    gold: gold?.metadata,
  })[key];
}

async function maintainTable(config: Config, lake: Lake, spec: TableSpec, logger: Logger): Promise<TableMaintenance> {
  const start = (await lake.load(spec))!;
  const size = async (table: LoadedTable) => {
    const files = headOf(table) ? await liveFiles(table) : [];
    return { files: files.length, bytes: files.reduce((n, f) => n + f.file.fileSizeInBytes, 0) };
  };
  const before = await size(start);
  let compacted = 0;
  let expired = 0;
  let skipped: string | undefined;
  let orphans = { removed: 0, bytes: 0 };
  try {
    const compaction = await withRetry(lake, spec, async (table) => {
      const plan = await planCompaction(table, await consumedOf(lake, spec), config.fileRows);
      return compact(table, plan, config.fileRows, config.rowGroupSize);
    });
    compacted = compaction.removed;
    if (compaction.skipped) logger.warn('not compacted', { table: spec.name, reason: compaction.skipped });

    const expiry = await withRetry(lake, spec, async (table) => {
      const plan = planExpiry(
        table.metadata,
        await consumedOf(lake, spec),
        config.snapshotRetentionHours * hourMs,
        config.keepSnapshots,
      );
      const files = await filesOf(table, plan.expired);
      await expire(table, plan);
      return { plan, files };
    });
    expired = expiry.plan.expired.length;
    orphans = await removeOrphans(
      (await lake.load(spec))!,
      config.orphanAgeHours * hourMs,
      expiry.files,
      expiry.plan.supersededAt,
    );
  } catch (error) {
    if (!(error instanceof CommitConflictError)) throw error;
    skipped = `another writer committed twice while maintain worked on it (${error.message}); nothing of maintain's is left behind, the next run will do it`;
    logger.warn('skipped', { table: spec.name, reason: skipped });
  }
  const after = await size((await lake.load(spec))!);
  return {
    filesBefore: before.files,
    filesAfter: after.files,
    bytesBefore: before.bytes,
    bytesAfter: after.bytes,
    filesCompacted: compacted,
    snapshotsExpired: expired,
    orphansRemoved: orphans.removed,
    orphanBytes: orphans.bytes,
    ...(skipped ? { skipped } : {}),
  };
}

/**
 * Table maintenance on every table of the lake: compacts small data files (a `replace` snapshot),
 * expires old snapshots that no reader still needs, and removes files nothing references once they
 * are older than the orphan age. Rows never change.
 */
export async function runMaintain(config: Config, logger: Logger): Promise<Record<string, TableMaintenance>> {
  const lake = lakeOf(config);
  const specs = await lake.specs();
  if (specs.length === 0) logger.info('no tables to maintain', { lake: lake.catalog.description });
  const result: Record<string, TableMaintenance> = {};
  for (const spec of specs) {
    result[spec.name] = await maintainTable(config, lake, spec, logger);
    logger.info('table maintained', { table: spec.name, ...result[spec.name] });
  }
  return result;
}
