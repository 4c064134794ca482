import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runJobProcess, type JobRun } from '../../dev/job-process.ts';
import { sharedBroker } from './broker-fixture.ts';
import { compiledJobs } from './compiled-jobs.ts';

export function temporaryDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lakehouse-${prefix}-`));
}

let counter = 0;
/** A topic and consumer group of its own for each test, on the shared broker. */
export function uniqueNames(label: string) {
  const suffix = `${label}-${process.pid}-${Date.now()}-${counter++}`;
  return { topic: `t-${suffix}`, group: `g-${suffix}` };
}

export interface JobOutcome extends JobRun {
  readonly lines: Record<string, unknown>[];
}

/**
 * Runs a job as its own process with the given settings (from the compiled jobs, compiled-jobs.ts);
 * its log lines are kept, not printed.
 */
export async function runJob(
  job: string,
  env: Record<string, string>,
  args: string[] = [],
  onLine?: (line: Record<string, unknown>, child: ChildProcess) => void,
): Promise<JobOutcome> {
  const lines: Record<string, unknown>[] = [];
  const entry = await compiledJobs();
  const run = await runJobProcess(
    job,
    args,
    { ...process.env, LAKEHOUSE_LOG_LEVEL: 'info', ...env },
    (text, child) => {
      try {
        const line = JSON.parse(text);
        lines.push(line);
        onLine?.(line, child);
      } catch {
        lines.push({ text });
      }
    },
    { entry },
  );
  return { ...run, lines };
}

export function describeFailure(outcome: JobOutcome): string {
  return `${outcome.job} exited ${outcome.exitCode}: ${JSON.stringify(outcome.lines.filter((l) => l.level === 'error' || l.level === 'warn'))}`;
}

/** A lake of its own on the shared test broker: a fresh directory, topic and consumer group. */
export interface TestLake {
  readonly env: Record<string, string>;
  readonly dir: string;
}

export async function newLake(label: string, settings: Record<string, string> = {}): Promise<TestLake> {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames(label);
  const dir = temporaryDir(label);
  return {
    dir,
    env: {
      KAFKA_BOOTSTRAP_SERVER: bootstrap,
      LAKEHOUSE_TOPIC: topic,
      LAKEHOUSE_CONSUMER_GROUP: group,
      LAKEHOUSE_DATA_DIR: dir,
      LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
      ...settings,
    },
  };
}
