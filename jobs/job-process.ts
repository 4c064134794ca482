import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The TypeScript entry point, run through tsx; the bundled `lakehouse.mjs` runs on plain node. */
export const sourceEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

export interface JobRun {
  readonly job: string;
  readonly exitCode: number;
  readonly seconds: number;
  readonly peakRssBytes: number;
}

/**
 * Runs one job in a child process (as a chart Job would), handing each log line to `echo`;
 * resolves with its exit code and the time and peak memory it reported.
 */
export function runJobProcess(
  job: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  echo: (line: string, child: ChildProcess) => void = (line) => process.stdout.write(line + '\n'),
  entry: string = sourceEntry,
): Promise<JobRun> {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loader, entry, job, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last: Record<string, unknown> = {};
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        echo(line, child);
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === 'finished' || parsed.msg === 'failed') last = parsed;
        } catch {
          // not one of our log lines
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ job, exitCode: code ?? 1, seconds: Number(last.seconds ?? NaN), peakRssBytes: Number(last.peakRssBytes ?? NaN) }),
    );
  });
}
