// Pod-level settings every pod shares: scheduling constraints and registry credentials.
import type { Binder } from './binder.ts';

export const schedulingFields = (v: Binder) => ({
  imagePullSecrets: v.withValue('imagePullSecrets', []),
  nodeSelector: v.withValue('nodeSelector', {}),
  tolerations: v.withValue('tolerations', []),
  affinity: v.withValue('affinity', {}),
});
