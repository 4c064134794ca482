/**
 * Runs on Node.js 22 whatever Node started it (the project targets 22; machines here may only have
 * 20): re-runs the current process under Node 22 from ci/node22.sh, which installs it into the tool
 * cache from the npm registry the first time, with it first on PATH for everything started later.
 *
 *   tsx ci/tools/node22.ts SCRIPT [ARG...]     runs SCRIPT (TypeScript, through tsx) on Node 22
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureTools } from './ensure.ts';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../node22.sh');

/** Returns at once on Node 22; otherwise never returns: exits with the Node 22 run's exit code. */
export async function onNode22(): Promise<void> {
  if (process.versions.node.split('.')[0] === '22') return;
  // On stderr: what the re-run prints on stdout may be read by a program (JSON lines).
  if (!(await ensureTools(['node22'], process.stderr))) process.exit(1);
  const dir = execFileSync('bash', [script], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  const child = spawn(path.join(dir, 'node'), [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  // A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  await new Promise<never>(() => {
    child.on('error', (error) => {
      process.stderr.write(`node22: cannot run ${path.join(dir, 'node')}: ${error.message}\n`);
      process.exit(1);
    });
    child.on('close', (code) => process.exit(code ?? 1));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.length < 3) {
    process.stderr.write('usage: tsx ci/tools/node22.ts SCRIPT [ARG...]\n');
    process.exit(2);
  }
  await onNode22();
  // SCRIPT sees the command line it would see run on its own: process.argv[1] is SCRIPT.
  const target = path.resolve(process.argv[2]);
  process.argv.splice(1, 2, target);
  await import(pathToFileURL(target).href);
}
