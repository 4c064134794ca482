/**
 * The explorer reads a catalog lake (LAKEHOUSE_CATALOG=rest) as it reads a volume one: a lake built
 * on the volume, migrated into SeaweedFS's REST catalog, then `explore` on the catalog alone
 * serves the same tables, gold now and at its first snapshot, and the same map.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltLake, event } from '../support/built-lake.ts';
import { startExplorer } from '../support/explorer.ts';
import { describeFailure, runJob } from '../support/lake.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';

const json = async (base: string, path: string) => {
  const response = await fetch(`${base}${path}`);
  assert.is(response.status, 200, path);
  return response.json();
};

test('explore on a REST catalog lake serves what it serves on the volume the lake came from', async () => {
  const volume = new BuiltLake('explorer-rest');
  await volume.bronze([event(1), event(2), event(3), '{"not":"an event"}']);
  await volume.silver();
  await volume.gold();
  await volume.bronze([event(4), event(5)]);
  await volume.silver();
  await volume.gold();
  const catalog = await freshCatalogLake('explorer');
  const env = { LAKEHOUSE_DATA_DIR: volume.dir, LAKEHOUSE_TOPIC: volume.config.topic };
  const migrated = await runJob('migrate', { ...env, ...catalog, LAKEHOUSE_MIGRATE_FROM: volume.dir });
  assert.is(migrated.exitCode, 0, describeFailure(migrated));

  const onVolume = await startExplorer(env);
  // The catalog's settings only: its data directory is somewhere with no lake at all.
  const onCatalog = await startExplorer({
    ...catalog,
    LAKEHOUSE_TOPIC: volume.config.topic,
    LAKEHOUSE_DATA_DIR: '/nonexistent',
  });
  try {
    const views = async (base: string) => {
      const gold = await json(base, '/api/snapshots?table=gold.stats');
      const first = gold.snapshots[0].snapshot;
      return {
        // ops.runs differs: the catalog lake has migrate's run.
        tables: (await json(base, '/api/tables'))
          .filter((t: Record<string, unknown>) => t.table !== 'ops.runs')
          .map((t: Record<string, unknown>) => [t.table, t.snapshot, t.rows]),
        gold: (await json(base, '/api/gold')).rows,
        goldThen: (await json(base, `/api/gold?snapshot=${first}`)).rows,
        positions: (await json(base, '/api/positions')).vehicles,
        quarantine: (await json(base, '/api/quarantine')).reasons,
      };
    };
    const expected = await views(onVolume.base);
    assert.is(
      expected.goldThen.reduce((n: number, r: { event_count: number }) => n + r.event_count, 0),
      3,
    );
    assert.equal(await views(onCatalog.base), expected);
  } finally {
    await onCatalog.stop();
    await onVolume.stop();
  }
});

test.run();
