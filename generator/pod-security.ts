// The restricted Pod Security Standard, applied to every pod and container the chart creates.
import type { IPodSecurityContext, ISecurityContext } from "kubernetes-models/v1";

/** uid/gid of the unprivileged user of both images (node: "node", apache/kafka: "appuser"). */
export const RUN_AS = 1000;

export const podSecurityContext = (): IPodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  seccompProfile: { type: "RuntimeDefault" },
});

export const containerSecurityContext = (): ISecurityContext => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});
