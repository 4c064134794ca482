// The rendered chart drives the pipeline: each hook Job of `helm template`, in the order Helm runs
// them, then the test Pod, run with their own command and environment against a real broker.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tableFiles } from "../support/tables.ts";
import { sharedBroker } from "../support/broker-fixture.ts";
import { newCluster, provideClaim, runContainer, runPod, type Cluster } from "./container.ts";
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from "./rendered.ts";
import { helmTemplate, toolPath } from "./tools.ts";

const suffix = randomBytes(4).toString("hex");
const topic = `chart-pipeline-${suffix}`;
const group = `chart-pipeline-${suffix}`;
let cluster: Cluster | undefined;

/** The Kafka addresses the chart serves: its client Service, as the jobs are told to reach it. */
function kafkaAddresses(objects: readonly RenderedObject[], namespace: string): string[] {
  const kafkaPods = objects.find((o) => o.kind === "StatefulSet")!.spec.template.metadata.labels;
  return objects
    .filter((o) => o.kind === "Service" && o.spec.clusterIP !== "None")
    .filter((s) => Object.entries(s.spec.selector).every(([k, v]) => kafkaPods[k] === v))
    .flatMap((s) => s.spec.ports.map((p: any) => `${s.metadata.name}.${namespace}.svc:${p.port}`));
}

test("the rendered chart drives the pipeline: hook Jobs in Helm's order, helm test, then a scheduled run", async () => {
  const objects = parseRendered(
    helmTemplate(toolPath("helm"), [
      "--set", `topic.name=${topic}`, "--set", `pipeline.consumerGroup=${group}`, "--set", "schedule.pipeline=*/5 * * * *",
    ]),
  );
  const { bootstrap } = await sharedBroker();
  const addresses = kafkaAddresses(objects, "lakehouse");
  assert.ok(addresses.length > 0, "the chart serves Kafka through a Service selecting the StatefulSet");
  cluster = newCluster(objects, new Map(addresses.map((a) => [a, bootstrap])));
  for (const claim of objects.filter((o) => o.kind === "PersistentVolumeClaim")) provideClaim(cluster, claim.metadata.name);

  const jobs = hookJobsInOrder(objects);
  const testPods = objects.filter((o) => o.kind === "Pod" && hookOf(o) === "test");
  assert.equal(jobs.map((j) => j.metadata.name), ["topics", "producer", "bronze", "silver", "gold"].map((s) => `lakehouse-${s}`));
  assert.is(testPods.length, 1);

  for (const pod of [...jobs, ...testPods]) {
    const run = await runContainer(cluster, pod, 180_000);
    assert.is(run.exitCode, 0, `${pod.kind} ${pod.metadata.name} (${run.argv.join(" ")}) failed:\n${run.output.slice(-4000)}`);
  }

  // A scheduled run after more events: the CronJob's pod runs bronze, silver and gold in order, and reads only what is new.
  const producer = jobs.find((j) => j.metadata.name.endsWith("-producer"))!;
  assert.is((await runContainer(cluster, producer, 180_000)).exitCode, 0);
  const scheduled = objects.find((o) => o.kind === "CronJob" && o.metadata.name.endsWith("-pipeline"))!;
  const runs = await runPod(cluster, scheduled, 180_000);
  const finished = runs.map((r) => JSON.parse(r.output.split("\n").find((l) => l.includes('"msg":"finished"')) ?? "{}"));
  assert.equal(runs.map((r) => r.exitCode), [0, 0, 0], runs.map((r) => r.output.slice(-2000)).join("\n"));
  assert.equal(finished.map((f) => f.job), ["bronze", "silver", "gold"]);
  assert.is(finished[0].result.recordsRead, 30, "bronze read the 30 events produced after the hooks, and only those");
  const verify = await runContainer(cluster, testPods[0]!, 180_000);
  assert.is(verify.exitCode, 0, verify.output.slice(-4000));

  const [lake] = [...cluster.claims.values()];
  for (const table of ["bronze", "silver", "rejected", "gold"] as const) {
    const files = await tableFiles(lake!, table);
    assert.ok(files.length > 0 && files.every((f) => existsSync(f)), `no data files in ${table}'s current snapshot`);
  }
});

test.after(() => {
  if (cluster) rmSync(cluster.root, { recursive: true, force: true });
});

test.run();
