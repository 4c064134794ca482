import path from 'node:path';
import type { Config } from './config.ts';
import { CommitConflictError, loadTable, type LoadedTable } from './lake/iceberg/catalog.ts';
import { liveFiles } from './lake/iceberg/table.ts';
import { catalogTables, headOf } from './lake/lake.ts';
import type { TableSpec } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { compact, planCompaction } from './maintain/compact.ts';
import { consumedOf } from './maintain/downstream.ts';
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
async function withRetry<T>(root: string, spec: TableSpec, step: (table: LoadedTable) => Promise<T>): Promise<T> {
  try {
    return await step(loadTable(root, spec)!);
  } catch (error) {
    if (!(error instanceof CommitConflictError)) throw error;
    return step(loadTable(root, spec)!);
  }
}

async function maintainTable(config: Config, spec: TableSpec, logger: Logger): Promise<TableMaintenance> {
  const root = config.dataDir;
  const start = loadTable(root, spec)!;
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
    const compaction = await withRetry(root, spec, async (table) => {
      const plan = await planCompaction(table, consumedOf(root, spec), config.fileRows);
      return compact(table, plan, config.fileRows, config.rowGroupSize);
    });
    compacted = compaction.removed;
    if (compaction.skipped) logger.warn('not compacted', { table: spec.name, reason: compaction.skipped });

    const expiry = await withRetry(root, spec, async (table) => {
      const plan = planExpiry(
        table,
        consumedOf(root, spec),
        config.snapshotRetentionHours * hourMs,
        config.keepSnapshots,
      );
      const files = await filesOf(table, plan.expired);
      expire(table, plan);
      return { plan, files };
    });
    expired = expiry.plan.expired.length;
    orphans = await removeOrphans(
      loadTable(root, spec)!,
      config.orphanAgeHours * hourMs,
      expiry.files,
      expiry.plan.supersededAt,
    );
  } catch (error) {
    if (!(error instanceof CommitConflictError)) throw error;
    skipped = `another writer committed twice while maintain worked on it (${error.message}); nothing of maintain's is left behind, the next run will do it`;
    logger.warn('skipped', { table: spec.name, reason: skipped });
  }
  const after = await size(loadTable(root, spec)!);
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
  const specs = catalogTables(config.dataDir);
  if (specs.length === 0) logger.info('no tables to maintain', { dataDir: path.resolve(config.dataDir) });
  const result: Record<string, TableMaintenance> = {};
  for (const spec of specs) {
    result[spec.name] = await maintainTable(config, spec, logger);
    logger.info('table maintained', { table: spec.name, ...result[spec.name] });
  }
  return result;
}
