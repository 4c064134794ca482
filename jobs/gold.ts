import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { Config } from './config.ts';
import { GoldAggregator, type GoldState } from './gold/aggregate.ts';
import { CommitConflictError, type LoadedTable, mayRemoveFilesAfter } from './lake/catalog/catalog.ts';
import { readDataFile } from './lake/data-file-source.ts';
import { decodeAvroFile, encodeAvroFile } from './lake/iceberg/avro.ts';
import type { SnapshotId } from './lake/iceberg/metadata.ts';
import { liveFiles, overwriteFiles } from './lake/iceberg/table.ts';
import { DataFileWriter, headOf, lakeOf } from './lake/lake.ts';
import { goldInput } from './lake/lineage.ts';
import { goldColumns, silverColumns, summaryKeys, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';

const goldInputColumns = ['vehicle_id', 'type', 'battery', 'latitude', 'longitude', 'event_time'] as const;

interface Saved {
  readonly state?: GoldState;
  readonly vehiclesFile?: string;
}

/** What the last gold run kept: its running sums and its vehicles (a file of the gold table its summary names). */
async function savedState(gold: LoadedTable): Promise<Saved> {
  const head = headOf(gold);
  const sums = head?.summary[summaryKeys.goldState];
  const vehiclesFile = head?.summary[summaryKeys.goldVehicles];
  if (!head || !sums || !vehiclesFile || !(await gold.files.stat(vehiclesFile, 'gold state file'))) return {};
  const bytes = await gold.files.read(vehiclesFile, 'gold state file');
  return {
    state: { types: JSON.parse(sums) as GoldState['types'], vehicles: await decodeVehicles(vehiclesFile, bytes) },
    vehiclesFile,
  };
}

const vehiclesSchema = {
  type: 'record',
  name: 'gold_vehicle',
  fields: [
    { name: 'type', type: 'string' },
    { name: 'vehicle_id', type: 'string' },
  ],
};

/** The distinct vehicles of each type, as an Avro file (object stores' table layouts take Avro under metadata/). */
export function encodeVehicles(vehicles: GoldState['vehicles']): Promise<Buffer> {
  const records = Object.entries(vehicles).flatMap(([type, ids]) => ids.map((id) => ({ type, vehicle_id: id })));
  return encodeAvroFile(vehiclesSchema, records, { 'lakehouse.content': 'gold vehicles' });
}

async function decodeVehicles(name: string, bytes: Uint8Array): Promise<GoldState['vehicles']> {
  // Lakes written before the state moved to Avro keep it as gzipped JSON until the next gold run.
  if (name.endsWith('.json.gz')) return JSON.parse(gunzipSync(bytes).toString('utf8')) as GoldState['vehicles'];
  const vehicles: GoldState['vehicles'] = {};
  for (const record of (await decodeAvroFile(bytes, name)).records) {
    const type = String(record.type);
    (vehicles[type] ??= []).push(String(record.vehicle_id));
  }
  return vehicles;
}

/**
 * The silver files gold has not aggregated yet, or all of silver (with a fresh aggregator) when
 * silver's history since the last gold run is not appends only (lineage.goldInput). Compaction's
 * `replace` snapshots are skipped: they rewrite rows gold already has.
 */
async function planSilver(silver: LoadedTable, gold: LoadedTable, saved: Saved) {
  const input = goldInput(silver.metadata, gold.metadata);
  const incremental = saved.state !== undefined && input.consumed !== undefined && input.appendsOnly;
  const wanted = new Set<SnapshotId>(input.changes.map((s) => s['snapshot-id']));
  const files = await liveFiles(silver, headOf(silver), incremental ? wanted : undefined);
  return { incremental, files, aggregator: incremental ? GoldAggregator.from(saved.state!) : new GoldAggregator() };
}

/** Silver → gold: adds what silver appended since the last run to the per-type statistics; one overwrite snapshot. */
export async function runGold(config: Config, logger: Logger): Promise<{ rows: GoldRow[] } & RowCounts> {
  const lake = lakeOf(config);
  const silver = await lake.find('silver');
  const silverHead = headOf(silver);
  // Silver commits nothing until bronze has read an event, so before the first one (a scheduled run
  // right after install) gold has nothing to aggregate either; not a failure.
  if (!silver || !silverHead) {
    logger.info('nothing to aggregate: silver.vehicles has no snapshot yet', { lake: lake.catalog.description });
    return { rows: [], rowCounts: rowCounts(0, 0) };
  }
  const gold = await lake.open('gold');
  if (goldInput(silver.metadata, gold.metadata).upToDate) {
    logger.info('gold is up to date with silver', { silverSnapshot: String(silverHead['snapshot-id']) });
    return { rows: [], rowCounts: rowCounts(0, 0) };
  }
  const saved = await savedState(gold);
  const { incremental, files, aggregator } = await planSilver(silver, gold, saved);
  const rowsIn = files.reduce((sum, f) => sum + f.file.recordCount, 0);
  logger.info('gold plan', { incremental, silverFiles: files.length, silverRows: rowsIn });
  for (const { file } of files) {
    for await (const { rows, columns } of readDataFile(silver.files, file, silverColumns, goldInputColumns)) {
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
  const vehiclesFile = `metadata/gold-vehicles-${randomUUID()}.avro`;
  try {
    for (const row of rows) writer.write(row);
    if (!(await gold.files.create(vehiclesFile, await encodeVehicles(state.vehicles))))
      throw new Error(`${gold.files.child(vehiclesFile)} exists already`);
    await overwriteFiles(gold, await writer.finish(), {
      [summaryKeys.silverSnapshot]: String(silverHead['snapshot-id']),
      [summaryKeys.goldState]: JSON.stringify(state.types),
      [summaryKeys.goldVehicles]: vehiclesFile,
      [summaryKeys.writer]: 'node gold',
    });
  } catch (error) {
    if (mayRemoveFilesAfter(error)) {
      await writer.abort();
      await gold.files.delete(vehiclesFile, 'gold state file');
    }
    if (error instanceof CommitConflictError)
      throw new Error(`another gold run committed first; this run changed nothing (${error.message})`);
    throw error;
  }
  // Only the newest state is ever read; older gold snapshots stay readable without it.
  if (saved.vehiclesFile) await gold.files.delete(saved.vehiclesFile, 'gold state file');
  logger.info('gold done', {
    incremental,
    silverRowsRead: rowsIn,
    types: rows.length,
    events: rows.reduce((sum, r) => sum + r.event_count, 0),
    stats: rows,
  });
  return { rows, rowCounts: rowCounts(rowsIn, rows.length) };
}
