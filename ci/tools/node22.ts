/**
 * Re-runs the current script under Node.js 22 when this Node is another major (the project targets
 * 22; machines here may only have 20), with Node 22 from ci/node22.sh: installed into the tool cache
 * from the npm registry the first time, and first on PATH for everything the script starts.
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './ensure.ts';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../node22.sh');

/** Returns at once on Node 22; otherwise never returns: exits with the Node 22 run's exit code. */
export async function onNode22(): Promise<void> {
  if (process.versions.node.split('.')[0] === '22') return;
  if (!(await ensureTools(['node22']))) process.exit(1);
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
