import { PersistentVolumeClaim, type IPersistentVolumeClaimSpec } from 'kubernetes-models/v1';
import type { Emitter } from '../emitter.ts';
import { VOLUME_LAKE } from '../lake-backend.ts';
import { labels, lakeClaimName, storageClassEntry } from '../names.ts';

type AccessModes = IPersistentVolumeClaimSpec['accessModes'];

// The lake outlives the release: uninstalling must not delete the data. Only for the lake on a
// volume: with a REST catalog the tables are in object storage and no pod mounts a lake volume.
export const lakeVolumeClaim: Emitter = {
  file: 'templates/lake-pvc.yaml',
  when: (v) => v.cond(`and (${VOLUME_LAKE}) (not .Values.persistence.existingClaim)`),
  build: (v) =>
    new PersistentVolumeClaim({
      metadata: {
        name: lakeClaimName(v),
        labels: labels(v, 'lake'),
        annotations: { 'helm.sh/resource-policy': 'keep' },
      },
      spec: {
        accessModes: v.block(
          `toYaml .Values.persistence.accessModes`,
          v.defaultOf<AccessModes>('persistence.accessModes'),
        ),
        ...storageClassEntry(v, 'persistence.storageClass'),
        resources: { requests: { storage: v.str('persistence.size') } },
      },
    }),
};
