import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { withBrokerAccess } from './broker/clients.ts';

/** The TypeScript entry point, run through tsx; the bundled `lakehouse.mjs` runs on plain node. */
export const sourceEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'jobs', 'main.ts');

export interface JobRun {
  readonly job: string;
  readonly exitCode: number;
  readonly seconds: number;
  readonly peakRssBytes: number;
}

export interface JobProcessOptions {
  /** The file node runs: the TypeScript entry (through tsx) or a bundle. */
  readonly entry?: string;
  /** Receives each line the job writes to stderr; without it, stderr is this process's. */
  readonly onStderr?: (line: string) => void;
}

/**
 * Runs one job in a child process (as a chart Job would), handing each log line to `echo`;
 * resolves with its exit code and the time and peak memory it reported. On a local broker the job
 * signs in as its own user, as in the chart (dev/broker/clients.ts), unless `env` says otherwise.
 */
export async function runJobProcess(
  job: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  echo: (line: string, child: ChildProcess) => void = (line) => process.stdout.write(line + '\n'),
  { entry = sourceEntry, onStderr }: JobProcessOptions = {},
): Promise<JobRun> {
  // Resolved here, not from the child's working directory, so a run from any directory finds tsx.
  const loader = entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const stderr = onStderr ? 'pipe' : 'inherit';
  const child = spawn(process.execPath, [...loader, entry, job, ...args], {
    env: withBrokerAccess(job, env, args),
    stdio: ['ignore', 'pipe', stderr],
  });
  let last: Record<string, unknown> = {};
  const [exitCode] = await Promise.all([
    exitOf(child),
    onStderr && eachLine(child.stderr!, onStderr),
    eachLine(child.stdout!, (line) => {
      echo(line, child);
      try {
        const parsed = JSON.parse(line);
        if (parsed.msg === 'finished' || parsed.msg === 'failed' || parsed.msg === 'skipped') last = parsed;
      } catch {
        // not one of our log lines
      }
    }),
  ]);
  return { job, exitCode, seconds: Number(last.seconds ?? NaN), peakRssBytes: Number(last.peakRssBytes ?? NaN) };
}

/** Calls `onLine` for every line of `stream`; resolves once the stream has ended. */
export async function eachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) onLine(line);
}

/** The child's exit code (1 when it was killed by a signal); rejects if it could not start. */
export function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}
