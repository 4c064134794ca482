// The continuous producer (`producer.mode: continuous`): a Deployment streaming events until it is
// stopped, instead of the producer hook Job. It needs Kafka only, not the lake volume.
import { Deployment } from 'kubernetes-models/apps/v1';
import { STOP_FLUSH_SECONDS } from '../../jobs/produce-stream.ts';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { bundleChecksumAnnotations, jobPodSpec } from '../job-pod.ts';
import { fullname, labels, selectorLabels } from '../names.ts';

export const CONTINUOUS_PRODUCER = `eq .Values.producer.mode "continuous"`;

/** Created by the producer once Kafka acknowledged its first events (LAKEHOUSE_READY_FILE), on the pod's /tmp. */
export const PRODUCER_READY_FILE = '/tmp/producer-ready';

/** The producer pod: ready once its first events are on the topic, and not before. */
const readyOnceSending = (v: Binder) => {
  const pod = jobPodSpec(v, 'produce', {
    lake: false,
    env: { LAKEHOUSE_READY_FILE: PRODUCER_READY_FILE },
    resources: v.block(
      `toYaml (.Values.producer.resources | default .Values.jobs.resources)`,
      v.defaultOf('jobs.resources'),
    ),
  });
  const [container] = pod.containers;
  return {
    ...pod,
    containers: [
      {
        ...container!,
        readinessProbe: {
          exec: { command: ['test', '-f', PRODUCER_READY_FILE] },
          periodSeconds: 5,
          failureThreshold: 1,
        },
      },
    ],
  };
};

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
            ...readyOnceSending(v),
            restartPolicy: 'Always',
            // Time to wait for the last send's acknowledgement, then to disconnect and log.
            terminationGracePeriodSeconds: STOP_FLUSH_SECONDS + 15,
          },
        },
      },
    }),
};
