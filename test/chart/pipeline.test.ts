// The rendered chart drives the pipeline: each hook Job of `helm template`, in the order Helm runs
// them, then the test Pod, run with their own command, environment and mounted Secrets against a real
// broker secured as the chart's Kafka is (TLS, SCRAM users, ACLs): each job signs in as its own user.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tableFiles } from '../support/tables.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { brokerCluster } from './broker-cluster.ts';
import { provideClaim, runContainer, runPod, type Cluster } from './container.ts';
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from './rendered.ts';
import { helmTemplate, toolPath } from './tools.ts';

const suffix = randomBytes(4).toString('hex');
const topic = `chart-pipeline-${suffix}`;
const group = `chart-pipeline-${suffix}`;
let cluster: Cluster | undefined;

test("the rendered chart drives the pipeline: hook Jobs in Helm's order, helm test, then a scheduled run", async () => {
  const objects = parseRendered(
    helmTemplate(toolPath('helm'), [
      '--set',
      `topic.name=${topic}`,
      '--set',
      `pipeline.consumerGroup=${group}`,
      '--set',
      'schedule.pipeline=*/5 * * * *',
    ]),
  );
  const { bootstrap } = await sharedBroker();
  cluster = brokerCluster(objects, bootstrap);
  for (const claim of objects.filter((o) => o.kind === 'PersistentVolumeClaim'))
    provideClaim(cluster, claim.metadata.name);

  const jobs = hookJobsInOrder(objects);
  const testPods = objects.filter((o) => o.kind === 'Pod' && hookOf(o) === 'test');
  assert.equal(
    jobs.map((j) => j.metadata.name),
    ['topics', 'producer', 'bronze', 'silver', 'gold'].map((s) => `lakehouse-${s}`),
  );
  assert.is(testPods.length, 1);

  for (const pod of [...jobs, ...testPods]) {
    const run = await runContainer(cluster, pod, 180_000);
    assert.is(
      run.exitCode,
      0,
      `${pod.kind} ${pod.metadata.name} (${run.argv.join(' ')}) failed:\n${run.output.slice(-4000)}`,
    );
  }

  // A scheduled run after more events: the CronJob's pod runs bronze, silver and gold in order, and reads only what is new.
  const producer = jobs.find((j) => j.metadata.name.endsWith('-producer'))!;
  assert.is((await runContainer(cluster, producer, 180_000)).exitCode, 0);
  const scheduled = objects.find((o) => o.kind === 'CronJob' && o.metadata.name.endsWith('-pipeline'))!;
  const runs = await runPod(cluster, scheduled, 180_000);
  const finished = runs.map((r) =>
    JSON.parse(r.output.split('\n').find((l) => l.includes('"msg":"finished"')) ?? '{}'),
  );
  assert.equal(
    runs.map((r) => r.exitCode),
    [0, 0, 0],
    runs.map((r) => r.output.slice(-2000)).join('\n'),
  );
  assert.equal(
    finished.map((f) => f.job),
    ['bronze', 'silver', 'gold'],
  );
  assert.is(finished[0].result.recordsRead, 30, 'bronze read the 30 events produced after the hooks, and only those');
  const verify = await runContainer(cluster, testPods[0]!, 180_000);
  assert.is(verify.exitCode, 0, verify.output.slice(-4000));

  const [lake] = [...cluster.claims.values()];
  for (const table of ['bronze', 'silver', 'rejected', 'gold'] as const) {
    const files = await tableFiles(lake!, table);
    assert.ok(files.length > 0 && files.every((f) => existsSync(f)), `no data files in ${table}'s current snapshot`);
  }
});

test('producer.mode=continuous: the rendered producer Deployment creates its topic in an init container, streams until SIGTERM, and the hooks take its events', async () => {
  const streamed = `${topic}-stream`;
  const objects = parseRendered(
    helmTemplate(toolPath('helm'), [
      '--set',
      `topic.name=${streamed}`,
      '--set',
      `pipeline.consumerGroup=${group}-stream`,
      '--set',
      'producer.mode=continuous',
      '--set',
      'producer.eventsPerSecond=100',
    ]),
  );
  const { bootstrap } = await sharedBroker();
  const streaming = brokerCluster(objects, bootstrap);
  try {
    for (const claim of objects.filter((o) => o.kind === 'PersistentVolumeClaim'))
      provideClaim(streaming, claim.metadata.name);
    const [deployment, ...others] = objects.filter((o) => o.kind === 'Deployment');
    assert.ok(deployment && others.length === 0, 'one Deployment');
    const jobs = hookJobsInOrder(objects);
    assert.equal(
      jobs.map((j) => j.metadata.name),
      ['topics', 'bronze', 'silver', 'gold'].map((s) => `lakehouse-${s}`),
    );
    // As in a cluster: the Deployment starts with the install, its init container creating the topic
    // (as the admin user); helm install --wait waits for it to be ready, and the hooks run after that.
    let producer: ChildProcess | undefined;
    const producing = runPod(streaming, deployment, 120_000, (child, container) => {
      if (container === 'produce') producer = child;
    });
    for (let i = 0; i < 600 && !producer; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(producer, 'the producer container started after its init container');
    const must = async (object: RenderedObject) => {
      const run = await runContainer(streaming, object, 180_000);
      assert.is(
        run.exitCode,
        0,
        `${object.kind} ${object.metadata.name} (${run.argv.join(' ')}) failed:\n${run.output.slice(-4000)}`,
      );
    };
    await must(jobs[0]!);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    producer!.kill('SIGTERM');
    const [createdTopic, produced] = await producing;
    assert.is(createdTopic!.exitCode, 0, createdTopic!.output.slice(-4000));
    assert.is(produced!.exitCode, 0, produced!.output.slice(-4000));
    const finished = produced!.output
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'finished');
    assert.ok(finished?.result.acknowledged > 100, JSON.stringify(finished));
    for (const object of [...jobs.slice(1), ...objects.filter((o) => hookOf(o) === 'test')]) await must(object);
    const [lake] = [...streaming.claims.values()];
    assert.ok((await tableFiles(lake!, 'silver')).length > 0, 'silver has the streamed events');
  } finally {
    rmSync(streaming.root, { recursive: true, force: true });
  }
});

test.after(() => {
  if (cluster) rmSync(cluster.root, { recursive: true, force: true });
});

test.run();
