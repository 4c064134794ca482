// Liveness and termination of a local server (the broker's JVM, the object store) known only by pid
// (it may belong to another process).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** True while the pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the command name before it is in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** True when pid is running and its command line passes `test`: a recycled pid is never taken for a server. */
export function runsWith(pid: number, test: (args: readonly string[]) => boolean): boolean {
  if (!isAlive(pid)) return false;
  try {
    return test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return false;
  }
}

/** True when pid is a running kafka.Kafka JVM whose arguments mention dataDir. */
export function isBrokerProcess(pid: number, dataDir: string): boolean {
  return runsWith(pid, (args) => args.includes('kafka.Kafka') && args.some((arg) => arg.startsWith(dataDir)));
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/**
 * SIGTERM, then SIGKILL after graceMs; resolves once the process is gone, with true when it ended
 * within the grace period (its exit hooks ran).
 */
export async function terminate(pid: number, graceMs: number): Promise<boolean> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  if (await waitForExit(pid, graceMs)) return true;
  signal('SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`pid ${pid} survived SIGKILL`);
  return false;
}

/** Synchronous SIGKILL for process 'exit' handlers, where nothing asynchronous runs. */
export function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
