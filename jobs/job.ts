// What every job is: a function of its settings, its logger and the context its run gives it.
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

/** What a job is given besides its settings and its logger. */
export interface JobContext {
  /** This run's id: its row in ops.runs, its writer lease. */
  readonly runId: string;
  /** The command line the job was started with (a flag given more than once is read here). */
  readonly argv: readonly string[];
  /**
   * Declares that the job stops by itself on SIGTERM/SIGINT: `handler` is called, and the job ends
   * normally (`finished`) once it returns. A job that registers none is stopped at once (`failed`);
   * a second signal always ends the process at once.
   */
  onStop(handler: () => void): void;
  /** The same, as an AbortSignal that aborts (with the signal's name as reason) on the first stop request. */
  stopSignal(): AbortSignal;
  /** The command line after the command: its flags (those the job declares) and further words. */
  readonly args?: { readonly flags: ReadonlyMap<string, string>; readonly positional: readonly string[] };
}

export type Job = ((config: Config, logger: Logger, context: JobContext) => Promise<unknown>) & {
  /** Flags of this command alone, besides the settings' (e.g. replay's --dry-run). */
  readonly flags?: readonly string[];
  /** Checks the command line before the lease is taken (a flag given more than once is read from `argv`). */
  readonly checkArguments?: (argv: readonly string[], config: Config) => Promise<void>;
};
