// With engine=spark, the identity the stage Jobs' spark-submit and the drivers it starts run as:
// allowed exactly what they do in the release's namespace. spark-submit creates the driver pod,
// its Service and its ConfigMap and watches the pod; the driver creates, watches and deletes its
// executor pods and their ConfigMap, and looks up the claims it mounts. The driver's ConfigMaps and
// Service are written with server-side apply, hence patch; the driver deletes its Service by label
// when it stops (deletecollection). Not granted: the driver's delete of claims it created on demand
// (it creates none here; deleting claims by label would also allow deleting the lake's claim).
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { labels, sparkServiceAccountName } from '../names.ts';

const onlyForSpark = (v: Binder) => v.cond(`eq .Values.engine "spark"`);

export const SPARK_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'deletecollection'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'patch', 'delete', 'deletecollection'] },
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'create', 'patch', 'delete', 'deletecollection'],
  },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list'] },
];

export const sparkServiceAccount: Emitter = {
  file: 'templates/spark-serviceaccount.yaml',
  when: onlyForSpark,
  onByDefault: false,
  build: (v) =>
    new ServiceAccount({
      metadata: { name: sparkServiceAccountName(v), labels: labels(v, 'spark') },
    }),
};

export const sparkRole: Emitter = {
  file: 'templates/spark-role.yaml',
  when: onlyForSpark,
  onByDefault: false,
  build: (v) =>
    new Role({
      metadata: { name: sparkServiceAccountName(v), labels: labels(v, 'spark') },
      rules: SPARK_RULES,
    }),
};

export const sparkRoleBinding: Emitter = {
  file: 'templates/spark-rolebinding.yaml',
  when: onlyForSpark,
  onByDefault: false,
  build: (v) =>
    new RoleBinding({
      metadata: { name: sparkServiceAccountName(v), labels: labels(v, 'spark') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sparkServiceAccountName(v) },
      subjects: [
        {
          kind: 'ServiceAccount',
          name: sparkServiceAccountName(v),
          namespace: v.expr('.Release.Namespace', 'default'),
        },
      ],
    }),
};
