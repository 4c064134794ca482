// The scanner findings the chart keeps on purpose (ci/scan-exceptions.yaml): read by the scan test
// (test/chart/scan.test.ts), which fails on any other finding and on an exception that no longer
// fires, and listed in chart/README.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './bundle-jobs.ts';

export const SCAN_EXCEPTIONS_FILE = 'ci/scan-exceptions.yaml';
export const SCANNERS = ['checkov', 'kube-score'] as const;
export type Scanner = (typeof SCANNERS)[number];

export interface ScanException {
  readonly scanner: Scanner;
  /** checkov's check id (CKV_K8S_15) or kube-score's (container-image-pull-policy). */
  readonly check: string;
  /** The finding's message (kube-score's comment, checkov's check name); any when absent. */
  readonly message?: string;
  /** `Kind/name` of the objects it applies to; every object when absent. */
  readonly objects?: readonly string[];
  /** The scan's renderings it applies to (defaults, engine-spark, values-prod, ci-…); every one when absent. */
  readonly renderings?: readonly string[];
  readonly reason: string;
}

const fail = (index: number, field: string, what: string): never => {
  throw new Error(`${SCAN_EXCEPTIONS_FILE}: entry ${index + 1}: ${field} ${what}`);
};

/** The exceptions, each checked: a known scanner, a check id, `Kind/name` objects and a reason. */
export function parseScanExceptions(text: string): ScanException[] {
  const entries: unknown = parse(text);
  if (!Array.isArray(entries)) throw new Error(`${SCAN_EXCEPTIONS_FILE}: must be a list of exceptions`);
  return entries.map((entry: Record<string, unknown>, i) => {
    const known = ['scanner', 'check', 'message', 'objects', 'renderings', 'reason'];
    const unknown = Object.keys(entry ?? {}).filter((k) => !known.includes(k));
    if (unknown.length > 0) fail(i, unknown[0]!, `is not a field (fields: ${known.join(', ')})`);
    const { scanner, check, message, objects, renderings, reason } = entry;
    if (!SCANNERS.includes(scanner as Scanner)) fail(i, 'scanner', `must be one of ${SCANNERS.join(', ')}`);
    if (typeof check !== 'string' || check === '') fail(i, 'check', 'must be a check id');
    if (typeof reason !== 'string' || reason.trim().length < 20) fail(i, 'reason', 'must say why (a sentence)');
    if (
      objects !== undefined &&
      (!Array.isArray(objects) || objects.some((o) => typeof o !== 'string' || !/^[A-Za-z]+\/[-a-z0-9.]+$/.test(o)))
    ) {
      fail(i, 'objects', 'must be a list of Kind/name');
    }
    if (message !== undefined && (typeof message !== 'string' || message === ''))
      fail(i, 'message', "must be the finding's message");
    if (renderings !== undefined && (!Array.isArray(renderings) || renderings.some((r) => typeof r !== 'string')))
      fail(i, 'renderings', 'must be a list of rendering names');
    return {
      scanner,
      check,
      reason: (reason as string).trim().replace(/\s+/g, ' '),
      ...(message ? { message } : {}),
      ...(objects ? { objects } : {}),
      ...(renderings ? { renderings } : {}),
    } as ScanException;
  });
}

export const loadScanExceptions = (): ScanException[] =>
  parseScanExceptions(readFileSync(path.join(REPO_ROOT, SCAN_EXCEPTIONS_FILE), 'utf8'));
