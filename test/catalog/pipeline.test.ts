/**
 * The lake in an Iceberg REST catalog on S3 (LAKEHOUSE_CATALOG=rest), on real servers: the jobs on
 * SeaweedFS's catalog and on Apache Iceberg's own REST catalog server, each read back by other
 * engines through a standard `type=rest` configuration (PyIceberg, DuckDB's iceberg extension,
 * Spark), and the catalog deciding between two writers.
 */
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withBrokerAccess } from '../../dev/broker/clients.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { runBronze } from '../../jobs/bronze.ts';
import { loadConfig } from '../../jobs/config.ts';
import { lineage } from '../../jobs/lake/iceberg/metadata.ts';
import { headOf, lakeOf, tables } from '../../jobs/lake/lake.ts';
import { readDataRows } from '../../jobs/lake/data-file-source.ts';
import { liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { collectingLogger } from '../support/built-lake.ts';
import { duckdbCatalogRows, pyiceberg, sparkRows } from '../support/iceberg-readers.ts';
import { normaliseRows, sortRows, type Row } from '../support/iceberg-values.ts';
import { describeFailure, newLake, runJob, type TestLake } from '../support/lake.ts';
import { apacheCatalogLake, freshCatalogLake } from '../support/objectstore-fixture.ts';

const names = Object.values(tables).map((t) => t.name);

async function ok(job: string, lake: TestLake, args: string[] = []) {
  const outcome = await runJob(job, lake.env, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome;
}

const resultOf = (outcome: Awaited<ReturnType<typeof ok>>) =>
  outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, unknown>;

/** Every table's rows as the jobs' own checked reader reads them through the catalog. */
async function jobsRows(lake: TestLake): Promise<Record<string, Row[]>> {
  const catalogLake = lakeOf(loadConfig(new Map(), lake.env));
  const rows: Record<string, Row[]> = {};
  for (const [key, spec] of Object.entries(tables)) {
    const table = (await catalogLake.find(key as keyof typeof tables))!;
    const read: Record<string, unknown>[] = [];
    const files = (await liveFiles(table)).map((f) => f.file);
    for await (const row of readDataRows(table.files, files, spec.columns)) {
      // The readers' transport form: binary as base64, timestamps as epoch microseconds.
      const record = row as Record<string, unknown>;
      read.push(
        Object.fromEntries(
          spec.columns.map((c) => {
            const value = record[c.name];
            if (value === null || value === undefined) return [c.name, null];
            if (c.type === 'binary') return [c.name, Buffer.from(value as Uint8Array).toString('base64')];
            if (c.type === 'timestamptz') return [c.name, (value as number) * 1000];
            return [c.name, value];
          }),
        ),
      );
    }
    rows[spec.name] = sortRows(normaliseRows(spec.columns, read));
  }
  return rows;
}

const seaweed = suite('the lake in SeaweedFS’s Iceberg REST catalog');

let lake: TestLake;
let catalog: CatalogSettings;
seaweed.before(async () => {
  catalog = await freshCatalogLake('pipeline');
  lake = await newLake('catalog-pipeline', { ...catalog, LAKEHOUSE_DUPLICATE_RATIO: '0.05', LAKEHOUSE_EVENTS: '300' });
});

seaweed('two rounds of every job on the catalog lake; verify passes; nothing is written to the volume', async () => {
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) await ok(job, lake);
  await ok('produce', lake, ['--events', '200', '--seed', '7']);
  for (const job of ['bronze', 'silver', 'gold']) await ok(job, lake);
  const verified = resultOf(await ok('verify', lake));
  assert.is(verified.bronze, 500);
  for (const command of [['status'], ['tables'], ['snapshots', 'bronze.vehicles'], ['show', 'gold.stats']])
    await ok(command[0], lake, command.slice(1));
  assert.equal(
    fs.existsSync(lake.dir) ? fs.readdirSync(lake.dir).filter((n) => !n.startsWith('.')) : [],
    [],
    'no table on the volume',
  );
});

seaweed('PyIceberg, DuckDB and Spark read every table through the catalog, row for row as the jobs do', async () => {
  const expected = await jobsRows(lake);
  assert.is(expected['bronze.vehicles'].length, 500);
  const fromPyiceberg = await pyiceberg(
    catalog,
    names.map((table) => ({ table })),
  );
  const fromDuckdb = await duckdbCatalogRows(catalog, names);
  const { tables: fromSpark } = await sparkRows(catalog, names);
  for (const name of names) {
    assert.equal(sortRows(fromPyiceberg.find((t) => t.table === name)!.rows!), expected[name], `PyIceberg ${name}`);
    assert.equal(sortRows(fromDuckdb.find((t) => t.table === name)!.rows), expected[name], `DuckDB ${name}`);
    assert.equal(sortRows(fromSpark.find((t) => t.table === name)!.rows), expected[name], `Spark ${name}`);
  }
  const bronze = fromPyiceberg.find((t) => t.table === 'bronze.vehicles')!;
  assert.ok(bronze.metadataFile.startsWith(`${catalog.LAKEHOUSE_CATALOG_WAREHOUSE}/bronze/vehicles/metadata/`));
  assert.ok(
    bronze.files.every((f) => f.path.startsWith(`${catalog.LAKEHOUSE_CATALOG_WAREHOUSE}/bronze/vehicles/data/`)),
  );
});

seaweed(
  'two bronze runs at once: the catalog lets one commit, the other adds nothing, and no offset is held twice',
  async () => {
    await ok('produce', lake, ['--events', '100', '--seed', '11']);
    // The settings bronze runs with as a job, the local broker's user and CA included.
    const config = loadConfig(new Map(), withBrokerAccess('bronze', { ...process.env, ...lake.env }));
    const before = headOf(await lakeOf(config).find('bronze'))!;
    const loggers = [collectingLogger('bronze'), collectingLogger('bronze')];
    const results = await Promise.all(loggers.map((logger) => runBronze(config, logger)));
    const bronze = (await lakeOf(config).find('bronze'))!;
    const added = lineage(bronze.metadata).findIndex((s) => s['snapshot-id'] === before['snapshot-id']);
    assert.is(added, 1, 'one snapshot was added');
    assert.equal(results.map((r) => r.recordsRead).sort(), [0, 100]);
    assert.ok(
      loggers.some((l) => l.lines.some((line) => line.msg.startsWith('another bronze run committed first'))),
      'the other run was told',
    );
    for (const job of ['silver', 'gold']) await ok(job, lake);
    assert.is(resultOf(await ok('verify', lake)).bronze, 600);
  },
);

seaweed.run();

const apache = suite("the lake in Apache Iceberg's REST catalog server");

apache('every job and verify on the Apache catalog; PyIceberg reads what the jobs wrote', async () => {
  const settings = await apacheCatalogLake();
  const own = await newLake('catalog-apache', { ...settings, LAKEHOUSE_EVENTS: '120' });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold']) await ok(job, own);
  await ok('produce', own, ['--events', '80', '--seed', '9']);
  for (const job of ['bronze', 'silver', 'gold']) await ok(job, own);
  assert.is(resultOf(await ok('verify', own)).bronze, 200);
  const expected = await jobsRows(own);
  const read = await pyiceberg(
    settings,
    names.map((table) => ({ table })),
  );
  for (const name of names)
    assert.equal(sortRows(read.find((t) => t.table === name)!.rows!), expected[name], `PyIceberg ${name}`);
});

apache.run();
