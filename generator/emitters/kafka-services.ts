// The headless Service gives each Kafka node a stable DNS name (for the controller quorum and the
// advertised listeners); the client Service is the bootstrap address the jobs use.
import { Service } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import {
  KAFKA_CLIENT_PORT,
  KAFKA_CONTROLLER_PORT,
  kafkaHeadlessName,
  kafkaName,
  labels,
  selectorLabels,
} from '../names.ts';

const clientPort = { name: 'client', port: KAFKA_CLIENT_PORT, targetPort: 'client', protocol: 'TCP' } as const;

export const kafkaHeadlessService: Emitter = {
  file: 'templates/kafka-headless-service.yaml',
  when: (v) => v.cond('.Values.kafka.enabled'),
  build: (v) =>
    new Service({
      metadata: { name: kafkaHeadlessName(v), labels: labels(v, 'kafka') },
      spec: {
        clusterIP: 'None',
        // Controllers must resolve each other before any of them is ready.
        publishNotReadyAddresses: true,
        selector: selectorLabels(v, 'kafka'),
        ports: [
          clientPort,
          { name: 'controller', port: KAFKA_CONTROLLER_PORT, targetPort: 'controller', protocol: 'TCP' as const },
        ],
      },
    }),
};

export const kafkaClientService: Emitter = {
  file: 'templates/kafka-service.yaml',
  when: (v) => v.cond('.Values.kafka.enabled'),
  build: (v) =>
    new Service({
      metadata: { name: kafkaName(v), labels: labels(v, 'kafka') },
      spec: { type: 'ClusterIP', selector: selectorLabels(v, 'kafka'), ports: [clientPort] },
    }),
};
