// The continuous producer (`producer.mode: continuous`): a Deployment streaming events until it is
// stopped, instead of the producer hook Job. It needs Kafka only, not the lake volume.
import { Deployment } from "kubernetes-models/apps/v1";
import { STOP_FLUSH_SECONDS } from "../../jobs/produce-stream.ts";
import type { Emitter } from "../emitter.ts";
import { jobPodSpec } from "../job-pod.ts";
import { fullname, labels, selectorLabels } from "../names.ts";
import { BUNDLE_FILE } from "./jobs-script-configmap.ts";

export const CONTINUOUS_PRODUCER = `eq .Values.producer.mode "continuous"`;

export const producerDeployment: Emitter = {
  file: "templates/producer-deployment.yaml",
  when: (v) => v.cond(CONTINUOUS_PRODUCER),
  onByDefault: false,
  build: (v) =>
    new Deployment({
      metadata: { name: fullname(v, "-producer"), labels: labels(v, "producer") },
      spec: {
        replicas: 1,
        // Never two producers at once: each would send the whole rate.
        strategy: { type: "Recreate" },
        selector: { matchLabels: selectorLabels(v, "producer") },
        template: {
          metadata: {
            labels: labels(v, "producer"),
            // A new bundle in the ConfigMap restarts the producer (a Job would simply be recreated).
            ...v.whenKeys(".Values.jobs.bundledScript", v.defaultOf<boolean>("jobs.bundledScript"), {
              annotations: { "checksum/jobs-script": v.expr(`.Files.Get "files/${BUNDLE_FILE}" | sha256sum`, "0".repeat(64), { quote: true }) },
            }),
          },
          spec: {
            ...jobPodSpec(v, "produce", {
              lake: false,
              resources: v.block(`toYaml (.Values.producer.resources | default .Values.jobs.resources)`, v.defaultOf("jobs.resources")),
            }),
            restartPolicy: "Always",
            // Time to wait for the last send's acknowledgement, then to disconnect and log.
            terminationGracePeriodSeconds: STOP_FLUSH_SECONDS + 15,
          },
        },
      },
    }),
};
