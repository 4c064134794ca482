/**
 * What `ops.runs` says about each stage: its last run, its last success, how many runs failed since,
 * and runs by outcome. Kept up to date incrementally: a refresh reads only the data files of the
 * snapshots appended since the last one (the exporter refreshes every few seconds), and everything
 * again when the table's history since then is not appends only (compaction rewrote it).
 */
import { lineage, type SnapshotId } from '../lake/iceberg/metadata.ts';
import { liveFiles } from '../lake/iceberg/table.ts';
import { headOf, type Lake } from '../lake/lake.ts';
import { readDataRows } from '../lake/data-file-source.ts';
import { runsColumns, type RunRow } from '../lake/table-schema.ts';
import { outcomes, type Outcome } from './runs.ts';

export interface StageRuns {
  readonly stage: string;
  /** The run that started last. */
  readonly last: RunRow;
  /** The succeeded run that ended last. */
  readonly lastSuccess?: RunRow;
  /** Failed runs that ended after the last success (skipped and stopped runs neither count nor reset). */
  readonly consecutiveFailures: number;
  readonly totals: Readonly<Record<Outcome, number>>;
}

interface StageState {
  last: RunRow;
  lastSuccess?: RunRow;
  /** ended_at of the failed runs that ended after lastSuccess. */
  failuresSince: number[];
  totals: Record<Outcome, number>;
}

export class RunHistory {
  private seen: SnapshotId | undefined;
  private stages = new Map<string, StageState>();

  /** Brings the history up to `ops.runs`' current snapshot; a lake without the table has no runs. */
  async refresh(lake: Lake): Promise<void> {
    const table = await lake.find('runs');
    const head = headOf(table);
    if (!table || !head) {
      this.reset();
      return;
    }
    const headId = BigInt(head['snapshot-id']);
    if (this.seen === headId) return;
    const pending: SnapshotId[] = [];
    let reachesSeen = false;
    let appendsOnly = true;
    for (const snapshot of lineage(table.metadata)) {
      const id = BigInt(snapshot['snapshot-id']);
      if (id === this.seen) {
        reachesSeen = true;
        break;
      }
      pending.push(id);
      if (snapshot.summary.operation !== 'append') appendsOnly = false;
    }
    const incremental = this.seen !== undefined && reachesSeen && appendsOnly;
    if (!incremental) this.reset();
    try {
      const files = await liveFiles(table, head, incremental ? new Set(pending) : undefined);
      for await (const row of readDataRows(
        table.files,
        files.map((f) => f.file),
        runsColumns,
      ))
        this.add(row);
    } catch (error) {
      // Some of the new rows may have been counted: the next refresh reads everything again.
      this.reset();
      throw error;
    }
    this.seen = headId;
  }

  private reset(): void {
    this.seen = undefined;
    this.stages = new Map();
  }

  private add(row: RunRow): void {
    let state = this.stages.get(row.stage);
    if (!state) {
      state = {
        last: row,
        failuresSince: [],
        totals: Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>,
      };
      this.stages.set(row.stage, state);
    } else if (row.started_at >= state.last.started_at) {
      state.last = row;
    }
    const outcome = row.outcome as Outcome;
    if (outcome in state.totals) state.totals[outcome]++;
    if (outcome === 'succeeded' && (!state.lastSuccess || row.ended_at >= state.lastSuccess.ended_at)) {
      state.lastSuccess = row;
      state.failuresSince = state.failuresSince.filter((ended) => ended > row.ended_at);
    } else if (outcome === 'failed' && (!state.lastSuccess || row.ended_at > state.lastSuccess.ended_at)) {
      state.failuresSince.push(row.ended_at);
    }
  }

  /** Every stage with at least one run, by name. */
  byStage(): StageRuns[] {
    return [...this.stages]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([stage, s]) => ({
        stage,
        last: s.last,
        lastSuccess: s.lastSuccess,
        consecutiveFailures: s.failuresSince.length,
        totals: { ...s.totals },
      }));
  }
}
