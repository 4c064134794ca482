// The object store as a dependency chart: vendored in charts/objectstore, declared in Chart.yaml with
// a Chart.lock that Helm's own `dependency build` accepts and `dependency update` would write the
// same; linted on its own and with the lakehouse chart; installable on its own.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { parseRendered, validateWithModel } from './rendered.ts';
import { CHART_DIR, helms, run, withTools } from './tools.ts';

const STORE_DIR = path.join(CHART_DIR, 'charts', 'objectstore');

const copyOfChart = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-dependency-'));
  cpSync(CHART_DIR, path.join(dir, 'chart'), { recursive: true });
  return path.join(dir, 'chart');
};

test("Chart.yaml declares the vendored store as a dependency under the condition objectStore.enabled, with the store's version", () => {
  const chart = parse(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8'));
  const store = parse(readFileSync(path.join(STORE_DIR, 'Chart.yaml'), 'utf8'));
  assert.equal(chart.dependencies, [
    {
      name: 'objectstore',
      version: store.version,
      repository: '',
      condition: 'objectStore.enabled',
      alias: 'objectStore',
    },
  ]);
  const lock = parse(readFileSync(path.join(CHART_DIR, 'Chart.lock'), 'utf8'));
  assert.equal(lock.dependencies, [{ name: 'objectstore', repository: '', version: store.version }]);
});

withTools(test, () => {
  for (const { name, bin } of helms()) {
    test(`${name} dependency build accepts Chart.lock, and dependency update writes the same digest`, () => {
      const ours = parse(readFileSync(path.join(CHART_DIR, 'Chart.lock'), 'utf8')).digest;
      const chart = copyOfChart();
      try {
        const build = run(bin, ['dependency', 'build', chart]);
        assert.is(build.status, 0, build.stderr);
        assert.match(build.stdout, /Dependency objectstore did not declare a repository/);
        const update = run(bin, ['dependency', 'update', chart]);
        assert.is(update.status, 0, update.stderr);
        assert.is(parse(readFileSync(path.join(chart, 'Chart.lock'), 'utf8')).digest, ours);
        assert.ok(readFileSync(path.join(chart, 'charts', 'objectstore', 'Chart.yaml')), 'the vendored chart stays');
      } finally {
        rmSync(path.dirname(chart), { recursive: true, force: true });
      }
    });

    test(`${name} lint --strict: the store chart on its own, and with the lakehouse chart (--with-subcharts)`, () => {
      const alone = run(bin, ['lint', '--strict', STORE_DIR]);
      assert.is(alone.status, 0, `${alone.stdout}\n${alone.stderr}`);
      // --with-subcharts lints each chart with the values given, as its own: only the defaults fit both.
      // (lint.test.ts lints the lakehouse chart with ci/objectstore-values.yaml, rendering the store.)
      const together = run(bin, ['lint', '--strict', '--with-subcharts', CHART_DIR]);
      assert.is(together.status, 0, `${together.stdout}\n${together.stderr}`);
      assert.match(together.stdout, /2 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    test(`${name}: the store chart installs on its own, named after its release, and its schema refuses what the lakehouse's does`, () => {
      const result = run(bin, ['template', 'store', STORE_DIR, '--namespace', 'data']);
      assert.is(result.status, 0, result.stderr);
      const objects = parseRendered(result.stdout);
      for (const o of objects) validateWithModel(o);
      assert.ok(objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'store-objectstore'));
      const off = run(bin, ['template', 'store', STORE_DIR, '--set', 'enabled=false']);
      assert.equal(parseRendered(off.stdout), [], 'enabled=false renders nothing');
      const bad = run(bin, ['template', 'store', STORE_DIR, '--set', 'tableBucket=Not_A_Bucket']);
      assert.is.not(bad.status, 0);
      assert.match(bad.stderr, /tableBucket/);
    });
  }
});

test.run();
