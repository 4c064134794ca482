/**
 * `npm test [-- PATTERN]`: every `test/**\/*.test.ts` (or those whose path matches PATTERN) in one
 * uvu process through tsx, so that test files share one real Kafka broker. uvu prints its own
 * summary; this adds the closing line `N passed, N failed` and exits non-zero on any failure.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uvuBin = path.join(root, 'node_modules', 'uvu', 'bin.js');
const filter = process.argv[2];
const pattern = filter ? `${filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&')}.*\\.test\\.ts$` : '\\.test\\.ts$';

const child = spawn(process.execPath, ['--import', 'tsx', uvuBin, 'test', pattern, '--ignore', 'support'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
});
let output = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  output += chunk.toString('utf8');
  if (output.length > 200_000) output = output.slice(-100_000);
});
child.on('close', (code, signal) => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const summarised = Number.isFinite(total) && Number.isFinite(passed);
  // A crash before uvu's summary (a file that fails to import, a killed process) counts as a failure.
  const failed = summarised ? Math.max(total - passed - skipped, code === 0 ? 0 : 1) : 1;
  process.stdout.write(`${summarised ? passed : 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 || code !== 0 || signal ? 1 : 0);
});
