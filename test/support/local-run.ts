import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const localMain = path.join(root, 'dev', 'local', 'main.ts');
const tsxLoader = import.meta.resolve('tsx');

export interface LocalRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run local -- args` as a child process (no terminal), in `cwd`, with exactly `env`. */
export function runLocal(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string = root): Promise<LocalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, localMain, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
  });
}

/** The environment of this process without the settings a test wants to choose itself. */
export function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}
