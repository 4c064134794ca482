// The rendered chart with the lake in the embedded object store's REST catalog drives the pipeline:
// each hook Job of `helm template` in Helm's order, the test Pod, then a scheduled run, with their
// own command and environment, the storage's keys and the catalog's credentials read through their
// secretKeyRef, against a real broker (secured as the chart's Kafka) and a real SeaweedFS, whose
// catalog and S3 stand for the store's Services. A fresh table bucket stands for the one the
// bootstrap Job creates (that Job runs `weed shell` against the store's pod: the cluster test runs it).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectCatalog } from '../../dev/objectstore/catalog-client.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { freshCatalogLake } from '../support/objectstore-fixture.ts';
import { brokerCluster } from './broker-cluster.ts';
import { runContainer, runPod, type Cluster } from './container.ts';
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from './rendered.ts';
import { CHART_DIR, helmTemplate, toolPath } from './tools.ts';

const suffix = randomBytes(4).toString('hex');
let cluster: Cluster | undefined;

/** `http://<service>.<namespace>.svc:<port>` of each Service of the store exposing `port`. */
const serviceUrl = (objects: readonly RenderedObject[], name: string, port: number) => {
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === name);
  assert.ok(
    service?.spec.ports.some((p: any) => p.port === port),
    `the chart renders Service ${name} on ${port}`,
  );
  return `http://${name}.lakehouse.svc:${port}`;
};

const mustSucceed = async (object: RenderedObject) => {
  const run = await runContainer(cluster!, object, 180_000);
  assert.is(
    run.exitCode,
    0,
    `${object.kind} ${object.metadata.name} (${run.argv.join(' ')}) failed:\n${run.output.slice(-4000)}`,
  );
  return run;
};

test('lake.catalog=rest with the embedded store: the rendered hook Jobs, helm test and a scheduled run go through the catalog, no claim anywhere', async () => {
  const lake = await freshCatalogLake('chart');
  const credential = lake.LAKEHOUSE_CATALOG_CREDENTIAL;
  if (!credential) throw new Error('the local SeaweedFS gives no OAuth2 credentials');
  const bucket = lake.LAKEHOUSE_CATALOG_WAREHOUSE.replace(/^s3:\/\//, '');
  const objects = parseRendered(
    helmTemplate(toolPath('helm'), [
      '-f',
      `${CHART_DIR}/ci/objectstore-values.yaml`,
      '--set',
      `objectStore.tableBucket=${bucket}`,
      '--set',
      `topic.name=chart-catalog-${suffix}`,
      '--set',
      `pipeline.consumerGroup=chart-catalog-${suffix}`,
      '--set',
      'schedule.pipeline=*/5 * * * *',
    ]),
  );
  assert.equal(
    objects.filter((o) => o.kind === 'PersistentVolumeClaim'),
    [],
    'no lake claim',
  );
  const { bootstrap } = await sharedBroker();
  cluster = brokerCluster(objects, bootstrap, {
    // The store's Secret with the local store's keys in place of the ones the chart generates.
    secrets: new Map([
      [
        'lakehouse-objectstore',
        {
          'access-key-id': lake.AWS_ACCESS_KEY_ID,
          'secret-access-key': lake.AWS_SECRET_ACCESS_KEY,
          credential,
        },
      ],
    ]),
    urls: new Map([
      [serviceUrl(objects, 'lakehouse-objectstore-catalog', 8181), lake.LAKEHOUSE_CATALOG_URI],
      [serviceUrl(objects, 'lakehouse-objectstore-s3', 8333), lake.LAKEHOUSE_S3_ENDPOINT],
    ]),
  });

  const hooks = hookJobsInOrder(objects);
  assert.is(hooks[0]!.metadata.name, 'lakehouse-objectstore-bootstrap');
  const jobs = hooks.slice(1);
  assert.equal(
    jobs.map((j) => j.metadata.name),
    ['topics', 'producer', 'bronze', 'silver', 'gold'].map((s) => `lakehouse-${s}`),
  );
  const verify = objects.find((o) => o.kind === 'Pod' && hookOf(o) === 'test')!;
  for (const job of jobs) await mustSucceed(job);
  const checked = await mustSucceed(verify);
  assert.match(checked.output, /"msg":"finished","ok":true/);

  // A scheduled run after more events reads only what is new, through the catalog too.
  await mustSucceed(jobs[1]!);
  const scheduled = objects.find((o) => o.kind === 'CronJob' && o.metadata.name.endsWith('-pipeline'))!;
  const runs = await runPod(cluster, scheduled, 180_000);
  assert.equal(
    runs.map((r) => r.exitCode),
    [0, 0, 0],
    runs.map((r) => r.output.slice(-2000)).join('\n'),
  );
  const bronze = JSON.parse(runs[0]!.output.split('\n').find((l) => l.includes('"msg":"finished"'))!);
  assert.is(bronze.result.recordsRead, 30, 'bronze read the 30 events produced after the hooks, and only those');
  await mustSucceed(verify);

  // The tables are in the table bucket's catalog.
  const catalog = await connectCatalog(lake);
  const namespaces = await catalog.request('GET', 'namespaces');
  assert.is(namespaces.status, 200, namespaces.text);
  for (const ns of ['bronze', 'silver', 'gold']) assert.match(namespaces.text, new RegExp(`\\["${ns}"\\]`));
});

test.after(() => {
  if (cluster) rmSync(cluster.root, { recursive: true, force: true });
});

test.run();
