/**
 * `status`: is the lake keeping up? Per table its last commit, snapshots and rows; per Kafka
 * partition bronze's lag; per stage its last run from ops.runs and the time since its last success.
 * Tables for people, or `--json` for machines. Kafka being unreachable is reported, not fatal.
 */
import type { CommandArgs } from '../inspector.ts';
import { formatTable } from '../table-format.ts';
import { lakeReport, type LakeReport } from './lake-state.ts';
import { RunHistory } from './run-history.ts';

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());
const secondsSince = (at: number, ms: number | undefined) =>
  ms === undefined ? null : Math.max(0, Math.round((at - ms) / 1000));

/** The report as JSON: times as ISO 8601, seconds since the last success per stage. */
export function statusJson(report: LakeReport): object {
  return {
    at: iso(report.at),
    dataDir: report.dataDir,
    ...(report.lakeError ? { lakeError: report.lakeError } : {}),
    ...(report.pending ? { pendingSnapshots: report.pending } : {}),
    tables: report.tables.map((t) => ({
      ...t,
      lastCommitMs: undefined,
      lastCommit: t.lastCommitMs === undefined ? null : iso(t.lastCommitMs),
    })),
    kafka: report.kafka,
    stages: report.stages.map((s) => ({
      stage: s.stage,
      lastRun: {
        runId: s.last.run_id,
        engine: s.last.engine,
        host: s.last.host,
        startedAt: iso(s.last.started_at),
        endedAt: iso(s.last.ended_at),
        outcome: s.last.outcome,
        rowsIn: s.last.rows_in,
        rowsOut: s.last.rows_out,
        error: s.last.error,
      },
      lastSuccessAt: s.lastSuccess ? iso(s.lastSuccess.ended_at) : null,
      secondsSinceLastSuccess: secondsSince(report.at, s.lastSuccess?.ended_at),
      consecutiveFailures: s.consecutiveFailures,
      runs: s.totals,
    })),
  };
}

export function statusText(report: LakeReport): string {
  const lines = [`lake ${report.dataDir} at ${iso(report.at)}`, ''];
  if (report.lakeError) lines.push(`lake: ${report.lakeError}`, '');
  lines.push(
    'Tables',
    formatTable(
      report.tables.map((t) => ({
        table: t.table,
        last_commit: t.exists ? iso(t.lastCommitMs) : '(no table)',
        snapshots: t.snapshots,
        rows: t.rows,
        data_files: t.dataFiles,
      })),
    ),
    '',
  );
  if (report.kafka.ok) {
    const total = report.kafka.partitions.reduce((sum, p) => sum + p.lag, 0);
    lines.push(
      `Bronze lag behind Kafka: ${total} record(s)`,
      formatTable(
        report.kafka.partitions.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          end_offset: p.endOffset,
          bronze_next: p.bronzeNext,
          lag: p.lag,
        })),
      ),
    );
  } else {
    const why = report.kafkaError === undefined ? '' : ', Kafka is unreachable';
    lines.push(`Bronze lag behind Kafka: unknown${why} (${report.kafka.error})`);
  }
  if (report.pending)
    lines.push(
      '',
      `Still to read: silver ${report.pending.silver} bronze snapshot(s), gold ${report.pending.gold} silver snapshot(s)`,
    );
  lines.push('', 'Stages (last run of each, from ops.runs)');
  lines.push(
    report.stages.length === 0
      ? '(no runs recorded yet)'
      : formatTable(
          report.stages.map((s) => ({
            stage: s.stage,
            engine: s.last.engine,
            started: iso(s.last.started_at),
            ended: iso(s.last.ended_at),
            outcome: s.last.outcome,
            rows_in: s.last.rows_in ?? '-',
            rows_out: s.last.rows_out ?? '-',
            since_success_s: secondsSince(report.at, s.lastSuccess?.ended_at) ?? 'never',
            failures: s.consecutiveFailures,
            error: s.last.error ?? '',
          })),
        ),
  );
  return lines.join('\n');
}

export async function statusCommand(args: CommandArgs): Promise<string> {
  const report = await lakeReport(args.config, new RunHistory(), 'status');
  return args.flags.has('json') ? JSON.stringify(statusJson(report), null, 2) : statusText(report);
}
