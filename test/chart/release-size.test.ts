// A Helm release is one Secret (helm.sh/release.v1): the chart with every file, the values and the
// rendered manifests, as base64 of gzipped JSON, which Kubernetes refuses beyond 1 MiB. The chart
// carries the jobs' bundle twice (among its files and in the rendered ConfigMap), so its size is the
// chart's own budget: every rendering must leave room for the bundle to grow.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { environmentFiles } from './environments.ts';
import { CHART_DIR, run, toolPath, withTools } from './tools.ts';

const SECRET_LIMIT = 1024 * 1024;
/** Go's gzip, which Helm uses, compresses about 1% worse than zlib here: keep 5% free. */
const BUDGET = Math.floor(SECRET_LIMIT * 0.95);

/** The release record's size as Helm stores it: base64(gzip(json(release))). */
const recordSize = (releaseJson: string) =>
  Math.ceil(gzipSync(JSON.stringify(JSON.parse(releaseJson)), { level: 9 }).length / 3) * 4;

withTools(test, () => {
  const helm = toolPath('helm');
  const release = (args: string[]) => {
    const result = run(helm, [
      'install',
      'lakehouse',
      CHART_DIR,
      '-n',
      'lakehouse',
      '--dry-run=client',
      '-o',
      'json',
      ...args,
    ]);
    if (result.status !== 0) throw new Error(`helm install --dry-run ${args.join(' ')}:\n${result.stderr}`);
    return recordSize(result.stdout);
  };
  const everything = [
    '-f',
    `${CHART_DIR}/ci/objectstore-values.yaml`,
    '-f',
    `${CHART_DIR}/ci/scheduled-values.yaml`,
    '--set',
    'engine=spark',
    '--set',
    'networkPolicy.egress=true',
  ];
  const renderings: [string, string[]][] = [
    ['the defaults', []],
    ['the embedded store, Spark, the schedule, the exporter and egress policies', everything],
    ...environmentFiles().map((file): [string, string[]] => [file, ['-f', `${CHART_DIR}/${file}`]]),
  ];

  test(`the release record fits Kubernetes' 1 MiB Secret with 5% to spare, in every rendering (${renderings.length})`, () => {
    const sizes = renderings.map(([name, args]) => [name, release(args)] as const);
    const over = sizes.filter(([, size]) => size > BUDGET);
    assert.equal(
      over.map(([name, size]) => `${name}: ${size} bytes`),
      [],
      `release records above ${BUDGET} bytes (the limit is ${SECRET_LIMIT})`,
    );
  });

  test('the measure sees a release that would not fit: with the plain bundle packaged too, it exceeds 1 MiB', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-release-size-'));
    try {
      const chart = path.join(dir, 'chart');
      cpSync(CHART_DIR, chart, { recursive: true });
      const ignore = path.join(chart, '.helmignore');
      writeFileSync(ignore, readFileSync(ignore, 'utf8').replace(/^files\/lakehouse\.mjs$/m, ''));
      const result = run(helm, ['install', 'lakehouse', chart, '-n', 'lakehouse', '--dry-run=client', '-o', 'json']);
      assert.is(result.status, 0, result.stderr);
      assert.ok(JSON.parse(result.stdout).chart.files.some((f: { name: string }) => f.name === 'files/lakehouse.mjs'));
      assert.ok(recordSize(result.stdout) > SECRET_LIMIT, `${recordSize(result.stdout)} bytes`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test.run();
