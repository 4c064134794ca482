// prometheus-operator objects for the exporter, rendered only where the cluster serves their API
// (a chart must not fail to install on a cluster without the operator's CRDs) and they are enabled.
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { defaultLabels, metricsName, selectorLabels } from '../names.ts';
import { METRICS_PATH, METRICS_PORT_NAME } from './metrics-exporter.ts';

export const MONITORING_API = 'monitoring.coreos.com/v1';

/** A Prometheus template (`{{ $value }}`) inside a Helm template: a Go raw string Helm prints as it is. */
const promTemplate = (expr: string) => `{{\`{{ ${expr} }}\`}}`;

const withMonitoringApi = (v: Binder, enabled: string) =>
  v.cond(`and .Values.metrics.enabled .Values.${enabled} (.Capabilities.APIVersions.Has "${MONITORING_API}")`);

/** Chart labels plus the user's (what their Prometheus selects monitors and rules by). */
const monitoringLabels = (v: Binder, extra: string) =>
  v.block(
    `merge (include "lakehouse.labels" (dict "context" $ "component" "metrics") | fromYaml) .Values.${extra} | toYaml`,
    {
      ...defaultLabels('metrics'),
      ...v.defaultOf<Record<string, string>>(extra),
    },
  );

export const serviceMonitor: Emitter = {
  file: 'templates/metrics-servicemonitor.yaml',
  when: (v) => withMonitoringApi(v, 'metrics.serviceMonitor.enabled'),
  onByDefault: false,
  build: (v) =>
    new ServiceMonitor({
      metadata: { name: metricsName(v), labels: monitoringLabels(v, 'metrics.serviceMonitor.labels') },
      spec: {
        selector: { matchLabels: selectorLabels(v, 'metrics') },
        namespaceSelector: { matchNames: [v.expr('.Release.Namespace', 'default')] },
        endpoints: [
          { port: METRICS_PORT_NAME, path: METRICS_PATH, interval: v.str('metrics.serviceMonitor.interval') },
        ],
      },
    }),
};

/** The exporter's series of this release, as Prometheus labels them (job = the Service's name). */
const series = (v: Binder, metric: string, extra = '') =>
  `${metric}{namespace="${v.expr('.Release.Namespace', 'default')}",job="${metricsName(v)}"${extra}}`;

// Whether a staleness threshold is known: given, or derived from the pipeline's schedule.
const STALE_KNOWN = '.Values.metrics.prometheusRule.staleAfterSeconds .Values.schedule.pipeline';

const freshnessRules = (v: Binder) => {
  const stale = v.intExpr(`include "lakehouse.metrics.staleAfterSeconds" .`, 600);
  const window = `${stale}s`;
  const lagFloor = (offset: string) =>
    `sum by (namespace, topic) (min_over_time(${series(v, 'lakehouse_kafka_lag_records')}[${window}]${offset}))`;
  return v.when(`or ${STALE_KNOWN}`, false, [
    {
      alert: 'LakehousePipelineStale',
      // Every stage, not gold alone: gold succeeds with nothing to do when bronze or silver skipped or failed.
      expr: `max by (namespace) (${series(v, 'lakehouse_stage_seconds_since_last_success', ',stage=~"bronze|silver|gold"')}) > ${stale}`,
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: "The lakehouse's tables are stale",
        // A stage with runs and no success has +Inf seconds since it, which humanizeDuration prints as it is.
        description: `A stage of bronze, silver and gold ${promTemplate('if eq (printf "%v" $value) "+Inf"')}has never succeeded${promTemplate('else')}last succeeded ${promTemplate('$value | humanizeDuration')} ago${promTemplate('end')}, more than ${stale}s; see the pipeline CronJob's Jobs and \`lakehouse.mjs status\`.`,
      },
    },
    {
      alert: 'LakehouseKafkaLagGrowing',
      // The lag saw-tooths between scheduled runs; its floor rising window after window means bronze no longer catches up.
      expr: `${lagFloor('')} > ${lagFloor(` offset ${window}`)}`,
      for: window,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Bronze is falling behind Kafka',
        description: `The lowest lag of topic ${promTemplate('$labels.topic')} over ${window} keeps rising: bronze does not keep up with the events.`,
      },
    },
  ]);
};

export const prometheusRule: Emitter = {
  file: 'templates/metrics-prometheusrule.yaml',
  when: (v) => withMonitoringApi(v, 'metrics.prometheusRule.enabled'),
  onByDefault: false,
  build: (v) =>
    new PrometheusRule({
      metadata: { name: metricsName(v), labels: monitoringLabels(v, 'metrics.prometheusRule.labels') },
      spec: {
        groups: [
          {
            name: 'lakehouse',
            rules: [
              ...freshnessRules(v),
              {
                alert: 'LakehouseStageFailing',
                expr: `max by (namespace, stage) (${series(v, 'lakehouse_stage_consecutive_failures')}) >= ${v.int('metrics.prometheusRule.failuresThreshold')}`,
                labels: { severity: 'warning' },
                annotations: {
                  summary: 'A lakehouse stage fails run after run',
                  description: `Stage ${promTemplate('$labels.stage')} failed its last ${promTemplate('$value')} runs; read its pod's log (kubectl logs) for the error.`,
                },
              },
              {
                alert: 'LakehouseExporterDown',
                expr: `${series(v, 'up')} == 0 or ${series(v, 'lakehouse_up')} == 0`,
                for: '5m',
                labels: { severity: 'warning' },
                annotations: {
                  summary: 'The lakehouse metrics exporter cannot be scraped or cannot read the lake',
                  description: "Without it the freshness alerts cannot fire; see the exporter pod's log.",
                },
              },
            ],
          },
        ],
      },
    }),
};
