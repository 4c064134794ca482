/**
 * `npm test [-- PATTERN...]`: every `test/**\/*.test.ts` (or those whose path matches one of the
 * PATTERNs) in two uvu processes through tsx (test/support/shards.ts), the files of each sharing one
 * real Kafka broker. First it
 * re-runs itself on Node 22 when this Node is another major, and installs the tools the selected
 * tests need into the tool cache (ci/tools/ensure.ts: one line per tool; a tool that cannot be
 * installed stops the run there). uvu prints its own summary; this adds the closing line
 * `N passed, N failed` and exits non-zero on any failure. Spark drivers start with quicker JVM
 * options and a class archive (test/support/spark-jvm.ts), which the whole suite writes when missing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools, TEST_TOOLS } from '../ci/tools/ensure.ts';
import { onNode22 } from '../ci/tools/node22.ts';
import { requireSparkInstall } from './spark/spark-install.ts';
import { sparkTestJvmOptions } from './support/spark-jvm.ts';
import { knownSeconds, patternFor, recordSeconds, selectedTestFiles, splitIntoShards } from './support/shards.ts';
import { toolsNeeded } from './support/tools-needed.ts';
import { lakehouseCache } from '../dev/broker/paths.ts';

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

const testDir = path.join(root, 'test');
const files = selectedTestFiles(testDir, pattern, ignore);
const secondsFile = path.join(lakehouseCache(), 'test-seconds.json');
const known = knownSeconds(secondsFile);
// LAKEHOUSE_TEST_PROCESSES=1 runs every file in one process, in order.
const processes = Number(process.env.LAKEHOUSE_TEST_PROCESSES ?? 2);
const shards =
  files.length > 0 ? splitIntoShards(files, Number.isInteger(processes) && processes > 0 ? processes : 2, known) : [[]];

// biome-ignore lint/suspicious/noControlCharactersInRegex: uvu's headers may carry ANSI colour codes
const header = /^(?:\x1b\[[0-9;]*m)*([\w./-]+\.test\.ts)(?:\x1b\[[0-9;]*m)*\s*$/gm;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
const plainText = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

interface ShardRun {
  readonly files: readonly string[];
  /** When each test file's header appeared: a file took until the next one's (the last, until the end). */
  readonly started: { file: string; at: number }[];
  output: string;
  ended?: number;
  outcome?: { passed: number; failed: number; skipped: number };
}

/**
 * One uvu process over `shardFiles`. The first shard prints as it goes; the others are held and
 * printed when the first is done, so that no two files' output interleave.
 */
function runShard(shardFiles: readonly string[], live: boolean, children: ChildProcess[]): Promise<ShardRun> {
  const run: ShardRun = { files: shardFiles, started: [], output: '' };
  const held: Buffer[] = [];
  const selection = shards.length > 1 ? patternFor(shardFiles) : pattern;
  const child = spawn(process.execPath, ['--import', 'tsx', uvuBin, 'test', selection, '--ignore', ignore], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...sparkOptions, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
  });
  children.push(child);
  child.stdout!.on('data', (chunk: Buffer) => {
    if (live) process.stdout.write(chunk);
    else held.push(chunk);
    const text = chunk.toString('utf8');
    for (const match of text.matchAll(header)) run.started.push({ file: match[1], at: Date.now() });
    run.output += text;
    if (run.output.length > 200_000) run.output = run.output.slice(-100_000);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      run.ended = Date.now();
      const plain = plainText(run.output);
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const summarised = Number.isFinite(total) && Number.isFinite(passed);
      // A crash before uvu's summary (a file that fails to import, a killed process) counts as a failure.
      const failed = summarised ? Math.max(total - passed - skipped, code === 0 && !signal ? 0 : 1) : 1;
      run.outcome = { passed: summarised ? passed : 0, failed, skipped };
      if (!live) run.output = Buffer.concat(held).toString('utf8');
      resolve(run);
    });
  });
}

const children: ChildProcess[] = [];
// A terminal's Ctrl-C reaches uvu too; a signal sent to this process alone is passed on, so that
// uvu stops its broker rather than being left running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
if (shards.length > 1)
  process.stdout.write(`${files.length} test files in ${shards.length} processes (LAKEHOUSE_TEST_PROCESSES)\n`);
const runs = await Promise.all(
  shards.map(async (shardFiles, i) => {
    const run = await runShard(shardFiles, i === 0, children);
    return run;
  }),
);
for (const run of runs.slice(1)) process.stdout.write(run.output);

const seconds = runs.flatMap((run) =>
  run.started.map((s, i) => ({ file: s.file, s: ((run.started[i + 1]?.at ?? run.ended!) - s.at) / 1000 })),
);
if (filters.length === 0 && runs.every((run) => run.outcome!.failed === 0))
  recordSeconds(secondsFile, Object.fromEntries(seconds.map((t) => [t.file, Math.round(t.s)])));
// The slowest test files, so that where npm test's time goes shows in every run.
const top = seconds.sort((a, b) => b.s - a.s).slice(0, 8);
if (top.length)
  process.stdout.write(`slowest test files: ${top.map((t) => `${t.file} ${t.s.toFixed(0)} s`).join(', ')}\n`);
const sum = (key: 'passed' | 'failed' | 'skipped') => runs.reduce((n, run) => n + run.outcome![key], 0);
const [passed, failed, skipped] = [sum('passed'), sum('failed'), sum('skipped')];
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
