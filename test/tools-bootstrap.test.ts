import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_TOOLS } from '../ci/tools/ensure.ts';
import { toolsNeeded } from './support/tools-needed.ts';

const root = path.resolve(import.meta.dirname, '..');
const testDir = path.join(root, 'test');
// The pattern test/run.ts gives uvu for `npm test -- FILTER...`.
const needed = (...filters: string[]) => toolsNeeded(testDir, `(${filters.join('|')}).*\\.test\\.ts$`, 'support');

test('npm test -- PATTERN installs what the selected files call for', () => {
  // chart/pipeline-catalog.test.ts runs the rendered Jobs on a catalog lake.
  assert.equal(needed('chart'), [
    'helm',
    'helm3',
    'ct',
    'linters',
    'checkov',
    'kube-score',
    'promtool',
    'kafka',
    'objectstore',
    'rest-catalog',
  ]);
  assert.equal(needed('chart', 'rules-parity'), [
    'helm',
    'helm3',
    'ct',
    'linters',
    'checkov',
    'kube-score',
    'promtool',
    'kafka',
    'spark',
    'objectstore',
    'rest-catalog',
  ]);
  assert.equal(needed('chart/scan'), ['helm', 'helm3', 'checkov', 'kube-score']);
  assert.equal(needed('template'), ['helm', 'helm3']);
  assert.equal(needed('chart/alert-rules'), ['helm', 'helm3', 'promtool']);
  assert.equal(needed('jobs/pipeline'), ['kafka']);
  assert.equal(needed('tables/readers-agree'), ['kafka', 'spark'], 'through the helpers it imports');
  assert.equal(needed('objectstore/s3'), ['objectstore', 'rest-catalog'], 'the fixture starts both servers');
  assert.equal(needed('objectstore/readers'), ['spark', 'objectstore', 'rest-catalog']);
  assert.equal(needed('jobs/explorer'), ['kafka', 'chromium'], "the page test drives Debian's chromium");
  assert.equal(needed('validate', 'aggregate'), []);
});

test("ci/tools/fresh-clone.sh's default test files need every tool npm test installs", () => {
  const script = readFileSync(path.join(root, 'ci/tools/fresh-clone.sh'), 'utf8');
  const patterns = /^EVERY_TOOL_PATTERNS=\(([^)]*)\)$/m.exec(script)?.[1].split(/\s+/);
  assert.ok(patterns, 'EVERY_TOOL_PATTERNS in ci/tools/fresh-clone.sh');
  assert.equal(needed(...patterns!), [...TEST_TOOLS]);
});

async function failureOf(run: Promise<unknown>): Promise<{ code?: number; stdout?: string }> {
  try {
    await run;
  } catch (error) {
    return error as { code?: number; stdout?: string };
  }
  assert.unreachable('expected ensure.ts to fail');
  return {};
}

test('a tool that cannot be installed stops the bootstrap with one line, before anything is installed', async () => {
  const cache = mkdtempSync(path.join(tmpdir(), 'lakehouse-tools-test-'));
  const withoutGo = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => !existsSync(path.join(dir, 'go')));
  try {
    const failure = await failureOf(
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'ci/tools/ensure.ts', 'linters', 'helm3', 'ct'], {
        cwd: root,
        env: { ...process.env, LAKEHOUSE_CACHE: cache, PATH: withoutGo.join(path.delimiter) },
      }),
    );
    assert.is(failure.code, 1);
    const lines = (failure.stdout ?? '').trim().split('\n');
    assert.is(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0],
      /^tools: helm3 v\S+ … cannot be installed: go is not on PATH.*; ct v\S+ … cannot be installed: go is not on PATH/,
    );
    assert.equal(readdirSync(cache), [], 'nothing installed');
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test.run();
