// The pod every pipeline step runs in: `node /opt/lakehouse/lakehouse.mjs <command>` with the
// environment of docs/contract.md, the lake at /data and a scratch /tmp.
import type { IEnvVar, IPodSpec, IResourceRequirements } from "kubernetes-models/v1";
import { settings, type Config } from "../jobs/config.ts";
import type { Binder } from "./binder.ts";
import { bootstrapServers, image, jobsScriptConfigMapName, lakeClaimName } from "./names.ts";
import { containerSecurityContext, podSecurityContext } from "./pod-security.ts";
import { schedulingFields } from "./scheduling.ts";

export const SCRIPT_DIR = "/opt/lakehouse";
export const SCRIPT_PATH = `${SCRIPT_DIR}/lakehouse.mjs`;
export const LAKE_MOUNT = "/data";

export type LakehouseCommand = "topics" | "produce" | "bronze" | "silver" | "gold" | "verify";

/** Where the chart takes each job setting from: one entry per setting of the contract (the type demands it). */
const settingSources: { readonly [K in keyof Config]: (v: Binder) => string } = {
  bootstrapServers,
  topic: (v) => v.str("topic.name"),
  partitions: (v) => v.str("topic.partitions"),
  replicationFactor: (v) => v.str("topic.replicationFactor"),
  minInsyncReplicas: (v) => v.str("topic.minInsyncReplicas"),
  dataDir: () => LAKE_MOUNT,
  events: (v) => v.str("producer.events"),
  invalidRatio: (v) => v.str("producer.invalidRatio"),
  duplicateRatio: (v) => v.str("producer.duplicateRatio"),
  seed: (v) => v.str("producer.seed"),
  startTime: (v) => v.str("producer.startTime"),
  producerMode: (v) => v.str("producer.mode"),
  eventsPerSecond: (v) => v.str("producer.eventsPerSecond"),
  consumerGroup: (v) => v.str("pipeline.consumerGroup"),
  rowGroupSize: (v) => v.str("pipeline.rowGroupSize"),
  fileRows: (v) => v.str("pipeline.fileRows"),
  dedupBucketEvents: (v) => v.str("pipeline.dedupBucketEvents"),
  kafkaWaitSeconds: (v) => v.str("jobs.kafkaWaitSeconds"),
  clientId: (v) => v.str("jobs.clientId"),
  verifyKafka: (v) => v.str("jobs.verifyKafka"),
  leaseWaitSeconds: (v) => v.str("pipeline.leaseWaitSeconds"),
  metricsPort: (v) => v.str("metrics.port"),
  // The chart's Kafka still serves PLAINTEXT (TLS and SCRAM users in the chart are issue 14's
  // second stage); the other security settings keep their defaults until then.
  kafkaSecurity: () => "plaintext",
  kafkaSaslMechanism: () => settingDefault("kafkaSaslMechanism"),
  kafkaCaFile: () => settingDefault("kafkaCaFile"),
  kafkaUser: () => settingDefault("kafkaUser"),
  kafkaPasswordFile: () => settingDefault("kafkaPasswordFile"),
  kafkaAcls: () => "false",
  kafkaProducerUser: () => settingDefault("kafkaProducerUser"),
  kafkaPipelineUser: () => settingDefault("kafkaPipelineUser"),
};

function settingDefault(key: keyof Config): string {
  return settings.find((s) => s.key === key)!.defaultValue;
}

/** The job settings of docs/contract.md as environment variables, every one of them, from the values. */
export const settingsEnv = (v: Binder): IEnvVar[] => settings.map((s) => ({ name: s.env, value: settingSources[s.key](v) }));

const jobEnv = (v: Binder): IEnvVar[] => [
  ...settingsEnv(v),
  { name: "NODE_OPTIONS", value: v.str("jobs.nodeOptions") },
  ...v.items<IEnvVar>("jobs.extraEnv"),
];

export interface JobPodOptions {
  /** Whether the lake volume is mounted at /data (the producer does not need it). */
  readonly lake?: boolean;
  /** The container's resources; jobs.resources by default. */
  readonly resources?: IResourceRequirements;
}

export const jobPodSpec = (v: Binder, command: LakehouseCommand, options: JobPodOptions = {}): IPodSpec => {
  const bundled = v.defaultOf<boolean>("jobs.bundledScript");
  const lake = options.lake ?? true;
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
        env: jobEnv(v),
        resources: options.resources ?? v.block(`toYaml .Values.jobs.resources`, v.defaultOf("jobs.resources")),
        securityContext: containerSecurityContext(),
        volumeMounts: [
          ...(lake ? [{ name: "lake", mountPath: LAKE_MOUNT }] : []),
          { name: "tmp", mountPath: "/tmp" },
          ...v.when(".Values.jobs.bundledScript", bundled, [{ name: "script", mountPath: SCRIPT_DIR, readOnly: true }]),
        ],
      },
    ],
    volumes: [
      ...(lake ? [{ name: "lake", persistentVolumeClaim: { claimName: lakeClaimName(v) } }] : []),
      { name: "tmp", emptyDir: {} },
      ...v.when(".Values.jobs.bundledScript", bundled, [
        { name: "script", configMap: { name: jobsScriptConfigMapName(v) } },
      ]),
    ],
  };
};
