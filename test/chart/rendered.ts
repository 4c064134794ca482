// Parses `helm template` output and validates every object with its kubernetes-models class.
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  readonly spec?: any;
  readonly data?: Record<string, string>;
  /** A ConfigMap's binary data, base64. */
  readonly binaryData?: Record<string, string>;
  /** The template it came from (Helm's `# Source:` comment). */
  readonly source: string;
}

type ModelClass = new (data: any) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/CronJob': CronJob,
  'batch/v1/Job': Job,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

export function parseRendered(output: string): RenderedObject[] {
  return output.split(/^---$/m).flatMap((chunk) => {
    const source = /^# Source: (\S+)/m.exec(chunk)?.[1] ?? '?';
    return parseAllDocuments(chunk).flatMap((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: rendered YAML does not parse: ${doc.errors[0]?.message}`);
      const object = doc.toJS() as Omit<RenderedObject, 'source'> | null;
      return object ? [{ ...object, source }] : [];
    });
  });
}

/** Throws naming the object when it is of an unexpected kind or its class rejects it. */
export function validateWithModel(object: RenderedObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`${object.source}: no kubernetes-models class for ${key}`);
  const { source: _source, ...data } = object;
  try {
    new Model(data).validate();
  } catch (error) {
    throw new Error(`${object.source}: ${key} ${object.metadata.name} is invalid: ${(error as Error).message}`);
  }
}

export const hookWeight = (o: RenderedObject): number => Number(o.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
export const hookOf = (o: RenderedObject): string | undefined => o.metadata.annotations?.['helm.sh/hook'];

/** Post-install hook Jobs in the order Helm runs them: by weight, then by name. */
export const hookJobsInOrder = (objects: readonly RenderedObject[]): RenderedObject[] =>
  objects
    .filter((o) => o.kind === 'Job' && hookOf(o)?.split(',').includes('post-install'))
    .sort((a, b) => hookWeight(a) - hookWeight(b) || a.metadata.name.localeCompare(b.metadata.name));
