// The restricted Pod Security Standard, applied to every pod and container the chart creates.
import type { IPodSecurityContext, ISecurityContext } from 'kubernetes-models/v1';

/**
 * uid/gid of every pod on the node and apache/kafka images: above 10000, so that it is no user of the
 * node's (whose ids start at 1000, as the images' own "node" and "appuser" do). Both images run as any
 * uid: they only read their own files (world-readable) and write to the chart's emptyDirs and claims,
 * which fsGroup makes group-writable.
 */
export const RUN_AS = 10001;

/** fsGroup makes the chart's claims and emptyDirs writable for `uid` (Spark's image runs as its own). */
export const podSecurityContext = (uid: number = RUN_AS): IPodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

export const containerSecurityContext = (): ISecurityContext => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});
