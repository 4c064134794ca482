// Kafka in KRaft mode on the official apache/kafka image: every node is broker and controller.
import { StatefulSet } from "kubernetes-models/apps/v1";
import type { IEnvVar } from "kubernetes-models/v1";
import { createBinder, type Binder } from "../binder.ts";
import type { Emitter } from "../emitter.ts";
import {
  image,
  KAFKA_CLIENT_PORT,
  KAFKA_CONTROLLER_PORT,
  kafkaClusterIdSecretName,
  kafkaHeadlessName,
  kafkaName,
  labels,
  selectorLabels,
  storageClassEntry,
} from "../names.ts";
import { containerSecurityContext, podSecurityContext } from "../pod-security.ts";
import { schedulingFields } from "../scheduling.ts";

/** Where the image's scripts and Kafka write; the root filesystem is read-only. */
const DATA_DIR = "/var/lib/kafka/data";
// A subdirectory, because Kafka refuses a log dir holding a filesystem's lost+found.
const LOG_DIRS = `${DATA_DIR}/kraft`;

/** Where the cluster id Secret is mounted: a file, so the id is in no environment a process dump shows. */
export const CLUSTER_ID_DIR = "/etc/kafka/cluster-id";
export const CLUSTER_ID_KEY = "cluster-id";

// The image's own entry point turns KAFKA_* variables into server.properties; only the node id
// has to be computed, from the StatefulSet ordinal at the end of the pod's hostname, and the cluster
// id read from its file (the entry point takes it from CLUSTER_ID).
const START_SCRIPT = [
  'export KAFKA_NODE_ID="${HOSTNAME##*-}"',
  `CLUSTER_ID="$(cat ${CLUSTER_ID_DIR}/${CLUSTER_ID_KEY})"`,
  "export CLUSTER_ID",
  "exec /etc/kafka/docker/run",
].join("\n");

const kafkaEnv = (v: Binder): IEnvVar[] => [
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  { name: "KAFKA_PROCESS_ROLES", value: "broker,controller" },
  { name: "KAFKA_LISTENERS", value: `PLAINTEXT://:${KAFKA_CLIENT_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT}` },
  {
    name: "KAFKA_ADVERTISED_LISTENERS",
    value: `PLAINTEXT://$(POD_NAME).${kafkaHeadlessName(v)}.$(POD_NAMESPACE).svc:${KAFKA_CLIENT_PORT}`,
  },
  { name: "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", value: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT" },
  { name: "KAFKA_CONTROLLER_LISTENER_NAMES", value: "CONTROLLER" },
  { name: "KAFKA_INTER_BROKER_LISTENER_NAME", value: "PLAINTEXT" },
  {
    name: "KAFKA_CONTROLLER_QUORUM_VOTERS",
    value: v.expr(
      `include "lakehouse.kafka.quorumVoters" .`,
      `0@lakehouse-kafka-0.lakehouse-kafka-headless.default.svc:${KAFKA_CONTROLLER_PORT}`,
      { quote: true },
    ),
  },
  { name: "KAFKA_LOG_DIRS", value: LOG_DIRS },
  { name: "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", value: v.expr(`min 3 (int .Values.kafka.replicas)`, "1", { quote: true }) },
  { name: "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", value: v.expr(`min 3 (int .Values.kafka.replicas)`, "1", { quote: true }) },
  { name: "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", value: v.expr(`min 2 (int .Values.kafka.replicas)`, "1", { quote: true }) },
  // The default for every topic, internal ones included; the topics job also sets it on the events topic.
  { name: "KAFKA_MIN_INSYNC_REPLICAS", value: v.str("topic.minInsyncReplicas") },
  { name: "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", value: "0" },
  { name: "KAFKA_AUTO_CREATE_TOPICS_ENABLE", value: "false" },
  { name: "KAFKA_HEAP_OPTS", value: v.str("kafka.heapOpts") },
  { name: "LOG_DIR", value: "/opt/kafka/logs" },
  ...v.items<IEnvVar>("kafka.extraEnv"),
];

/** What "lakehouse.kafka.affinity" renders with the default values (soft anti-affinity), for validation. */
const defaultKafkaAffinity = (v: Binder) => {
  const term = { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selectorLabels(createBinder("defaults"), "kafka") } };
  const mode = v.defaultOf<string>("kafka.podAntiAffinity");
  if (mode === "hard") return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  if (mode === "soft") return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
  return {};
};

const tcpProbe = (port: number, extra: Record<string, number>) => ({
  tcpSocket: { port },
  ...extra,
});

export const kafkaStatefulSet: Emitter = {
  file: "templates/kafka-statefulset.yaml",
  when: (v) => v.cond(".Values.kafka.enabled"),
  build: (v) =>
    new StatefulSet({
      metadata: { name: kafkaName(v), labels: labels(v, "kafka") },
      spec: {
        serviceName: kafkaHeadlessName(v),
        replicas: v.int("kafka.replicas"),
        // Controllers must all be up to form the quorum, so they start together.
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selectorLabels(v, "kafka") },
        template: {
          metadata: { labels: labels(v, "kafka") },
          spec: {
            automountServiceAccountToken: false,
            // Service links would inject *_PORT variables that the image reads as KAFKA_* properties.
            enableServiceLinks: false,
            securityContext: podSecurityContext(),
            ...schedulingFields(v),
            affinity: v.block(`include "lakehouse.kafka.affinity" .`, defaultKafkaAffinity(v)),
            ...v.whenKeys(".Values.kafka.zoneSpread", v.defaultOf<boolean>("kafka.zoneSpread"), {
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selectorLabels(v, "kafka") },
                },
              ],
            }),
            containers: [
              {
                name: "kafka",
                ...image(v, "kafka.image"),
                command: ["bash", "-ec", START_SCRIPT],
                ports: [
                  { name: "client", containerPort: KAFKA_CLIENT_PORT, protocol: "TCP" },
                  { name: "controller", containerPort: KAFKA_CONTROLLER_PORT, protocol: "TCP" },
                ],
                env: kafkaEnv(v),
                resources: v.block(`toYaml .Values.kafka.resources`, v.defaultOf("kafka.resources")),
                startupProbe: tcpProbe(KAFKA_CLIENT_PORT, { periodSeconds: 5, failureThreshold: 60 }),
                // Ready when the broker takes clients; alive while the controller answers, so a broker
                // that stops taking clients is taken out of the Service but not restarted at once.
                readinessProbe: tcpProbe(KAFKA_CLIENT_PORT, { periodSeconds: 10, failureThreshold: 3 }),
                livenessProbe: tcpProbe(KAFKA_CONTROLLER_PORT, { periodSeconds: 20, failureThreshold: 6 }),
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: "data", mountPath: DATA_DIR },
                  { name: "config", mountPath: "/opt/kafka/config" },
                  { name: "logs", mountPath: "/opt/kafka/logs" },
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "cluster-id", mountPath: CLUSTER_ID_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "cluster-id", secret: { secretName: kafkaClusterIdSecretName(v), items: [{ key: CLUSTER_ID_KEY, path: CLUSTER_ID_KEY }] } },
              { name: "config", emptyDir: {} },
              { name: "logs", emptyDir: {} },
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: selectorLabels(v, "kafka") },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...storageClassEntry(v, "kafka.storage.storageClass"),
              resources: { requests: { storage: v.str("kafka.storage.size") } },
            },
          },
        ],
      },
    }),
};
