// The one-off pod NOTES.txt offers for `status` and the table commands when no exporter runs: the
// `--overrides` (strategic merge) of `kubectl run`, which mount the lake read-only under the
// restricted Pod Security Standard. Values are Go-template expressions (raw strings in backticks, which JSON leaves alone),
// so the JSON is written into NOTES.txt as it is and Helm fills it in.
import { LAKE_MOUNT, SCRIPT_DIR } from "./job-pod.ts";
import { containerSecurityContext, podSecurityContext } from "./pod-security.ts";

export const STATUS_POD_SUFFIX = "-status";

const go = (expr: string) => `{{ ${expr} }}`;

/** `kubectl run --override-type=strategic --overrides` JSON; `bundled` mounts the bundled script's ConfigMap (jobs.bundledScript). */
export function statusPodOverrides(bundled: boolean): string {
  const name = `${go("$fullname")}${STATUS_POD_SUFFIX}`;
  const spec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
    containers: [
      {
        // The merge key: a strategic merge adds this to the container `kubectl run` makes (image, command, stdin).
        name,
        securityContext: containerSecurityContext(),
        env: [
          { name: "KAFKA_BOOTSTRAP_SERVER", value: go("include `lakehouse.kafka.bootstrapServers` .") },
          { name: "LAKEHOUSE_TOPIC", value: go(".Values.topic.name") },
          { name: "LAKEHOUSE_DATA_DIR", value: LAKE_MOUNT },
          { name: "LAKEHOUSE_KAFKA_WAIT_SECONDS", value: "15" },
        ],
        volumeMounts: [
          { name: "lake", mountPath: LAKE_MOUNT, readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
          ...(bundled ? [{ name: "script", mountPath: SCRIPT_DIR, readOnly: true }] : []),
        ],
      },
    ],
    volumes: [
      { name: "lake", persistentVolumeClaim: { claimName: go("include `lakehouse.lakeClaimName` .") } },
      { name: "tmp", emptyDir: {} },
      ...(bundled ? [{ name: "script", configMap: { name: `${go("$fullname")}-jobs` } }] : []),
    ],
  };
  return JSON.stringify({ apiVersion: "v1", spec });
}
