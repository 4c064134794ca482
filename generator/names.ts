// Names and labels as Go-template expressions (template mode) or their values for release
// "lakehouse" (defaults mode). The helpers themselves live in skeleton/_helpers.tpl.hbs.
import type { IContainer } from 'kubernetes-models/v1';
import type { Binder } from './binder.ts';
import { CHART_VERSION } from './chart-version.ts';

export const DEFAULT_RELEASE = 'lakehouse';
export const KAFKA_CLIENT_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;

export type Component =
  | 'kafka'
  | 'lake'
  | 'jobs'
  | 'topics'
  | 'producer'
  | 'bronze'
  | 'silver'
  | 'gold'
  | 'verify'
  | 'spark'
  | 'pipeline'
  | 'maintenance'
  | 'metrics'
  | 'explorer';

/** `<fullname>` followed by a suffix, e.g. fullname(v, "-kafka"). */
export const fullname = (v: Binder, suffix = ''): string =>
  `${v.expr(`include "lakehouse.fullname" .`, DEFAULT_RELEASE)}${suffix}`;

/** The labels of a component's objects for release "lakehouse" (what lakehouse.labels renders). */
export const defaultLabels = (component: Component): Record<string, string> => ({
  'app.kubernetes.io/name': 'lakehouse',
  'app.kubernetes.io/instance': DEFAULT_RELEASE,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/part-of': 'lakehouse',
  'app.kubernetes.io/version': CHART_VERSION,
  'helm.sh/chart': `lakehouse-${CHART_VERSION}`,
});

export const labels = (v: Binder, component: Component): Record<string, string> =>
  v.block(`include "lakehouse.labels" (dict "context" $ "component" "${component}")`, defaultLabels(component));

export const selectorLabels = (v: Binder, component: Component): Record<string, string> =>
  v.block(`include "lakehouse.selectorLabels" (dict "context" $ "component" "${component}")`, {
    'app.kubernetes.io/name': 'lakehouse',
    'app.kubernetes.io/instance': DEFAULT_RELEASE,
    'app.kubernetes.io/component': component,
  });

export const kafkaName = (v: Binder) => fullname(v, '-kafka');
export const kafkaHeadlessName = (v: Binder) => fullname(v, '-kafka-headless');
export const kafkaClusterIdSecretName = (v: Binder) => fullname(v, '-kafka-cluster-id');
export const jobsScriptConfigMapName = (v: Binder) => fullname(v, '-jobs');
export const sparkServiceAccountName = (v: Binder) => fullname(v, '-spark');
export const sparkFilesConfigMapName = (v: Binder) => fullname(v, '-spark-jobs');
export const metricsName = (v: Binder) => fullname(v, '-metrics');
export const explorerName = (v: Binder) => fullname(v, '-explorer');

/** The labels every pod of this release carries: what the NetworkPolicies admit. */
export const releaseSelector = (v: Binder): Record<string, string> =>
  v.block(`include "lakehouse.releaseSelector" .`, {
    'app.kubernetes.io/name': 'lakehouse',
    'app.kubernetes.io/instance': DEFAULT_RELEASE,
  });

export const lakeClaimName = (v: Binder): string =>
  v.expr(`include "lakehouse.lakeClaimName" .`, `${DEFAULT_RELEASE}-lake`);

export const bootstrapServers = (v: Binder): string =>
  v.expr(`include "lakehouse.kafka.bootstrapServers" .`, `${DEFAULT_RELEASE}-kafka:${KAFKA_CLIENT_PORT}`, {
    quote: true,
  });

/** storageClassName from a value where "" means the cluster default and "-" means none. */
export const storageClassEntry = (v: Binder, path: string) =>
  v.whenKeys(`.Values.${path}`, v.defaultOf<string>(path) !== '', {
    storageClassName: v.expr(`include "lakehouse.storageClassName" .Values.${path}`, v.defaultOf<string>(path)),
  });

export type ImagePath = 'kafka.image' | 'jobs.image' | 'spark.image';

/** An image reference (lakehouse.image): `repository@digest` when the value pins a digest, else `repository:tag`. */
export const imageRef = (v: Binder, path: ImagePath, opts: { quote?: boolean } = {}): string => {
  const digest = v.defaultOf<string>(`${path}.digest`);
  const repository = v.defaultOf<string>(`${path}.repository`);
  return v.expr(
    `include "lakehouse.image" .Values.${path}`,
    digest ? `${repository}@${digest}` : `${repository}:${v.defaultOf<string>(`${path}.tag`)}`,
    opts,
  );
};

export const image = (v: Binder, path: ImagePath) => ({
  image: imageRef(v, path, { quote: true }),
  imagePullPolicy: v.str(`${path}.pullPolicy`) as IContainer['imagePullPolicy'],
});
