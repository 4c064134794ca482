// Runs checkov and kube-score (installed by ci/tools/install.sh) over rendered charts and returns
// their findings in one shape, to compare with the exceptions of ci/scan-exceptions.yaml.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScanException, Scanner } from '../../generator/scan-exceptions.ts';
import { run, toolPath } from './tools.ts';

export interface Finding {
  readonly scanner: Scanner;
  readonly check: string;
  /** `Kind/name` of the object (for checkov's pod checks, the object whose pod it is). */
  readonly object: string;
  readonly message: string;
  /** The rendering it was found in. */
  readonly rendering: string;
}

export interface Rendering {
  readonly name: string;
  readonly manifest: string;
}

// kube-score grades: 1 critical, 5 warning, 7 almost OK, 10 OK.
const OK = 10;

interface KubeScoreObject {
  type_meta: { kind: string };
  object_meta: { name: string };
  checks: { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string }[] | null }[];
}

function kubeScore(rendering: Rendering, dir: string): Finding[] {
  const file = path.join(dir, `${rendering.name}.yaml`);
  writeFileSync(file, rendering.manifest);
  // Exit 1 means it found something critical; the JSON says what.
  const result = run(toolPath('kube-score'), ['score', '--output-format', 'json', file]);
  if (result.status > 1 || !result.stdout.startsWith('['))
    throw new Error(`kube-score failed on ${rendering.name}:\n${result.stderr}${result.stdout}`);
  return (JSON.parse(result.stdout) as KubeScoreObject[]).flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade < OK)
      .flatMap((c) =>
        (c.comments?.length ? c.comments : [{ summary: `grade ${c.grade}` }]).map((comment) => ({
          scanner: 'kube-score' as const,
          check: c.check.id,
          object: `${o.type_meta.kind}/${o.object_meta.name}`,
          message: comment.summary,
          rendering: rendering.name,
        })),
      ),
  );
}

interface CheckovReport {
  check_type: string;
  results: { failed_checks: { check_id: string; check_name: string; resource: string; file_path: string }[] };
}

/** checkov names resources `Kind.namespace.name[.labels]`; a pod template is `Pod.<ns>.<owner name>…`. */
const checkovObject = (resource: string): string => {
  const [kind, , name] = resource.split('.');
  return `${kind}/${name}`;
};

function checkov(rendering: Rendering, dir: string): Finding[] {
  // A directory per rendering, so that a graph check (CKV2_K8S_6) sees only that rendering's objects.
  const sub = mkdtempSync(path.join(dir, `checkov-${rendering.name}-`));
  writeFileSync(path.join(sub, 'chart.yaml'), rendering.manifest);
  const result = run(toolPath('checkov'), [
    '--directory',
    sub,
    '--framework',
    'kubernetes',
    '--output',
    'json',
    '--quiet',
    '--compact',
    '--skip-download',
  ]);
  if (result.status > 1)
    throw new Error(`checkov failed on ${rendering.name}:\n${result.stderr}${result.stdout.slice(0, 2000)}`);
  const parsed = JSON.parse(result.stdout || '[]') as CheckovReport | CheckovReport[] | Record<string, number>;
  const reports = (Array.isArray(parsed) ? parsed : 'results' in parsed ? [parsed] : []) as CheckovReport[];
  return reports.flatMap((report) =>
    report.results.failed_checks.map((c) => ({
      scanner: 'checkov' as const,
      check: c.check_id,
      object: checkovObject(c.resource),
      message: c.check_name,
      rendering: rendering.name,
    })),
  );
}

/** Every finding of both scanners over the renderings. */
export function scanRenderings(renderings: readonly Rendering[]): Finding[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-scan-'));
  try {
    return renderings.flatMap((r) => [...checkov(r, dir), ...kubeScore(r, dir)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const matches = (exception: ScanException, finding: Finding): boolean =>
  exception.scanner === finding.scanner &&
  exception.check === finding.check &&
  (exception.message === undefined || exception.message === finding.message) &&
  (exception.objects === undefined || exception.objects.includes(finding.object)) &&
  (exception.renderings === undefined || exception.renderings.includes(finding.rendering));

export const describe = (f: Finding): string => `${f.scanner} ${f.check} ${f.object} (${f.rendering}): ${f.message}`;
