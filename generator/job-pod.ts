// The pod every pipeline step runs in: `node /opt/lakehouse/lakehouse.mjs <command>` with the
// environment of docs/contract.md, the lake at /data (lake.catalog volume) and a scratch /tmp.
import type { IContainer, IEnvVar, IPodSpec, IResourceRequirements, IVolume } from 'kubernetes-models/v1';
import { settings, type Config } from '../jobs/config.ts';
import type { Binder } from './binder.ts';
import { bootstrapServers, image, jobsScriptConfigMapName, lakeClaimName } from './names.ts';
import { containerSecurityContext, podSecurityContext } from './pod-security.ts';
import { BUNDLE_COMPRESSED_FILE } from './bundle-loader.ts';
import { schedulingFields } from './scheduling.ts';
import {
  catalogCredential,
  isSecretSetting,
  lakeHelper,
  storageKey,
  tmpVolumes,
  VOLUME_LAKE,
  volumeLakeByDefault,
  workDir,
  type SettingValue,
} from './lake-backend.ts';
import {
  kafkaClientMounts,
  kafkaClientVolumes,
  KAFKA_CA_DIR,
  passwordFile,
  userName,
  type KafkaRole,
} from './kafka-access.ts';

export const SCRIPT_DIR = '/opt/lakehouse';
export const SCRIPT_PATH = `${SCRIPT_DIR}/lakehouse.mjs`;
export const LAKE_MOUNT = '/data';

export type LakehouseCommand =
  | 'topics'
  | 'produce'
  | 'bronze'
  | 'silver'
  | 'gold'
  | 'verify'
  | 'maintain'
  | 'metrics'
  | 'explore';

/**
 * Where the chart takes each job setting from: one entry per setting of the contract (the type
 * demands it), a literal from the values or a Secret's key (never a secret as a literal).
 */
const settingSources: { readonly [K in keyof Config]: (v: Binder) => SettingValue } = {
  bootstrapServers,
  topic: (v) => v.str('topic.name'),
  partitions: (v) => v.str('topic.partitions'),
  replicationFactor: (v) => v.str('topic.replicationFactor'),
  minInsyncReplicas: (v) => v.str('topic.minInsyncReplicas'),
  dataDir: () => LAKE_MOUNT,
  events: (v) => v.str('producer.events'),
  invalidRatio: (v) => v.str('producer.invalidRatio'),
  duplicateRatio: (v) => v.str('producer.duplicateRatio'),
  seed: (v) => v.str('producer.seed'),
  startTime: (v) => v.str('producer.startTime'),
  producerMode: (v) => v.str('producer.mode'),
  eventsPerSecond: (v) => v.str('producer.eventsPerSecond'),
  // Only the continuous producer's Deployment has one (producer-deployment.ts).
  readyFile: () => '',
  consumerGroup: (v) => v.str('pipeline.consumerGroup'),
  rowGroupSize: (v) => v.str('pipeline.rowGroupSize'),
  fileRows: (v) => v.str('pipeline.fileRows'),
  dedupBucketEvents: (v) => v.str('pipeline.dedupBucketEvents'),
  vehicleTypes: (v) =>
    v.expr(`join "," .Values.pipeline.vehicleTypes`, v.defaultOf<string[]>('pipeline.vehicleTypes').join(','), {
      quote: true,
    }),
  kafkaWaitSeconds: (v) => v.str('jobs.kafkaWaitSeconds'),
  clientId: (v) => v.str('jobs.clientId'),
  verifyKafka: (v) => v.str('jobs.verifyKafka'),
  snapshotRetentionHours: (v) => v.str('maintenance.snapshotRetentionHours'),
  keepSnapshots: (v) => v.str('maintenance.keepSnapshots'),
  orphanAgeHours: (v) => v.str('maintenance.orphanAgeHours'),
  leaseWaitSeconds: (v) => v.str('pipeline.leaseWaitSeconds'),
  metricsPort: (v) => v.str('metrics.port'),
  explorerPort: (v) => v.str('explorer.port'),
  kafkaSecurity: (v) => v.expr(`include "lakehouse.kafka.security" .`, 'sasl_ssl', { quote: true }),
  kafkaSaslMechanism: (v) => v.str('kafka.auth.mechanism'),
  kafkaCaFile: (v) => v.expr(`include "lakehouse.kafka.caFile" .`, `${KAFKA_CA_DIR}/ca.crt`, { quote: true }),
  // Each pod's own user replaces this (kafkaRoleEnv); the pipeline user is the one most pods sign in as.
  kafkaUser: (v) => userName(v, 'pipeline'),
  kafkaPasswordFile: (v) => passwordFile(v, 'pipeline'),
  kafkaAcls: (v) => v.expr(`and .Values.kafka.auth.enabled .Values.kafka.auth.acls`, 'true', { quote: true }),
  kafkaProducerUser: (v) => userName(v, 'producer'),
  kafkaPipelineUser: (v) => userName(v, 'pipeline'),
  catalog: (v) => v.str('lake.catalog'),
  catalogUri: (v) => lakeHelper(v, 'catalog.uri'),
  catalogWarehouse: (v) => lakeHelper(v, 'catalog.warehouse'),
  catalogCredential,
  s3Endpoint: (v) => lakeHelper(v, 's3.endpoint'),
  awsAccessKeyId: (v) => storageKey(v, 'accessKeyId'),
  awsSecretAccessKey: (v) => storageKey(v, 'secretAccessKey'),
  awsRegion: (v) => v.str('lake.rest.region'),
  workDir,
  migrateFrom: () => '',
};

/** The settings the object store's clients need: what the Spark executors get besides the driver. */
export const CATALOG_SETTINGS: readonly (keyof Config)[] = [
  'catalog',
  'catalogUri',
  'catalogWarehouse',
  'catalogCredential',
  's3Endpoint',
  'awsAccessKeyId',
  'awsSecretAccessKey',
  'awsRegion',
];

/** The Kafka user a pod running these commands signs in as; none for one that does not use Kafka. */
export function kafkaRoleOf(commands: LakehouseCommand | readonly LakehouseCommand[]): KafkaRole | undefined {
  const all = typeof commands === 'string' ? [commands] : commands;
  if (all.every((c) => c === 'maintain')) return undefined;
  if (all.includes('topics')) return 'admin';
  if (all.includes('produce')) return 'producer';
  return 'pipeline';
}

/** LAKEHOUSE_KAFKA_USER and _PASSWORD_FILE of the role's pod (the settings' own are the pipeline user's). */
const kafkaRoleEnv = (v: Binder, role: KafkaRole | undefined): EnvOverrides =>
  role && role !== 'pipeline'
    ? { LAKEHOUSE_KAFKA_USER: userName(v, role), LAKEHOUSE_KAFKA_PASSWORD_FILE: passwordFile(v, role) }
    : {};

/** Settings a particular kind of pod runs with instead of the values' (env var -> value). */
export type EnvOverrides = Readonly<Record<string, string>>;

/** One variable of a pod's environment: a setting (or an override) and where its value comes from. */
export interface SettingEntry {
  readonly env: string;
  readonly key?: keyof Config;
  readonly value: SettingValue;
}

/** Every job setting of docs/contract.md with its source, each override replacing or adding one. */
export const settingEntries = (v: Binder, overrides: EnvOverrides = {}): SettingEntry[] => [
  ...settings.map((s) => ({ env: s.env, key: s.key, value: overrides[s.env] ?? settingSources[s.key](v) })),
  ...Object.entries(overrides)
    .filter(([name]) => !settings.some((s) => s.env === name))
    .map(([env, value]) => ({ env, value })),
];

/** Entries as container environment: a Secret's key as valueFrom.secretKeyRef where its condition holds. */
export const envVarsOf = (v: Binder, entries: readonly SettingEntry[]): IEnvVar[] =>
  entries.flatMap(({ env, value }) =>
    isSecretSetting(value)
      ? [
          ...v.when(value.when, value.on, [
            { name: env, valueFrom: { secretKeyRef: { name: value.secret.name, key: value.secret.key } } },
          ]),
          ...v.when(`not (${value.when})`, !value.on, [{ name: env, value: value.otherwise }]),
        ]
      : [{ name: env, value }],
  );

/** The job settings of docs/contract.md as environment variables, every one of them, from the values. */
export const settingsEnv = (v: Binder, overrides: EnvOverrides = {}): IEnvVar[] =>
  envVarsOf(v, settingEntries(v, overrides));

/**
 * The Node runtime's variables of every job, as the chart sets them and `npm run bench` runs the
 * stages. glibc gives every thread that allocates its own malloc arena; bronze and silver run a
 * Parquet worker thread beside the main one, and their Buffers came to ~25 MiB more peak RSS in
 * separate arenas at 10^7 events (npm run bench). Two arenas are enough for two busy threads.
 */
export const jobRuntimeEnv = (nodeOptions: string): Record<string, string> => ({
  NODE_OPTIONS: nodeOptions,
  MALLOC_ARENA_MAX: '2',
});

const jobEnv = (v: Binder, overrides: EnvOverrides): IEnvVar[] => [
  ...settingsEnv(v, overrides),
  ...Object.entries(jobRuntimeEnv(v.str('jobs.nodeOptions'))).map(([name, value]) => ({ name, value })),
  ...v.items<IEnvVar>('jobs.extraEnv'),
];

export interface JobPodOptions {
  /** Settings this pod runs with instead of the values'. */
  readonly env?: EnvOverrides;
  /** Whether the lake volume is mounted at /data (with lake.catalog volume), and read-only (a pod that only reads it). */
  readonly lake?: boolean | 'readOnly';
  /** The container's resources; jobs.resources by default. */
  readonly resources?: IResourceRequirements;
}

/** The container running `node lakehouse.mjs <command>` with the jobs' image, environment and mounts. */
export const jobContainer = (v: Binder, command: LakehouseCommand, options: JobPodOptions = {}): IContainer => {
  const lake = options.lake ?? true;
  return {
    name: command,
    ...image(v, 'jobs.image'),
    command: ['node', SCRIPT_PATH, command],
    env: jobEnv(v, { ...kafkaRoleEnv(v, kafkaRoleOf(command)), ...options.env }),
    resources: options.resources ?? v.block(`toYaml .Values.jobs.resources`, v.defaultOf('jobs.resources')),
    securityContext: containerSecurityContext(),
    volumeMounts: [
      ...(lake
        ? v.when(VOLUME_LAKE, volumeLakeByDefault(v), [
            { name: 'lake', mountPath: LAKE_MOUNT, ...(lake === 'readOnly' ? { readOnly: true } : {}) },
          ])
        : []),
      { name: 'tmp', mountPath: '/tmp' },
      ...v.when('.Values.jobs.bundledScript', v.defaultOf<boolean>('jobs.bundledScript'), [
        { name: 'script', mountPath: SCRIPT_DIR, readOnly: true },
      ]),
      ...kafkaClientMounts(v, kafkaRoleOf(command)),
    ],
  };
};

/** What every pod running the jobs' code shares: identity, security and scheduling. */
export const jobPodBase = (v: Binder) => ({
  automountServiceAccountToken: false,
  enableServiceLinks: false,
  securityContext: podSecurityContext(),
  ...schedulingFields(v),
});

/** The volumes jobContainer mounts for `commands`. */
export const jobVolumes = (
  v: Binder,
  commands: LakehouseCommand | readonly LakehouseCommand[],
  options: JobPodOptions = {},
): IVolume[] => [
  ...((options.lake ?? true)
    ? v.when(VOLUME_LAKE, volumeLakeByDefault(v), [
        { name: 'lake', persistentVolumeClaim: { claimName: lakeClaimName(v) } },
      ])
    : []),
  ...tmpVolumes(v),
  ...v.when('.Values.jobs.bundledScript', v.defaultOf<boolean>('jobs.bundledScript'), [
    { name: 'script', configMap: { name: jobsScriptConfigMapName(v) } },
  ]),
  ...kafkaClientVolumes(v, kafkaRoleOf(commands)),
];

/**
 * Containers that run one after the other and stop at the first that fails: all but the last as
 * init containers, which Kubernetes runs in order, each only after the one before it succeeded.
 */
export const inOrder = (containers: readonly IContainer[]): Pick<IPodSpec, 'initContainers' | 'containers'> => ({
  ...(containers.length > 1 ? { initContainers: containers.slice(0, -1) } : {}),
  containers: containers.slice(-1),
});

/** A pod that runs the commands in order (see inOrder). */
export const jobPodSpec = (
  v: Binder,
  commands: LakehouseCommand | readonly LakehouseCommand[],
  options: JobPodOptions = {},
): IPodSpec => {
  const all = typeof commands === 'string' ? [commands] : commands;
  return {
    restartPolicy: 'Never',
    ...jobPodBase(v),
    ...inOrder(all.map((c) => jobContainer(v, c, options))),
    volumes: jobVolumes(v, all, options),
  };
};

/** Restarts a long-running pod when an upgrade brings a new bundle (a Job is recreated anyway). */
export const bundleChecksumAnnotations = (v: Binder) =>
  v.whenKeys('.Values.jobs.bundledScript', v.defaultOf<boolean>('jobs.bundledScript'), {
    annotations: {
      'checksum/jobs-script': v.expr(`.Files.Get "files/${BUNDLE_COMPRESSED_FILE}" | sha256sum`, '0'.repeat(64), {
        quote: true,
      }),
    },
  });
