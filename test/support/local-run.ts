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
    const child = spawn(process.execPath, ['--import', tsxLoader, localMain, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

export interface TerminalRun {
  readonly exitCode: number;
  readonly output: string;
  /** What the terminal shows at the end: escape sequences applied, each line as last redrawn. */
  readonly screen: string[];
}

/** Runs a shell command under a pseudo-terminal (util-linux `script`), so its stdout is a TTY. */
export function runInTerminal(command: string, env: NodeJS.ProcessEnv, cwd: string = root): Promise<TerminalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ exitCode: code ?? 1, output, screen: screenOf(output) }));
  });
}

export function screenOf(output: string): string[] {
  return (
    output
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences start with ESC
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .split('\n')
      .map((line) => line.replace(/\r$/, '').split('\r').at(-1)!)
  );
}
