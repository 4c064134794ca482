import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BundleError, bundleJobs, MAX_BUNDLE_BYTES, REPO_ROOT } from '../../generator/bundle-jobs.ts';
import { BUNDLE_CHART_PATH, chartFiles, checkValuesCoverage, type ChartFiles } from '../../generator/chart-files.ts';
import { SPARK_CONTRACT_PATH } from '../../generator/spark-contract.ts';
import { chartDifferences, writeChart } from '../../generator/write-chart.ts';
import { contract } from '../../jobs/contract.ts';
import { CHART_DIR } from '../chart/tools.ts';

let first: ChartFiles;

test.before(async () => {
  first = await chartFiles();
});

test('generating twice gives byte-identical files, bundle included', async () => {
  const second = await chartFiles();
  assert.equal([...second.keys()], [...first.keys()]);
  for (const [file, content] of first) assert.ok(Buffer.from(content).equals(Buffer.from(second.get(file)!)), file);
});

test('chart/ is what `npm run generate` writes (run it when this fails)', async () => {
  const differences = await chartDifferences(CHART_DIR, first);
  assert.equal(differences, [], `run \`npm run generate\`; these files differ: ${differences.join(', ')}`);
});

test("the Spark engine's contract (jobs/spark and the chart) is what contract() gives (run `npm run generate` when this fails)", () => {
  const expected = contract();
  assert.equal(JSON.parse(readFileSync(SPARK_CONTRACT_PATH, 'utf8')), expected, 'jobs/spark/lakehouse_contract.json');
  assert.equal(
    JSON.parse(String(first.get('files/spark/lakehouse_contract.json'))),
    expected,
    'chart/files/spark/lakehouse_contract.json',
  );
  assert.equal(
    expected.settings.map((s) => s.env).length,
    new Set(expected.settings.map((s) => s.env)).size,
    'one setting per variable',
  );
});

test('writing is idempotent and removes files the generator no longer writes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-chart-'));
  try {
    assert.ok((await writeChart(dir, first)).length === first.size);
    writeFileSync(path.join(dir, 'templates', 'stale.yaml'), 'kind: Stale\n');
    assert.equal(await writeChart(dir, first), ['templates/stale.yaml (not generated)']);
    assert.equal(await writeChart(dir, first), []);
    assert.equal(readFileSync(path.join(dir, 'values.yaml'), 'utf8'), first.get('values.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundled jobs fit in a ConfigMap', () => {
  const size = first.get(BUNDLE_CHART_PATH)!.length;
  assert.ok(size > 10_000 && size <= MAX_BUNDLE_BYTES, `${size} bytes`);
});

test("bundling without the jobs' entry point fails, naming it", async () => {
  const missing = path.join(REPO_ROOT, 'jobs', 'no-such-entry.ts');
  try {
    await bundleJobs(missing);
    assert.unreachable('bundled a missing entry point');
  } catch (error) {
    assert.instance(error, BundleError);
    assert.match((error as Error).message, /jobs\/no-such-entry\.ts does not exist/);
  }
});

test('a value that no template reads is an error naming it', () => {
  assert.throws(() => checkValuesCoverage(new Set(['kafka', 'topic']), ''), /producer\.events/);
  assert.not.throws(() =>
    checkValuesCoverage(
      new Set([]),
      readFileSync(path.join(CHART_DIR, 'templates/_helpers.tpl'), 'utf8') + [...first.values()].map(String).join('\n'),
    ),
  );
});

test.run();
