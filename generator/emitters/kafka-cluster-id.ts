import { Secret } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import { kafkaClusterIdSecretName, labels } from '../names.ts';

// KRaft formats each volume with the cluster id, so it is generated once (helper
// lakehouse.kafka.clusterId looks the Secret up) and the Secret outlives an uninstall like the
// volumes do.
export const kafkaClusterIdSecret: Emitter = {
  file: 'templates/kafka-cluster-id-secret.yaml',
  when: (v) => v.cond('.Values.kafka.enabled'),
  build: (v) =>
    new Secret({
      metadata: {
        name: kafkaClusterIdSecretName(v),
        labels: labels(v, 'kafka'),
        annotations: { 'helm.sh/resource-policy': 'keep' },
      },
      type: 'Opaque',
      data: {
        'cluster-id': v.expr(`include "lakehouse.kafka.clusterId" .`, 'UlQ0eXZoSDd5N0FoMlhQb2xHdnBUQQ==', {
          quote: true,
        }),
      },
    }),
};
