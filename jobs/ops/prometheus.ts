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
    help: "1 when the exporter's last reads of the lake and of Kafka both succeeded, 0 otherwise.",
    samples: [{ labels: {}, value: up ? 1 : 0 }],
  };
}

const gauge = (name: string, help: string, value: number | undefined): Family => ({
  name,
  type: 'gauge',
  help,
  samples: value === undefined ? [] : [{ labels: {}, value }],
});

/**
 * Every metric of the report. The values of a part are those of its last successful read (none
 * before the first); `lakehouse_{lake,kafka}_up` say whether the last read succeeded and
 * `lakehouse_{lake,kafka}_state_age_seconds` how old the values are.
 */
export function metricFamilies(report: LakeReport): Family[] {
  const lakeUp = report.lakeReadAt !== undefined && report.lakeError === undefined;
  const kafkaUp = report.kafkaReadAt !== undefined && report.kafkaError === undefined;
  const age = (readAt: number | undefined) =>
    readAt === undefined ? undefined : Math.max(0, seconds(report.at - readAt));
  const committed = report.tables.filter((t) => t.lastCommitMs !== undefined);
  return [
    upFamily(lakeUp && kafkaUp),
    gauge(
      'lakehouse_lake_up',
      "1 when the exporter's last read of the lake's tables and ops.runs succeeded.",
      lakeUp ? 1 : 0,
    ),
    gauge(
      'lakehouse_kafka_up',
      "1 when the exporter's last read of the topic's offsets from Kafka succeeded.",
      kafkaUp ? 1 : 0,
    ),
    gauge(
      'lakehouse_lake_state_age_seconds',
      'Seconds since the lake was last read successfully: the age of the table, stage and run values served.',
      age(report.lakeReadAt),
    ),
    gauge(
      'lakehouse_kafka_state_age_seconds',
      "Seconds since Kafka was last read successfully: the age of the topic's end offsets behind the lag served.",
      age(report.kafkaReadAt),
    ),
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
      name: 'lakehouse_stage_pending_snapshots',
      type: 'gauge',
      help: 'Snapshots of its input table the stage has still to read: bronze appends for silver, silver changes for gold.',
      samples: report.pending
        ? (['silver', 'gold'] as const).map((stage) => ({ labels: { stage }, value: report.pending![stage] }))
        : [],
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
