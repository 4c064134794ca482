// The continuous producer (`producer.mode: continuous`): a Deployment streaming events until it is
// stopped, instead of the producer hook Job. It needs Kafka only, not the lake volume; it creates
// its topic (and the users' ACLs) first, in an init container signed in as the admin user.
import { Deployment } from 'kubernetes-models/apps/v1';
import { STOP_FLUSH_SECONDS } from '../../jobs/produce-stream.ts';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { bundleChecksumAnnotations, jobContainer, jobPodSpec } from '../job-pod.ts';
import { kafkaPasswordVolume } from '../kafka-access.ts';
import { fullname, labels, selectorLabels } from '../names.ts';

export const CONTINUOUS_PRODUCER = `eq .Values.producer.mode "continuous"`;

/** Created by the producer once Kafka acknowledged its first events (LAKEHOUSE_READY_FILE), on the pod's /tmp. */
export const PRODUCER_READY_FILE = '/tmp/producer-ready';

/** The admin user's password volume, mounted by the producer pod's init container only. */
const ADMIN_PASSWORD_VOLUME = 'kafka-admin';

const renamed = <T>(items: readonly T[], from: string, to: string): T[] =>
  items.map((item) =>
    typeof item === 'object' && item !== null && (item as { name?: unknown }).name === from
      ? { ...item, name: to }
      : item,
  );

/**
 * The topics command, as the topics hook runs it, in an init container: `helm install --wait` waits
 * for this Deployment to be ready, which it is only once Kafka acknowledged its first events, and
 * the hooks (the topics Job among them) run only after that wait. The admin user's password is a
 * volume of its own that the producer's container does not mount.
 */
const createsItsTopic = (v: Binder) => {
  const topics = jobContainer(v, 'topics', { lake: false });
  return {
    initContainer: { ...topics, volumeMounts: renamed(topics.volumeMounts ?? [], 'kafka-user', ADMIN_PASSWORD_VOLUME) },
    volumes: kafkaPasswordVolume(v, 'admin', ADMIN_PASSWORD_VOLUME),
  };
};

/** The producer pod: its topic created first, and ready once its first events are on it, not before. */
const readyOnceSending = (v: Binder) => {
  const topics = createsItsTopic(v);
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
    initContainers: [topics.initContainer],
    volumes: [...(pod.volumes ?? []), ...topics.volumes],
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
