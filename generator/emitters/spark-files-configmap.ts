// With engine=spark, the PySpark stages (jobs/spark, copied to chart/files/spark/) and the submit
// wrapper, mounted into the stage Jobs; spark-submit uploads them for the driver and executors.
import { ConfigMap } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import { labels, sparkFilesConfigMapName } from '../names.ts';

export const SPARK_FILES_DIR = 'files/spark';

export const sparkFilesConfigMap: Emitter = {
  file: 'templates/spark-configmap.yaml',
  when: (v) => v.cond(`eq .Values.engine "spark"`),
  onByDefault: false,
  build: (v) =>
    new ConfigMap({
      metadata: { name: sparkFilesConfigMapName(v), labels: labels(v, 'spark') },
      data: v.block(`(.Files.Glob "${SPARK_FILES_DIR}/*").AsConfig`, { 'bronze.py': '# the bronze stage' }),
    }),
};
