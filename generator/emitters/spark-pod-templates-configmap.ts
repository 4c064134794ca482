// With engine=spark and a REST catalog: the driver's and executors' pod templates that mount the
// chart's Spark files (the stages run as local:// files, no pod mounts a lake volume). A ConfigMap
// rendered by Helm, because the templates name the release's Spark files ConfigMap; the submitting
// pods mount it and hand the files to spark-submit.
import { ConfigMap, Pod } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { REST_LAKE } from '../lake-backend.ts';
import { fullname, labels, sparkFilesConfigMapName } from '../names.ts';
import { SPARK_POD_ROLES, sparkPodTemplate, sparkPodTemplateFile } from '../spark-pod-templates.ts';

export const SPARK_POD_TEMPLATES_MOUNT = '/opt/lakehouse/spark-pods';

export const sparkPodTemplatesConfigMapName = (v: Binder) => fullname(v, '-spark-pods');

export const sparkPodTemplatesConfigMap: Emitter = {
  file: 'templates/spark-pod-templates-configmap.yaml',
  when: (v) => v.cond(`and (eq .Values.engine "spark") (${REST_LAKE})`),
  onByDefault: false,
  build: (v) => {
    const configMap = sparkFilesConfigMapName(v);
    if (v.mode === 'defaults')
      for (const role of SPARK_POD_ROLES) new Pod(sparkPodTemplate(role, { configMap })).validate();
    return new ConfigMap({
      metadata: { name: sparkPodTemplatesConfigMapName(v), labels: labels(v, 'spark') },
      data: Object.fromEntries(
        SPARK_POD_ROLES.map((role) => [
          sparkPodTemplateFile(role),
          stringify(sparkPodTemplate(role, { configMap }), { indent: 2, indentSeq: true, lineWidth: 0 }),
        ]),
      ),
    });
  },
};
