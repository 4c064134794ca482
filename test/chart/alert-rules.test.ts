// The chart's alert rules in Prometheus' own tool: the rule group is taken from the rendered
// PrometheusRule (not a copy), `promtool check rules` accepts it for every shape the chart renders,
// and `promtool test rules` runs alert-rules.promtool.yaml, which makes every alert fire and not fire.
// Rendered with other thresholds, those tests fail: they hold the thresholds, not only the names.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { parseRendered } from './rendered.ts';
import { helmTemplate, REPO_ROOT, run, toolPath, withTools } from './tools.ts';

const UNIT_TESTS = path.join(REPO_ROOT, 'test/chart/alert-rules.promtool.yaml');
// What alert-rules.promtool.yaml was written for (its header says so).
const TESTED = ['--set', 'schedule.pipeline=*/5 * * * *'];
const MONITORING = ['--api-versions', 'monitoring.coreos.com/v1', '--set', 'metrics.enabled=true'];
const ALERTS = ['LakehouseExporterDown', 'LakehouseKafkaLagGrowing', 'LakehousePipelineStale', 'LakehouseStageFailing'];

interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string; for?: string }[];
}

withTools(test, () => {
  const helm = toolPath('helm');
  const promtool = toolPath('promtool');

  /** The PrometheusRule's groups, as `helm template` renders them with `args`. */
  const renderedGroups = (...args: string[]): RuleGroup[] => {
    const rules = parseRendered(helmTemplate(helm, [...MONITORING, ...args])).filter(
      (o) => o.kind === 'PrometheusRule',
    );
    assert.is(rules.length, 1, 'one PrometheusRule');
    return rules[0]!.spec.groups;
  };

  /** A directory holding rules.yaml (the groups as a Prometheus rule file) and the unit tests beside it. */
  const ruleDir = (groups: RuleGroup[]): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alert-rules-'));
    writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups }));
    copyFileSync(UNIT_TESTS, path.join(dir, 'tests.yaml'));
    return dir;
  };
  const check = (dir: string) => run(promtool, ['check', 'rules', path.join(dir, 'rules.yaml')]);
  const unitTest = (dir: string) => run(promtool, ['test', 'rules', path.join(dir, 'tests.yaml')], { cwd: dir });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  test('promtool check rules accepts the rendered rules: with a schedule, without, with a given threshold, another release', () => {
    const shapes: [string, string[], number][] = [
      ['schedule */5', TESTED, 4],
      ['daily schedule', ['--set', 'schedule.pipeline=30 2 * * *'], 4],
      ['no schedule', [], 2],
      ['no schedule, staleAfterSeconds', ['--set', 'metrics.prometheusRule.staleAfterSeconds=3600'], 4],
      ['failuresThreshold 1', [...TESTED, '--set', 'metrics.prometheusRule.failuresThreshold=1'], 4],
    ];
    for (const [name, args, count] of shapes) {
      const result = check(ruleDir(renderedGroups(...args)));
      assert.is(result.status, 0, `${name}: ${output(result)}`);
      assert.match(result.stdout, `SUCCESS: ${count} rules found`, name);
    }
    // Another release name and namespace: the series selectors follow them.
    const other = parseRendered(
      run(helm, [
        'template',
        'data',
        path.join(REPO_ROOT, 'chart'),
        '--namespace',
        'analytics',
        ...MONITORING,
        ...TESTED,
      ]).stdout,
    ).find((o) => o.kind === 'PrometheusRule')!;
    const dir = ruleDir(other.spec.groups);
    assert.is(check(dir).status, 0, output(check(dir)));
    assert.match(other.spec.groups[0].rules[0].expr, '{namespace="analytics",job="data-lakehouse-metrics"');
  });

  test('promtool test rules: every alert fires when it should and stays quiet when it should not', () => {
    const groups = renderedGroups(...TESTED);
    assert.equal(groups[0]!.rules.map((r) => r.alert).sort(), ALERTS, 'the unit tests cover every alert rule');
    const result = unitTest(ruleDir(groups));
    assert.is(result.status, 0, output(result));
    assert.match(result.stdout, 'SUCCESS');
  });

  test('the unit tests fail for rules that differ: an alert left out, no hold time, other thresholds', () => {
    const groups = renderedGroups(...TESTED);
    const fails = (what: string, changed: RuleGroup[], expected: RegExp) => {
      const result = unitTest(ruleDir(changed));
      assert.is.not(result.status, 0, `${what}: promtool test rules passed`);
      assert.match(output(result), expected, what);
    };
    for (const alert of ALERTS) {
      const without = groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert !== alert) }));
      fails(`without ${alert}`, without, new RegExp(`alertname: ${alert}`));
    }
    for (const rule of groups[0]!.rules.filter((r) => r.for)) {
      const immediate = groups.map((g) => ({
        ...g,
        rules: g.rules.map((r) => (r === rule ? { ...r, for: undefined } : r)),
      }));
      fails(`${rule.alert} without its hold time`, immediate, new RegExp(`alertname: ${rule.alert}`));
    }
    fails(
      'stale after 900 s',
      renderedGroups(...TESTED, '--set', 'metrics.prometheusRule.staleAfterSeconds=900'),
      /alertname: LakehousePipelineStale/,
    );
    fails(
      'failing after 2 runs',
      renderedGroups(...TESTED, '--set', 'metrics.prometheusRule.failuresThreshold=2'),
      /alertname: LakehouseStageFailing/,
    );
    fails(
      'lag over a 2 h schedule',
      renderedGroups('--set', 'schedule.pipeline=0 */1 * * *'),
      /alertname: LakehouseKafkaLagGrowing/,
    );
  });
});

test.run();
