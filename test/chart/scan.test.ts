// checkov and kube-score over every environment's rendering and engine=spark: nothing may be found
// but the exceptions of ci/scan-exceptions.yaml, and each exception must still be found somewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadScanExceptions, parseScanExceptions, SCAN_EXCEPTIONS_FILE } from '../../generator/scan-exceptions.ts';
import { environmentFiles } from './environments.ts';
import { describe, matches, scanRenderings, type Finding, type Rendering } from './scan.ts';
import { CHART_DIR, helmTemplate, toolPath, withTools } from './tools.ts';

withTools(test, () => {
  const helm = toolPath('helm');
  const renderings: Rendering[] = [
    { name: 'defaults', manifest: helmTemplate(helm) },
    { name: 'engine-spark', manifest: helmTemplate(helm, ['--set', 'engine=spark']) },
    { name: 'egress', manifest: helmTemplate(helm, ['--set', 'networkPolicy.egress=true']) },
    // With the schedule and the exporter too, so that Spark's CronJob and the exporter's policy are scanned.
    {
      name: 'egress-spark',
      manifest: helmTemplate(helm, [
        '-f',
        `${CHART_DIR}/ci/scheduled-values.yaml`,
        '--set',
        'networkPolicy.egress=true',
        '--set',
        'engine=spark',
      ]),
    },
    ...environmentFiles().map((file) => ({
      name: file.replace(/^ci\//, 'ci-').replace(/\.yaml$/, ''),
      manifest: helmTemplate(helm, ['-f', `${CHART_DIR}/${file}`]),
    })),
  ];
  const exceptions = loadScanExceptions();
  let findings: Finding[] | undefined;
  const scan = () => (findings ??= scanRenderings(renderings));

  test(`checkov and kube-score find nothing outside ${SCAN_EXCEPTIONS_FILE} (${renderings.length} renderings)`, () => {
    const unlisted = scan().filter((f) => !exceptions.some((e) => matches(e, f)));
    const lines = [...new Set(unlisted.map(describe))];
    assert.is(lines.length, 0, `${lines.length} findings not in ${SCAN_EXCEPTIONS_FILE}:\n${lines.join('\n')}`);
  });

  test(`every exception of ${SCAN_EXCEPTIONS_FILE} is still found, on every object it names`, () => {
    const stale = exceptions.flatMap((e) => {
      const hits = scan().filter((f) => matches(e, f));
      if (hits.length === 0) return [`${e.scanner} ${e.check}: found nowhere`];
      return [
        ...(e.objects ?? [])
          .filter((o) => !hits.some((f) => f.object === o))
          .map((o) => `${e.scanner} ${e.check} ${o}: not found`),
        ...(e.renderings ?? [])
          .filter((r) => !hits.some((f) => f.rendering === r))
          .map((r) => `${e.scanner} ${e.check} in ${r}: not found`),
      ];
    });
    assert.is(stale.length, 0, `exceptions that no longer fire (remove them):\n${stale.join('\n')}`);
  });

  test('with networkPolicy.egress every pod has an ingress and an egress NetworkPolicy (kube-score)', () => {
    const unmatched = scan().filter((f) => f.rendering.startsWith('egress') && f.check === 'pod-networkpolicy');
    assert.equal(unmatched.map(describe), []);
  });

  test('the scanners do find what the chart would get wrong (a pod without ephemeral-storage, a low uid)', () => {
    const broken = helmTemplate(helm, ['--set', 'jobs.resources.limits.ephemeral-storage=null']).replace(
      /runAsUser: \d+/,
      'runAsUser: 1000',
    );
    const found = scanRenderings([{ name: 'broken', manifest: broken }]);
    const checks = new Set(found.map((f) => `${f.scanner} ${f.check}`));
    for (const check of [
      'kube-score container-ephemeral-storage-request-and-limit',
      'kube-score container-security-context-user-group-id',
      'checkov CKV_K8S_40',
    ]) {
      assert.ok(checks.has(check), `expected ${check} on the broken rendering; found ${[...checks].join(', ')}`);
    }
  });
});

test(`${SCAN_EXCEPTIONS_FILE}: an entry without a reason, or of an unknown scanner, is refused naming it`, () => {
  assert.throws(() => parseScanExceptions('- scanner: checkov\n  check: CKV_K8S_15\n'), /entry 1: reason must say why/);
  assert.throws(
    () => parseScanExceptions('- scanner: trivy\n  check: X\n  reason: because it is what it is here\n'),
    /entry 1: scanner must be one of checkov, kube-score/,
  );
  assert.throws(
    () =>
      parseScanExceptions(
        '- scanner: checkov\n  check: CKV_K8S_15\n  objects: [lakehouse-kafka]\n  reason: because it is what it is here\n',
      ),
    /entry 1: objects must be a list of Kind\/name/,
  );
});

test.run();
