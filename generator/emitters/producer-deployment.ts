// The continuous producer (`producer.mode: continuous`): a Deployment streaming events until it is
// stopped, instead of the producer hook Job. It needs Kafka only, not the lake volume.
import { Deployment } from 'kubernetes-models/apps/v1';
import { STOP_FLUSH_SECONDS } from '../../jobs/produce-stream.ts';
import type { Emitter } from '../emitter.ts';
import { bundleChecksumAnnotations, jobPodSpec } from '../job-pod.ts';
import { fullname, labels, selectorLabels } from '../names.ts';

export const CONTINUOUS_PRODUCER = `eq .Values.producer.mode "continuous"`;

export const producerDeployment: Emitter = {
  file: 'templates/producer-deployment.yaml',
  when: (v) => v.cond(CONTINUOUS_PRODUCER),
  onByDefault: false,
  build: (v) =>
    new Deployment({
      metadata: { name: fullname(v, '-producer'), labels: labels(v, 'producer') },
      spec: {
        replicas: 1,
        // Never two producers at once: each would send the whole rate.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selectorLabels(v, 'producer') },
        template: {
          metadata: {
            labels: labels(v, 'producer'),
            ...bundleChecksumAnnotations(v),
          },
          spec: {
            ...jobPodSpec(v, 'produce', {
              lake: false,
              resources: v.block(
                `toYaml (.Values.producer.resources | default .Values.jobs.resources)`,
                v.defaultOf('jobs.resources'),
              ),
            }),
            restartPolicy: 'Always',
            // Time to wait for the last send's acknowledgement, then to disconnect and log.
            terminationGracePeriodSeconds: STOP_FLUSH_SECONDS + 15,
          },
        },
      },
    }),
};
