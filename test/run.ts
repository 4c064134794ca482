/**
 * `npm test [-- PATTERN...]`: every `test/**\/*.test.ts` (or those whose path matches one of the
 * PATTERNs) in one uvu process through tsx, so that test files share one real Kafka broker. First it
 * re-runs itself on Node 22 when this Node is another major, and installs the tools the selected
 * tests need into the tool cache (ci/tools/ensure.ts: one line per tool; a tool that cannot be
 * installed stops the run there). uvu prints its own summary; this adds the closing line
 * `N passed, N failed` and exits non-zero on any failure. Spark drivers start with quicker JVM
 * options and a class archive (test/support/spark-jvm.ts), which the whole suite writes when missing.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools, TEST_TOOLS } from '../ci/tools/ensure.ts';
import { onNode22 } from '../ci/tools/node22.ts';
import { requireSparkInstall } from './spark/spark-install.ts';
import { sparkTestJvmOptions } from './support/spark-jvm.ts';
import { toolsNeeded } from './support/tools-needed.ts';

await onNode22();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uvuBin = path.join(root, 'node_modules', 'uvu', 'bin.js');
const filters = process.argv.slice(2).map((filter) => filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
const pattern = filters.length > 0 ? `(${filters.join('|')}).*\\.test\\.ts$` : '\\.test\\.ts$';
const ignore = 'support';

const tools = filters.length > 0 ? toolsNeeded(path.join(root, 'test'), pattern, ignore) : TEST_TOOLS;
if (!(await ensureTools(tools))) process.exit(1);
const sparkOptions =
  tools.includes('spark') && process.env.SPARK_SUBMIT_OPTS === undefined
    ? { SPARK_SUBMIT_OPTS: sparkTestJvmOptions(requireSparkInstall(), { writeArchive: filters.length === 0 }) }
    : {};

const child = spawn(process.execPath, ['--import', 'tsx', uvuBin, 'test', pattern, '--ignore', ignore], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, ...sparkOptions, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
});
// A terminal's Ctrl-C reaches uvu too; a signal sent to this process alone is passed on, so that
// uvu stops its broker rather than being left running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
let output = '';
// When each test file's header appears: a file took until the next one's (the last, until the end).
const started: { file: string; at: number }[] = [];
// biome-ignore lint/suspicious/noControlCharactersInRegex: uvu's headers may carry ANSI colour codes
const header = /^(?:\x1b\[[0-9;]*m)*([\w./-]+\.test\.ts)(?:\x1b\[[0-9;]*m)*\s*$/gm;
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  const text = chunk.toString('utf8');
  for (const match of text.matchAll(header)) started.push({ file: match[1], at: Date.now() });
  output += text;
  if (output.length > 200_000) output = output.slice(-100_000);
});

/** The slowest test files, so that where npm test's time goes shows in every run. */
function slowestFiles(end: number, count = 8): string {
  const seconds = started.map((s, i) => ({ file: s.file, s: ((started[i + 1]?.at ?? end) - s.at) / 1000 }));
  const top = seconds.sort((a, b) => b.s - a.s).slice(0, count);
  return top.length ? `slowest test files: ${top.map((t) => `${t.file} ${t.s.toFixed(0)} s`).join(', ')}\n` : '';
}
child.on('close', (code, signal) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const summarised = Number.isFinite(total) && Number.isFinite(passed);
  // A crash before uvu's summary (a file that fails to import, a killed process) counts as a failure.
  const failed = summarised ? Math.max(total - passed - skipped, code === 0 ? 0 : 1) : 1;
  process.stdout.write(slowestFiles(Date.now()));
  process.stdout.write(`${summarised ? passed : 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 || code !== 0 || signal ? 1 : 0);
});
