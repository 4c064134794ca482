// With engine=spark, the bronze, silver and gold hooks run spark-submit in Kubernetes cluster mode
// on the official apache/spark image: the Job's pod submits the stage (jobs/spark) and waits for its
// driver pod, which starts the executors. Same names, weights and hook policy as the Node Jobs.
// On the lake volume the stage's Python files reach the driver through the volume (Spark's upload
// path); with a REST catalog no Spark pod mounts a volume: the driver and executors mount the
// chart's Spark files from their ConfigMap (pod templates of spark-pod-templates-configmap.ts) and
// run them as local:// files.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { REPO_ROOT } from '../bundle-jobs.ts';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import {
  CATALOG_SETTINGS,
  inOrder,
  LAKE_MOUNT,
  settingEntries,
  type EnvOverrides,
  type SettingEntry,
} from '../job-pod.ts';
import { isSecretSetting, REST_LAKE, tmpVolumes, VOLUME_LAKE, volumeLakeByDefault } from '../lake-backend.ts';
import { fullname, imageRef, lakeClaimName, sparkFilesConfigMapName, sparkServiceAccountName } from '../names.ts';
import { containerSecurityContext, podSecurityContext } from '../pod-security.ts';
import { SPARK_CONTRACT_FILE } from '../spark-contract.ts';
import { SPARK_FILES_MOUNT, SPARK_POD_ROLES, SPARK_RUN_AS, sparkPodTemplateFile } from '../spark-pod-templates.ts';
import { SPARK_POD_TEMPLATES_MOUNT, sparkPodTemplatesConfigMapName } from './spark-pod-templates-configmap.ts';
import { schedulingFields } from '../scheduling.ts';
import {
  CA_MOUNTED,
  caSecretName,
  KAFKA_CA_DIR,
  KAFKA_USER_DIR,
  PASSWORD_MOUNTED,
  userSecretName,
} from '../kafka-access.ts';
import { PIPELINE_STEPS, pipelineHookJob, type PipelineStep } from './pipeline-jobs.ts';

/** The modules the stages import (jobs/spark/lakehouse_*.py), as the chart ships them. */
export const SPARK_MODULES = readdirSync(path.join(REPO_ROOT, 'jobs', 'spark'))
  .filter((n) => /^lakehouse_\w+\.py$/.test(n))
  .sort();

export type SparkStage = 'bronze' | 'silver' | 'gold';

const conf = (key: string, value: string | number) => ['--conf', `${key}=${value}`];

/** The same label pair the Kafka NetworkPolicy admits, on the driver and executor pods. */
const releaseLabels = (v: Binder, role: 'driver' | 'executor') => [
  ...conf(`spark.kubernetes.${role}.label.app.kubernetes.io/name`, v.expr(`include "lakehouse.name" .`, 'lakehouse')),
  ...conf(`spark.kubernetes.${role}.label.app.kubernetes.io/instance`, v.expr('.Release.Name', 'lakehouse')),
];

const lakeVolume = (v: Binder, role: 'driver' | 'executor') => [
  ...conf(`spark.kubernetes.${role}.volumes.persistentVolumeClaim.lake.options.claimName`, lakeClaimName(v)),
  ...conf(`spark.kubernetes.${role}.volumes.persistentVolumeClaim.lake.mount.path`, LAKE_MOUNT),
];

/**
 * Driver and executor pods from the chart's templates (generator/spark-pod-templates.ts): the
 * static ones among the Spark files, or with a REST catalog those that mount the Spark files.
 */
const podTemplates = (v: Binder) => {
  const volume = volumeLakeByDefault(v);
  const from = (dir: string) =>
    SPARK_POD_ROLES.flatMap((role) =>
      conf(`spark.kubernetes.${role}.podTemplateFile`, `${dir}/${sparkPodTemplateFile(role)}`),
    );
  return [
    ...v.when(VOLUME_LAKE, volume, from(SPARK_FILES_MOUNT)),
    ...v.when(REST_LAKE, !volume, from(SPARK_POD_TEMPLATES_MOUNT)),
  ];
};

const envConf = (role: 'driver' | 'executor', name: string) =>
  role === 'driver' ? `spark.kubernetes.driverEnv.${name}` : `spark.executorEnv.${name}`;

/** Settings as a Spark pod's environment: literals as driverEnv/executorEnv, a Secret's key as Spark's secretKeyRef. */
const sparkEnv = (v: Binder, role: 'driver' | 'executor', entries: readonly SettingEntry[]): string[] =>
  entries.flatMap(({ env, value }) =>
    isSecretSetting(value)
      ? [
          ...v.when(
            value.when,
            value.on,
            conf(`spark.kubernetes.${role}.secretKeyRef.${env}`, `${value.secret.name}:${value.secret.key}`),
          ),
          ...v.when(`not (${value.when})`, !value.on, conf(envConf(role, env), value.otherwise)),
        ]
      : conf(envConf(role, env), value),
  );

/**
 * With a REST catalog: the executors get the catalog's settings too (their S3FileIO writes the data
 * files), and both find the stages' modules, and the contract beside them, in the mounted Spark files.
 */
const restCatalogPods = (v: Binder, entries: readonly SettingEntry[]) =>
  v.when(REST_LAKE, !volumeLakeByDefault(v), [
    ...sparkEnv(
      v,
      'executor',
      entries.filter((e) => e.key && CATALOG_SETTINGS.includes(e.key)),
    ),
    ...conf('spark.kubernetes.driverEnv.PYTHONPATH', SPARK_FILES_MOUNT),
    ...conf('spark.executorEnv.PYTHONPATH', SPARK_FILES_MOUNT),
  ]);

/** CPU requests below the cores Spark runs tasks on, only where values set them. */
const requestCores = (v: Binder, role: 'driver' | 'executor') =>
  v.when(
    `.Values.spark.${role}.requestCores`,
    v.defaultOf<string>(`spark.${role}.requestCores`) !== '',
    conf(
      `spark.kubernetes.${role}.request.cores`,
      v.expr(`.Values.spark.${role}.requestCores`, v.defaultOf<string>(`spark.${role}.requestCores`)),
    ),
  );

/** Iceberg's AWS bundle (S3FileIO) is a package with a REST catalog only. */
const AWS_PACKAGE = `ternary .Values.spark.icebergAwsPackage "" (${REST_LAKE})`;

const packages = (v: Binder) => {
  const kafka = v.defaultOf<string>('spark.kafkaPackage');
  const iceberg = v.defaultOf<string>('spark.icebergPackage');
  const aws = volumeLakeByDefault(v) ? '' : v.defaultOf<string>('spark.icebergAwsPackage');
  const all = `compact (list .Values.spark.kafkaPackage .Values.spark.icebergPackage (${AWS_PACKAGE}))`;
  return v.when(
    all,
    [kafka, iceberg, aws].some((p) => p !== ''),
    [
      '--packages',
      v.expr(`join "," (${all})`, [kafka, iceberg, aws].filter((p) => p !== '').join(','), { quote: true }),
    ],
  );
};

const sparkImage = (v: Binder) => imageRef(v, 'spark.image');

/**
 * The Kafka CA for the driver and the executors (the Kafka source reads on the executors), and the
 * pipeline user's password for the driver, which hands it to the source in its JAAS option. Spark
 * mounts whole Secrets: the CA's is the clients' CA-only Secret unless kafka.tls.caSecret says otherwise.
 */
const kafkaSecrets = (v: Binder): string[] => [
  ...v.when(CA_MOUNTED, v.defaultOf<boolean>('kafka.tls.enabled'), [
    ...conf(`spark.kubernetes.driver.secrets.${caSecretName(v)}`, KAFKA_CA_DIR),
    ...conf(`spark.kubernetes.executor.secrets.${caSecretName(v)}`, KAFKA_CA_DIR),
  ]),
  ...v.when(PASSWORD_MOUNTED, v.defaultOf<boolean>('kafka.auth.enabled'), [
    ...conf(`spark.kubernetes.driver.secrets.${userSecretName(v, 'pipeline')}`, KAFKA_USER_DIR),
  ]),
];

/** The stage's Python: uploaded from the submitting pod through the lake volume, or local:// files in the Spark pods. */
const stageFiles = (v: Binder, stage: SparkStage) => [
  ...v.when(VOLUME_LAKE, volumeLakeByDefault(v), [
    '--py-files',
    SPARK_MODULES.map((m) => `${SPARK_FILES_MOUNT}/${m}`).join(','),
    // The contract the modules read; in cluster mode spark-submit puts it, like the modules, in the driver's working directory.
    '--files',
    `${SPARK_FILES_MOUNT}/${SPARK_CONTRACT_FILE}`,
    `${SPARK_FILES_MOUNT}/${stage}.py`,
  ]),
  ...v.when(REST_LAKE, !volumeLakeByDefault(v), [`local://${SPARK_FILES_MOUNT}/${stage}.py`]),
];

export const sparkSubmitArgs = (v: Binder, stage: SparkStage, env: EnvOverrides = {}): string[] => [
  '--master',
  'k8s://https://kubernetes.default.svc',
  '--deploy-mode',
  'cluster',
  '--name',
  fullname(v, `-${stage}`),
  ...conf('spark.kubernetes.namespace', v.expr('.Release.Namespace', 'default')),
  ...conf('spark.kubernetes.container.image', sparkImage(v)),
  ...conf(
    'spark.kubernetes.container.image.pullPolicy',
    v.expr('.Values.spark.image.pullPolicy', v.defaultOf<string>('spark.image.pullPolicy')),
  ),
  ...conf('spark.kubernetes.authenticate.driver.serviceAccountName', sparkServiceAccountName(v)),
  ...conf('spark.kubernetes.submission.waitAppCompletion', 'true'),
  // The stage's Python files go to the driver through the lake volume, which both pods mount.
  ...v.when(VOLUME_LAKE, volumeLakeByDefault(v), [
    ...conf('spark.kubernetes.file.upload.path', `file://${LAKE_MOUNT}/.spark-upload`),
    ...lakeVolume(v, 'driver'),
    ...lakeVolume(v, 'executor'),
  ]),
  ...releaseLabels(v, 'driver'),
  ...releaseLabels(v, 'executor'),
  ...podTemplates(v),
  ...conf(
    'spark.driver.cores',
    v.intExpr('.Values.spark.driver.cores | int64', v.defaultOf<number>('spark.driver.cores')),
  ),
  ...conf('spark.driver.memory', v.expr('.Values.spark.driver.memory', v.defaultOf<string>('spark.driver.memory'))),
  ...conf(
    'spark.executor.instances',
    v.intExpr('.Values.spark.executor.instances | int64', v.defaultOf<number>('spark.executor.instances')),
  ),
  ...conf(
    'spark.executor.cores',
    v.intExpr('.Values.spark.executor.cores | int64', v.defaultOf<number>('spark.executor.cores')),
  ),
  ...requestCores(v, 'driver'),
  ...requestCores(v, 'executor'),
  ...conf(
    'spark.executor.memory',
    v.expr('.Values.spark.executor.memory', v.defaultOf<string>('spark.executor.memory')),
  ),
  ...conf(
    'spark.sql.shuffle.partitions',
    v.intExpr('.Values.spark.shufflePartitions | int64', v.defaultOf<number>('spark.shufflePartitions')),
  ),
  ...conf('spark.jars.ivy', '/tmp/.ivy2'),
  ...kafkaSecrets(v),
  // The stage's settings (docs/contract.md), every one, as the driver's environment: the same
  // variables from the same values as the Node Jobs.
  ...sparkEnv(v, 'driver', settingEntries(v, env)),
  ...restCatalogPods(v, settingEntries(v, env)),
  // Spark's Kafka connector and Iceberg's Spark runtime as Spark documents them: resolved from Maven
  // by --packages, left out when an image that holds them sets both values empty.
  ...packages(v),
  ...stageFiles(v, stage),
];

const sparkSubmitContainer = (v: Binder, stage: SparkStage, env: EnvOverrides): IContainer => ({
  name: stage,
  image: sparkImage(v),
  imagePullPolicy: v.str('spark.image.pullPolicy') as 'Always' | 'IfNotPresent' | 'Never',
  command: ['/bin/bash', `${SPARK_FILES_MOUNT}/submit-k8s.sh`],
  args: sparkSubmitArgs(v, stage, env),
  env: [{ name: 'HOME', value: '/tmp' }],
  resources: v.block(`toYaml .Values.jobs.resources`, v.defaultOf('jobs.resources')),
  securityContext: containerSecurityContext(),
  volumeMounts: [
    ...v.when(VOLUME_LAKE, volumeLakeByDefault(v), [{ name: 'lake', mountPath: LAKE_MOUNT }]),
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'spark-files', mountPath: SPARK_FILES_MOUNT, readOnly: true },
    ...v.when(REST_LAKE, !volumeLakeByDefault(v), [
      { name: 'spark-pod-templates', mountPath: SPARK_POD_TEMPLATES_MOUNT, readOnly: true },
    ]),
  ],
});

/** A pod submitting the stages one after the other, all but the last as init containers (as jobPodSpec does). */
export const sparkSubmitPodSpec = (v: Binder, stages: readonly SparkStage[], env: EnvOverrides = {}): IPodSpec => {
  return {
    restartPolicy: 'Never',
    serviceAccountName: sparkServiceAccountName(v),
    // spark-submit talks to the API server with the ServiceAccount's token.
    automountServiceAccountToken: true,
    enableServiceLinks: false,
    securityContext: podSecurityContext(SPARK_RUN_AS),
    ...schedulingFields(v),
    ...inOrder(stages.map((stage) => sparkSubmitContainer(v, stage, env))),
    volumes: [
      ...v.when(VOLUME_LAKE, volumeLakeByDefault(v), [
        { name: 'lake', persistentVolumeClaim: { claimName: lakeClaimName(v) } },
      ]),
      ...tmpVolumes(v),
      { name: 'spark-files', configMap: { name: sparkFilesConfigMapName(v) } },
      ...v.when(REST_LAKE, !volumeLakeByDefault(v), [
        { name: 'spark-pod-templates', configMap: { name: sparkPodTemplatesConfigMapName(v) } },
      ]),
    ],
  };
};

const sparkStageJob = (step: PipelineStep & { command: SparkStage }): Emitter => ({
  file: `templates/job-${step.weight}-${step.component}-spark.yaml`,
  when: (v) => v.cond(`eq .Values.engine "spark"`),
  onByDefault: false,
  build: (v) => pipelineHookJob(v, step, sparkSubmitPodSpec(v, [step.command])),
});

export const SPARK_STAGES: readonly SparkStage[] = ['bronze', 'silver', 'gold'];

export const sparkStageJobs: readonly Emitter[] = PIPELINE_STEPS.filter(
  (s): s is PipelineStep & { command: SparkStage } => (SPARK_STAGES as readonly string[]).includes(s.command),
).map(sparkStageJob);
