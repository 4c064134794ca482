// Object names, labels and images inside the object store chart, as Go-template expressions of its
// own helpers (skeleton/_helpers.tpl.hbs) or their values for release "lakehouse".
import type { IContainer } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import { CHART_VERSION } from '../chart-version.ts';
import { OBJECTSTORE_CHART, type StoreComponent } from './names.ts';

const DEFAULT_FULLNAME = `lakehouse-${OBJECTSTORE_CHART}`;

/** `<release>-objectstore` followed by a suffix. */
export const fullname = (v: Binder, suffix = ''): string =>
  `${v.expr(`include "objectstore.fullname" .`, DEFAULT_FULLNAME)}${suffix}`;

export const headlessName = (v: Binder) => fullname(v, '-headless');

const defaultSelector = (component: StoreComponent) => ({
  'app.kubernetes.io/name': OBJECTSTORE_CHART,
  'app.kubernetes.io/instance': 'lakehouse',
  'app.kubernetes.io/component': component,
});

export const selectorLabels = (v: Binder, component: StoreComponent): Record<string, string> =>
  v.block(
    `include "objectstore.selectorLabels" (dict "context" $ "component" "${component}")`,
    defaultSelector(component),
  );

export const labels = (v: Binder, component: StoreComponent): Record<string, string> =>
  v.block(`include "objectstore.labels" (dict "context" $ "component" "${component}")`, {
    ...defaultSelector(component),
    'app.kubernetes.io/managed-by': 'Helm',
    'app.kubernetes.io/part-of': 'lakehouse',
    'app.kubernetes.io/version': '4.48',
    'helm.sh/chart': `${OBJECTSTORE_CHART}-${CHART_VERSION}`,
  });

/** The pods of this Helm release, whatever chart made them: who may use the store. */
export const releasePods = (v: Binder): Record<string, string> => ({
  'app.kubernetes.io/instance': v.expr('.Release.Name', 'lakehouse'),
});

export const image = (v: Binder) => {
  const digest = v.defaultOf<string>('image.digest');
  const repository = v.defaultOf<string>('image.repository');
  return {
    image: v.expr(
      `include "objectstore.image" .Values.image`,
      digest ? `${repository}@${digest}` : `${repository}:${v.defaultOf<string>('image.tag')}`,
      { quote: true },
    ),
    imagePullPolicy: v.str('image.pullPolicy') as IContainer['imagePullPolicy'],
  };
};

/** storageClassName from a value where "" means the cluster default and "-" means none. */
export const storageClassEntry = (v: Binder, path: string) =>
  v.whenKeys(`.Values.${path}`, v.defaultOf<string>(path) !== '', {
    storageClassName: v.expr(`include "objectstore.storageClassName" .Values.${path}`, v.defaultOf<string>(path)),
  });
