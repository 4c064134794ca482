// Other engines open both REST catalogs with a standard `type=rest` configuration, taken from the
// variables `npm run objectstore -- start` exports: PyIceberg creates a table and appends to it,
// then PyIceberg and DuckDB read it back; the data files are on S3 where the metadata says.
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { s3Client } from '../../dev/objectstore/s3.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { freshNamespace, restCatalogServer, sharedObjectStore } from '../support/objectstore-fixture.ts';
import { runCommand } from '../spark/run-job.ts';
import { requireSparkInstall } from '../spark/spark-install.ts';

const script = path.join(import.meta.dirname, 'catalog_tables.py');
const written = [
  ['BIKE_001', 40, 1697203201000],
  ['CAR_000', 75, 1697203200000],
  ['SCOOTER_002', 12, 1697203202000],
];

interface TablesRun {
  readonly location: string;
  readonly snapshots: number;
  readonly dataFiles: string[];
  readonly pyiceberg: unknown[];
  readonly duckdb: unknown[];
}

/** The S3 keys under an s3://bucket/prefix location. */
async function objectsUnder(settings: CatalogSettings, location: string): Promise<string[]> {
  const { host: bucket, pathname } = new URL(location);
  const prefix = `${pathname.slice(1)}/`;
  const response = await s3Client(settings).fetch(
    `${settings.LAKEHOUSE_S3_ENDPOINT}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`,
  );
  const xml = await response.text();
  assert.is(response.status, 200, xml);
  return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => `s3://${bucket}/${match[1]}`);
}

for (const [name, settingsOf] of [
  ['SeaweedFS', sharedObjectStore],
  ['Apache Iceberg REST server', restCatalogServer],
] as const) {
  test(`${name}: PyIceberg (type=rest) appends twice; PyIceberg and DuckDB read the rows back`, async () => {
    const python = path.join(requireSparkInstall(), 'venv/bin/python');
    const settings = await settingsOf();
    const namespace = freshNamespace('readers');
    // The settings as variables, as a shell that eval'd `npm run -s objectstore -- start` has them.
    const env = { ...settings, LAKEHOUSE_CATALOG_CREDENTIAL: settings.LAKEHOUSE_CATALOG_CREDENTIAL ?? '' };
    const run = await runCommand(python, [script, namespace], env);
    const result = JSON.parse(run.stdout) as TablesRun;
    assert.is(result.location, `${settings.LAKEHOUSE_CATALOG_WAREHOUSE}/${namespace}/vehicles`);
    assert.is(result.snapshots, 2);
    assert.equal(result.pyiceberg, written, 'PyIceberg');
    assert.equal(result.duckdb, written, 'DuckDB');
    const objects = await objectsUnder(settings, result.location);
    assert.is(result.dataFiles.length, 2);
    for (const file of result.dataFiles) assert.ok(objects.includes(file), `${file} in ${objects.join(', ')}`);
  });
}

test.run();
