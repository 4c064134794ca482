import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { Emitter } from '../emitter.ts';
import {
  KAFKA_CLIENT_PORT,
  KAFKA_CONTROLLER_PORT,
  kafkaName,
  labels,
  releaseSelector,
  selectorLabels,
} from '../names.ts';
import { dnsEgress, policyTypesWithEgress } from '../network-egress.ts';

// Only pods of this release (the jobs, the scheduled runs, the metrics exporter, the test pod and the
// Kafka nodes themselves) reach Kafka; with networkPolicy.egress the nodes open only DNS and each other.
export const kafkaNetworkPolicy: Emitter = {
  file: 'templates/kafka-networkpolicy.yaml',
  when: (v) => v.cond('and .Values.kafka.enabled .Values.networkPolicy.enabled'),
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: kafkaName(v), labels: labels(v, 'kafka') },
      spec: {
        podSelector: { matchLabels: selectorLabels(v, 'kafka') },
        ...policyTypesWithEgress(v, () => [
          dnsEgress,
          {
            ports: [
              { port: KAFKA_CLIENT_PORT, protocol: 'TCP' },
              { port: KAFKA_CONTROLLER_PORT, protocol: 'TCP' },
            ],
            to: [{ podSelector: { matchLabels: selectorLabels(v, 'kafka') } }],
          },
        ]),
        ingress: [
          {
            from: [
              {
                podSelector: { matchLabels: releaseSelector(v) },
              },
            ],
            ports: [
              { port: KAFKA_CLIENT_PORT, protocol: 'TCP' },
              { port: KAFKA_CONTROLLER_PORT, protocol: 'TCP' },
            ],
          },
        ],
      },
    }),
};
