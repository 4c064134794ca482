/**
 * Damaged data files: a truncated, emptied, overwritten, flipped-byte, deleted or foreign file fails
 * the stage that reads it and verify, naming the file; each page of every column type is checksummed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata, readOffsetIndex } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DataFile } from '../../jobs/lake/iceberg/manifest.ts';
import { fileUri, LocalFileIO, localPath } from '../../jobs/lake/io/local-file-io.ts';
import { TableFiles } from '../../jobs/lake/io/table-files.ts';
import { readDataFile } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { headOf, type TableKey } from '../../jobs/lake/lake.ts';
import { checkPages, lakehouseCreatedBy } from '../../jobs/lake/parquet-check.ts';
import { ParquetSink } from '../../jobs/lake/parquet-sink.ts';
import { openParquet, readRows } from '../../jobs/lake/parquet-source.ts';
import { bronzeColumns, parquetSchema, silverColumns, type BronzeRow } from '../../jobs/lake/table-schema.ts';
import { runCommand } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';
import { findTable } from '../support/tables.ts';

const damage = suite('damage');

/** Each page of a file: where it starts, its column, and where its body (the checksummed bytes) lies. */
async function pagesOf(file: string) {
  const { metadata } = await openParquet(file);
  const bytes = fs.readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pages: { column: string; type: string; headerStart: number; bodyStart: number; bodyEnd: number }[] = [];
  for (const group of metadata.row_groups) {
    for (const { meta_data: meta } of group.columns) {
      let at = Number(meta!.dictionary_page_offset ?? meta!.data_page_offset);
      const end = at + Number(meta!.total_compressed_size);
      while (at < end) {
        const reader = { view, offset: at };
        const header = parquetHeader(reader);
        pages.push({
          column: meta!.path_in_schema[0],
          type: header.type,
          headerStart: at,
          bodyStart: reader.offset,
          bodyEnd: reader.offset + header.compressed_page_size,
        });
        at = reader.offset + header.compressed_page_size;
      }
    }
  }
  return pages;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp) {
  try {
    await promise;
  } catch (error) {
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`no error matching ${pattern}`);
}

function flipByte(file: string, at: number): void {
  const fd = fs.openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  fs.writeSync(fd, Buffer.from([byte[0] ^ 0x01]), 0, 1, at);
  fs.closeSync(fd);
}

/** Arrow C++ (pyarrow, as the Spark install's venv has it) reads the file verifying every page CRC. */
async function arrowRows(file: string): Promise<string> {
  const python = path.join(requireSparkInstall(), 'venv/bin/python');
  const script =
    'import sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1], page_checksum_verification=True); print(t.num_rows, sum(t.column("offset").to_pylist()))';
  return (await runCommand(python, ['-c', script, file], {})).stdout.trim();
}

function writeSample(dir: string) {
  const silver = path.join(dir, 'silver.parquet');
  const sink = new ParquetSink(silver, silverColumns, 50);
  for (let i = 0; i < 120; i++) {
    sink.write({
      vehicle_id: `CAR_${i % 9}`,
      type: ['car', 'bike'][i % 2],
      latitude: 48 + i / 1000,
      longitude: 2 + i / 1000,
      battery: i % 101,
      event_time: 1697203200000 + i * 1000,
      source_partition: i % 3,
      source_offset: i,
    });
  }
  const silverFile = sink.close();
  const bronze = path.join(dir, 'bronze.parquet');
  const raw = new ParquetSink(bronze, bronzeColumns, 50);
  for (let i = 0; i < 120; i++) {
    raw.write({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`{"n":${i}}`),
      topic: 't',
      partition: i % 3,
      offset: i,
      kafka_timestamp: 1697203200000 + i,
      ingested_at: 1697203300000 + i,
    });
  }
  const bronzeFile = raw.close();
  return [silver, bronze, silverFile, bronzeFile] as const;
}

damage(
  'every page the Node writer writes carries a CRC; a flipped byte in any page of any column type fails naming file, column and page',
  async () => {
    const dir = temporaryDir('crc-pages');
    const columnTypes = new Set<string>();
    for (const file of writeSample(dir).slice(0, 2) as string[]) {
      const { metadata } = await openParquet(file);
      const clean = await pagesChecked(file, metadata);
      assert.is(clean.checksummed, clean.pages, 'every page has a CRC');
      const pristine = fs.readFileSync(file);
      for (const page of await pagesOf(file)) {
        if (page.bodyEnd === page.bodyStart) continue;
        flipByte(file, page.bodyStart + Math.floor((page.bodyEnd - page.bodyStart) / 2));
        const error = await pagesChecked(file, metadata).then(
          () => undefined,
          (e: Error) => e,
        );
        assert.ok(
          error?.message.includes(file) && error.message.includes(`column ${page.column}`),
          `${page.type} of ${page.column}: ${error?.message}`,
        );
        assert.match(error!.message, /CRC mismatch/);
        fs.writeFileSync(file, pristine);
        columnTypes.add(page.column);
      }
    }
    assert.equal([...columnTypes].sort(), [...new Set([...silverColumns, ...bronzeColumns].map((c) => c.name))].sort());
  },
);

damage(
  'an independent reader verifies the CRCs: Arrow reads multi-page chunks checking every page, and the offset index points at the rewritten pages',
  async () => {
    const dir = temporaryDir('crc-arrow');
    const file = path.join(dir, 'big.parquet');
    const sink = new ParquetSink(file, bronzeColumns, 1500);
    for (let i = 0; i < 3000; i++) {
      sink.write({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`{"i":${i},"pad":"${'x'.repeat(1000 + (i % 997))}"}`),
        topic: 't',
        partition: 0,
        offset: i,
        kafka_timestamp: 1697203200000 + i,
        ingested_at: 1697203300000,
      });
    }
    sink.close();
    const pages = await pagesOf(file);
    const valuePages = pages.filter((p) => p.column === 'value');
    assert.ok(valuePages.length >= 4, `value spans ${valuePages.length} pages`);
    const { metadata } = await openParquet(file);
    const bytes = fs.readFileSync(file);
    for (const group of metadata.row_groups) {
      const chunk = group.columns.find((c) => c.meta_data!.path_in_schema[0] === 'value')!;
      const at = Number(chunk.offset_index_offset);
      const index = readOffsetIndex({
        view: new DataView(bytes.buffer, bytes.byteOffset + at, chunk.offset_index_length!),
        offset: 0,
      });
      for (const location of index.page_locations) {
        const page = valuePages.find((p) => p.headerStart === Number(location.offset));
        assert.ok(page, `the offset index points at a page start (${location.offset})`);
        assert.is(location.compressed_page_size, page!.bodyEnd - page!.headerStart);
      }
    }
    assert.is(await arrowRows(file), `3000 ${(2999 * 3000) / 2}`);
    flipByte(file, valuePages[2].bodyStart + 7);
    try {
      await arrowRows(file);
      assert.unreachable('Arrow read a flipped page');
    } catch (error) {
      assert.match((error as Error).message, /CRC checksum verification failed/);
    }
  },
);

damage(
  "a file claiming to be the Node writer's without page CRCs is altered; another writer's, or an older lakehouse one, without them passes the page walk",
  async () => {
    const dir = temporaryDir('crc-foreign');
    const write = (name: string, createdBy: string) => {
      const file = path.join(dir, name);
      const writer = new ParquetWriter({
        writer: byteSink(file) as never,
        schema: parquetSchema(silverColumns.slice(0, 1)) as never,
        createdBy,
      });
      writer.write({ columnData: [{ name: 'vehicle_id', data: ['a', 'b', 'c'] }] });
      writer.finish();
      return file;
    };
    const forged = write('forged.parquet', lakehouseCreatedBy);
    await rejects(pagesChecked(forged, parquetMetadataOf(forged)), /page has no CRC/);
    for (const createdBy of ['parquet-mr version 1.13.1', 'lakehouse']) {
      // Another writer's, or this one's from before it wrote page CRCs.
      const other = write(`other-${createdBy}.parquet`, createdBy);
      assert.is((await pagesChecked(other, parquetMetadataOf(other))).checksummed, 0);
    }
  },
);

/** The page check of a local file, as the checked reader runs it. */
async function pagesChecked(file: string, metadata: Awaited<ReturnType<typeof openParquet>>['metadata']) {
  return checkPages(await new LocalFileIO().open(fileUri(file)), metadata, file);
}

/** A table's files rooted at `dir`, as the checked reader reads them. */
const filesUnder = (dir: string) => new TableFiles(new LocalFileIO(), 'test', fileUri(dir));

function byteSink(file: string) {
  const writer = new ByteWriter();
  writer.finish = () => fs.writeFileSync(file, writer.getBytes());
  return writer;
}

function parquetMetadataOf(file: string) {
  const bytes = fs.readFileSync(file);
  return parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

damage('a file whose decoded columns disagree with its manifest entry fails naming file and column', async () => {
  const dir = temporaryDir('crc-stats');
  const [silver, , listed] = writeSample(dir);
  const { metadata } = await openParquet(silver);
  const read = (file: DataFile) =>
    (async () => {
      for await (const batch of readDataFile(
        filesUnder(dir),
        file,
        silverColumns,
        silverColumns.map((c) => c.name),
      ))
        void batch;
    })();
  await read(listed);
  const latitude = silverColumns.find((c) => c.name === 'latitude')!;
  const wrongBounds = {
    ...listed,
    upperBounds: new Map([...listed.upperBounds, [latitude.id, new Uint8Array(new Float64Array([47]).buffer)]]),
  };
  await rejects(read(wrongBounds), new RegExp(`${silver}: column latitude spans .*, the manifest says`));
  const wrongCounts = { ...listed, nullValueCounts: new Map([...listed.nullValueCounts, [latitude.id, 3]]) };
  await rejects(read(wrongCounts), /column latitude holds 0 nulls, the manifest says 3/);
  const wrongSize = { ...listed, columnSizes: new Map([...listed.columnSizes, [latitude.id, 1]]) };
  await rejects(read(wrongSize), /column latitude takes \d+ bytes, the manifest says 1/);
  assert.ok(metadata.created_by === lakehouseCreatedBy);
});

// One lake for the pipeline cases: gold is built on the first batch, a second batch is in bronze only,
// so silver's next run reads the second batch's files and verify checks the first batch's.
let lake: Promise<{ env: Record<string, string>; consumed: string; pending: string; silverFile: string }> | undefined;

function setUp() {
  lake ??= (async () => {
    const { bootstrap } = await sharedBroker();
    const { topic, group } = uniqueNames('damage');
    const env = {
      KAFKA_BOOTSTRAP_SERVER: bootstrap,
      LAKEHOUSE_TOPIC: topic,
      LAKEHOUSE_CONSUMER_GROUP: group,
      LAKEHOUSE_DATA_DIR: temporaryDir('damage'),
      LAKEHOUSE_PARTITIONS: '2',
      LAKEHOUSE_EVENTS: '600',
      LAKEHOUSE_ROW_GROUP_SIZE: '100',
      LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
    };
    for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) {
      const outcome = await runJob(job, env);
      assert.is(outcome.exitCode, 0, describeFailure(outcome));
    }
    for (const job of ['produce', 'bronze'])
      assert.is((await runJob(job, { ...env, LAKEHOUSE_START_TIME: '2023-10-14T13:20:00Z' })).exitCode, 0, job);
    const bronze = (await findTable(env.LAKEHOUSE_DATA_DIR, 'bronze'))!;
    const head = headOf(bronze)!['snapshot-id'];
    const all = await liveFiles(bronze);
    const filesOf = async (key: TableKey) =>
      (await liveFiles((await findTable(env.LAKEHOUSE_DATA_DIR, key))!)).map((f) => localPath(f.file.path));
    return {
      env,
      consumed: localPath(all.find((f) => f.addedBy !== head)!.file.path),
      pending: localPath(all.find((f) => f.addedBy === head)!.file.path),
      silverFile: (await filesOf('silver'))[0],
    };
  })();
  return lake;
}

/** A valid Parquet file of the bronze schema with the same size and row count as `file` but other rows. */
async function foreignTwin(file: string, offsetShift: number): Promise<Buffer> {
  const twin = `${file}.twin`;
  const sink = new ParquetSink(twin, bronzeColumns, 100);
  for await (const row of readRows([file], bronzeColumns)) {
    const r = row as BronzeRow;
    sink.write({ ...r, offset: r.offset + offsetShift, value: r.value?.subarray(0, r.value.length >> 1) ?? null });
  }
  sink.close();
  const bytes = fs.readFileSync(twin);
  fs.rmSync(twin);
  const size = fs.statSync(file).size;
  assert.ok(bytes.length <= size, 'the twin is no larger');
  // Bytes between the last column chunk and the footer belong to nothing: the file stays valid Parquet.
  const footerLength = bytes.readUInt32LE(bytes.length - 8) + 8;
  const data = bytes.subarray(0, bytes.length - footerLength);
  return Buffer.concat([data, Buffer.alloc(size - bytes.length), bytes.subarray(bytes.length - footerLength)]);
}

async function flipInDataPage(file: string, column: string) {
  const page = (await pagesOf(file)).find((p) => p.column === column && p.type.startsWith('DATA_PAGE'))!;
  flipByte(file, page.bodyStart + 5);
}

const damages: Record<string, (file: string) => Promise<void> | void> = {
  truncated: (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)),
  empty: (file) => fs.truncateSync(file, 0),
  'overwritten with 64 bytes of garbage': (file) => {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor(fs.statSync(file).size / 3));
    fs.closeSync(fd);
  },
  'one flipped byte in a data page': (file) => flipInDataPage(file, 'value'),
  deleted: (file) => fs.rmSync(file),
  'swapped for a file of other rows with the same size and row count': async (file) =>
    fs.writeFileSync(file, await foreignTwin(file, 1_000_000)),
  // Same offsets, partitions and times, so the same counts and bounds: only the column sizes tell.
  'swapped for a file of the same records with other payloads, the same size and row count': async (file) =>
    fs.writeFileSync(file, await foreignTwin(file, 0)),
};

async function failsNaming(job: string, env: Record<string, string>, file: string) {
  const outcome = await runJob(job, env);
  assert.is(outcome.exitCode, 1, `${job} should fail: ${describeFailure(outcome)}`);
  const error = String(outcome.lines.find((l) => l.msg === 'failed')?.error);
  assert.ok(error.includes(file), `${job}'s error names ${file}: ${error}`);
}

/** Damages `file`, runs `check`, and puts the file back as it was. */
async function withDamage(file: string, how: (file: string) => Promise<void> | void, check: () => Promise<void>) {
  const pristine = fs.readFileSync(file);
  try {
    await how(file);
    await check();
  } finally {
    fs.writeFileSync(file, pristine);
  }
}

for (const [kind, how] of Object.entries(damages)) {
  damage(`a bronze file ${kind}: silver and verify fail naming it`, async () => {
    const { env, consumed, pending } = await setUp();
    await withDamage(pending, how, () => failsNaming('silver', env, pending));
    await withDamage(consumed, how, () => failsNaming('verify', env, consumed));
  });
}

damage('a silver file with a flipped byte or deleted: verify fails naming it', async () => {
  const { env, silverFile } = await setUp();
  await withDamage(
    silverFile,
    (file) => flipInDataPage(file, 'latitude'),
    () => failsNaming('verify', env, silverFile),
  );
  await withDamage(silverFile, damages.deleted, () => failsNaming('verify', env, silverFile));
});

damage('maintain refuses to compact a damaged file, naming it, and leaves the table as it was', async () => {
  const { env, consumed } = await setUp();
  const maintainEnv = { ...env, LAKEHOUSE_ORPHAN_AGE_HOURS: '0' };
  // Both bronze snapshots consumed: each Kafka partition then has two small files to compact.
  for (const job of ['silver', 'gold']) assert.is((await runJob(job, env)).exitCode, 0, job);
  const metadata = path.join(env.LAKEHOUSE_DATA_DIR, 'bronze/vehicles/metadata');
  const before = fs.readdirSync(metadata).sort();
  await withDamage(
    consumed,
    (file) => flipInDataPage(file, 'value'),
    () => failsNaming('maintain', maintainEnv, consumed),
  );
  assert.equal(fs.readdirSync(metadata).sort(), before, 'no new table version');
});

damage('the undamaged lake passes: verify, then silver and gold over the second batch', async () => {
  const { env } = await setUp();
  for (const job of ['verify', 'silver', 'gold', 'verify']) {
    const outcome = await runJob(job, env);
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
  }
});

damage.run();
