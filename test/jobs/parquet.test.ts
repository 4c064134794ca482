import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { listParquetFiles } from '../../jobs/lake/atomic.ts';
import { ParquetSink, PartitionedParquetSink } from '../../jobs/lake/parquet-sink.ts';
import { readRows } from '../../jobs/lake/parquet-source.ts';
import { rejectedColumns, silverColumns, type SilverRow } from '../../jobs/lake/table-schema.ts';
import { parquet, query } from '../support/duckdb.ts';
import { temporaryDir } from '../support/lake.ts';

const row = (i: number): SilverRow => ({
  vehicle_id: `CAR_${i}`, type: 'car', latitude: 48 + i / 1000, longitude: -2 - i / 1000, battery: i % 101,
  event_time: 1697203200000 + i * 1000, source_partition: i % 3, source_offset: 2 ** 40 + i,
});

test('rows written in bounded row groups read back equal, by hyparquet and by DuckDB', async () => {
  const dir = temporaryDir('parquet');
  const sink = new ParquetSink(dir, silverColumns, 1000);
  const rows = Array.from({ length: 2500 }, (_, i) => row(i));
  for (const r of rows) sink.write(r);
  const file = sink.close('part-00000.parquet');

  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  assert.equal(metadata.row_groups.map((g) => Number(g.num_rows)), [1000, 1000, 500]);
  const read = [];
  for await (const r of readRows([file], silverColumns)) read.push(r);
  assert.equal(read, rows);

  const [summary] = await query(`select count(*)::int as n, sum(battery)::int as battery, max(source_offset)::bigint as max_offset,
    typeof(any_value(event_time)) as time_type, typeof(any_value(battery)) as battery_type from ${parquet(dir)}`);
  assert.equal(summary, { n: 2500, battery: rows.reduce((s, r) => s + r.battery, 0), max_offset: BigInt(2 ** 40 + 2499), time_type: 'BIGINT', battery_type: 'INTEGER' });
});

test('nullable columns keep their nulls; the independent reader agrees', async () => {
  const dir = temporaryDir('parquet-null');
  const sink = new ParquetSink(dir, rejectedColumns, 10);
  sink.write({ raw_value: null, key: null, source_partition: 0, source_offset: 5, reason: 'malformed_json', field: null, detail: 'the record has no value' });
  sink.write({ raw_value: Buffer.from('{"a":1}'), key: Buffer.from('K'), source_partition: 1, source_offset: 6, reason: 'missing_field', field: 'vehicleId', detail: 'vehicleId is missing' });
  const file = sink.close('part-00000.parquet');
  const objects = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
  assert.is(objects[0].raw_value ?? null, null);
  assert.is(objects[0].key ?? null, null);
  assert.is(objects[1].field, 'vehicleId');
  const rows = await query(`select raw_value, field from ${parquet(dir)} order by source_offset`);
  assert.equal(rows, [{ raw_value: null, field: null }, { raw_value: '{"a":1}', field: 'vehicleId' }]);
});

test('a file is invisible until closed, and an aborted one leaves nothing', () => {
  const dir = temporaryDir('parquet-atomic');
  const sink = new ParquetSink(dir, silverColumns, 10);
  sink.write(row(1));
  assert.equal(listParquetFiles(dir), []);
  sink.abort();
  assert.equal(fs.readdirSync(dir), []);
});

test('a partitioned sink rotates files at the row limit and always leaves a schema-bearing file', async () => {
  const dir = temporaryDir('parquet-parts');
  const sink = new PartitionedParquetSink(dir, silverColumns, 4, 10);
  for (let i = 0; i < 25; i++) sink.write(row(i));
  assert.equal(sink.close().map((f) => path.basename(f)), ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
  const empty = temporaryDir('parquet-empty');
  assert.is(new PartitionedParquetSink(empty, silverColumns, 4, 10).close().length, 1);
  const [{ n }] = await query<{ n: number }>(`select count(*)::int as n from ${parquet(empty)}`);
  assert.is(n, 0);
});

test.run();
