import { ConfigMap } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import { jobsScriptConfigMapName, labels } from '../names.ts';

export const BUNDLE_FILE = 'lakehouse.mjs';

// The compiled jobs (chart/files/lakehouse.mjs), mounted into the stock node image.
export const jobsScriptConfigMap: Emitter = {
  file: 'templates/jobs-configmap.yaml',
  when: (v) => v.cond('.Values.jobs.bundledScript'),
  build: (v) =>
    new ConfigMap({
      metadata: { name: jobsScriptConfigMapName(v), labels: labels(v, 'jobs') },
      data: v.block(`(.Files.Glob "files/${BUNDLE_FILE}").AsConfig`, { [BUNDLE_FILE]: '// bundled jobs' }),
    }),
};
