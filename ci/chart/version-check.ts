/**
 * `npm run chart:version-check [-- BASE]`: fails when chart/ differs from BASE but the chart's
 * version is not higher than it was there, naming the files and both versions. BASE by default is
 * where this branch left origin/main (git merge-base), or, on main itself, the commit before
 * (first parent: the main a merge landed on). The version is Chart.yaml's, generated from
 * package.json; its changes are generator/releases.ts's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compareSemVer, parseSemVer } from '../../generator/semver.ts';

const CHART_YAML = 'chart/Chart.yaml';

const git = (...args: string[]): string =>
  execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const tryGit = (...args: string[]): string | undefined => {
  try {
    return git(...args);
  } catch {
    return undefined;
  }
};

function defaultBase(): string | undefined {
  const head = git('rev-parse', 'HEAD');
  const mergeBase = tryGit('merge-base', 'HEAD', 'origin/main');
  if (mergeBase && mergeBase !== head) return mergeBase;
  return tryGit('rev-parse', '--verify', '--quiet', 'HEAD^1');
}

const versionOf = (chartYaml: string, where: string): string => {
  const version = (parse(chartYaml) as { version?: unknown } | null)?.version;
  if (typeof version !== 'string') throw new Error(`${CHART_YAML} at ${where} has no version`);
  return version;
};

export function checkChartVersion(base: string | undefined): { ok: boolean; message: string } {
  if (!base) return { ok: true, message: 'chart version: no earlier commit to compare with' };
  const short = git('rev-parse', '--short', base);
  const changed = git('diff', '--name-only', base, '--', 'chart/')
    .split('\n')
    .filter((f) => f !== '');
  const current = versionOf(readFileSync(CHART_YAML, 'utf8'), 'the working tree');
  if (changed.length === 0) return { ok: true, message: `chart version: chart/ unchanged since ${short} (${current})` };
  const before = tryGit('show', `${base}:${CHART_YAML}`);
  if (before === undefined) return { ok: true, message: `chart version: ${CHART_YAML} is new since ${short}` };
  const previous = versionOf(before, short);
  if (compareSemVer(parseSemVer(current, `${CHART_YAML}'s version`), parseSemVer(previous)) > 0) {
    return {
      ok: true,
      message: `chart version: ${previous} at ${short} -> ${current}, ${changed.length} files changed`,
    };
  }
  const files = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
  return {
    ok: false,
    message: `chart version: chart/ changed since ${short} (${files}) but its version is ${current}, not higher than ${previous} there: raise package.json's version, add its release to generator/releases.ts and run npm run generate`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = checkChartVersion(process.argv[2] ?? defaultBase());
  (result.ok ? console.log : console.error)(result.message);
  process.exit(result.ok ? 0 : 1);
}
