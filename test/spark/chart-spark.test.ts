// engine=spark in the chart: the bronze, silver and gold hooks become spark-submit Jobs in
// Kubernetes cluster mode on the official apache/spark image, with a Role no wider than what
// spark-submit and the driver do. Every rendered object passes its kubernetes-models class.
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hookJobsInOrder, hookOf, parseRendered, validateWithModel, type RenderedObject } from '../chart/rendered.ts';
import { CHART_DIR, helms, run, withTools } from '../chart/tools.ts';
import { icebergVersions, repoRoot, sparkVersions } from './spark-install.ts';

function render(bin: string, args: readonly string[]): RenderedObject[] {
  const result = run(bin, ['template', 'lakehouse', CHART_DIR, '--namespace', 'lakehouse', ...args]);
  if (result.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${result.stderr}`);
  return parseRendered(result.stdout);
}

const container = (job: RenderedObject) => job.spec.template.spec.containers[0];
const confOf = (job: RenderedObject): Map<string, string> => {
  const args: string[] = container(job).args ?? [];
  const entries = args.flatMap((a, i) =>
    args[i - 1] === '--conf' ? [a.split(/=(.*)/s).slice(0, 2) as [string, string]] : [],
  );
  return new Map(entries);
};
const argAfter = (job: RenderedObject, flag: string) => {
  const args: string[] = container(job).args;
  return args[args.indexOf(flag) + 1];
};

withTools(test, () => {
  for (const { name, bin } of helms()) {
    test(`${name}: helm template --set engine=spark renders objects that pass kubernetes-models`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      for (const object of objects) validateWithModel(object);
      const kinds = objects.map((o) => o.kind);
      for (const kind of ['ServiceAccount', 'Role', 'RoleBinding'])
        assert.is(kinds.filter((k) => k === kind).length, 1, kind);
      assert.not.ok(
        kinds.some((k) => k.startsWith('Cluster')),
        'nothing cluster-wide',
      );
    });

    test(`${name}: with engine=spark the stages are spark-submit Jobs in cluster mode; topics, producer and test stay`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      const jobs = hookJobsInOrder(objects);
      assert.equal(
        jobs.map((j) => j.metadata.name),
        ['lakehouse-topics', 'lakehouse-producer', 'lakehouse-bronze', 'lakehouse-silver', 'lakehouse-gold'],
      );
      assert.equal(
        jobs.slice(0, 2).map((j) => container(j).command.at(-1)),
        ['topics', 'produce'],
      );
      const { spark } = sparkVersions();
      for (const [i, stage] of ['bronze', 'silver', 'gold'].entries()) {
        const job = jobs[i + 2];
        assert.is(hookOf(job), 'post-install,post-upgrade');
        assert.is(job.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation');
        assert.is(container(job).image, `apache/spark:${spark}`);
        assert.is(argAfter(job, '--master'), 'k8s://https://kubernetes.default.svc');
        assert.is(argAfter(job, '--deploy-mode'), 'cluster');
        const { iceberg } = icebergVersions();
        assert.is(
          argAfter(job, '--packages'),
          `org.apache.spark:spark-sql-kafka-0-10_2.13:${spark},org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:${iceberg}`,
        );
        assert.ok(
          (container(job).args as string[]).includes(`/opt/lakehouse/spark/${stage}.py`),
          `${stage}.py is the application`,
        );
        // The modules the stage imports and the contract they read reach the driver.
        const pyFiles = argAfter(job, '--py-files').split(',');
        const modules = readdirSync(path.join(repoRoot, 'jobs/spark')).filter((n) => /^lakehouse_.*\.py$/.test(n));
        assert.equal(pyFiles.map((f) => path.basename(f)).sort(), modules.sort());
        assert.is(argAfter(job, '--files'), '/opt/lakehouse/spark/lakehouse_contract.json');
        const conf = confOf(job);
        // The stage's settings reach the driver as its environment (test/chart/settings-env.test.ts checks all of them).
        assert.is(conf.get('spark.kubernetes.driverEnv.LAKEHOUSE_DATA_DIR'), '/data');
        assert.is(conf.get('spark.kubernetes.driverEnv.LAKEHOUSE_TOPIC'), 'vehicles-events');
        assert.is(conf.get('spark.kubernetes.container.image'), `apache/spark:${spark}`);
        assert.is(conf.get('spark.kubernetes.authenticate.driver.serviceAccountName'), 'lakehouse-spark');
        assert.is(conf.get('spark.kubernetes.submission.waitAppCompletion'), 'true');
        assert.is(conf.get('spark.kubernetes.namespace'), 'lakehouse');
        // Driver and executors carry the labels the Kafka NetworkPolicy admits, and mount the lake.
        for (const role of ['driver', 'executor']) {
          assert.is(conf.get(`spark.kubernetes.${role}.label.app.kubernetes.io/instance`), 'lakehouse');
          assert.is(
            conf.get(`spark.kubernetes.${role}.volumes.persistentVolumeClaim.lake.options.claimName`),
            'lakehouse-lake',
          );
        }
        assert.is(job.spec.template.spec.serviceAccountName, 'lakehouse-spark');
        assert.is(
          container(job).command.at(-1),
          '/opt/lakehouse/spark/submit-k8s.sh',
          'the wrapper that fails when the driver fails',
        );
      }
      assert.equal(
        objects.filter((o) => hookOf(o) === 'test').map((t) => t.spec.containers[0].command.at(-1)),
        ['verify'],
      );
      for (const job of jobs.slice(0, 2))
        assert.is(job.spec.template.spec.serviceAccountName, undefined, 'node jobs keep no API access');
    });

    test(`${name}: executor count and resources come from values`, () => {
      const objects = render(bin, [
        '--set',
        'engine=spark',
        '--set',
        'spark.executor.instances=5',
        '--set',
        'spark.executor.memory=3g',
        '--set',
        'spark.driver.cores=2',
      ]);
      const bronze = hookJobsInOrder(objects)[2];
      const conf = confOf(bronze);
      assert.is(conf.get('spark.executor.instances'), '5');
      assert.is(conf.get('spark.executor.memory'), '3g');
      assert.is(conf.get('spark.driver.cores'), '2');
    });

    test(`${name}: driver and executor pods come from templates that meet the restricted Pod Security Standard`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'lakehouse-spark-jobs')!;
      const bronze = hookJobsInOrder(objects)[2];
      const mount = container(bronze).volumeMounts.find((m: any) => m.name === 'spark-files').mountPath;
      for (const role of ['driver', 'executor']) {
        const file = confOf(bronze).get(`spark.kubernetes.${role}.podTemplateFile`);
        assert.is(path.dirname(file!), mount, `${role} template in the mounted Spark files`);
        const pod = parse(configMap.data![path.basename(file!)]);
        validateWithModel({ ...pod, metadata: { name: role } });
        const spec = pod.spec;
        assert.is(spec.securityContext.runAsNonRoot, true, `${role} runAsNonRoot`);
        assert.ok(spec.securityContext.runAsUser > 0, `${role} runs as a non-zero uid`);
        assert.is(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
        assert.is(spec.automountServiceAccountToken, role === 'driver', 'only the driver calls the API');
        assert.is(spec.containers.length, 1);
        const sc = spec.containers[0].securityContext;
        assert.is(sc.allowPrivilegeEscalation, false);
        assert.equal(sc.capabilities, { drop: ['ALL'] });
        assert.is(sc.readOnlyRootFilesystem, true);
        // A read-only root leaves the JVM and Python /tmp and the work directory, both emptyDirs.
        const mounts = spec.containers[0].volumeMounts.map((m: any) => m.mountPath).sort();
        assert.equal(mounts, ['/opt/spark/work-dir', '/tmp']);
        assert.ok(
          spec.volumes.every((v: any) => v.emptyDir),
          'only emptyDirs: no hostPath',
        );
      }
    });

    test(`${name}: with both package values empty (an image holding the jars) nothing is resolved from Maven; CPU requests only where set`, () => {
      const plain = hookJobsInOrder(render(bin, ['--set', 'engine=spark']))[2];
      assert.not.ok(confOf(plain).has('spark.kubernetes.driver.request.cores'), 'Spark requests the cores by default');
      assert.not.ok(confOf(plain).has('spark.kubernetes.executor.request.cores'));
      const local = hookJobsInOrder(
        render(bin, [
          '--set',
          'engine=spark',
          '--set',
          'spark.kafkaPackage=',
          '--set',
          'spark.icebergPackage=',
          '--set',
          'spark.driver.requestCores=250m',
          '--set',
          'spark.executor.requestCores=0.5',
        ]),
      )[2];
      assert.not.ok((container(local).args as string[]).includes('--packages'), 'no --packages');
      assert.is(confOf(local).get('spark.kubernetes.driver.request.cores'), '250m');
      assert.is(confOf(local).get('spark.kubernetes.executor.request.cores'), '0.5');
      const icebergOnly = hookJobsInOrder(render(bin, ['--set', 'engine=spark', '--set', 'spark.kafkaPackage=']))[2];
      assert.is(
        argAfter(icebergOnly, '--packages'),
        `org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:${icebergVersions().iceberg}`,
      );
      const bad = run(bin, [
        'template',
        'lakehouse',
        CHART_DIR,
        '--set',
        'engine=spark',
        '--set',
        'spark.executor.requestCores=lots',
      ]);
      assert.is.not(bad.status, 0);
      assert.match(bad.stderr, /requestCores/);
    });

    test(`${name}: the Role allows only pods, services, configmaps and claims in the namespace, and binds only the Spark account`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      const role = objects.find((o) => o.kind === 'Role') as any;
      const allowed: Record<string, string[]> = {
        pods: ['create', 'delete', 'deletecollection', 'get', 'list', 'watch'],
        services: ['create', 'delete', 'deletecollection', 'get', 'patch'],
        configmaps: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch'],
        persistentvolumeclaims: ['get', 'list'],
      };
      const granted: Record<string, string[]> = {};
      for (const rule of role.rules) {
        assert.equal(rule.apiGroups, [''], 'core API group only');
        for (const resource of rule.resources) granted[resource] = [...(granted[resource] ?? []), ...rule.verbs].sort();
      }
      assert.equal(granted, allowed);
      const binding = objects.find((o) => o.kind === 'RoleBinding') as any;
      assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lakehouse-spark' });
      assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: 'lakehouse-spark', namespace: 'lakehouse' }]);
    });

    test(`${name}: the Spark ConfigMap carries jobs/spark as it is in the repository, the contract JSON included`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'lakehouse-spark-jobs');
      assert.ok(configMap, 'lakehouse-spark-jobs');
      const dir = path.join(repoRoot, 'jobs/spark');
      const expected = readdirSync(dir)
        .filter((n) => n.endsWith('.py') || n === 'submit-k8s.sh' || n === 'lakehouse_contract.json')
        .sort();
      const templates = ['driver-pod-template.yaml', 'executor-pod-template.yaml'];
      assert.equal(Object.keys(configMap!.data ?? {}).sort(), [...expected, ...templates].sort());
      for (const file of expected) assert.is(configMap!.data![file], readFileSync(path.join(dir, file), 'utf8'), file);
    });

    test(`${name}: the default engine renders no Spark object, and an unknown engine is rejected naming the field`, () => {
      const objects = render(bin, []);
      assert.not.ok(
        objects.some((o) => o.metadata.name.includes('spark')),
        'no Spark objects by default',
      );
      assert.ok(hookJobsInOrder(objects).every((j) => !String(container(j).image).startsWith('apache/spark')));
      const bad = run(bin, ['template', 'lakehouse', CHART_DIR, '--set', 'engine=flink']);
      assert.is.not(bad.status, 0);
      assert.match(bad.stderr, /engine/);
    });
  }
});

test.run();
