/**
 * The Spark engine for `npm run local -- --engine spark`: runs one stage through run-stage.sh
 * (spark-submit, local[2]) as a child process, echoing its JSON log lines, and reports its exit
 * code, wall time and the peak memory of its process tree (the JVM and the Python driver and
 * workers together). On a local broker (dev/broker/clients.ts) the stage signs in as its user.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBrokerAccess } from '../broker/clients.ts';
import { eachLine, exitOf, type JobRun } from '../job-process.ts';

const runner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run-stage.sh');
const PAGE_BYTES = 4096;

/** Resident bytes of `root` and all its descendants, from /proc (0 where /proc is not Linux's). */
export function treeRssBytes(root: number): number {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return 0;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of names) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
      rss.set(pid, Number(fields[21]) * PAGE_BYTES);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    total += rss.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

export async function runSparkStage(
  stage: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
  echo: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  onStderr?: (line: string) => void,
): Promise<JobRun> {
  const started = performance.now();
  const child = spawn('bash', [runner, stage, ...args], {
    env: withBrokerAccess(stage, env, args),
    stdio: ['ignore', 'pipe', onStderr ? 'pipe' : 'inherit'],
  });
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    if (child.pid) peakRssBytes = Math.max(peakRssBytes, treeRssBytes(child.pid));
  }, 250);
  try {
    const [exitCode] = await Promise.all([
      exitOf(child),
      eachLine(child.stdout!, echo),
      onStderr && eachLine(child.stderr!, onStderr),
    ]);
    return { job: stage, exitCode, seconds: (performance.now() - started) / 1000, peakRssBytes };
  } finally {
    clearInterval(sampler);
  }
}
