import type { Emitter } from '../emitter.ts';
import { jobsScriptConfigMap } from './jobs-script-configmap.ts';
import { jobsNetworkPolicy } from './jobs-network-policy.ts';
import { kafkaClusterIdSecret } from './kafka-cluster-id.ts';
import { kafkaNetworkPolicy } from './kafka-network-policy.ts';
import { kafkaCertificate, kafkaGeneratedTls, kafkaUserSecrets } from './kafka-security-secrets.ts';
import { kafkaPodDisruptionBudget } from './kafka-pdb.ts';
import { kafkaClientService, kafkaHeadlessService } from './kafka-services.ts';
import { kafkaStatefulSet } from './kafka-statefulset.ts';
import { lakeVolumeClaim } from './lake-pvc.ts';
import { explorerDeployment, explorerIngress, explorerNetworkPolicy, explorerService } from './explorer.ts';
import { metricsDeployment, metricsService } from './metrics-exporter.ts';
import { prometheusRule, serviceMonitor } from './metrics-monitoring.ts';
import { metricsNetworkPolicy } from './metrics-network-policy.ts';
import { pipelineJobs } from './pipeline-jobs.ts';
import { scheduleCronJobs } from './schedule-cronjobs.ts';
import { producerDeployment } from './producer-deployment.ts';
import { sparkFilesConfigMap } from './spark-files-configmap.ts';
import { sparkPodTemplatesConfigMap } from './spark-pod-templates-configmap.ts';
import { sparkRole, sparkRoleBinding, sparkServiceAccount } from './spark-rbac.ts';
import { sparkStageJobs } from './spark-stage-jobs.ts';
import { verifyTestPod } from './verify-test-pod.ts';

export const emitters: readonly Emitter[] = [
  kafkaClusterIdSecret,
  kafkaGeneratedTls,
  kafkaCertificate,
  ...kafkaUserSecrets,
  kafkaHeadlessService,
  kafkaClientService,
  kafkaStatefulSet,
  kafkaPodDisruptionBudget,
  kafkaNetworkPolicy,
  lakeVolumeClaim,
  jobsScriptConfigMap,
  jobsNetworkPolicy,
  ...pipelineJobs,
  producerDeployment,
  sparkServiceAccount,
  sparkRole,
  sparkRoleBinding,
  sparkFilesConfigMap,
  sparkPodTemplatesConfigMap,
  ...sparkStageJobs,
  ...scheduleCronJobs,
  metricsDeployment,
  metricsService,
  metricsNetworkPolicy,
  serviceMonitor,
  prometheusRule,
  explorerDeployment,
  explorerService,
  explorerNetworkPolicy,
  explorerIngress,
  verifyTestPod,
];
