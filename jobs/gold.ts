import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { GoldAggregator } from './gold/aggregate.ts';
import { listParquetFiles, removeStaleTemporaries, replaceDirectory } from './lake/atomic.ts';
import { ParquetSink } from './lake/parquet-sink.ts';
import { readColumnBatches } from './lake/parquet-source.ts';
import { lakePaths, partFileName } from './lake/paths.ts';
import { goldColumns, type GoldRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';

const goldInputColumns = ['vehicle_id', 'type', 'battery', 'latitude', 'longitude', 'event_time'] as const;

/** Streams silver through the aggregator, one row group at a time. */
async function aggregateSilver(silverDir: string): Promise<GoldAggregator> {
  const aggregator = new GoldAggregator();
  for (const file of listParquetFiles(silverDir)) {
    for await (const { rows, columns } of readColumnBatches(file, goldInputColumns)) {
      const c = columns as Record<(typeof goldInputColumns)[number], ArrayLike<never>>;
      for (let i = 0; i < rows; i++) {
        aggregator.add({
          vehicleId: c.vehicle_id[i], type: c.type[i], battery: c.battery[i],
          latitude: c.latitude[i], longitude: c.longitude[i], eventTime: c.event_time[i],
        });
      }
    }
  }
  return aggregator;
}

/** Silver → gold: per-type statistics, recomputed from all of silver and swapped in whole. */
export async function runGold(config: Config, logger: Logger): Promise<{ rows: GoldRow[] }> {
  const paths = lakePaths(config.dataDir);
  fs.mkdirSync(paths.goldRoot, { recursive: true });
  removeStaleTemporaries(paths.goldRoot);
  const aggregator = await aggregateSilver(paths.silver);
  const rows = aggregator.rows(Date.now());
  const staged = path.join(paths.goldRoot, `.staging.${process.pid}.${Date.now()}`);
  fs.mkdirSync(staged);
  const sink = new ParquetSink(staged, goldColumns, config.rowGroupSize);
  for (const row of rows) sink.write(row);
  sink.close(partFileName(0));
  replaceDirectory(staged, paths.gold);
  logger.info('gold done', { types: rows.length, events: rows.reduce((sum, r) => sum + r.event_count, 0), stats: rows });
  return { rows };
}
