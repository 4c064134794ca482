import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { deserialise } from '../../jobs/lake/iceberg/column-stats.ts';
import { localPath } from '../../jobs/lake/io/local-file-io.ts';
import { ParquetSink } from '../../jobs/lake/parquet-sink.ts';
import { readColumnBatches, readRows } from '../../jobs/lake/parquet-source.ts';
import { rejectedColumns, silverColumns, type SilverRow } from '../../jobs/lake/table-schema.ts';
import { query } from '../support/duckdb.ts';
import { temporaryDir } from '../support/lake.ts';

const row = (i: number): SilverRow => ({
  vehicle_id: `CAR_${i}`,
  type: 'car',
  latitude: 48 + i / 1000,
  longitude: -2 - i / 1000,
  battery: i % 101,
  event_time: 1697203200000 + i * 1000,
  source_partition: i % 3,
  source_offset: 2 ** 40 + i,
});

test('rows written in bounded row groups read back equal, by hyparquet and by DuckDB', async () => {
  const file = path.join(temporaryDir('parquet'), 'data.parquet');
  const sink = new ParquetSink(file, silverColumns, 1000);
  const rows = Array.from({ length: 2500 }, (_, i) => row(i));
  for (const r of rows) sink.write(r);
  const described = sink.close();
  assert.is(localPath(described.path), file);
  assert.is(described.recordCount, 2500);
  assert.is(described.fileSizeInBytes, fs.statSync(file).size);

  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  assert.equal(
    metadata.row_groups.map((g) => Number(g.num_rows)),
    [1000, 1000, 500],
  );
  assert.equal(
    metadata.schema.slice(1).map((e) => e.field_id),
    [1, 2, 3, 4, 5, 6, 7, 8],
    'Iceberg field ids',
  );
  const read = [];
  for await (const r of readRows([file], silverColumns)) read.push(r);
  assert.equal(read, rows);

  const [summary] =
    await query(`select count(*)::int as n, sum(battery)::int as battery, max(source_offset)::bigint as max_offset,
    typeof(any_value(event_time)) as time_type, epoch_ms(min(event_time)) as first, typeof(any_value(battery)) as battery_type from read_parquet('${file}')`);
  assert.equal(summary, {
    n: 2500,
    battery: rows.reduce((s, r) => s + r.battery, 0),
    max_offset: BigInt(2 ** 40 + 2499),
    time_type: 'TIMESTAMP WITH TIME ZONE',
    first: BigInt(1697203200000),
    battery_type: 'INTEGER',
  });
});

test('a data file carries the counts and bounds a manifest lists', () => {
  const file = path.join(temporaryDir('parquet-stats'), 'data.parquet');
  const sink = new ParquetSink(file, silverColumns, 7);
  for (let i = 0; i < 20; i++) sink.write(row(i));
  const described = sink.close({ event_time_day: 19643 });
  assert.equal(described.partition, { event_time_day: 19643 });
  assert.is(described.valueCounts.get(6), 20);
  assert.is(described.nullValueCounts.get(6), 0);
  assert.is(deserialise('timestamptz', described.lowerBounds.get(6)!), 1697203200000);
  assert.is(deserialise('timestamptz', described.upperBounds.get(6)!), 1697203200000 + 19_000);
  assert.is(deserialise('int', described.upperBounds.get(5)!), 19);
  assert.is(deserialise('double', described.lowerBounds.get(4)!), -2 - 19 / 1000);
  assert.not.ok(described.lowerBounds.has(1), 'no bounds for strings');
});

test('nullable columns keep their nulls and bytes stay bytes; the independent reader agrees', async () => {
  const file = path.join(temporaryDir('parquet-null'), 'data.parquet');
  const sink = new ParquetSink(file, rejectedColumns, 10);
  sink.write({
    raw_value: null,
    key: null,
    source_partition: 0,
    source_offset: 5,
    reason: 'malformed_json',
    field: null,
    detail: 'the record has no value',
  });
  sink.write({
    raw_value: Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d),
    key: Buffer.from('K'),
    source_partition: 1,
    source_offset: 6,
    reason: 'malformed_json',
    field: null,
    detail: 'the value is not valid UTF-8',
  });
  const described = sink.close();
  assert.is(described.nullValueCounts.get(1), 1);
  const objects = await parquetReadObjects({ file: await asyncBufferFromFile(file), utf8: false });
  assert.is(objects[0].raw_value ?? null, null);
  assert.equal([...(objects[1].raw_value as Uint8Array)], [0x7b, 0xff, 0xfe, 0x7d]);
  const rows = await query(`select hex(raw_value) as raw, field from read_parquet('${file}') order by source_offset`);
  assert.equal(rows, [
    { raw: null, field: null },
    { raw: '7BFFFE7D', field: null },
  ]);
});

test('an aborted file leaves nothing; an existing file is never overwritten', () => {
  const dir = temporaryDir('parquet-abort');
  const sink = new ParquetSink(path.join(dir, 'data.parquet'), silverColumns, 10);
  sink.write(row(1));
  sink.abort();
  assert.equal(fs.readdirSync(dir), []);
  fs.writeFileSync(path.join(dir, 'taken.parquet'), 'x');
  assert.throws(() => new ParquetSink(path.join(dir, 'taken.parquet'), silverColumns, 10), /EEXIST/);
});

test('files other writers compress with zstd or gzip read back (Iceberg Java writers default to zstd)', async () => {
  const dir = temporaryDir('parquet-codecs');
  for (const codec of ['zstd', 'gzip']) {
    const file = path.join(dir, `${codec}.parquet`);
    await query(
      `copy (select 'CAR_' || i as vehicle_id, i::int as battery from range(3000) t(i)) to '${file}' (format parquet, compression ${codec})`,
    );
    let rows = 0;
    let battery = 0;
    for await (const batch of readColumnBatches(file, ['vehicle_id', 'battery'])) {
      rows += batch.rows;
      for (let i = 0; i < batch.rows; i++) battery += batch.columns.battery[i] as number;
    }
    assert.equal([codec, rows, battery], [codec, 3000, (2999 * 3000) / 2]);
  }
});

test.run();
