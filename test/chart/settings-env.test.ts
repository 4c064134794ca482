// The chart gives every job exactly the settings the jobs read (jobs/contract.ts): the Node Jobs and
// the test Pod as container environment, the Spark stages as their driver's environment
// (spark.kubernetes.driverEnv.*, or spark.kubernetes.driver.secretKeyRef.* for a Secret's key), no
// setting missing, none unknown, and the same value (or the same Secret's key) for each setting
// whichever engine runs the stage.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contract } from '../../jobs/contract.ts';
import { jobRuntimeEnv } from '../../generator/job-pod.ts';
import { environmentFiles } from './environments.ts';
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from './rendered.ts';
import { CHART_DIR, helms, helmTemplate, withTools } from './tools.ts';

const settingNames = contract()
  .settings.map((s) => s.env)
  .sort();
/** Variables of the Node runtime and of Python (where the Spark pods find the stages' modules), not job settings. */
const RUNTIME = [...Object.keys(jobRuntimeEnv('')), 'PYTHONPATH'];
const DRIVER_ENV = 'spark.kubernetes.driverEnv.';
const DRIVER_SECRET = 'spark.kubernetes.driver.secretKeyRef.';
const STAGES = ['bronze', 'silver', 'gold'];

const podOf = (o: RenderedObject) => (o.kind === 'Pod' ? o.spec : o.spec.template.spec);
/** A Secret's key, as both engines' values are compared. */
const secretRef = (name: string, key: string) => `secretKeyRef ${name}:${key}`;
type EnvEntry = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
const nodeEnv = (o: RenderedObject): Map<string, string> =>
  new Map(
    (podOf(o).containers[0].env ?? []).map((e: EnvEntry) => [
      e.name,
      e.valueFrom?.secretKeyRef
        ? secretRef(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key)
        : (e.value ?? ''),
    ]),
  );
const driverEnv = (o: RenderedObject): Map<string, string> => {
  const args: string[] = podOf(o).containers[0].args ?? [];
  const confs = args.filter((_, i) => args[i - 1] === '--conf');
  const entries = (prefix: string) =>
    confs
      .filter((a) => a.startsWith(prefix))
      .map((a) => a.slice(prefix.length).split(/=(.*)/s).slice(0, 2) as [string, string]);
  return new Map([
    ...entries(DRIVER_ENV),
    ...entries(DRIVER_SECRET).map(([name, ref]): [string, string] => [
      name,
      secretRef(...(ref.split(':') as [string, string])),
    ]),
  ]);
};
const settingsOf = (env: Map<string, string>) => [...env.keys()].filter((n) => !RUNTIME.includes(n)).sort();

withTools(test, () => {
  for (const { name, bin } of helms()) {
    for (const file of [undefined, ...environmentFiles()]) {
      const render = (engine: string) =>
        parseRendered(
          helmTemplate(bin, [...(file ? ['-f', `${CHART_DIR}/${file}`] : []), '--set', `engine=${engine}`]),
        );

      test(`${name} ${file ?? 'defaults'}: Node Jobs and the test Pod get every contract setting and nothing else`, () => {
        // The lakehouse chart's own pods (not the object store's bootstrap Job).
        const objects = render('node').filter((o) => o.source.startsWith('lakehouse/templates/'));
        // The producer is a hook Job or, in mode continuous, a Deployment; the metrics exporter and the explorer are Deployments too.
        const pods = [
          ...hookJobsInOrder(objects),
          ...objects.filter((o) => hookOf(o) === 'test' || o.kind === 'Deployment'),
        ];
        const servers = objects.filter(
          (o) =>
            o.kind === 'Deployment' &&
            ['metrics', 'explorer'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''),
        );
        assert.is(pods.length, 6 + servers.length);
        for (const pod of pods) assert.equal(settingsOf(nodeEnv(pod)), settingNames, pod.metadata.name);
      });

      test(`${name} ${file ?? 'defaults'}: Spark stages give their driver every contract setting, nothing else, valued as for the Node stages`, () => {
        const stages = (objects: RenderedObject[]) =>
          hookJobsInOrder(objects).filter(
            (j) => j.source.startsWith('lakehouse/templates/') && STAGES.includes(j.metadata.name.split('-').at(-1)!),
          );
        const node = stages(render('node'));
        const spark = stages(render('spark'));
        assert.equal(
          spark.map((j) => j.metadata.name.split('-').at(-1)),
          ['bronze', 'silver', 'gold'],
        );
        for (const [i, job] of spark.entries()) {
          const env = driverEnv(job);
          assert.equal(settingsOf(env), settingNames, job.metadata.name);
          const nodeValues = nodeEnv(node[i]);
          for (const setting of settingNames)
            assert.is(env.get(setting), nodeValues.get(setting), `${job.metadata.name} ${setting}`);
        }
      });
    }

    test(`${name}: a value reaches its setting in both engines`, () => {
      const set = [
        '--set',
        'topic.name=other-topic',
        '--set',
        'jobs.clientId=me',
        '--set',
        'producer.startTime=2023-10-13T13:20:00Z',
        '--set',
        'pipeline.vehicleTypes={car,bike,scooter,truck}',
      ];
      for (const engine of ['node', 'spark']) {
        const bronze = hookJobsInOrder(parseRendered(helmTemplate(bin, [...set, '--set', `engine=${engine}`])))[2];
        const env = engine === 'node' ? nodeEnv(bronze) : driverEnv(bronze);
        assert.is(env.get('LAKEHOUSE_TOPIC'), 'other-topic', engine);
        assert.is(env.get('LAKEHOUSE_CLIENT_ID'), 'me', engine);
        assert.is(env.get('LAKEHOUSE_START_TIME'), '2023-10-13T13:20:00Z', engine);
        assert.is(env.get('LAKEHOUSE_VEHICLE_TYPES'), 'car,bike,scooter,truck', engine);
      }
    });
  }
});

test.run();
