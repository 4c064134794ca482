import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { Emitter } from '../emitter.ts';
import { kafkaName, labels, selectorLabels } from '../names.ts';

// One node at a time: a 3-node quorum keeps its majority through a drain.
export const kafkaPodDisruptionBudget: Emitter = {
  file: 'templates/kafka-pdb.yaml',
  when: (v) => v.cond('.Values.kafka.enabled'),
  build: (v) =>
    new PodDisruptionBudget({
      metadata: { name: kafkaName(v), labels: labels(v, 'kafka') },
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(v, 'kafka') } },
    }),
};
