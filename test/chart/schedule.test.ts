// The chart running itself: the pipeline and maintenance CronJobs for both engines, the metrics
// exporter with its Service and NetworkPolicy, and the prometheus-operator objects only where the
// cluster serves their API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hookJobsInOrder, parseRendered, validateWithModel, type RenderedObject } from './rendered.ts';
import { CHART_DIR, helmTemplate, run, toolPath, withTools } from './tools.ts';

const MONITORING = ['--api-versions', 'monitoring.coreos.com/v1'];
const EVERY_MINUTE = ['--set', 'schedule.pipeline=*/1 * * * *'];

const podOf = (o: RenderedObject) =>
  o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
const envOf = (container: any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? '']));
const DRIVER_ENV = 'spark.kubernetes.driverEnv.';
const driverEnvOf = (container: any): Record<string, string> => {
  const args: string[] = container.args ?? [];
  return Object.fromEntries(
    args
      .filter((a, i) => args[i - 1] === '--conf' && a.startsWith(DRIVER_ENV))
      .map((a) => a.slice(DRIVER_ENV.length).split(/=(.*)/s).slice(0, 2)),
  );
};
const containersInOrder = (pod: any): any[] => [...(pod.initContainers ?? []), ...pod.containers];
const ofKind = (objects: readonly RenderedObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: readonly RenderedObject[], kind: string, suffix: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  assert.ok(found, `no ${kind} named *${suffix}`);
  return found!;
};
/** Whether the pod labels satisfy every NetworkPolicy peer's matchLabels. */
const admits = (matchLabels: Record<string, string>, podLabels: Record<string, string>) =>
  Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);

withTools(test, () => {
  const helm = toolPath('helm');
  const render = (...args: string[]) => parseRendered(helmTemplate(helm, args));

  test('with the default values there is no CronJob, exporter, ServiceMonitor or PrometheusRule', () => {
    const kinds = [...render(), ...render(...MONITORING)].map((o) => o.kind);
    for (const kind of ['CronJob', 'Deployment', 'ServiceMonitor', 'PrometheusRule'])
      assert.not.ok(kinds.includes(kind), kind);
  });

  test('schedule.pipeline (node): one CronJob whose pod runs bronze, silver, gold in order, Forbid, lease wait 0', () => {
    const objects = render(...EVERY_MINUTE, '--set', 'schedule.startingDeadlineSeconds=90');
    for (const o of objects) validateWithModel(o);
    const cronJobs = ofKind(objects, 'CronJob');
    assert.equal(
      cronJobs.map((c) => c.metadata.name),
      ['lakehouse-pipeline'],
    );
    const [cron] = cronJobs;
    assert.is(cron!.spec.schedule, '*/1 * * * *');
    assert.is(cron!.spec.concurrencyPolicy, 'Forbid');
    assert.is(cron!.spec.startingDeadlineSeconds, 90);
    assert.is(cron!.spec.successfulJobsHistoryLimit, 3);
    assert.is(cron!.spec.failedJobsHistoryLimit, 3);
    assert.is(cron!.spec.suspend, false);
    assert.is(cron!.spec.timeZone, undefined);
    assert.is(cron!.spec.jobTemplate.spec.backoffLimit, 0);
    assert.is(cron!.spec.jobTemplate.spec.activeDeadlineSeconds, 900);
    const pod = podOf(cron!);
    assert.is(pod.restartPolicy, 'Never');
    assert.equal(
      pod.initContainers.map((c: any) => c.command),
      ['bronze', 'silver'].map((s) => ['node', '/opt/lakehouse/lakehouse.mjs', s]),
    );
    assert.equal(
      pod.containers.map((c: any) => c.command),
      [['node', '/opt/lakehouse/lakehouse.mjs', 'gold']],
    );

    // Each stage runs exactly as its hook Job does (same image, mounts, settings), except that it does not wait for the lease.
    const hooks = new Map(hookJobsInOrder(objects).map((j) => [j.spec.template.spec.containers[0].command.at(-1), j]));
    for (const container of containersInOrder(pod)) {
      const stage = container.command.at(-1);
      const hook = hooks.get(stage)!.spec.template.spec;
      const { LAKEHOUSE_LEASE_WAIT_SECONDS: wait, ...env } = envOf(container);
      assert.is(wait, '0', stage);
      const { LAKEHOUSE_LEASE_WAIT_SECONDS: _hookWait, ...hookEnv } = envOf(hook.containers[0]);
      assert.equal(env, hookEnv, stage);
      assert.equal({ ...container, env: [] }, { ...hook.containers[0], env: [] }, stage);
      assert.equal(pod.volumes, hook.volumes);
      assert.equal(pod.securityContext, hook.securityContext);
    }

    // The Kafka NetworkPolicy admits the scheduled pods.
    const kafkaPolicy = named(objects, 'NetworkPolicy', '-kafka');
    const peer = kafkaPolicy.spec.ingress[0].from[0].podSelector.matchLabels;
    assert.ok(admits(peer, cron!.spec.jobTemplate.spec.template.metadata.labels));
  });

  test('schedule.pipeline with engine=spark: spark-submit of bronze, silver, gold in order as the spark ServiceAccount', () => {
    const objects = render(...EVERY_MINUTE, '--set', 'engine=spark');
    for (const o of objects) validateWithModel(o);
    const [cron, ...others] = ofKind(objects, 'CronJob');
    assert.is(others.length, 0);
    assert.is(cron!.spec.concurrencyPolicy, 'Forbid');
    const pod = podOf(cron!);
    const containers = containersInOrder(pod);
    assert.equal(
      containers.map((c) => c.args.at(-1)),
      ['bronze', 'silver', 'gold'].map((s) => `/opt/lakehouse/spark/${s}.py`),
    );
    assert.is(pod.initContainers.length, 2);
    assert.is(pod.serviceAccountName, named(objects, 'ServiceAccount', '-spark').metadata.name);
    const hooks = hookJobsInOrder(objects).slice(2);
    for (const [i, container] of containers.entries()) {
      const { LAKEHOUSE_LEASE_WAIT_SECONDS: wait, ...env } = driverEnvOf(container);
      assert.is(wait, '0', container.name);
      const { LAKEHOUSE_LEASE_WAIT_SECONDS: _w, ...hookEnv } = driverEnvOf(hooks[i]!.spec.template.spec.containers[0]);
      assert.equal(env, hookEnv, container.name);
      assert.is(container.image, hooks[i]!.spec.template.spec.containers[0].image);
    }
  });

  test('schedule.maintenance: a CronJob running maintain on the Node image whatever the engine, Forbid, waiting for the lease as hooks do', () => {
    for (const engine of ['node', 'spark']) {
      const objects = render(
        '--set',
        'schedule.maintenance=*/10 * * * *',
        '--set',
        `engine=${engine}`,
        '--set',
        'schedule.timeZone=Europe/Paris',
      );
      for (const o of objects) validateWithModel(o);
      const cronJobs = ofKind(objects, 'CronJob');
      assert.equal(
        cronJobs.map((c) => c.metadata.name),
        ['lakehouse-maintenance'],
        engine,
      );
      const cron = cronJobs[0]!;
      assert.is(cron.spec.schedule, '*/10 * * * *');
      assert.is(cron.spec.timeZone, 'Europe/Paris');
      assert.is(cron.spec.concurrencyPolicy, 'Forbid');
      const pod = podOf(cron);
      assert.is(pod.initContainers, undefined);
      assert.equal(pod.containers[0].command, ['node', '/opt/lakehouse/lakehouse.mjs', 'maintain']);
      assert.is(pod.containers[0].image, 'node:22-bookworm-slim');
      const hookEnv = envOf(hookJobsInOrder(objects)[0]!.spec.template.spec.containers[0]);
      assert.is(envOf(pod.containers[0]).LAKEHOUSE_LEASE_WAIT_SECONDS, '600');
      // The same settings but the Kafka user: maintain does not use Kafka, the topics hook is the admin.
      const { LAKEHOUSE_KAFKA_USER: _user, ...maintainEnv } = envOf(pod.containers[0]);
      const { LAKEHOUSE_KAFKA_USER: _admin, ...topicsEnv } = hookEnv;
      assert.equal(maintainEnv, topicsEnv);
      assert.equal(
        pod.volumes.filter((v: any) => v.secret),
        [],
        'maintain mounts no Kafka Secret',
      );
      assert.is(pod.automountServiceAccountToken, false);
    }
  });

  test('metrics.enabled: the exporter Deployment (read-only lake, port metrics, /healthz probes), its Service and NetworkPolicy', () => {
    const objects = render('--set', 'metrics.enabled=true', '--set', 'metrics.port=9500');
    for (const o of objects) validateWithModel(o);
    const deployment = named(objects, 'Deployment', '-metrics');
    const pod = podOf(deployment);
    const [container] = pod.containers;
    assert.equal(container.command, ['node', '/opt/lakehouse/lakehouse.mjs', 'metrics']);
    assert.is(envOf(container).LAKEHOUSE_METRICS_PORT, '9500');
    assert.equal(container.ports, [{ name: 'metrics', containerPort: 9500, protocol: 'TCP' }]);
    assert.equal(container.readinessProbe.httpGet, { path: '/healthz', port: 'metrics' });
    assert.equal(
      container.livenessProbe.tcpSocket,
      { port: 'metrics' },
      'alive while it listens: a probe unlike readiness',
    );
    assert.equal(
      container.volumeMounts.find((m: any) => m.name === 'lake'),
      { name: 'lake', mountPath: '/data', readOnly: true },
    );
    assert.is(container.securityContext.readOnlyRootFilesystem, true);
    assert.is(pod.securityContext.runAsNonRoot, true);
    assert.is(pod.automountServiceAccountToken, false);

    const service = named(objects, 'Service', '-metrics');
    assert.equal(service.spec.ports, [{ name: 'metrics', port: 9500, targetPort: 'metrics', protocol: 'TCP' }]);
    assert.ok(admits(service.spec.selector, deployment.spec.template.metadata.labels));

    const policy = named(objects, 'NetworkPolicy', '-metrics');
    assert.ok(admits(policy.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels));
    assert.equal(policy.spec.ingress[0].ports, [{ port: 'metrics', protocol: 'TCP' }]);
    const [release, monitoring, ...more] = policy.spec.ingress[0].from;
    assert.is(more.length, 0);
    assert.equal(release.podSelector.matchLabels, {
      'app.kubernetes.io/name': 'lakehouse',
      'app.kubernetes.io/instance': 'lakehouse',
    });
    assert.equal(monitoring, {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: {} },
    });

    const kafkaPeer = named(objects, 'NetworkPolicy', '-kafka').spec.ingress[0].from[0].podSelector.matchLabels;
    assert.ok(admits(kafkaPeer, deployment.spec.template.metadata.labels), 'Kafka admits the exporter');
  });

  test("the exporter's NetworkPolicy takes the scraping pods from values, or only the release's", () => {
    const set = [
      '--set',
      'metrics.enabled=true',
      '--set',
      'metrics.networkPolicy.namespaceSelector.team=obs',
      '--set',
      'metrics.networkPolicy.podSelector.app=prometheus',
    ];
    const peers = named(render(...set), 'NetworkPolicy', '-metrics').spec.ingress[0].from;
    assert.equal(peers[1], {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'obs' } },
      podSelector: { matchLabels: { app: 'prometheus' } },
    });
    const only = named(
      render('--set', 'metrics.enabled=true', '--set', 'metrics.networkPolicy.namespaceSelector=null'),
      'NetworkPolicy',
      '-metrics',
    );
    assert.is(only.spec.ingress[0].from.length, 1);
    assert.not.ok(
      render('--set', 'metrics.enabled=true', '--set', 'networkPolicy.enabled=false').some(
        (o) => o.kind === 'NetworkPolicy',
      ),
    );
  });

  test('ServiceMonitor and PrometheusRule only with the monitoring.coreos.com/v1 API, metrics.enabled and their own switch', () => {
    const kinds = (...args: string[]) =>
      render(...args)
        .map((o) => o.kind)
        .filter((k) => ['ServiceMonitor', 'PrometheusRule'].includes(k))
        .sort();
    assert.equal(kinds('--set', 'metrics.enabled=true'), []);
    assert.equal(kinds(...MONITORING), []);
    assert.equal(kinds(...MONITORING, '--set', 'metrics.enabled=true'), ['PrometheusRule', 'ServiceMonitor']);
    assert.equal(
      kinds(...MONITORING, '--set', 'metrics.enabled=true', '--set', 'metrics.serviceMonitor.enabled=false'),
      ['PrometheusRule'],
    );
    assert.equal(
      kinds(...MONITORING, '--set', 'metrics.enabled=true', '--set', 'metrics.prometheusRule.enabled=false'),
      ['ServiceMonitor'],
    );

    const objects = render(
      ...MONITORING,
      ...EVERY_MINUTE,
      '--set',
      'metrics.enabled=true',
      '--set',
      'metrics.serviceMonitor.labels.release=prom',
    );
    for (const o of objects) validateWithModel(o);
    const monitor = named(objects, 'ServiceMonitor', '-metrics');
    assert.is(monitor.metadata.labels?.release, 'prom');
    assert.is(monitor.metadata.labels?.['app.kubernetes.io/instance'], 'lakehouse');
    assert.ok(admits(monitor.spec.selector.matchLabels, named(objects, 'Service', '-metrics').metadata.labels!));
    assert.equal(monitor.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
  });

  const rulesOf = (...args: string[]) => {
    const rule = named(render(...MONITORING, '--set', 'metrics.enabled=true', ...args), 'PrometheusRule', '-metrics');
    return new Map<string, any>(rule.spec.groups[0].rules.map((r: any) => [r.alert, r]));
  };

  test("PrometheusRule: stale after twice the pipeline's schedule interval, or the value given; failing after N runs", () => {
    const stale = (schedule: string, ...more: string[]) =>
      rulesOf('--set', `schedule.pipeline=${schedule}`, ...more).get('LakehousePipelineStale').expr;
    assert.match(
      stale('*/1 * * * *'),
      /lakehouse_stage_seconds_since_last_success\{namespace="lakehouse",job="lakehouse-metrics",stage=~"bronze\|silver\|gold"\}\) > 120$/,
    );
    assert.match(stale('* * * * *'), / > 120$/);
    assert.match(stale('*/15 * * * *'), / > 1800$/);
    assert.match(stale('7 * * * *'), / > 7200$/);
    assert.match(stale('0 */6 * * *'), / > 43200$/);
    assert.match(stale('30 2 * * *'), / > 172800$/);
    assert.match(stale('@hourly'), / > 7200$/);
    assert.match(stale('0 4 * * 1'), / > 1209600$/);
    assert.match(stale('5\\,35 * * * *', '--set', 'metrics.prometheusRule.staleAfterSeconds=999'), / > 999$/);

    const rules = rulesOf(...EVERY_MINUTE, '--set', 'metrics.prometheusRule.failuresThreshold=5');
    assert.equal([...rules.keys()].sort(), [
      'LakehouseExporterDown',
      'LakehouseKafkaLagGrowing',
      'LakehousePipelineStale',
      'LakehouseStageFailing',
    ]);
    assert.match(rules.get('LakehouseStageFailing').expr, /lakehouse_stage_consecutive_failures\{[^}]*\}\) >= 5$/);
    assert.match(
      rules.get('LakehouseKafkaLagGrowing').expr,
      /min_over_time\(lakehouse_kafka_lag_records\{[^}]*\}\[120s\]\)\) > .*\[120s\] offset 120s\)\)$/,
    );
    // Prometheus' own templates reach Prometheus intact.
    assert.match(rules.get('LakehousePipelineStale').annotations.description, /\{\{ \$value \| humanizeDuration \}\}/);
    assert.match(
      rules.get('LakehousePipelineStale').annotations.description,
      '{{ if eq (printf "%v" $value) "+Inf" }}',
    );
  });

  test('PrometheusRule without a schedule: no staleness or lag alert (nothing runs between upgrades), unless a threshold is given', () => {
    assert.equal([...rulesOf().keys()].sort(), ['LakehouseExporterDown', 'LakehouseStageFailing']);
    assert.ok(rulesOf('--set', 'metrics.prometheusRule.staleAfterSeconds=3600').has('LakehousePipelineStale'));
  });
});

withTools(test, () => {
  const helm = toolPath('helm');
  /** NOTES.txt as `helm install` prints it. */
  const notes = (...args: string[]) => {
    const out = run(helm, ['install', 'lakehouse', CHART_DIR, '--dry-run=client', '--namespace', 'lakehouse', ...args]);
    assert.is(out.status, 0, out.stderr);
    return out.stdout.slice(out.stdout.indexOf('NOTES:'));
  };
  /**
   * The one-off pod NOTES.txt gives for `command`: the `kubectl run` line's overrides merged into the
   * container kubectl makes (same name), validated as a Pod.
   */
  const notesPod = (text: string, command: string) => {
    const found = new RegExp(
      `kubectl run -n lakehouse (\\S+) --rm -i --restart=Never --image=(\\S+) \\\\\n\\s+--override-type=strategic --overrides='([^']+)' \\\\\n\\s+--command -- node /opt/lakehouse/lakehouse\\.mjs ${command}`,
    ).exec(text);
    assert.ok(found, text);
    const [, name, image, overrides] = found!;
    const pod = JSON.parse(overrides!);
    const [container] = pod.spec.containers;
    assert.is(container.name, name);
    validateWithModel({
      ...pod,
      kind: 'Pod',
      metadata: { name, labels: pod.metadata.labels },
      spec: {
        ...pod.spec,
        restartPolicy: 'Never',
        containers: [{ ...container, image, command: ['node', '/opt/lakehouse/lakehouse.mjs', ...command.split(' ')] }],
      },
      source: 'NOTES.txt',
    });
    return { name: name!, pod, container };
  };

  test('NOTES: how to watch the schedule, and a status pod under the restricted standard when no exporter runs', () => {
    const text = notes('--set', 'schedule.pipeline=*/5 * * * *');
    assert.match(text, 'kubectl get cronjobs,jobs -n lakehouse -l app.kubernetes.io/instance=lakehouse -w');
    assert.match(text, '--from=cronjob/lakehouse-pipeline');
    for (const bundled of [true, false]) {
      const t = bundled ? text : notes('-f', `${CHART_DIR}/ci/prebuilt-image-values.yaml`);
      const { pod, container } = notesPod(t, 'status');
      // The labels Kafka's NetworkPolicy admits (status reads Kafka's end offsets).
      assert.equal(pod.metadata.labels, {
        'app.kubernetes.io/name': 'lakehouse',
        'app.kubernetes.io/instance': 'lakehouse',
      });
      assert.equal(
        container.volumeMounts.find((m: any) => m.name === 'lake'),
        { name: 'lake', mountPath: '/data', readOnly: true },
      );
      const claim = pod.spec.volumes.find((v: any) => v.name === 'lake').persistentVolumeClaim.claimName;
      assert.is(claim, bundled ? 'lakehouse-lake' : 'shared-lake');
      assert.is(
        pod.spec.volumes.some((v: any) => v.name === 'script'),
        bundled,
      );
      assert.is(container.securityContext.allowPrivilegeEscalation, false);
      assert.is(pod.spec.securityContext.runAsNonRoot, true);
    }
    assert.match(
      notes('--set', 'metrics.enabled=true'),
      'kubectl exec -n lakehouse deploy/lakehouse-metrics -- node /opt/lakehouse/lakehouse.mjs status',
    );
  });

  test("NOTES: a curation pod under the restricted standard, writing the lake with the pipeline's vehicle types and group", () => {
    for (const [backend, args] of [
      ['volume', ['--set', 'pipeline.vehicleTypes={car,bike,scooter,truck}', '--set', 'metrics.enabled=true']],
      ['rest', ['--set', 'lake.catalog=rest', '--set', 'objectStore.enabled=true']],
    ] as const) {
      const text = notes(...args);
      const { name, container } = notesPod(text, 'replay --dry-run');
      assert.is(name, 'lakehouse-curate');
      const env = Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
      assert.is(env.LAKEHOUSE_VEHICLE_TYPES, backend === 'volume' ? 'car,bike,scooter,truck' : 'car,bike,scooter');
      assert.is(env.LAKEHOUSE_CONSUMER_GROUP, 'lakehouse-bronze');
      const lake = container.volumeMounts.find((m: any) => m.name === 'lake');
      if (backend === 'volume') assert.equal(lake, { name: 'lake', mountPath: '/data', readOnly: false });
      else {
        assert.is(lake, undefined, 'no lake claim with the catalog');
        assert.is(env.LAKEHOUSE_CATALOG, 'rest');
        assert.ok(container.env.some((e: any) => e.name === 'AWS_SECRET_ACCESS_KEY' && e.valueFrom?.secretKeyRef));
      }
      assert.is(container.securityContext.allowPrivilegeEscalation, false);
    }
  });
});

test.run();
