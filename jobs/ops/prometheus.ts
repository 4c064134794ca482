/**
 * The lake report as Prometheus text exposition format 0.0.4. The metric names are a contract:
 * the chart's PrometheusRule and docs/contract.md use them.
 */
import type { LakeReport } from './lake-state.ts';
import { outcomes } from './runs.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string | number>>;

interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly samples: readonly { readonly labels: Labels; readonly value: number }[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function formatFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const { labels, value } of family.samples) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
      lines.push(`${family.name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const seconds = (ms: number) => ms / 1000;

export function upFamily(up: boolean): Family {
  return {
    name: 'lakehouse_up',
    type: 'gauge',
    help: '1 when the last scrape read both the lake and Kafka, 0 otherwise.',
    samples: [{ labels: {}, value: up ? 1 : 0 }],
  };
}

/** Every metric of the report; a part that could not be read has no samples (and `lakehouse_up` is 0). */
export function metricFamilies(report: LakeReport): Family[] {
  const up = report.kafka.ok && report.lakeError === undefined;
  const committed = report.tables.filter((t) => t.lastCommitMs !== undefined);
  return [
    upFamily(up),
    {
      name: 'lakehouse_kafka_lag_records',
      type: 'gauge',
      help: "Records in Kafka not yet in bronze: the partition's end offset minus the next offset bronze's table records.",
      samples: report.kafka.ok
        ? report.kafka.partitions.map((p) => ({ labels: { topic: p.topic, partition: p.partition }, value: p.lag }))
        : [],
    },
    {
      name: 'lakehouse_stage_last_success_timestamp_seconds',
      type: 'gauge',
      help: 'When the last succeeded run of the stage ended (ops.runs), seconds since the epoch.',
      samples: report.stages
        .filter((s) => s.lastSuccess)
        .map((s) => ({ labels: { stage: s.stage }, value: seconds(s.lastSuccess!.ended_at) })),
    },
    {
      name: 'lakehouse_stage_seconds_since_last_success',
      type: 'gauge',
      help: 'Seconds since the last succeeded run of the stage ended; +Inf for a stage that has runs but never succeeded.',
      samples: report.stages.map((s) => ({
        labels: { stage: s.stage },
        value: s.lastSuccess ? Math.max(0, seconds(report.at - s.lastSuccess.ended_at)) : Infinity,
      })),
    },
    {
      name: 'lakehouse_stage_consecutive_failures',
      type: 'gauge',
      help: 'Failed runs of the stage since its last success (skipped and stopped runs do not count).',
      samples: report.stages.map((s) => ({ labels: { stage: s.stage }, value: s.consecutiveFailures })),
    },
    {
      name: 'lakehouse_runs_total',
      type: 'counter',
      help: 'Runs of each stage recorded in ops.runs, by outcome.',
      samples: report.stages.flatMap((s) =>
        outcomes.map((outcome) => ({ labels: { stage: s.stage, outcome }, value: s.totals[outcome] })),
      ),
    },
    {
      name: 'lakehouse_table_rows',
      type: 'gauge',
      help: "Rows in the table's current snapshot.",
      samples: committed.map((t) => ({ labels: { table: t.table }, value: t.rows })),
    },
    {
      name: 'lakehouse_table_data_files',
      type: 'gauge',
      help: "Data files in the table's current snapshot.",
      samples: committed.map((t) => ({ labels: { table: t.table }, value: t.dataFiles })),
    },
    {
      name: 'lakehouse_table_last_commit_timestamp_seconds',
      type: 'gauge',
      help: "When the table's current snapshot was committed, seconds since the epoch.",
      samples: committed.map((t) => ({ labels: { table: t.table }, value: seconds(t.lastCommitMs!) })),
    },
  ];
}
