import type { JobRun } from '../job-process.ts';

export interface Summary {
  readonly lake: string;
  /** gold.stats as `lakehouse show gold.stats` prints it. */
  readonly gold: string;
  readonly runs: readonly JobRun[];
}

/**
 * What `npm run local` shows while it runs: live lines for a person at a terminal
 * (terminal-view.ts) or JSON lines for machines (json-view.ts).
 */
export interface PipelineView {
  lake(dir: string): void;
  brokerStarting(): void;
  brokerUp(bootstrap: string, seconds: number): void;
  stageStarted(job: string): void;
  /** A line the running job wrote to stdout (a JSON log record, as the jobs write them). */
  jobStdout(line: string): void;
  jobStderr(line: string): void;
  stageEnded(run: JobRun): void;
  /** A stage failed and the run stops there. */
  abandoned(run: JobRun, lake: string): void;
  finished(summary: Summary): void;
  close(): void;
}
