// Finds the chart tools that ci/tools/install.sh puts in the cache, and runs them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = path.join(REPO_ROOT, 'chart');
export const TOOLS_BIN = path.join(
  process.env.LAKEHOUSE_CACHE ?? path.join(os.homedir(), '.cache', 'lakehouse'),
  'bin',
);

export type ToolName = 'helm' | 'helm3' | 'ct' | 'yamllint' | 'yamale' | 'checkov' | 'kube-score' | 'promtool';

export function toolPath(name: ToolName): string {
  const file = path.join(TOOLS_BIN, name);
  if (!existsSync(file)) throw new Error(`${name} is not installed in ${TOOLS_BIN}: run ci/tools/install.sh`);
  return file;
}

/**
 * Registers tests that need the tools; when a tool is missing, registers one failing test that says
 * so instead, so the other test files in the same uvu process still run.
 */
export function withTools(suite: (name: string, fn: () => void) => void, register: () => void): void {
  try {
    register();
  } catch (error) {
    suite('chart tools are installed', () => {
      throw error;
    });
  }
}

/** Helm 4 always; Helm 3 too, as both must accept the chart and its schema. */
export const helms = (): { name: string; bin: string }[] => [
  { name: 'helm4', bin: toolPath('helm') },
  { name: 'helm3', bin: toolPath('helm3') },
];

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  bin: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const result = spawnSync(bin, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH ?? ''}`, ...opts.env },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template lakehouse ./chart` with extra arguments; throws with Helm's message on failure. */
export function helmTemplate(bin: string, args: readonly string[] = []): string {
  const result = run(bin, ['template', 'lakehouse', CHART_DIR, '--namespace', 'lakehouse', ...args]);
  if (result.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}
