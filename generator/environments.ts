// The per-environment values files, typed against the values model so a renamed value breaks here.
import type { Values } from '../schema/index.ts';

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface EnvironmentFile {
  /** Path inside the chart. */
  readonly file: string;
  readonly purpose: string;
  readonly values: DeepPartial<Values>;
}

const prodResources = {
  kafka: { requests: { cpu: '1', memory: '3Gi' }, limits: { cpu: '2', memory: '4Gi' } },
  jobs: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
};

/** The documented overrides per environment. */
export const environments: readonly EnvironmentFile[] = [
  {
    file: 'values-dev.yaml',
    purpose: 'a laptop cluster: small volumes, a few events, more invalid ones to see the quarantine',
    values: {
      kafka: { storage: { size: '2Gi' } },
      producer: { events: 30, invalidRatio: 0.1 },
      persistence: { size: '1Gi' },
    },
  },
  {
    file: 'values-staging.yaml',
    purpose: 'a shared cluster: one Kafka node, realistic volumes',
    values: {
      topic: { partitions: 6 },
      producer: { events: 10_000 },
      kafka: { storage: { size: '20Gi' } },
      persistence: { size: '20Gi' },
      jobs: { activeDeadlineSeconds: 1800 },
    },
  },
  {
    file: 'values-prod.yaml',
    purpose:
      'production: a 3-node KRaft quorum on separate nodes, replication 3 with min.insync.replicas 2, more partitions, larger volumes, explicit resources',
    values: {
      kafka: {
        replicas: 3,
        podAntiAffinity: 'hard',
        heapOpts: '-Xms2g -Xmx2g',
        storage: { size: '100Gi' },
        resources: prodResources.kafka,
      },
      topic: { partitions: 12, replicationFactor: 3, minInsyncReplicas: 2 },
      producer: { events: 100_000, invalidRatio: 0.01 },
      persistence: { size: '200Gi' },
      jobs: { resources: prodResources.jobs, backoffLimit: 3, activeDeadlineSeconds: 3600 },
    },
  },
];

/** Value sets `ct lint` (and the tests) render the chart with: chart/ci/*-values.yaml. */
export const ciValueFiles: readonly EnvironmentFile[] = [
  { file: 'ci/default-values.yaml', purpose: 'the defaults', values: {} },
  {
    file: 'ci/quorum-values.yaml',
    purpose: 'a 3-node quorum',
    values: { kafka: { replicas: 3 }, topic: { partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 } },
  },
  {
    file: 'ci/scheduled-values.yaml',
    purpose: 'the pipeline and maintenance on a schedule, the metrics exporter, and the explorer behind an Ingress',
    values: {
      schedule: { pipeline: '*/5 * * * *', maintenance: '17 3 * * *', timeZone: 'Europe/Paris' },
      metrics: { enabled: true },
      explorer: {
        enabled: true,
        networkPolicy: {
          namespaceSelector: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
          podSelector: { 'app.kubernetes.io/name': 'ingress-nginx' },
        },
        ingress: {
          enabled: true,
          className: 'nginx',
          host: 'lake.example.com',
          tlsSecretName: 'lake-example-com-tls',
        },
      },
    },
  },
  {
    file: 'ci/external-kafka-values.yaml',
    purpose: "an existing Kafka instead of the chart's, over TLS with its CA and SCRAM users from existing Secrets",
    values: {
      kafka: {
        enabled: false,
        bootstrapServers: 'kafka-0.kafka.streaming.svc:9093,kafka-1.kafka.streaming.svc:9093',
        tls: { caSecret: 'streaming-kafka-ca' },
        auth: {
          existingSecret: 'streaming-kafka-users',
          users: { admin: { name: 'streaming-admin', existingSecret: 'streaming-kafka-admin' } },
        },
      },
    },
  },
  {
    file: 'ci/plaintext-values.yaml',
    purpose: "a trusted dev cluster: the chart's Kafka without TLS or users",
    values: { kafka: { tls: { enabled: false }, auth: { enabled: false } } },
  },
  {
    file: 'ci/prebuilt-image-values.yaml',
    purpose: 'a prebuilt jobs image, an existing claim and every scheduling option',
    values: {
      fullnameOverride: 'lake',
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'kafka' } },
              },
            },
          ],
        },
      },
      kafka: {
        storage: { storageClass: 'standard' },
        extraEnv: [{ name: 'KAFKA_LOG_RETENTION_HOURS', value: '24' }],
      },
      jobs: {
        image: { repository: 'registry.example.com/lakehouse-jobs', tag: '0.1.0', pullPolicy: 'Always' },
        bundledScript: false,
        extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=512' }],
      },
      persistence: { existingClaim: 'shared-lake', storageClass: '-' },
      networkPolicy: { enabled: false },
    },
  },
  {
    file: 'ci/objectstore-values.yaml',
    purpose: "the lake in the embedded object store's Iceberg REST catalog (SeaweedFS, the objectstore dependency)",
    values: { lake: { catalog: 'rest' }, objectStore: { enabled: true } },
  },
  {
    file: 'ci/rest-catalog-values.yaml',
    purpose:
      'an existing REST catalog and S3 storage, keys and OAuth2 credentials in existing Secrets, egress limited, explorer',
    values: {
      lake: {
        catalog: 'rest',
        rest: {
          uri: 'https://catalog.example.com',
          warehouse: 's3://lakehouse-tables',
          s3Endpoint: 'https://s3.example.com:9000',
          region: 'eu-west-1',
          existingSecret: 'lake-storage',
          accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
          secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
          credentialSecret: 'lake-catalog',
        },
      },
      networkPolicy: { egress: true },
      explorer: { enabled: true },
    },
  },
  {
    file: 'ci/continuous-producer-values.yaml',
    purpose: 'the continuous producer, a Deployment with resources of its own, in place of the producer hook Job',
    values: {
      producer: {
        mode: 'continuous',
        eventsPerSecond: 200,
        resources: {
          requests: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
          limits: { cpu: '1', memory: '256Mi', 'ephemeral-storage': '256Mi' },
        },
      },
    },
  },
];
