import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { environmentFiles } from './environments.ts';
import { CHART_DIR, helms, REPO_ROOT, run, toolPath, withTools } from './tools.ts';

withTools(test, () => {
  for (const { name, bin } of helms()) {
    for (const file of [undefined, ...environmentFiles()]) {
      test(`${name} lint --strict with ${file ?? 'the defaults'}`, () => {
        const result = run(bin, ['lint', '--strict', CHART_DIR, ...(file ? ['-f', `${CHART_DIR}/${file}`] : [])]);
        assert.is(result.status, 0, `${result.stdout}\n${result.stderr}`);
        assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      });
    }
  }
});

test('ct lint with ci/ct.yaml (Chart.yaml schema, yamllint, helm lint with every chart/ci values file)', () => {
  const result = run(toolPath('ct'), ['lint', '--config', 'ci/ct.yaml'], { cwd: REPO_ROOT });
  assert.is(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout + result.stderr, /All charts linted successfully/);
});

test.run();
