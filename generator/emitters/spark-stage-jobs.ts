// With engine=spark, the bronze, silver and gold hooks run spark-submit in Kubernetes cluster mode
// on the official apache/spark image: the Job's pod submits the stage (jobs/spark) and waits for its
// driver pod, which starts the executors. Same names, weights and hook policy as the Node Jobs.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { REPO_ROOT } from '../bundle-jobs.ts';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { inOrder, LAKE_MOUNT, settingsEnv, type EnvOverrides } from '../job-pod.ts';
import { fullname, imageRef, lakeClaimName, sparkFilesConfigMapName, sparkServiceAccountName } from '../names.ts';
import { containerSecurityContext, podSecurityContext } from '../pod-security.ts';
import { SPARK_CONTRACT_FILE } from '../spark-contract.ts';
import { SPARK_POD_ROLES, SPARK_RUN_AS, sparkPodTemplateFile } from '../spark-pod-templates.ts';
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

export const SPARK_FILES_MOUNT = '/opt/lakehouse/spark';
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

/** Driver and executor pods from the chart's templates (generator/spark-pod-templates.ts). */
const podTemplates = () =>
  SPARK_POD_ROLES.flatMap((role) =>
    conf(`spark.kubernetes.${role}.podTemplateFile`, `${SPARK_FILES_MOUNT}/${sparkPodTemplateFile(role)}`),
  );

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

const packages = (v: Binder) => {
  const kafka = v.defaultOf<string>('spark.kafkaPackage');
  const iceberg = v.defaultOf<string>('spark.icebergPackage');
  return v.when(`or .Values.spark.kafkaPackage .Values.spark.icebergPackage`, kafka !== '' || iceberg !== '', [
    '--packages',
    v.expr(
      `join "," (compact (list .Values.spark.kafkaPackage .Values.spark.icebergPackage))`,
      [kafka, iceberg].filter((p) => p !== '').join(','),
      { quote: true },
    ),
  ]);
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
  ...conf('spark.kubernetes.file.upload.path', `file://${LAKE_MOUNT}/.spark-upload`),
  ...lakeVolume(v, 'driver'),
  ...lakeVolume(v, 'executor'),
  ...releaseLabels(v, 'driver'),
  ...releaseLabels(v, 'executor'),
  ...podTemplates(),
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
  ...settingsEnv(v, env).flatMap((e) => conf(`spark.kubernetes.driverEnv.${e.name}`, e.value!)),
  // Spark's Kafka connector and Iceberg's Spark runtime as Spark documents them: resolved from Maven
  // by --packages, left out when an image that holds them sets both values empty.
  ...packages(v),
  '--py-files',
  SPARK_MODULES.map((m) => `${SPARK_FILES_MOUNT}/${m}`).join(','),
  // The contract the modules read; in cluster mode spark-submit puts it, like the modules, in the driver's working directory.
  '--files',
  `${SPARK_FILES_MOUNT}/${SPARK_CONTRACT_FILE}`,
  `${SPARK_FILES_MOUNT}/${stage}.py`,
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
    { name: 'lake', mountPath: LAKE_MOUNT },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'spark-files', mountPath: SPARK_FILES_MOUNT, readOnly: true },
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
      { name: 'lake', persistentVolumeClaim: { claimName: lakeClaimName(v) } },
      { name: 'tmp', emptyDir: {} },
      { name: 'spark-files', configMap: { name: sparkFilesConfigMapName(v) } },
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
