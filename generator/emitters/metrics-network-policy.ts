// The exporter's port is reachable only from this release's pods and from the scraping pods named
// in metrics.networkPolicy (by default every pod of the namespace labelled monitoring).
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { Emitter } from '../emitter.ts';
import { labels, metricsName, releaseSelector, selectorLabels } from '../names.ts';
import { dnsEgress, kafkaClientEgress, lakeEgress, policyTypesWithEgress } from '../network-egress.ts';
import { METRICS_PORT_NAME } from './metrics-exporter.ts';

export const metricsNetworkPolicy: Emitter = {
  file: 'templates/metrics-networkpolicy.yaml',
  when: (v) => v.cond('and .Values.metrics.enabled .Values.networkPolicy.enabled'),
  onByDefault: false,
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: metricsName(v), labels: labels(v, 'metrics') },
      spec: {
        podSelector: { matchLabels: selectorLabels(v, 'metrics') },
        // With networkPolicy.egress it opens only DNS, Kafka (for the consumer group's lag) and the object store.
        ...policyTypesWithEgress(v, () => [dnsEgress, kafkaClientEgress(v), ...lakeEgress(v)]),
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: releaseSelector(v) } },
              ...v.when('.Values.metrics.networkPolicy.namespaceSelector', true, [
                {
                  namespaceSelector: {
                    matchLabels: v.block(
                      'toYaml .Values.metrics.networkPolicy.namespaceSelector',
                      v.defaultOf<Record<string, string>>('metrics.networkPolicy.namespaceSelector'),
                    ),
                  },
                  podSelector: {
                    matchLabels: v.block(
                      'toYaml .Values.metrics.networkPolicy.podSelector',
                      v.defaultOf<Record<string, string>>('metrics.networkPolicy.podSelector'),
                    ),
                  },
                },
              ]),
            ],
            ports: [{ port: METRICS_PORT_NAME, protocol: 'TCP' }],
          },
        ],
      },
    }),
};
