// Reads the chart's rendered PrometheusRule and ServiceMonitor (helm template with the
// monitoring.coreos.com/v1 API) from stdin and writes, into the directory given, what the
// Prometheus Operator would give a Prometheus server for them: rules.yml (the PrometheusRule's
// groups) and prometheus.yml (one scrape job per ServiceMonitor endpoint, named after the Service as
// the Operator's job label is, with its path and interval, the namespace label, and the target given
// as host:port, where kubectl port-forward serves the Service's port).
//   node prometheus-config.mjs DIR HOST:PORT < rendered.yaml
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

const [dir, target] = process.argv.slice(2);
if (!dir || !target) throw new Error('usage: prometheus-config.mjs DIR HOST:PORT < rendered.yaml');
let input = '';
for await (const chunk of process.stdin) input += chunk;
const objects = parseAllDocuments(input)
  .map((d) => d.toJS())
  .filter(Boolean);
const rules = objects.filter((o) => o.kind === 'PrometheusRule');
const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
if (rules.length === 0 || monitors.length === 0) throw new Error('no PrometheusRule or no ServiceMonitor in the input');
writeFileSync(path.join(dir, 'rules.yml'), stringify({ groups: rules.flatMap((r) => r.spec.groups) }));
const scrapeConfigs = monitors.flatMap((m) =>
  m.spec.endpoints.map((endpoint) => ({
    // The Operator labels a target's job with its Service's name, here the ServiceMonitor's own.
    job_name: m.metadata.name,
    metrics_path: endpoint.path ?? '/metrics',
    scrape_interval: endpoint.interval ?? '30s',
    static_configs: [{ targets: [target], labels: { namespace: m.spec.namespaceSelector.matchNames[0] } }],
  })),
);
writeFileSync(
  path.join(dir, 'prometheus.yml'),
  // 30 s: the Prometheus Operator's default evaluation interval.
  stringify({ global: { evaluation_interval: '30s' }, rule_files: ['rules.yml'], scrape_configs: scrapeConfigs }),
);
