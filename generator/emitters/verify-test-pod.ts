// `helm test`: reads the lake and Kafka and checks the lake's invariants.
import { Pod } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import { jobPodSpec } from '../job-pod.ts';
import { fullname, labels } from '../names.ts';

export const verifyTestPod: Emitter = {
  file: 'templates/tests/verify-pod.yaml',
  build: (v) =>
    new Pod({
      metadata: {
        name: fullname(v, '-verify'),
        labels: labels(v, 'verify'),
        annotations: { 'helm.sh/hook': 'test', 'helm.sh/hook-delete-policy': 'before-hook-creation' },
      },
      spec: jobPodSpec(v, 'verify'),
    }),
};
