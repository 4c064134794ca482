// The lake in an Iceberg REST catalog (lake.catalog: rest), rendered: with the embedded object store
// (the objectstore dependency) or an existing catalog. No pod of the lakehouse mounts a claim and
// none is rendered; the storage's keys and the catalog's credentials reach pods as secretKeyRef
// only; the jobs' addresses are the Services the store's chart renders; the Spark stages run from
// the mounted Spark files; the NetworkPolicies let exactly the release's pods in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statusPodOverrides } from '../../generator/status-pod.ts';
import { podSpecOf } from './container.ts';
import {
  hookJobsInOrder,
  hookOf,
  hookWeight,
  parseRendered,
  validateWithModel,
  type RenderedObject,
} from './rendered.ts';
import { CHART_DIR, helms, helmTemplate, toolPath, withTools } from './tools.ts';

const EMBEDDED = ['-f', `${CHART_DIR}/ci/objectstore-values.yaml`];
const EXISTING = ['-f', `${CHART_DIR}/ci/rest-catalog-values.yaml`];
/** Every kind of pod the chart makes: hooks, scheduled runs, the exporter, the test Pod. */
const EVERYTHING = [
  '--set',
  'schedule.pipeline=*/5 * * * *',
  '--set',
  'schedule.maintenance=17 3 * * *',
  '--set',
  'metrics.enabled=true',
];
const SECRET_SETTINGS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'LAKEHOUSE_CATALOG_CREDENTIAL'];

const isStore = (o: RenderedObject) => o.source.startsWith('lakehouse/charts/objectStore/');
const pods = (objects: readonly RenderedObject[]) =>
  objects.flatMap((o) => {
    const spec = ['Pod', 'Job', 'CronJob', 'Deployment', 'StatefulSet'].includes(o.kind) ? podSpecOf(o) : undefined;
    return spec ? [{ object: o, spec }] : [];
  });
const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];
const envOf = (container: any): Map<string, any> => new Map((container.env ?? []).map((e: any) => [e.name, e]));
const confsOf = (container: any): string[] => {
  const args: string[] = container.args ?? [];
  return args.filter((_, i) => args[i - 1] === '--conf');
};
const named = (objects: readonly RenderedObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found!;
};
const admits = (matchLabels: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

withTools(test, () => {
  const helm = toolPath('helm');
  const render = (...args: string[]) => parseRendered(helmTemplate(helm, args));

  for (const { name, bin } of helms()) {
    test(`${name}: with the defaults nothing of the object store is rendered and the lake is the volume`, () => {
      const objects = parseRendered(helmTemplate(bin));
      assert.equal(objects.filter(isStore).length, 0);
      assert.ok(objects.some((o) => o.kind === 'PersistentVolumeClaim'));
      for (const { object, spec } of pods(objects))
        for (const c of containersOf(spec)) {
          const env = envOf(c);
          if (env.has('LAKEHOUSE_CATALOG'))
            assert.is(env.get('LAKEHOUSE_CATALOG').value, 'volume', object.metadata.name);
        }
    });

    test(`${name}: with the embedded store every object validates, and the store's chart renders its StatefulSet, Services, Secret, bootstrap Job and policies`, () => {
      const objects = parseRendered(helmTemplate(bin, [...EMBEDDED, ...EVERYTHING]));
      for (const o of objects) validateWithModel(o);
      assert.equal(
        objects
          .filter(isStore)
          .map((o) => `${o.kind}/${o.metadata.name}`)
          .sort(),
        [
          'Job/lakehouse-objectstore-bootstrap',
          'NetworkPolicy/lakehouse-objectstore',
          'NetworkPolicy/lakehouse-objectstore-bootstrap',
          'Secret/lakehouse-objectstore',
          'Service/lakehouse-objectstore-catalog',
          'Service/lakehouse-objectstore-headless',
          'Service/lakehouse-objectstore-s3',
          'StatefulSet/lakehouse-objectstore',
        ],
      );
    });
  }

  for (const [backend, values] of [
    ['embedded', EMBEDDED],
    ['existing', EXISTING],
  ] as const) {
    for (const engine of ['node', 'spark']) {
      test(`${backend} catalog, engine ${engine}: no claim is rendered and no pod of the lakehouse mounts one (Jobs, CronJobs, exporter, test Pod, Spark driver and executors)`, () => {
        const objects = render(...values, ...EVERYTHING, '--set', `engine=${engine}`);
        assert.equal(
          objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name),
          [],
        );
        const lakehousePods = pods(objects).filter(
          ({ object }) => !isStore(object) && !object.metadata.name.endsWith('-kafka'),
        );
        assert.ok(lakehousePods.length >= 8, `${lakehousePods.length} pods`);
        for (const { object, spec } of lakehousePods) {
          const claims = (spec.volumes ?? []).filter((v: any) => v.persistentVolumeClaim);
          assert.equal(claims, [], `${object.kind} ${object.metadata.name} mounts a claim`);
          for (const c of containersOf(spec))
            assert.not.ok(
              confsOf(c).some((a) => /persistentVolumeClaim|file\.upload\.path/.test(a)),
              `${object.metadata.name}: a Spark pod would mount a claim`,
            );
        }
        for (const o of objects.filter((x) => x.kind === 'ConfigMap' && x.metadata.name.endsWith('-spark-pods')))
          for (const [file, template] of Object.entries(o.data ?? {}))
            assert.not.match(template, /persistentVolumeClaim/, `${file} mounts a claim`);
        // The store's own data volume is the one claim: its StatefulSet's (Kafka's nodes keep their logs on theirs).
        const claimed = objects.filter((o) => o.kind === 'StatefulSet' && o.spec.volumeClaimTemplates);
        assert.equal(
          claimed.map((o) => o.metadata.name).sort(),
          backend === 'embedded' ? ['lakehouse-kafka', 'lakehouse-objectstore'] : ['lakehouse-kafka'],
        );
      });
    }
  }

  test('the status pod NOTES.txt gives mounts no claim with a REST catalog, and the lake read-only on a volume', () => {
    for (const bundled of [true, false]) {
      assert.not.match(statusPodOverrides(bundled, 'rest'), /persistentVolumeClaim|"lake"/);
      assert.match(statusPodOverrides(bundled, 'rest'), /"name":"AWS_SECRET_ACCESS_KEY","valueFrom":\{"secretKeyRef"/);
      assert.match(statusPodOverrides(bundled, 'volume'), /"name":"lake","mountPath":"\/data","readOnly":true/);
    }
  });

  test('every pod running the jobs works in /tmp, an emptyDir bounded by lake.workDirSize, with a REST catalog', () => {
    const objects = render(...EMBEDDED, ...EVERYTHING, '--set', 'lake.workDirSize=3Gi');
    let checked = 0;
    for (const { object, spec } of pods(objects).filter(({ object }) => !isStore(object))) {
      for (const c of containersOf(spec).filter((c) => envOf(c).has('LAKEHOUSE_WORK_DIR'))) {
        checked++;
        assert.is(envOf(c).get('LAKEHOUSE_WORK_DIR').value, '/tmp', object.metadata.name);
        const mount = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        const volume = spec.volumes.find((v: any) => v.name === mount.name);
        assert.equal(volume.emptyDir, { sizeLimit: '3Gi' }, object.metadata.name);
      }
    }
    assert.ok(checked >= 9, `${checked} containers`);
    const onVolume = render(...EVERYTHING);
    for (const { spec } of pods(onVolume))
      for (const c of containersOf(spec).filter((c) => envOf(c).has('LAKEHOUSE_WORK_DIR')))
        assert.is(envOf(c).get('LAKEHOUSE_WORK_DIR').value, '', 'on a volume the work dir stays on the lake');
  });

  test('the storage keys and the catalog credentials reach every pod as secretKeyRef, never as a literal, in every rendering', () => {
    const renderings: [string, string[]][] = [
      ['volume', EVERYTHING],
      ['embedded', [...EMBEDDED, ...EVERYTHING]],
      ['embedded spark', [...EMBEDDED, ...EVERYTHING, '--set', 'engine=spark']],
      ['existing', [...EXISTING, ...EVERYTHING]],
      ['existing spark', [...EXISTING, ...EVERYTHING, '--set', 'engine=spark']],
    ];
    for (const [what, args] of renderings) {
      const objects = render(...args);
      const rest = what !== 'volume';
      let seen = 0;
      for (const { object, spec } of pods(objects).filter(({ object }) => !isStore(object))) {
        for (const c of containersOf(spec)) {
          const env = envOf(c);
          for (const setting of SECRET_SETTINGS.filter((s) => env.has(s))) {
            seen++;
            const e = env.get(setting);
            const where = `${what}: ${object.metadata.name} ${setting}`;
            // Both catalogs of these renderings take OAuth2 credentials.
            if (rest) {
              assert.ok(e.valueFrom?.secretKeyRef, `${where} is no secretKeyRef: ${JSON.stringify(e)}`);
              assert.is(e.value, undefined, where);
            } else assert.equal(e, { name: setting, value: '' }, where);
          }
          for (const conf of confsOf(c)) {
            const m = /^spark\.(?:kubernetes\.driverEnv|executorEnv)\.([A-Z_]+)=(.*)$/s.exec(conf);
            if (m && SECRET_SETTINGS.includes(m[1]!))
              assert.is(m[2], '', `${what}: ${object.metadata.name}: ${m[1]} passed to Spark as a literal`);
            const ref =
              /^spark\.kubernetes\.(?:driver|executor)\.secretKeyRef\.([A-Z_]+)=[-a-z0-9.]+:[-._a-zA-Z0-9]+$/.exec(
                conf,
              );
            if (ref && SECRET_SETTINGS.includes(ref[1]!)) seen++;
          }
        }
      }
      assert.ok(seen >= 3 * 6, `${what}: ${seen} secret settings seen`);
    }
  });

  test("the embedded store's generated keys appear in no object but their Secret", () => {
    const objects = render(...EMBEDDED, ...EVERYTHING, '--set', 'engine=spark');
    const secret = named(objects, 'Secret', 'lakehouse-objectstore');
    const decoded = Object.fromEntries(
      Object.entries(secret.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
    assert.match(decoded['access-key-id']!, /^[A-Z0-9]{20}$/);
    assert.match(decoded['secret-access-key']!, /^[A-Za-z0-9]{40}$/);
    assert.is(decoded.credential, `${decoded['access-key-id']}:${decoded['secret-access-key']}`);
    assert.equal(JSON.parse(decoded['s3.json']!).identities[0].credentials, [
      { accessKey: decoded['access-key-id'], secretKey: decoded['secret-access-key'] },
    ]);
    const others = JSON.stringify(objects.filter((o) => o !== secret));
    for (const key of ['access-key-id', 'secret-access-key'])
      for (const form of [decoded[key]!, secret.data![key]!])
        assert.not.ok(others.includes(form), `${key} appears outside its Secret`);
  });

  test('embedded: the jobs reach the Services and the Secret keys the store chart renders; the warehouse is its table bucket', () => {
    const objects = render(...EMBEDDED, '--set', 'objectStore.tableBucket=tables');
    const store = named(objects, 'StatefulSet', 'lakehouse-objectstore');
    const podLabels = store.spec.template.metadata.labels;
    const ports = new Map<string, number>(
      store.spec.template.spec.containers[0].ports.map((p: any) => [p.name, p.containerPort]),
    );
    const serves = (url: string) => {
      const { hostname, port } = new URL(url);
      const [service, namespace] = hostname.split('.');
      assert.is(namespace, 'lakehouse', url);
      const svc = named(objects, 'Service', service!);
      assert.ok(admits(svc.spec.selector, podLabels), `${service} selects the store's pod`);
      const servicePort = svc.spec.ports.find((p: any) => p.port === Number(port));
      assert.ok(
        servicePort && ports.get(servicePort.targetPort) === Number(port),
        `${url} reaches a port the store listens on`,
      );
    };
    const secret = named(objects, 'Secret', 'lakehouse-objectstore');
    for (const job of hookJobsInOrder(objects).filter((j) => !isStore(j))) {
      const env = envOf(job.spec.template.spec.containers[0]);
      serves(env.get('LAKEHOUSE_CATALOG_URI').value);
      serves(env.get('LAKEHOUSE_S3_ENDPOINT').value);
      assert.is(env.get('LAKEHOUSE_CATALOG_WAREHOUSE').value, 's3://tables');
      for (const setting of SECRET_SETTINGS) {
        const ref = env.get(setting).valueFrom.secretKeyRef;
        assert.is(ref.name, secret.metadata.name, setting);
        assert.ok(ref.key in secret.data!, `${setting}: the Secret has the key ${ref.key}`);
      }
    }
    const bootstrap = named(objects, 'Job', 'lakehouse-objectstore-bootstrap');
    assert.is(envOf(bootstrap.spec.template.spec.containers[0]).get('BUCKET').value, 'tables');
  });

  test('existing: the settings are lake.rest, the keys the Secrets and keys named; no credential without credentialSecret', () => {
    const objects = render(...EXISTING);
    assert.equal(objects.filter(isStore), []);
    const env = envOf(hookJobsInOrder(objects)[2]!.spec.template.spec.containers[0]);
    const literal = (name: string) => env.get(name).value;
    assert.equal(
      [
        'LAKEHOUSE_CATALOG',
        'LAKEHOUSE_CATALOG_URI',
        'LAKEHOUSE_CATALOG_WAREHOUSE',
        'LAKEHOUSE_S3_ENDPOINT',
        'AWS_REGION',
      ].map(literal),
      ['rest', 'https://catalog.example.com', 's3://lakehouse-tables', 'https://s3.example.com:9000', 'eu-west-1'],
    );
    assert.equal(env.get('AWS_ACCESS_KEY_ID').valueFrom.secretKeyRef, {
      name: 'lake-storage',
      key: 'AWS_ACCESS_KEY_ID',
    });
    assert.equal(env.get('AWS_SECRET_ACCESS_KEY').valueFrom.secretKeyRef, {
      name: 'lake-storage',
      key: 'AWS_SECRET_ACCESS_KEY',
    });
    assert.equal(env.get('LAKEHOUSE_CATALOG_CREDENTIAL').valueFrom.secretKeyRef, {
      name: 'lake-catalog',
      key: 'credential',
    });
    const without = envOf(
      hookJobsInOrder(render(...EXISTING, '--set', 'lake.rest.credentialSecret='))[2]!.spec.template.spec.containers[0],
    );
    assert.equal(without.get('LAKEHOUSE_CATALOG_CREDENTIAL'), { name: 'LAKEHOUSE_CATALOG_CREDENTIAL', value: '' });
  });

  test('hooks: the bootstrap Job creating the table bucket runs first (weight 5), then topics -> producer -> bronze -> silver -> gold', () => {
    const jobs = hookJobsInOrder(render(...EMBEDDED));
    assert.equal(
      jobs.map((j) => [hookWeight(j), j.metadata.name]),
      [
        [5, 'lakehouse-objectstore-bootstrap'],
        [10, 'lakehouse-topics'],
        [20, 'lakehouse-producer'],
        [30, 'lakehouse-bronze'],
        [40, 'lakehouse-silver'],
        [50, 'lakehouse-gold'],
      ],
    );
    const bootstrap = jobs[0]!;
    assert.is(hookOf(bootstrap), 'post-install,post-upgrade');
    assert.is(bootstrap.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation');
    assert.match(
      bootstrap.spec.template.spec.containers[0].command.join(' '),
      /s3tables\.bucket -get .*s3tables\.bucket -create/s,
    );
  });

  test("NetworkPolicies: the store admits the release's pods (jobs, Spark driver and executors, test Pod) to S3 and the catalog, nothing else; the bootstrap Job alone to the shell ports", () => {
    const objects = render(...EMBEDDED, ...EVERYTHING, '--set', 'engine=spark');
    const policy = named(objects, 'NetworkPolicy', 'lakehouse-objectstore');
    const [clients, shell] = policy.spec.ingress;
    assert.equal(
      clients.ports.map((p: any) => p.port),
      [8333, 8181],
    );
    assert.equal(
      shell.ports.map((p: any) => p.port),
      [9333, 19333, 18888],
    );
    for (const { object } of pods(objects).filter(({ object }) => !isStore(object)))
      assert.ok(
        admits(
          clients.from[0].podSelector.matchLabels,
          object.spec.template?.metadata?.labels ??
            object.spec.jobTemplate?.spec.template.metadata.labels ??
            object.metadata.labels,
        ),
        `${object.metadata.name} is admitted`,
      );
    const submit = hookJobsInOrder(objects).find((j) => j.metadata.name === 'lakehouse-bronze')!;
    const sparkLabels = Object.fromEntries(
      confsOf(submit.spec.template.spec.containers[0])
        .filter((a) => a.startsWith('spark.kubernetes.driver.label.'))
        .map((a) => a.slice('spark.kubernetes.driver.label.'.length).split('=') as [string, string]),
    );
    assert.ok(admits(clients.from[0].podSelector.matchLabels, sparkLabels), 'the Spark driver is admitted');
    assert.not.ok(
      admits(clients.from[0].podSelector.matchLabels, { 'app.kubernetes.io/instance': 'another-release' }),
      "another release's pod is not admitted",
    );
    const bootstrap = named(objects, 'Job', 'lakehouse-objectstore-bootstrap').spec.template.metadata.labels;
    assert.ok(admits(shell.from[0].podSelector.matchLabels, bootstrap));
    const jobPod = named(objects, 'Job', 'lakehouse-bronze').spec.template.metadata.labels;
    assert.not.ok(
      admits(shell.from[0].podSelector.matchLabels, jobPod),
      "the jobs do not reach the store's shell ports",
    );
  });

  test("with networkPolicy.egress the jobs' and the exporter's policies open the store: its pods' S3 and catalog ports, or an existing one's ports", () => {
    const egressOf = (objects: RenderedObject[], policy: string) => named(objects, 'NetworkPolicy', policy).spec.egress;
    const embedded = render(...EMBEDDED, ...EVERYTHING, '--set', 'networkPolicy.egress=true');
    const store = named(embedded, 'StatefulSet', 'lakehouse-objectstore').spec.template.metadata.labels;
    for (const policy of ['lakehouse-jobs', 'lakehouse-metrics']) {
      const rule = egressOf(embedded, policy).find((r: any) => r.ports.some((p: any) => p.port === 8333));
      assert.ok(rule, `${policy} opens S3`);
      assert.equal(
        rule.ports.map((p: any) => p.port),
        [8333, 8181],
      );
      assert.ok(admits(rule.to[0].podSelector.matchLabels, store), `${policy}: to the store's pod`);
    }
    const existing = render(...EXISTING, ...EVERYTHING);
    for (const policy of ['lakehouse-jobs', 'lakehouse-metrics'])
      assert.equal(egressOf(existing, policy).at(-1), {
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 9000, protocol: 'TCP' },
        ],
      });
    const aws = render(
      ...EXISTING,
      '--set',
      'lake.rest.s3Endpoint=',
      '--set',
      'lake.rest.uri=http://catalog.example.com:8181',
    );
    assert.equal(egressOf(aws, 'lakehouse-jobs').at(-1), {
      ports: [
        { port: 8181, protocol: 'TCP' },
        { port: 443, protocol: 'TCP' },
      ],
    });
    const volume = render('--set', 'networkPolicy.egress=true');
    assert.is(egressOf(volume, 'lakehouse-jobs').length, 2, 'on a volume: DNS and Kafka only');
  });

  test("Spark with a REST catalog: the stage runs as a local:// file the driver and executors mount; both get the catalog's settings (keys as secretKeyRef) and the modules' path; --packages adds the AWS bundle", () => {
    const objects = render(...EMBEDDED, '--set', 'engine=spark');
    const submit = hookJobsInOrder(objects).find((j) => j.metadata.name === 'lakehouse-silver')!;
    const container = submit.spec.template.spec.containers[0];
    const args: string[] = container.args;
    assert.is(args.at(-1), 'local:///opt/lakehouse/spark/silver.py');
    assert.not.ok(args.includes('--py-files') || args.includes('--files'), 'nothing is uploaded');
    const confs = confsOf(container);
    for (const role of ['driver', 'executor'])
      assert.ok(
        confs.includes(`spark.kubernetes.${role}.podTemplateFile=/opt/lakehouse/spark-pods/${role}-pod-template.yaml`),
      );
    for (const [prefix, env] of [
      ['spark.kubernetes.driver', 'spark.kubernetes.driverEnv'],
      ['spark.kubernetes.executor', 'spark.executorEnv'],
    ]) {
      assert.ok(
        confs.includes(`${prefix}.secretKeyRef.AWS_SECRET_ACCESS_KEY=lakehouse-objectstore:secret-access-key`),
        prefix,
      );
      assert.ok(confs.includes(`${env}.LAKEHOUSE_CATALOG=rest`), env);
      assert.ok(confs.includes(`${env}.PYTHONPATH=/opt/lakehouse/spark`), env);
    }
    assert.match(args[args.indexOf('--packages') + 1]!, /org\.apache\.iceberg:iceberg-aws-bundle:1\.12\.0$/);
    const onVolume = hookJobsInOrder(render('--set', 'engine=spark')).find(
      (j) => j.metadata.name === 'lakehouse-silver',
    )!;
    assert.not.match(onVolume.spec.template.spec.containers[0].args.join(' '), /aws-bundle|PYTHONPATH|local:\/\//);
    // The templates the submitting pod hands spark-submit mount the Spark files ConfigMap the chart renders.
    const templates = named(objects, 'ConfigMap', 'lakehouse-spark-pods');
    const mounted = submit.spec.template.spec.volumes.find((v: any) => v.name === 'spark-pod-templates');
    assert.is(mounted.configMap.name, templates.metadata.name);
    const files = named(objects, 'ConfigMap', 'lakehouse-spark-jobs');
    for (const role of ['driver', 'executor']) {
      const pod = parseRendered(templates.data![`${role}-pod-template.yaml`]!)[0]!;
      validateWithModel({ ...pod, source: `${role}-pod-template.yaml` });
      const volume = pod.spec.volumes.find((v: any) => v.configMap);
      assert.is(volume.configMap.name, files.metadata.name, role);
      assert.ok(
        pod.spec.containers[0].volumeMounts.some(
          (m: any) => m.name === volume.name && m.mountPath === '/opt/lakehouse/spark',
        ),
      );
      assert.ok(`silver.py` in files.data! && 'lakehouse_contract.json' in files.data!);
    }
  });
});

test.run();
