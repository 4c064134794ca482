import os from 'node:os';
import { CommitConflictError, mayRemoveFilesAfter } from '../lake/catalog/catalog.ts';
import { appendFiles } from '../lake/iceberg/table.ts';
import { DataFileWriter, type Lake } from '../lake/lake.ts';
import { runsColumns, summaryKeys, type RunRow } from '../lake/table-schema.ts';

export const outcomes = ['succeeded', 'failed', 'skipped', 'stopped'] as const;
export type Outcome = (typeof outcomes)[number];

/**
 * What a job's result may carry for the run history (the rest of the result is the job's own).
 * Nested, so that the local runner's one-line summary of a result does not repeat it.
 */
export interface RowCounts {
  readonly rowCounts: { readonly rowsIn: number | null; readonly rowsOut: number | null };
}

export function rowCounts(rowsIn: number | null, rowsOut: number | null): RowCounts['rowCounts'] {
  return { rowsIn, rowsOut };
}

/** rows_in and rows_out of a job's result, null where the job does not say. */
export function rowCountsOf(result: unknown): { rowsIn: number | null; rowsOut: number | null } {
  const counts = (result as Partial<RowCounts> | null | undefined)?.rowCounts;
  const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) ? n : null);
  return { rowsIn: count(counts?.rowsIn), rowsOut: count(counts?.rowsOut) };
}

/** The pod's name in Kubernetes (HOSTNAME), the machine's elsewhere. */
export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOSTNAME?.trim() || os.hostname();
}

/** The first line of an error's message, bounded: the history keeps a summary, the log the rest. */
export function oneLine(message: string, max = 1000): string {
  const line = message.split('\n', 1)[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export type AppendResult =
  | { readonly recorded: true; readonly attempts: number }
  | { readonly recorded: false; readonly reason: string };

const maxAttempts = 12;

/**
 * Appends one run to `ops.runs`. The lake root must exist: a run that finds no lake (topics or
 * produce before any bronze run, a mistyped LAKEHOUSE_DATA_DIR) is not recorded rather than
 * creating a lake where no job would. Parallel runs' appends all land: the data file is written
 * once, and a commit that lost the race is retried on the new head (bounded, with jitter).
 */
export async function appendRun(lake: Lake, row: RunRow): Promise<AppendResult> {
  if (!(await lake.catalog.exists()))
    return { recorded: false, reason: `${lake.catalog.description} does not exist (no lake yet)` };
  let table = await lake.open('runs');
  const writer = new DataFileWriter(table, runsColumns, 1, 1);
  writer.write(row);
  const files = await writer.finish();
  for (let attempt = 1; ; attempt++) {
    try {
      await appendFiles(table, files, { [summaryKeys.writer]: `node ${row.stage}` });
      return { recorded: true, attempts: attempt };
    } catch (error) {
      if (!(error instanceof CommitConflictError) || attempt >= maxAttempts) {
        if (mayRemoveFilesAfter(error)) await writer.abort();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      table = (await lake.find('runs'))!;
    }
  }
}
