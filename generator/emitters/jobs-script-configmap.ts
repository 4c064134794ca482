import { ConfigMap } from 'kubernetes-models/v1';
import { BUNDLE_FILE, BUNDLE_COMPRESSED_FILE, BUNDLE_LOADER } from '../bundle-loader.ts';
import type { Emitter } from '../emitter.ts';
import { jobsScriptConfigMapName, labels } from '../names.ts';

export { BUNDLE_FILE } from '../bundle-loader.ts';

// The compiled jobs (chart/files/lakehouse.mjs.br) and the loader that runs them
// (generator/bundle-loader.ts), mounted into the stock node image.
export const jobsScriptConfigMap: Emitter = {
  file: 'templates/jobs-configmap.yaml',
  when: (v) => v.cond('.Values.jobs.bundledScript'),
  build: (v) =>
    new ConfigMap({
      metadata: { name: jobsScriptConfigMapName(v), labels: labels(v, 'jobs') },
      data: { [BUNDLE_FILE]: BUNDLE_LOADER },
      binaryData: v.block(`(.Files.Glob "files/${BUNDLE_COMPRESSED_FILE}").AsSecrets`, {
        [BUNDLE_COMPRESSED_FILE]: Buffer.from('bundled jobs').toString('base64'),
      }),
    }),
};
