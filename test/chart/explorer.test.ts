// explorer.enabled: the lake explorer's Deployment (restricted pod security, the lake read-only,
// probes, resources), its Service, a NetworkPolicy admitting the release and the configured
// selectors, an optional Ingress, and NOTES saying how to open it; on a volume lake and a REST one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRendered, validateWithModel, type RenderedObject } from './rendered.ts';
import { CHART_DIR, helmTemplate, run, toolPath, withTools } from './tools.ts';

const named = (objects: readonly RenderedObject[], kind: string, suffix: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  assert.ok(found, `no ${kind} named *${suffix}`);
  return found!;
};
const envOf = (container: any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? '']));
const admits = (matchLabels: Record<string, string>, podLabels: Record<string, string>) =>
  Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);

withTools(test, () => {
  const helm = toolPath('helm');
  const render = (...args: string[]) => parseRendered(helmTemplate(helm, args));
  const explorerObjects = (objects: readonly RenderedObject[]) =>
    objects.filter((o) => o.metadata.name.endsWith('-explorer')).map((o) => o.kind);

  test('off by default: no explorer object', () => {
    assert.equal(explorerObjects(render()), []);
  });

  test('explorer.enabled: a restricted Deployment (explore, read-only lake, /healthz probes, resources), its Service and NetworkPolicy', () => {
    const objects = render('--set', 'explorer.enabled=true', '--set', 'explorer.port=8090');
    for (const o of objects) validateWithModel(o);
    assert.equal(explorerObjects(objects).sort(), ['Deployment', 'NetworkPolicy', 'Service']);
    const deployment = named(objects, 'Deployment', '-explorer');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(container.command, ['node', '/opt/lakehouse/lakehouse.mjs', 'explore']);
    assert.is(envOf(container).LAKEHOUSE_EXPLORER_PORT, '8090');
    assert.equal(container.ports, [{ name: 'http', containerPort: 8090, protocol: 'TCP' }]);
    assert.equal(container.readinessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.equal(container.livenessProbe.tcpSocket, { port: 'http' });
    assert.equal(
      container.volumeMounts.find((m: any) => m.name === 'lake'),
      { name: 'lake', mountPath: '/data', readOnly: true },
    );
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.is(container.securityContext.readOnlyRootFilesystem, true);
    assert.is(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.capabilities.drop, ['ALL']);
    assert.is(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.is(pod.automountServiceAccountToken, false);

    const service = named(objects, 'Service', '-explorer');
    assert.equal(service.spec.ports, [{ name: 'http', port: 8090, targetPort: 'http', protocol: 'TCP' }]);
    assert.ok(admits(service.spec.selector, deployment.spec.template.metadata.labels));

    const policy = named(objects, 'NetworkPolicy', '-explorer');
    assert.ok(admits(policy.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels));
    assert.equal(policy.spec.ingress[0].ports, [{ port: 'http', protocol: 'TCP' }]);
    assert.equal(policy.spec.ingress[0].from, [
      {
        podSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'lakehouse', 'app.kubernetes.io/instance': 'lakehouse' },
        },
      },
    ]);
    const kafkaPeer = named(objects, 'NetworkPolicy', '-kafka').spec.ingress[0].from[0].podSelector.matchLabels;
    assert.ok(admits(kafkaPeer, deployment.spec.template.metadata.labels), 'Kafka admits the explorer (freshness)');
  });

  test('the NetworkPolicy admits the configured selectors; the Ingress is optional, with class, host and TLS', () => {
    const objects = render(
      '--set',
      'explorer.enabled=true',
      '--set',
      'explorer.networkPolicy.namespaceSelector.kubernetes\\.io/metadata\\.name=ingress-nginx',
      '--set',
      'explorer.networkPolicy.podSelector.app=ingress-nginx',
      '--set',
      'explorer.ingress.enabled=true',
      '--set',
      'explorer.ingress.className=nginx',
      '--set',
      'explorer.ingress.host=lake.example.com',
      '--set',
      'explorer.ingress.tlsSecretName=lake-tls',
    );
    for (const o of objects) validateWithModel(o);
    assert.equal(named(objects, 'NetworkPolicy', '-explorer').spec.ingress[0].from[1], {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
      podSelector: { matchLabels: { app: 'ingress-nginx' } },
    });
    const ingress = named(objects, 'Ingress', '-explorer');
    assert.is(ingress.spec.ingressClassName, 'nginx');
    assert.equal(ingress.spec.tls, [{ hosts: ['lake.example.com'], secretName: 'lake-tls' }]);
    assert.equal(ingress.spec.rules, [
      {
        host: 'lake.example.com',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'lakehouse-explorer', port: { name: 'http' } } },
            },
          ],
        },
      },
    ]);
    assert.not.ok(
      render('--set', 'explorer.enabled=true', '--set', 'networkPolicy.enabled=false').some(
        (o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-explorer'),
      ),
    );
  });

  test('with lake.catalog rest it reads through the catalog: its settings, no lake volume', () => {
    const objects = render('-f', `${CHART_DIR}/ci/rest-catalog-values.yaml`);
    const pod = named(objects, 'Deployment', '-explorer').spec.template.spec;
    const env = pod.containers[0].env as { name: string; value?: string }[];
    assert.is(env.find((e) => e.name === 'LAKEHOUSE_CATALOG')?.value, 'rest');
    assert.is(env.find((e) => e.name === 'LAKEHOUSE_CATALOG_URI')?.value, 'https://catalog.example.com');
    assert.ok(env.some((e) => e.name === 'AWS_SECRET_ACCESS_KEY' && (e as any).valueFrom?.secretKeyRef));
    assert.not.ok(pod.volumes.some((v: any) => v.name === 'lake'));
  });

  test('NOTES: how to open the page with kubectl port-forward', () => {
    const out = run(helm, [
      'install',
      'lakehouse',
      CHART_DIR,
      '--dry-run=client',
      '--namespace',
      'lakehouse',
      '--set',
      'explorer.enabled=true',
    ]);
    assert.is(out.status, 0, out.stderr);
    const notes = out.stdout.slice(out.stdout.indexOf('NOTES:'));
    assert.match(notes, 'kubectl port-forward -n lakehouse svc/lakehouse-explorer 8080');
    assert.match(notes, 'open http://localhost:8080/');
  });
});

test.run();
