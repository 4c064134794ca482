import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Config } from './config.ts';
import { GoldAggregator, type GoldState } from './gold/aggregate.ts';
import { writeFileDurably } from './lake/iceberg/avro.ts';
import { CommitConflictError, type LoadedTable } from './lake/iceberg/catalog.ts';
import type { SnapshotId } from './lake/iceberg/metadata.ts';
import { liveFiles, overwriteFiles } from './lake/iceberg/table.ts';
import { changesAfter, DataFileWriter, findTable, headOf, openTable, snapshotIdOf } from './lake/lake.ts';
import { readDataFile } from './lake/data-file-source.ts';
import { goldColumns, silverColumns, summaryKeys, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';

const goldInputColumns = ['vehicle_id', 'type', 'battery', 'latitude', 'longitude', 'event_time'] as const;

interface Saved {
  readonly silverSnapshot?: SnapshotId;
  readonly state?: GoldState;
  readonly vehiclesFile?: string;
}

/** What the last gold run kept: the silver snapshot it read, its running sums and its vehicles. */
function savedState(gold: LoadedTable): Saved {
  const head = headOf(gold);
  const sums = head?.summary[summaryKeys.goldState];
  const vehiclesFile = head?.summary[summaryKeys.goldVehicles];
  if (!head || !sums || !vehiclesFile || !fs.existsSync(path.join(gold.dir, vehiclesFile))) return {};
  const vehicles = JSON.parse(
    gunzipSync(fs.readFileSync(path.join(gold.dir, vehiclesFile))).toString('utf8'),
  ) as GoldState['vehicles'];
  return {
    silverSnapshot: snapshotIdOf(head.summary[summaryKeys.silverSnapshot]),
    state: { types: JSON.parse(sums) as GoldState['types'], vehicles },
    vehiclesFile,
  };
}

/**
 * The silver files gold has not aggregated yet, or all of silver (with a fresh aggregator) when
 * silver's history since the last gold run is not appends only. Compaction's `replace` snapshots
 * are skipped: they rewrite rows gold already has.
 */
async function planSilver(silver: LoadedTable, saved: Saved) {
  const pending = saved.silverSnapshot === undefined ? undefined : changesAfter(silver, saved.silverSnapshot);
  const incremental = saved.state !== undefined && pending?.every((s) => s.summary.operation === 'append') === true;
  const wanted = new Set((pending ?? []).map((s) => s['snapshot-id']));
  const files = await liveFiles(silver, headOf(silver), incremental ? wanted : undefined);
  return { incremental, files, aggregator: incremental ? GoldAggregator.from(saved.state!) : new GoldAggregator() };
}

/** Silver → gold: adds what silver appended since the last run to the per-type statistics; one overwrite snapshot. */
export async function runGold(config: Config, logger: Logger): Promise<{ rows: GoldRow[] } & RowCounts> {
  const silver = findTable(config.dataDir, 'silver');
  const silverHead = headOf(silver);
  // Silver commits nothing until bronze has read an event, so before the first one (a scheduled run
  // right after install) gold has nothing to aggregate either; not a failure.
  if (!silver || !silverHead) {
    logger.info('nothing to aggregate: silver.vehicles has no snapshot yet', { dataDir: path.resolve(config.dataDir) });
    return { rows: [], rowCounts: rowCounts(0, 0) };
  }
  const gold = openTable(config.dataDir, 'gold');
  const saved = savedState(gold);
  if (saved.silverSnapshot !== undefined && changesAfter(silver, saved.silverSnapshot)?.length === 0) {
    logger.info('gold is up to date with silver', { silverSnapshot: String(silverHead['snapshot-id']) });
    return { rows: [], rowCounts: rowCounts(0, 0) };
  }
  const { incremental, files, aggregator } = await planSilver(silver, saved);
  const rowsIn = files.reduce((sum, f) => sum + f.file.recordCount, 0);
  logger.info('gold plan', { incremental, silverFiles: files.length, silverRows: rowsIn });
  for (const { file } of files) {
    for await (const { rows, columns } of readDataFile(file, silverColumns, goldInputColumns)) {
      const c = columns as Record<(typeof goldInputColumns)[number], ArrayLike<never>>;
      for (let i = 0; i < rows; i++) {
        aggregator.add({
          vehicleId: c.vehicle_id[i],
          type: c.type[i],
          battery: c.battery[i],
          latitude: c.latitude[i],
          longitude: c.longitude[i],
          eventTime: c.event_time[i],
        });
      }
    }
  }
  const rows = aggregator.rows(Date.now());
  const state = aggregator.state();

  const writer = new DataFileWriter(gold, goldColumns, config.rowGroupSize, config.fileRows);
  const vehiclesFile = path.join('state', `vehicles-${randomUUID()}.json.gz`);
  try {
    for (const row of rows) writer.write(row);
    fs.mkdirSync(path.join(gold.dir, 'state'), { recursive: true });
    writeFileDurably(path.join(gold.dir, vehiclesFile), gzipSync(JSON.stringify(state.vehicles)));
    await overwriteFiles(gold, writer.finish(), {
      [summaryKeys.silverSnapshot]: String(silverHead['snapshot-id']),
      [summaryKeys.goldState]: JSON.stringify(state.types),
      [summaryKeys.goldVehicles]: vehiclesFile,
      [summaryKeys.writer]: 'node gold',
    });
  } catch (error) {
    writer.abort();
    fs.rmSync(path.join(gold.dir, vehiclesFile), { force: true });
    if (error instanceof CommitConflictError)
      throw new Error(`another gold run committed first; this run changed nothing (${error.message})`);
    throw error;
  }
  // Only the newest state is ever read; older gold snapshots stay readable without it.
  if (saved.vehiclesFile) fs.rmSync(path.join(gold.dir, saved.vehiclesFile), { force: true });
  logger.info('gold done', {
    incremental,
    silverRowsRead: rowsIn,
    types: rows.length,
    events: rows.reduce((sum, r) => sum + r.event_count, 0),
    stats: rows,
  });
  return { rows, rowCounts: rowCounts(rowsIn, rows.length) };
}
