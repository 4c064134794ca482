/**
 * The lake's table contents for a fixed input are the ones the code before the throughput work
 * (one producer, Parquet encoded on the job's thread) wrote: produce → bronze → silver on a real
 * broker, read back file by file in row order with DuckDB, hashed, and compared with the digests
 * that code gave for the same input. Kafka's timestamps, bronze's ingestion time and the topic name
 * differ from run to run and are left out (the topic is checked on its own).
 */
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { query } from '../support/duckdb.ts';
import { describeFailure, newLake, runJob } from '../support/lake.ts';
import { tableFiles } from '../support/tables.ts';

// Several row groups and files per Kafka partition, two event days, invalid events and duplicates.
const settings = {
  LAKEHOUSE_EVENTS: '20000',
  LAKEHOUSE_START_TIME: '2023-10-13T20:00:00Z',
  LAKEHOUSE_DUPLICATE_RATIO: '0.02',
  LAKEHOUSE_ROW_GROUP_SIZE: '1000',
  LAKEHOUSE_FILE_ROWS: '4000',
};

const columns = {
  bronze: 'to_base64(key), to_base64(value), "partition", "offset"',
  silver: 'vehicle_id, type, latitude, longitude, battery, epoch_us(event_time), source_partition, source_offset',
  rejected: 'to_base64(raw_value), to_base64(key), source_partition, source_offset, reason, field, detail',
} as const;

// sha256 of the files' rows (each file's rows in file order, files sorted), as the earlier code wrote them.
const expected = {
  bronze: { files: 7, rows: 20000, digest: '3724e22c2c45f7e8098be30b165068c02f63762a5bccf9e509cbfaaa9911f0b5' },
  silver: { files: 6, rows: 18800, digest: '1f166f3177d5ccef5556345cb8b9581bebaa8f993c7062160068b96deec2804b' },
  rejected: { files: 1, rows: 1200, digest: 'd98b517d9a0f972a4b89aeed2a981ce9e517f175b3d44f034d8085e8613c741f' },
};

async function contents(dir: string, table: keyof typeof columns) {
  const files = await tableFiles(dir, table);
  const texts: string[] = [];
  let rows = 0;
  for (const file of files) {
    const read = await query<Record<string, unknown>>(
      `select ${columns[table]} from read_parquet('${file.replace(/'/g, "''")}', file_row_number = true, hive_partitioning = false) order by file_row_number`,
    );
    rows += read.length;
    texts.push(
      read
        .map((row) => JSON.stringify(Object.values(row), (_, v) => (typeof v === 'bigint' ? String(v) : v)))
        .join('\n'),
    );
  }
  return { files: files.length, rows, digest: createHash('sha256').update(texts.sort().join('\n--\n')).digest('hex') };
}

const identity = suite('the lake holds what the earlier code wrote for the same input');

identity('produce, bronze and silver write the same rows, in the same order within each file', async () => {
  const lake = await newLake('identity', settings);
  for (const job of ['topics', 'produce', 'bronze', 'silver']) {
    const outcome = await runJob(job, lake.env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
  const topics = await query<{ topic: string }>(
    `select distinct topic from read_parquet([${(await tableFiles(lake.dir, 'bronze')).map((f) => `'${f}'`).join(', ')}])`,
  );
  assert.equal(
    topics.map((t) => t.topic),
    [lake.env.LAKEHOUSE_TOPIC],
  );
  const found = {
    bronze: await contents(lake.dir, 'bronze'),
    silver: await contents(lake.dir, 'silver'),
    rejected: await contents(lake.dir, 'rejected'),
  };
  assert.equal(found, expected, JSON.stringify(found, null, 2));
});

identity.run();
