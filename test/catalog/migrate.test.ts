/**
 * `migrate`: a volume lake into an Iceberg REST catalog on S3 without reading Kafka again. The
 * catalog lake verifies, holds the same snapshots (ids, summaries: offsets and markers), and the
 * next bronze run on it reads only what is new; a second migrate adds nothing; a catalog holding
 * another lake's tables is refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../jobs/config.ts';
import { lineage } from '../../jobs/lake/iceberg/metadata.ts';
import { lakeOf, tables, type TableKey } from '../../jobs/lake/lake.ts';
import { describeFailure, newLake, runJob, type TestLake } from '../support/lake.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';

const migrate = suite('migrate: from a volume lake to a catalog lake');

async function ok(job: string, lake: TestLake, args: string[] = [], env: Record<string, string> = {}) {
  const outcome = await runJob(job, { ...lake.env, ...env }, args);
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  return outcome.lines.find((l) => l.msg === 'finished')?.result as Record<string, unknown>;
}

const ids = async (settings: Record<string, string>, key: TableKey) => {
  const table = await lakeOf(loadConfig(new Map(), settings)).find(key);
  return table ? lineage(table.metadata).map((s) => [String(s['snapshot-id']), s.summary]) : [];
};

migrate(
  'the catalog lake keeps every snapshot and offset, verifies, and bronze goes on from where it was',
  async () => {
    const volume = await newLake('migrate', { LAKEHOUSE_EVENTS: '200', LAKEHOUSE_DUPLICATE_RATIO: '0.05' });
    for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold']) await ok(job, volume);
    await ok('produce', volume, ['--events', '100', '--seed', '5']);
    for (const job of ['bronze', 'silver', 'gold']) await ok(job, volume);
    await ok('maintain', volume, [], { LAKEHOUSE_SNAPSHOT_RETENTION_HOURS: '0', LAKEHOUSE_KEEP_SNAPSHOTS: '1' });
    const catalog = await freshCatalogLake('migrate');
    const onCatalog: TestLake = { dir: volume.dir, env: { ...volume.env, ...catalog } };

    const first = await ok('migrate', onCatalog, [], { LAKEHOUSE_MIGRATE_FROM: volume.dir });
    for (const key of Object.keys(tables) as TableKey[]) {
      assert.equal(
        await ids(onCatalog.env, key),
        await ids(volume.env, key),
        `${key}: the same snapshots and summaries`,
      );
    }
    assert.ok((first['bronze.vehicles'] as { files: number }).files > 0);
    assert.is((await ok('verify', onCatalog)).bronze, 300);

    // Nothing is read from Kafka again: the catalog's bronze resumes where the volume's ended.
    await ok('produce', onCatalog, ['--events', '50', '--seed', '6']);
    assert.is((await ok('bronze', onCatalog)).recordsRead, 50);
    for (const job of ['silver', 'gold']) await ok(job, onCatalog);
    assert.is((await ok('verify', onCatalog)).bronze, 350);

    // Once the catalog lake has gone on, it is no longer the volume's: a second migrate is refused.
    const again = await runJob('migrate', { ...onCatalog.env, LAKEHOUSE_MIGRATE_FROM: volume.dir });
    assert.is(again.exitCode, 1, describeFailure(again));
    assert.match(describeFailure(again), /holds snapshot \d+, which is not the source's/);
  },
);

migrate('a migrate that stopped midway is completed by the next, and one run twice adds nothing', async () => {
  const volume = await newLake('migrate-twice', { LAKEHOUSE_EVENTS: '60' });
  for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold']) await ok(job, volume);
  const catalog = await freshCatalogLake('migrate-twice');
  const onCatalog: TestLake = { dir: volume.dir, env: { ...volume.env, ...catalog } };
  await ok('migrate', onCatalog, [], { LAKEHOUSE_MIGRATE_FROM: volume.dir });
  // More on the volume, then migrate again: only the new snapshots go over.
  await ok('produce', volume, ['--events', '40', '--seed', '3']);
  for (const job of ['bronze', 'silver', 'gold']) await ok(job, volume);
  const second = await ok('migrate', onCatalog, [], { LAKEHOUSE_MIGRATE_FROM: volume.dir });
  const bronze = second['bronze.vehicles'] as { snapshots: number; alreadyThere: number };
  assert.equal([bronze.alreadyThere, bronze.snapshots], [1, 1]);
  const third = await ok('migrate', onCatalog, [], { LAKEHOUSE_MIGRATE_FROM: volume.dir });
  assert.is((third['gold.stats'] as { snapshots: number }).snapshots, 0);
  assert.is((await ok('verify', onCatalog)).bronze, 100);
});

migrate('a missing source or a source that is the target is refused naming the setting', async () => {
  const volume = await newLake('migrate-bad');
  const missing = await runJob('migrate', { ...volume.env, LAKEHOUSE_MIGRATE_FROM: `${volume.dir}/nothing-here` });
  assert.is(missing.exitCode, 2);
  assert.match(describeFailure(missing), /LAKEHOUSE_MIGRATE_FROM/);
  const same = await runJob('migrate', { ...volume.env, LAKEHOUSE_MIGRATE_FROM: volume.dir });
  assert.is(same.exitCode, 2);
  assert.match(describeFailure(same), /is the lake the settings name/);
});

migrate.run();
