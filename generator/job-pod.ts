// The pod every pipeline step runs in: `node /opt/lakehouse/lakehouse.mjs <command>` with the
// environment of docs/contract.md, the lake at /data and a scratch /tmp.
import type { IEnvVar, IPodSpec } from "kubernetes-models/v1";
import type { Binder } from "./binder.ts";
import { bootstrapServers, image, jobsScriptConfigMapName, lakeClaimName } from "./names.ts";
import { containerSecurityContext, podSecurityContext } from "./pod-security.ts";
import { schedulingFields } from "./scheduling.ts";

export const SCRIPT_DIR = "/opt/lakehouse";
export const SCRIPT_PATH = `${SCRIPT_DIR}/lakehouse.mjs`;
export const LAKE_MOUNT = "/data";

export type LakehouseCommand = "topics" | "produce" | "bronze" | "silver" | "gold" | "verify";

const contractEnv = (v: Binder): IEnvVar[] => [
  { name: "KAFKA_BOOTSTRAP_SERVER", value: bootstrapServers(v) },
  { name: "LAKEHOUSE_TOPIC", value: v.str("topic.name") },
  { name: "LAKEHOUSE_PARTITIONS", value: v.str("topic.partitions") },
  { name: "LAKEHOUSE_REPLICATION_FACTOR", value: v.str("topic.replicationFactor") },
  { name: "LAKEHOUSE_DATA_DIR", value: LAKE_MOUNT },
  { name: "LAKEHOUSE_EVENTS", value: v.str("producer.events") },
  { name: "LAKEHOUSE_INVALID_RATIO", value: v.str("producer.invalidRatio") },
  { name: "LAKEHOUSE_SEED", value: v.str("producer.seed") },
  { name: "LAKEHOUSE_CONSUMER_GROUP", value: v.str("pipeline.consumerGroup") },
  { name: "LAKEHOUSE_ROW_GROUP_SIZE", value: v.str("pipeline.rowGroupSize") },
  { name: "LAKEHOUSE_DUPLICATE_RATIO", value: v.str("producer.duplicateRatio") },
  { name: "LAKEHOUSE_START_TIME", value: v.str("producer.startTime") },
  { name: "LAKEHOUSE_FILE_ROWS", value: v.str("pipeline.fileRows") },
  { name: "LAKEHOUSE_DEDUP_BUCKET_EVENTS", value: v.str("pipeline.dedupBucketEvents") },
  { name: "LAKEHOUSE_KAFKA_WAIT_SECONDS", value: v.str("jobs.kafkaWaitSeconds") },
  { name: "NODE_OPTIONS", value: v.str("jobs.nodeOptions") },
  ...v.items<IEnvVar>("jobs.extraEnv"),
];

export const jobPodSpec = (v: Binder, command: LakehouseCommand): IPodSpec => {
  const bundled = v.defaultOf<boolean>("jobs.bundledScript");
  return {
    restartPolicy: "Never",
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
    ...schedulingFields(v),
    containers: [
      {
        name: command,
        ...image(v, "jobs.image"),
        command: ["node", SCRIPT_PATH, command],
        env: contractEnv(v),
        resources: v.block(`toYaml .Values.jobs.resources`, v.defaultOf("jobs.resources")),
        securityContext: containerSecurityContext(),
        volumeMounts: [
          { name: "lake", mountPath: LAKE_MOUNT },
          { name: "tmp", mountPath: "/tmp" },
          ...v.when(".Values.jobs.bundledScript", bundled, [{ name: "script", mountPath: SCRIPT_DIR, readOnly: true }]),
        ],
      },
    ],
    volumes: [
      { name: "lake", persistentVolumeClaim: { claimName: lakeClaimName(v) } },
      { name: "tmp", emptyDir: {} },
      ...v.when(".Values.jobs.bundledScript", bundled, [
        { name: "script", configMap: { name: jobsScriptConfigMapName(v) } },
      ]),
    ],
  };
};
