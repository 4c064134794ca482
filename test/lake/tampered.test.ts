/**
 * A lake whose metadata was edited by hand or damaged: locations that lead outside the lake (a `..`
 * climb, an absolute path elsewhere, a symbolic link) are refused before anything is read, written
 * or deleted there; a table whose current snapshot, ref, schema or manifest list cannot be resolved
 * is damaged for every reader, never read as empty; verify checks every data file the current
 * snapshots reference, those ahead of its cut included. Built in-process: no broker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inspectors } from '../../jobs/inspect.ts';
import { DamagedTableError } from '../../jobs/lake/catalog/catalog.ts';
import { parseJson, stringifyJson } from '../../jobs/lake/iceberg/json.ts';
import type { TableMetadata } from '../../jobs/lake/iceberg/metadata.ts';
import { appendFiles, liveFiles } from '../../jobs/lake/iceberg/table.ts';
import { fileUri, localPath } from '../../jobs/lake/io/local-file-io.ts';
import { OutsideTableError } from '../../jobs/lake/io/table-files.ts';
import { headOf, lakeAt, type LakeTableKey } from '../../jobs/lake/lake.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { runMaintain } from '../../jobs/maintain.ts';
import { BuiltLake, collectingLogger, event, failure } from '../support/built-lake.ts';
import { temporaryDir } from '../support/lake.ts';

/** A lake through gold: two bronze snapshots (one with an invalid record), silver and gold after each. */
async function pipelineLake(label: string): Promise<BuiltLake> {
  const lake = new BuiltLake(label);
  await lake.bronze([event(1), event(2), event(3), '{"not":"an event"}']);
  await lake.silver();
  await lake.gold();
  await lake.bronze([event(4), event(5)]);
  await lake.silver();
  await lake.gold();
  return lake;
}

/** The latest metadata file of a table, edited in place by `change`. */
async function tamper(lake: BuiltLake, key: LakeTableKey, change: (metadata: Record<string, unknown>) => void) {
  const table = (await lakeAt(lake.dir).find(key))!;
  const file = localPath(table.metadataLocation);
  const metadata = parseJson(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(metadata);
  fs.writeFileSync(file, stringifyJson(metadata, 2));
}

const head = (metadata: Record<string, unknown>) => {
  const m = metadata as unknown as TableMetadata;
  return m.snapshots!.find((s) => s['snapshot-id'] === m['current-snapshot-id']) as unknown as Record<string, unknown>;
};

const show = (lake: BuiltLake, table: string) =>
  inspectors.show({ dataDir: lake.dir, positional: ['show', table], flags: new Map(), config: lake.config });

const outside = suite('locations from metadata never reach outside the lake');

outside('a manifest list that climbs out with ../ is refused by show, silver and verify, naming it', async () => {
  const lake = await pipelineLake('tamper-list');
  const elsewhere = temporaryDir('tamper-list-outside');
  const bronze = (await lakeAt(lake.dir).find('bronze'))!;
  // A readable copy outside: were the location followed, the tables would read it without complaint.
  const original = localPath(headOf(bronze)!['manifest-list']);
  fs.copyFileSync(original, path.join(elsewhere, 'snap.avro'));
  const climbing = `${fileUri(localPath(bronze.location))}/../../../${path.basename(elsewhere)}/snap.avro`;
  assert.ok(fs.existsSync(localPath(climbing)), 'the climbing path names the copy');
  await tamper(lake, 'bronze', (m) => {
    head(m)['manifest-list'] = climbing;
  });
  for (const work of [() => show(lake, 'bronze.vehicles'), () => lake.verify()]) {
    const error = await failure(work);
    assert.ok(error instanceof OutsideTableError, error.message);
    assert.ok(error.message.includes(climbing) && error.message.includes('bronze.vehicles'), error.message);
  }
  // Bronze's next commit reads the manifests it carries over: it stops there too.
  assert.instance(await failure(() => lake.bronze([event(6)])), OutsideTableError);
});

outside("gold's state file named outside the lake is neither read nor deleted", async () => {
  const lake = await pipelineLake('tamper-gold');
  const elsewhere = temporaryDir('tamper-gold-outside');
  const victim = path.join(elsewhere, 'victim.json.gz');
  fs.writeFileSync(victim, gzipSync(JSON.stringify({})));
  const relative = path.relative(path.join(lake.dir, 'gold/stats'), victim);
  assert.match(relative, /^\.\.\//);
  await tamper(lake, 'gold', (m) => {
    (head(m).summary as Record<string, string>)[summaryKeys.goldVehicles] = relative;
  });
  await lake.bronze([event(7)]);
  await lake.silver();
  const error = await failure(() => lake.gold());
  assert.instance(error, OutsideTableError);
  assert.ok(error.message.includes(relative), error.message);
  assert.ok(fs.existsSync(victim), 'the file outside the lake is still there');
});

outside('a data file outside the lake, by absolute path or through a symbolic link, is refused', async () => {
  const elsewhere = temporaryDir('tamper-data-outside');
  for (const via of ['absolute path', 'link'] as const) {
    const lake = await pipelineLake(`tamper-data-${via === 'link' ? 'link' : 'path'}`);
    const bronze = (await lakeAt(lake.dir).find('bronze'))!;
    const [one] = await liveFiles(bronze);
    // A valid data file outside: were its location followed, silver would read it without complaint.
    const foreign = path.join(elsewhere, `${via === 'link' ? 'l' : 'p'}.parquet`);
    fs.copyFileSync(localPath(one.file.path), foreign);
    let location = foreign;
    if (via === 'link') {
      const link = path.join(localPath(bronze.location), 'data', 'link');
      fs.symlinkSync(elsewhere, link);
      location = path.join(link, path.basename(foreign));
    }
    await appendFiles(bronze, [{ ...one.file, path: fileUri(location) }], {
      ...headOf(bronze)!.summary,
      [summaryKeys.offsetRanges]: '{}',
    });
    const error = await failure(() => lake.silver());
    assert.instance(error, OutsideTableError);
    assert.ok(error.message.includes(location), error.message);
  }
});

outside('maintain removes no file outside the lake, whatever links lead there', async () => {
  const lake = await pipelineLake('tamper-maintain');
  const elsewhere = temporaryDir('tamper-maintain-outside');
  const precious = path.join(elsewhere, 'precious.parquet');
  fs.writeFileSync(precious, 'keep me');
  fs.utimesSync(precious, new Date(0), new Date(0));
  const data = path.join(lake.dir, 'bronze/vehicles/data');
  fs.symlinkSync(elsewhere, path.join(data, 'dir-link'));
  fs.symlinkSync(precious, path.join(data, 'file-link.parquet'));
  const config = { ...lake.config, orphanAgeHours: 0, snapshotRetentionHours: 0, keepSnapshots: 1 };
  await runMaintain(config, collectingLogger('maintain'));
  assert.is(fs.readFileSync(precious, 'utf8'), 'keep me');
  await lake.verify();
});

outside.run();

const damaged = suite('a table whose metadata does not resolve is damaged for every reader');

/** Each reader fails on the damaged table with DamagedTableError naming it. */
async function everyReaderRefuses(lake: BuiltLake, table: string, detail: RegExp) {
  const readers: [string, () => Promise<unknown>][] = [
    ['find', () => lakeAt(lake.dir).find(table.startsWith('bronze') ? 'bronze' : 'silver')],
    ['show', () => show(lake, table)],
    ['silver', () => lake.silver()],
    ['verify', () => lake.verify()],
  ];
  for (const [name, work] of readers) {
    const error = await failure(work);
    assert.ok(error instanceof DamagedTableError, `${name}: ${error.message}`);
    assert.ok(error.message.startsWith(`${table} is damaged`), `${name}: ${error.message}`);
    assert.match(error.message, detail, name);
  }
}

damaged('a current snapshot and main ref that name no snapshot', async () => {
  const lake = await pipelineLake('damaged-current');
  await tamper(lake, 'bronze', (m) => {
    m['current-snapshot-id'] = 12345n;
    (m.refs as Record<string, { 'snapshot-id': bigint }>).main['snapshot-id'] = 12345n;
  });
  await everyReaderRefuses(
    lake,
    'bronze.vehicles',
    /(ref main|current-snapshot-id) .*12345.* (names no snapshot|does not have)/,
  );
});

damaged('a main ref that disagrees with the current snapshot', async () => {
  const lake = await pipelineLake('damaged-ref');
  await tamper(lake, 'bronze', (m) => {
    const first = (m.snapshots as { 'snapshot-id': bigint }[])[0]['snapshot-id'];
    (m.refs as Record<string, { 'snapshot-id': bigint }>).main['snapshot-id'] = first;
  });
  await everyReaderRefuses(
    lake,
    'bronze.vehicles',
    /the main branch is at snapshot \d+ but current-snapshot-id is \d+/,
  );
});

damaged('a current schema id the table does not have', async () => {
  const lake = await pipelineLake('damaged-schema');
  await tamper(lake, 'silver', (m) => {
    m['current-schema-id'] = 7;
  });
  await everyReaderRefuses(lake, 'silver.vehicles', /current-schema-id 7 names no schema/);
});

damaged('a manifest list that is gone', async () => {
  const lake = await pipelineLake('damaged-list');
  const bronze = (await lakeAt(lake.dir).find('bronze'))!;
  fs.rmSync(localPath(headOf(bronze)!['manifest-list']));
  const error = await failure(() => show(lake, 'bronze.vehicles'));
  assert.instance(error, DamagedTableError);
  assert.match(error.message, /bronze\.vehicles is damaged: .*snap-.*\.avro: its manifest list cannot be read/);
  assert.instance(await failure(() => lake.verify()), DamagedTableError);
});

damaged.run();

const ahead = suite("verify checks the files ahead of its cut: the next runs' input");

ahead('a damaged bronze file silver has not read yet fails verify, naming it', async () => {
  const lake = await pipelineLake('ahead-bronze');
  await lake.bronze([event(8), event(9), event(10)]);
  const bronze = (await lakeAt(lake.dir).find('bronze'))!;
  const pending = (await liveFiles(bronze)).filter((f) => f.addedBy === headOf(bronze)!['snapshot-id']);
  const victim = localPath(pending[0].file.path);
  fs.truncateSync(victim, fs.statSync(victim).size - 10);
  const error = await failure(() => lake.verify());
  assert.ok(error.message.includes(victim), error.message);
  assert.match(error.message, /every data file is whole/);
  // The pipeline stops on it the same way.
  assert.ok((await failure(() => lake.silver())).message.includes(victim));
});

ahead('an undamaged lake with snapshots ahead of the cut verifies', async () => {
  const lake = await pipelineLake('ahead-fine');
  await lake.bronze([event(11)]);
  const summary = await lake.verify();
  assert.equal(summary.snapshotsAhead, { 'bronze.vehicles': 1 });
});

ahead.run();
