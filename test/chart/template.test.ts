import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STOP_FLUSH_SECONDS } from '../../jobs/produce-stream.ts';
import { environmentFiles } from './environments.ts';
import {
  hookJobsInOrder,
  hookOf,
  hookWeight,
  parseRendered,
  validateWithModel,
  type RenderedObject,
} from './rendered.ts';
import { CHART_DIR, helms, helmTemplate, withTools } from './tools.ts';

/** An environment without the Kafka user's name and password file, which are each pod's own. */
const withoutKafkaUser = (env: { name: string }[]) =>
  env.filter((e) => !['LAKEHOUSE_KAFKA_USER', 'LAKEHOUSE_KAFKA_PASSWORD_FILE'].includes(e.name));

const render = (bin: string, valuesFile?: string, args: string[] = []): RenderedObject[] =>
  parseRendered(helmTemplate(bin, [...(valuesFile ? ['-f', `${CHART_DIR}/${valuesFile}`] : []), ...args]));

test('the chart ships the documented environments and ct value files', () => {
  const files = environmentFiles();
  for (const f of ['values-dev.yaml', 'values-staging.yaml', 'values-prod.yaml']) assert.ok(files.includes(f), f);
  assert.ok(
    files.some((f) => f.startsWith('ci/')),
    'chart/ci/*-values.yaml',
  );
});

withTools(test, () => {
  for (const { name, bin } of helms()) {
    for (const file of [undefined, ...environmentFiles()]) {
      test(`${name}: helm template with ${file ?? 'the defaults'} renders objects that pass kubernetes-models`, () => {
        const objects = render(bin, file);
        assert.ok(objects.length >= 7, `only ${objects.length} objects`);
        // The lakehouse chart's templates, and with objectStore.enabled its dependency's (by its alias).
        assert.equal(
          objects
            .filter((o) => !/^lakehouse\/(charts\/objectStore\/)?templates\//.test(o.source))
            .map((o) => `${o.kind} ${o.source}`),
          [],
        );
        for (const object of objects) validateWithModel(object);
      });
    }

    test(`${name}: the hooks are topics -> producer -> bronze -> silver -> gold Jobs, then a test Pod`, () => {
      const objects = render(bin);
      const jobs = hookJobsInOrder(objects);
      assert.equal(
        jobs.map((j) => j.spec.template.spec.containers[0].command.at(-1)),
        ['topics', 'produce', 'bronze', 'silver', 'gold'],
      );
      const weights = jobs.map(hookWeight);
      assert.equal([...new Set(weights)].length, weights.length, `weights must be distinct: ${weights}`);
      assert.equal(
        [...weights].sort((a, b) => a - b),
        weights,
        'weights ascend in pipeline order',
      );
      for (const job of jobs) {
        assert.is(hookOf(job), 'post-install,post-upgrade', job.metadata.name);
        assert.is(job.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation', job.metadata.name);
        assert.is(job.spec.ttlSecondsAfterFinished, undefined, `${job.metadata.name} must not set a ttl`);
        assert.is(job.spec.backoffLimit, 2);
        assert.is(job.spec.activeDeadlineSeconds, 900);
      }
      const tests = objects.filter((o) => hookOf(o) === 'test');
      assert.equal(
        tests.map((t) => [t.kind, t.spec.containers[0].command.at(-1)]),
        [['Pod', 'verify']],
      );
      const regular = objects
        .filter((o) => !hookOf(o))
        .map((o) => o.kind)
        .sort();
      assert.equal(regular, [
        'ConfigMap',
        'NetworkPolicy',
        'NetworkPolicy',
        'PersistentVolumeClaim',
        'PodDisruptionBudget',
        // the cluster id, the nodes' certificate, the clients' CA, three users' passwords
        'Secret',
        'Secret',
        'Secret',
        'Secret',
        'Secret',
        'Secret',
        'Service',
        'Service',
        'StatefulSet',
      ]);
      for (const o of objects)
        assert.is(o.metadata.namespace, 'lakehouse', `${o.kind} ${o.metadata.name} names the release's namespace`);
    });

    test(`${name}: Kafka pods prefer separate nodes by default, require them in prod, spread over zones, and kafka.affinity replaces both`, () => {
      const kafkaPod = (objects: ReturnType<typeof render>) =>
        objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec;
      const term = (pod: any) => pod.affinity.podAntiAffinity;
      const defaults = kafkaPod(render(bin));
      assert.is(
        term(defaults).preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey,
        'kubernetes.io/hostname',
      );
      assert.is(
        term(defaults).preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels[
          'app.kubernetes.io/component'
        ],
        'kafka',
      );
      assert.is(defaults.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
      assert.is(defaults.topologySpreadConstraints[0].whenUnsatisfiable, 'ScheduleAnyway');
      const prod = kafkaPod(render(bin, 'values-prod.yaml'));
      assert.is(term(prod).requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey, 'kubernetes.io/hostname');
      assert.is(term(prod).preferredDuringSchedulingIgnoredDuringExecution, undefined);
      const own = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['kafka'] }] }],
          },
        },
      };
      const replaced = kafkaPod(render(bin, undefined, ['--set-json', `kafka.affinity=${JSON.stringify(own)}`]));
      assert.equal(replaced.affinity, own);
      const none = kafkaPod(
        render(bin, undefined, ['--set', 'kafka.podAntiAffinity=none', '--set', 'kafka.zoneSpread=false']),
      );
      assert.equal(none.affinity, {});
      assert.is(none.topologySpreadConstraints, undefined);
    });

    test(`${name}: every pod meets the restricted Pod Security Standard and has resources`, () => {
      for (const file of [undefined, ...environmentFiles()]) {
        for (const o of render(bin, file)) {
          const pod = o.kind === 'Pod' ? o.spec : (o.spec?.jobTemplate?.spec ?? o.spec)?.template?.spec;
          if (!pod) continue;
          const where = `${file ?? 'defaults'}: ${o.kind} ${o.metadata.name}`;
          assert.is(pod.automountServiceAccountToken, false, where);
          assert.is(pod.securityContext.runAsNonRoot, true, where);
          assert.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault', where);
          for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
            assert.is(c.securityContext.allowPrivilegeEscalation, false, where);
            assert.is(c.securityContext.readOnlyRootFilesystem, true, where);
            assert.equal(c.securityContext.capabilities.drop, ['ALL'], where);
            assert.ok(c.resources?.requests?.cpu && c.resources?.limits?.memory, `${where}: resources`);
          }
        }
      }
    });

    test(`${name}: defaults follow the system being replaced`, () => {
      const objects = render(bin);
      const job = hookJobsInOrder(objects)[0]!;
      assert.equal(job.spec.template.spec.containers[0].resources, {
        requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '128Mi' },
        limits: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' },
      });
      const pvc = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
      assert.is(pvc.spec.resources.requests.storage, '10Gi');
      assert.is(pvc.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      const env = Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      assert.is(env.LAKEHOUSE_TOPIC, 'vehicles-events');
      assert.is(env.LAKEHOUSE_EVENTS, '30');
      assert.is(env.LAKEHOUSE_DATA_DIR, '/data');
      assert.is(env.KAFKA_BOOTSTRAP_SERVER, 'lakehouse-kafka.lakehouse.svc:9092');
    });

    test(`${name}: values-prod.yaml renders a 3-node KRaft quorum with replication 3`, () => {
      const objects = render(bin, 'values-prod.yaml');
      const kafka = objects.find((o) => o.kind === 'StatefulSet')!;
      assert.is(kafka.spec.replicas, 3);
      const env = Object.fromEntries(kafka.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      assert.is(
        env.KAFKA_CONTROLLER_QUORUM_VOTERS,
        [0, 1, 2].map((i) => `${i}@lakehouse-kafka-${i}.lakehouse-kafka-headless.lakehouse.svc:9093`).join(','),
      );
      assert.is(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, '3');
      const topics = hookJobsInOrder(objects)[0]!;
      const jobEnv = Object.fromEntries(topics.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      assert.is(jobEnv.LAKEHOUSE_REPLICATION_FACTOR, '3');
      assert.is(jobEnv.LAKEHOUSE_PARTITIONS, '12');
    });

    test(`${name}: kafka.enabled=false uses the given Kafka and deploys none`, () => {
      const objects = render(bin, 'ci/external-kafka-values.yaml');
      assert.not.ok(objects.some((o) => ['StatefulSet', 'Service', 'PodDisruptionBudget', 'Secret'].includes(o.kind)));
      assert.equal(
        objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name),
        ['lakehouse-jobs'],
        "only the jobs' policy",
      );
      const env = hookJobsInOrder(objects)[0]!.spec.template.spec.containers[0].env;
      assert.is(
        env.find((e: any) => e.name === 'KAFKA_BOOTSTRAP_SERVER').value,
        'kafka-0.kafka.streaming.svc:9093,kafka-1.kafka.streaming.svc:9093',
      );
    });

    test(`${name}: producer.mode=continuous renders a producer Deployment in place of the producer hook Job`, () => {
      const objects = render(bin, 'ci/continuous-producer-values.yaml');
      assert.equal(
        hookJobsInOrder(objects).map((j) => j.spec.template.spec.containers[0].command.at(-1)),
        ['topics', 'bronze', 'silver', 'gold'],
      );
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      assert.equal(
        deployments.map((d) => d.metadata.name),
        ['lakehouse-producer'],
      );
      const [producer] = deployments;
      validateWithModel(producer);
      assert.is(hookOf(producer), undefined, 'a regular object, not a hook');
      assert.is(producer.spec.replicas, 1);
      assert.equal(producer.spec.strategy, { type: 'Recreate' });
      const pod = producer.spec.template.spec;
      assert.is(pod.restartPolicy, 'Always');
      assert.ok(pod.terminationGracePeriodSeconds > STOP_FLUSH_SECONDS, `grace ${pod.terminationGracePeriodSeconds}s`);
      const [container] = pod.containers;
      assert.equal(container.command, ['node', '/opt/lakehouse/lakehouse.mjs', 'produce']);
      const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
      assert.is(env.LAKEHOUSE_PRODUCER_MODE, 'continuous');
      assert.is(env.LAKEHOUSE_EVENTS_PER_SECOND, '200');
      const jobEnv = hookJobsInOrder(objects)[0]!.spec.template.spec.containers[0].env;
      assert.is(env.LAKEHOUSE_KAFKA_USER, 'lakehouse-producer', 'signs in as the producer user');
      const withoutReadyFile = (e: { name: string }[]) => e.filter((v) => v.name !== 'LAKEHOUSE_READY_FILE');
      assert.equal(
        withoutReadyFile(withoutKafkaUser(container.env)),
        withoutReadyFile(withoutKafkaUser(jobEnv)),
        'the same environment as the Jobs but for its Kafka user and its readiness file',
      );
      // Ready once Kafka acknowledged its first events: the file the producer then creates, on its own /tmp.
      assert.is(env.LAKEHOUSE_READY_FILE, '/tmp/producer-ready');
      assert.equal(container.readinessProbe, {
        exec: { command: ['test', '-f', '/tmp/producer-ready'] },
        periodSeconds: 5,
        failureThreshold: 1,
      });
      assert.ok(
        container.volumeMounts.some((m: any) => m.mountPath === '/tmp') &&
          container.securityContext.readOnlyRootFilesystem,
        'a writable /tmp under a read-only root',
      );
      assert.equal(container.resources, {
        requests: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
        limits: { cpu: '1', memory: '256Mi', 'ephemeral-storage': '256Mi' },
      });
      assert.not.ok(
        pod.volumes.some((v: any) => v.persistentVolumeClaim),
        'the producer does not hold the lake volume',
      );
      assert.match(producer.spec.template.metadata.annotations['checksum/jobs-script'], /^[0-9a-f]{64}$/);
      const labels = producer.spec.template.metadata.labels;
      assert.is(labels['app.kubernetes.io/component'], 'producer');
      for (const [key, value] of Object.entries(producer.spec.selector.matchLabels)) assert.is(labels[key], value, key);
      const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'lakehouse-kafka')!;
      for (const peer of policy.spec.ingress[0].from) {
        for (const [key, value] of Object.entries(peer.podSelector.matchLabels))
          assert.is(labels[key], value, `Kafka admits the producer: ${key}`);
      }
    });

    test(`${name}: the continuous producer takes jobs.resources when producer.resources is empty`, () => {
      const objects = parseRendered(
        helmTemplate(bin, ['--set', 'producer.mode=continuous', '--set', 'jobs.bundledScript=false']),
      );
      const producer = objects.find((o) => o.kind === 'Deployment')!;
      validateWithModel(producer);
      assert.equal(
        producer.spec.template.spec.containers[0].resources,
        hookJobsInOrder(objects)[0]!.spec.template.spec.containers[0].resources,
      );
      assert.is(producer.spec.template.metadata.annotations, undefined);
    });

    test(`${name}: an image digest pins the image as repository@digest, for Kafka, the jobs and Spark`, () => {
      const digest = `sha256:${'ab'.repeat(32)}`;
      const images = (objects: ReturnType<typeof parseRendered>) =>
        objects.flatMap((o) => (o.spec?.template?.spec ?? o.spec)?.containers ?? []).map((c: any) => c.image as string);
      const pinned = parseRendered(
        helmTemplate(bin, ['--set', `kafka.image.digest=${digest}`, '--set', `jobs.image.digest=${digest}`]),
      );
      assert.equal([...new Set(images(pinned))].sort(), [`apache/kafka@${digest}`, `node@${digest}`]);
      const spark = parseRendered(
        helmTemplate(bin, ['--set', 'engine=spark', '--set', `spark.image.digest=${digest}`]),
      );
      const submit = spark.find((o) => o.kind === 'Job' && o.metadata.name === 'lakehouse-bronze')!.spec.template.spec
        .containers[0];
      assert.is(submit.image, `apache/spark@${digest}`);
      assert.ok(
        submit.args.includes(`spark.kubernetes.container.image=apache/spark@${digest}`),
        'the driver and executors too',
      );
      assert.equal(
        [...new Set(images(parseRendered(helmTemplate(bin))))].sort(),
        ['apache/kafka:4.1.1', 'node:22-bookworm-slim'],
        'tags without a digest',
      );
      assert.throws(() => helmTemplate(bin, ['--set', 'jobs.image.digest=latest']), /digest/);
    });

    test(`${name}: with networkPolicy.egress the jobs' pods open only DNS and Kafka's client ports (the chart's Kafka, or an external one's ports)`, () => {
      const policy = (args: string[]) =>
        parseRendered(helmTemplate(bin, ['--set', 'networkPolicy.egress=true', ...args])).find(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'lakehouse-jobs',
        )!;
      const own = policy([]);
      validateWithModel(own);
      assert.equal(own.spec.policyTypes, ['Ingress', 'Egress']);
      assert.is(own.spec.ingress, undefined, "no connection to the jobs' pods");
      assert.equal(own.spec.egress[1], {
        ports: [{ port: 9092, protocol: 'TCP' }],
        to: [
          {
            podSelector: {
              matchLabels: {
                'app.kubernetes.io/name': 'lakehouse',
                'app.kubernetes.io/instance': 'lakehouse',
                'app.kubernetes.io/component': 'kafka',
              },
            },
          },
        ],
      });
      const external = policy([
        '-f',
        `${CHART_DIR}/ci/external-kafka-values.yaml`,
        '--set',
        'kafka.bootstrapServers=a:9093\\,b:9093\\,c:19092',
      ]);
      assert.equal(external.spec.egress[1], {
        ports: [
          { port: 9093, protocol: 'TCP' },
          { port: 19092, protocol: 'TCP' },
        ],
      });
      assert.equal(policy(['--set', 'networkPolicy.egress=false']).spec.policyTypes, ['Ingress']);
    });

    test(`${name}: large integers render as integers, not in exponent form`, () => {
      const objects = parseRendered(helmTemplate(bin, ['--set', 'producer.events=5000000']));
      const env = hookJobsInOrder(objects)[1]!.spec.template.spec.containers[0].env;
      assert.is(env.find((e: any) => e.name === 'LAKEHOUSE_EVENTS').value, '5000000');
    });
  }
});

test.run();
