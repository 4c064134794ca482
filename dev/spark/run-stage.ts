/**
 * The Spark engine for `npm run local -- --engine spark`: runs one stage through run-stage.sh
 * (spark-submit, local[2]) as a child process, echoing its JSON log lines, and reports its exit
 * code, wall time and the peak memory of its process tree (the JVM and the Python driver and
 * workers together). On a local broker (dev/broker/clients.ts) the stage signs in as its user.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBrokerAccess } from '../broker/clients.ts';
import { peakTreeRssBytes } from '../peak-rss.ts';
import { eachLine, exitOf, type JobRun } from '../job-process.ts';

const runner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run-stage.sh');

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
  let seconds = 0;
  const [exitCode, peakRssBytes] = await Promise.all([
    // Timed to the exit, not to the sampler's last look a moment later.
    exitOf(child).finally(() => (seconds = (performance.now() - started) / 1000)),
    child.pid === undefined ? 0 : peakTreeRssBytes(child.pid),
    eachLine(child.stdout!, echo),
    onStderr && eachLine(child.stderr!, onStderr),
  ]);
  return { job: stage, exitCode, seconds, peakRssBytes };
}
