/** The parquet worker writes the very bytes the in-thread sink writes, and a file that fails is reported and removable. */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OffThreadSink } from '../../jobs/lake/off-thread-sink.ts';
import { ParquetSink } from '../../jobs/lake/parquet-sink.ts';
import { bronzeColumns, silverColumns, type BronzeRow, type SilverRow } from '../../jobs/lake/table-schema.ts';
import { query } from '../support/duckdb.ts';
import { temporaryDir } from '../support/lake.ts';

const offThread = suite('parquet sink on a worker thread');

const bronzeRow = (i: number): BronzeRow => ({
  key: i % 7 === 0 ? null : Buffer.from(`vehicle-${i % 50}`),
  value:
    i % 11 === 0
      ? null
      : i % 13 === 0
        ? new Uint8Array(0)
        : Buffer.from(JSON.stringify({ i, text: 'é'.repeat(i % 5) })),
  topic: 'vehicles',
  partition: i % 3,
  offset: 2 ** 40 + i,
  kafka_timestamp: 1697203200000 + i,
  ingested_at: 1697203300000 + i,
});
const silverRow = (i: number): SilverRow => ({
  vehicle_id: `CAR_${i % 97}`,
  type: 'car',
  latitude: 48 + i / 1000,
  longitude: -2 - i / 1000,
  battery: i % 101,
  event_time: 1697203200000 + i * 1000,
  source_partition: i % 3,
  source_offset: i,
});

function both<Cs extends typeof bronzeColumns | typeof silverColumns>(
  columns: Cs,
  rows: readonly unknown[],
  rowGroupSize: number,
) {
  const dir = temporaryDir('off-thread');
  const here = new ParquetSink(path.join(dir, 'here.parquet'), columns, rowGroupSize);
  const there = new OffThreadSink(path.join(dir, 'there.parquet'), columns, rowGroupSize);
  for (const row of rows) {
    here.write(row as never);
    there.write(row as never);
  }
  return { dir, here: here.close({ day: 1 }), there: there.close({ day: 1 }) };
}

offThread(
  'bronze and silver rows: byte-identical files and manifest descriptions, several row groups and a partial one',
  async () => {
    for (const [columns, rows] of [
      [bronzeColumns, Array.from({ length: 2345 }, (_, i) => bronzeRow(i))],
      [silverColumns, Array.from({ length: 2345 }, (_, i) => silverRow(i))],
    ] as const) {
      const { dir, here, there } = both(columns, rows, 1000);
      assert.ok(
        fs.readFileSync(path.join(dir, 'here.parquet')).equals(fs.readFileSync(path.join(dir, 'there.parquet'))),
      );
      assert.equal({ ...there, path: '' }, { ...here, path: '' });
      assert.is(there.recordCount, 2345);
      const [{ n }] = await query<{ n: bigint }>(
        `select count(*) as n from read_parquet('${path.join(dir, 'there.parquet')}')`,
      );
      assert.is(Number(n), 2345);
    }
  },
);

offThread('a row the schema refuses fails a later write or the close, naming the file; abort removes it', () => {
  const file = path.join(temporaryDir('off-thread-bad'), 'bad.parquet');
  const sink = new OffThreadSink(file, silverColumns, 10);
  const writeAll = () => {
    for (let i = 0; i < 25; i++) sink.write(i === 3 ? ({ ...silverRow(i), battery: null } as never) : silverRow(i));
    sink.close();
  };
  assert.throws(
    writeAll,
    (error: Error) => error.message.includes(file) && /expected integer value, got null/.test(error.message),
  );
  sink.abort();
  assert.not.ok(fs.existsSync(file));
});

offThread.run();
