import { spawn } from 'node:child_process';
import { withBrokerAccess } from '../../dev/broker/clients.ts';
import { compiledJobs } from '../support/compiled-jobs.ts';
import { repoRoot } from './spark-install.ts';

export interface JobRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs a command to completion; rejects with the tail of its output when it exits non-zero. */
export function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<JobRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) return resolve({ stdout, stderr, seconds });
      reject(
        new Error(
          `${[command, ...args].join(' ')} exited ${code}\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`,
        ),
      );
    });
  });
}

/** A job of the Node engine, through the contract's entry point (compiled once, test/support/compiled-jobs.ts). */
export async function runNodeJob(job: string, env: NodeJS.ProcessEnv): Promise<JobRun> {
  return runCommand(process.execPath, [await compiledJobs(), job], withBrokerAccess(job, { ...process.env, ...env }));
}

/** A stage of the Spark engine, through its runner. */
export function runSparkStage(stage: 'bronze' | 'silver' | 'gold', env: NodeJS.ProcessEnv): Promise<JobRun> {
  return runCommand('bash', ['dev/spark/run-stage.sh', stage], withBrokerAccess(stage, { ...process.env, ...env }));
}

/** The last JSON log line of a run whose `msg` is `msg`. */
export function logLine(run: JobRun, msg: string): Record<string, unknown> {
  const lines = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const found = lines.filter((l) => l.msg === msg).at(-1);
  if (!found) throw new Error(`no log line "${msg}" in:\n${run.stdout.slice(-2000)}`);
  return found;
}
