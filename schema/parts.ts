// Value shapes the lakehouse chart and its object store chart both use.
import { integer, list, object, passThrough, quantity, string, stringMap } from './define.ts';

export const KAFKA_TOPIC_PATTERN = '^[a-zA-Z0-9._-]{1,249}$';
export const DNS_LABEL_PATTERN = '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_SUBDOMAIN_PATTERN = '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
/** A key of a Secret's data. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

// Empty, or a CPU quantity: whole or decimal cores, or millicores.
export const CPU_PATTERN = '^$|^([0-9]+(\\.[0-9]+)?|[0-9]+m)$';

export const image = (repository: string, tag: string, what: string) =>
  object(`Container image of ${what}.`, {
    repository: string(repository, `Image repository of ${what}.`, { minLength: 1 }),
    tag: string(tag, `Image tag of ${what}.`, { minLength: 1 }),
    digest: string(
      '',
      `Digest that pins the image of ${what} (\`sha256:…\`); when set the image is \`repository@digest\` and the tag is not used.`,
      {
        pattern: '^$|^sha256:[a-f0-9]{64}$',
        patternName: 'empty or sha256: and 64 hex digits',
      },
    ),
    pullPolicy: string('IfNotPresent', `Pull policy of the ${what} image.`, {
      enum: ['Always', 'IfNotPresent', 'Never'],
    }),
  });

// Ephemeral storage bounds what a pod writes outside its volumes' claims: its emptyDirs (/tmp, and
// Kafka's configuration and GC logs), its logs and its writable layer; beyond the limit it is evicted.
export const resources = (
  what: string,
  cpu = ['100m', '500m'],
  memory = ['256Mi', '1Gi'],
  storage = ['128Mi', '1Gi'],
) =>
  object(`CPU, memory and ephemeral storage of ${what}.`, {
    requests: object(`What ${what} is guaranteed.`, {
      cpu: quantity(cpu[0]!, `CPU request of ${what}.`),
      memory: quantity(memory[0]!, `Memory request of ${what}.`),
      'ephemeral-storage': quantity(
        storage[0]!,
        `Ephemeral storage request of ${what} (emptyDir volumes, logs, writable layer).`,
      ),
    }),
    limits: object(`What ${what} may use at most.`, {
      cpu: quantity(cpu[1]!, `CPU limit of ${what}.`),
      memory: quantity(memory[1]!, `Memory limit of ${what}.`),
      'ephemeral-storage': quantity(storage[1]!, `Ephemeral storage limit of ${what}; beyond it the pod is evicted.`),
    }),
  });

const toleration = object('A Kubernetes toleration.', {
  key: string('', 'Taint key.'),
  operator: string('Equal', 'Exists or Equal.', { enum: ['Exists', 'Equal'] }),
  value: string('', 'Taint value.'),
  effect: string('', 'Taint effect.', { enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
  tolerationSeconds: integer(0, 'How long the pod stays bound to a NoExecute taint.', { minimum: 0 }),
});

const pullSecret = object(
  'A Secret holding registry credentials.',
  { name: string('', 'Secret name.', { minLength: 1 }) },
  {
    required: ['name'],
  },
);

/** Registry credentials and scheduling of every pod, as `imagePullSecrets`, `nodeSelector`, `tolerations`, `affinity`. */
export const scheduling = () => ({
  imagePullSecrets: list(pullSecret, [], 'Registry credentials for every pod, e.g. `[{name: regcred}]`.'),
  nodeSelector: stringMap({}, 'Node labels every pod must match.'),
  tolerations: list(toleration, [], 'Tolerations of every pod.'),
  affinity: passThrough({}, 'Affinity of every pod (Kubernetes Affinity).'),
});
