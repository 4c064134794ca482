// The chart's Kafka configuration on a real Kafka 4.1.1 (see kafka-sandbox.ts): the image's own
// setup code turns the rendered environment into server.properties and formats the storage, and
// the rendered pipeline runs against the broker it starts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureKafkaLibs } from '../../dev/broker/kafka-libs.ts';
import { kafkaDnsNames, kafkaPods } from './kafka-pod.ts';
import type { SandboxInput, SandboxResult } from './kafka-sandbox.ts';
import { makeCertificates } from '../../dev/broker/tls.ts';
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from './rendered.ts';
import { CHART_DIR, helmTemplate, REPO_ROOT, toolPath, withTools } from './tools.ts';

const NAMESPACE = 'lakehouse';
const roots: string[] = [];

async function inSandbox(
  input: Omit<SandboxInput, 'root' | 'kafkaLibs' | 'log4jConfig'>,
): Promise<{ result: SandboxResult; root: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-kafka-sandbox-'));
  roots.push(root);
  const full: SandboxInput = {
    ...input,
    root,
    kafkaLibs: await ensureKafkaLibs(),
    log4jConfig: path.join(REPO_ROOT, 'ci', 'broker', 'log4j2-tools.properties'),
  };
  const inputFile = path.join(root, 'input.json');
  writeFileSync(inputFile, JSON.stringify(full));
  const run = spawnSync(
    'unshare',
    [
      '--net',
      '--mount',
      '--uts',
      '--fork',
      '--',
      process.execPath,
      '--import',
      'tsx',
      path.join('test', 'chart', 'kafka-sandbox.ts'),
      inputFile,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 },
  );
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !last.startsWith('{')) {
    throw new Error(
      `the Kafka sandbox failed (exit ${run.status}, needs root for unshare):\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-2000)}`,
    );
  }
  return { result: JSON.parse(last) as SandboxResult, root };
}

/** A Secret as the site would have created it (not rendered by the chart). */
const secret = (name: string, files: Record<string, string>): RenderedObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: NAMESPACE },
  data: Object.fromEntries(Object.entries(files).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  source: 'test',
});

withTools(test, () => {
  const helm = toolPath('helm');

  test('values-prod.yaml: each of the 3 Kafka nodes takes its node id from its ordinal and Kafka 4.1.1 formats its storage with the rendered configuration', async () => {
    const objects = parseRendered(helmTemplate(helm, ['-f', `${CHART_DIR}/values-prod.yaml`]));
    const pods = kafkaPods(objects, NAMESPACE);
    assert.is(pods.length, 3);
    const dns = kafkaDnsNames(objects, NAMESPACE);
    const { result, root } = await inSandbox({
      mode: 'format',
      pods,
      hostNames: [...[...dns.pods.values()].flat(), ...dns.services],
    });
    const voters = new Set<string>();
    for (const [i, node] of result.formatted.entries()) {
      assert.is(node.exitCode, 0, `${node.pod}: setup failed:\n${node.output}`);
      const props = Object.fromEntries(
        node.serverProperties
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      assert.is(props['node.id'], String(i), node.pod);
      assert.is(props['process.roles'], 'broker,controller');
      assert.is(props['min.insync.replicas'], '2', 'prod: an acknowledged write is on 2 of the 3 replicas');
      // Secure by default: TLS on both listeners, SCRAM on the client one, no access without an ACL.
      assert.is(props['listener.security.protocol.map'], 'CONTROLLER:SSL,CLIENT:SASL_SSL');
      assert.is(props['listener.name.controller.ssl.client.auth'], 'required');
      assert.is(props['ssl.keystore.type'], 'PEM');
      assert.is(props['sasl.enabled.mechanisms'], 'SCRAM-SHA-512');
      assert.is(props['authorizer.class.name'], 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
      assert.is(props['allow.everyone.if.no.acl.found'], 'false');
      assert.match(props['listener.name.client.scram-sha-512.sasl.jaas.config'] ?? '', 'username="lakehouse-admin"');
      assert.not.ok(
        Object.values(pods[i]!.env).some((value) => value.includes('password=')),
        "no password in the pod's environment",
      );
      voters.add(props['controller.quorum.voters']!);
      const meta = readFileSync(path.join(root, node.pod, 'data', 'kraft', 'meta.properties'), 'utf8');
      const clusterId = pods[i]!.secretFiles['/etc/kafka/cluster-id/cluster-id'];
      assert.ok(
        clusterId && !('CLUSTER_ID' in pods[i]!.env),
        "the cluster id comes from the Secret's file, not the environment",
      );
      assert.match(meta, `cluster.id=${clusterId}`);
      assert.match(meta, `node.id=${i}`);
    }
    assert.equal(
      [...voters],
      [pods.map((p) => `${p.ordinal}@${p.name}.lakehouse-kafka-headless.${NAMESPACE}.svc:9093`).join(',')],
    );
  });

  const serves = (what: string, args: string[], existing: (objects: RenderedObject[]) => RenderedObject[] = () => []) =>
    test(`the chart's own Kafka (${what}) serves the rendered hook Jobs and test Pod, each signed in as its own user, at the address they are given`, async () => {
      const rendered = parseRendered(helmTemplate(helm, args));
      const objects = [...rendered, ...existing(rendered)];
      const pods = kafkaPods(objects, NAMESPACE);
      const dns = kafkaDnsNames(objects, NAMESPACE);
      const runOrder = [
        ...hookJobsInOrder(objects),
        ...objects.filter((o) => o.kind === 'Pod' && hookOf(o) === 'test'),
      ].map((o) => o.metadata.name);
      const { result } = await inSandbox({
        mode: 'serve',
        pods,
        hostNames: [...[...dns.pods.values()].flat(), ...dns.services],
        objects,
        runOrder,
      });
      assert.equal(
        result.runs.map((r) => r.name),
        runOrder,
        `stopped early:\n${result.runs.at(-1)?.output}`,
      );
      for (const r of result.runs) assert.is(r.exitCode, 0, `${r.name} failed:\n${r.output}`);
    });
  serves('defaults: TLS, SCRAM users from the generated Secrets, ACLs', []);
  serves('ci/plaintext-values.yaml: no TLS, no users', ['-f', `${CHART_DIR}/ci/plaintext-values.yaml`]);
  serves('TLS without users', ['--set', 'kafka.auth.enabled=false']);
  serves(
    'an existing certificate Secret with a PKCS#8 key, its own subject and a CA-only Secret',
    [
      '--set',
      'kafka.tls.existingSecret=site-kafka-tls',
      '--set',
      'kafka.tls.caSecret=site-kafka-ca',
      '--set',
      'kafka.tls.nodePrincipal=CN=site-kafka',
    ],
    (objects) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-site-tls-'));
      roots.push(dir);
      const dns = kafkaDnsNames(objects, NAMESPACE);
      makeCertificates(
        dir,
        [...[...dns.pods.values()].flat(), ...dns.services].map((n) => `DNS:${n}`).join(','),
        'CN=site-kafka',
      );
      const file = (name: string) => readFileSync(path.join(dir, name), 'utf8');
      assert.match(file('server.key'), /BEGIN PRIVATE KEY/, 'a PKCS#8 key, as cert-manager writes with encoding PKCS8');
      return [
        secret('site-kafka-tls', {
          'ca.crt': file('ca.crt'),
          'tls.crt': file('server.crt'),
          'tls.key': file('server.key'),
        }),
        secret('site-kafka-ca', { 'ca.crt': file('ca.crt') }),
      ];
    },
  );
});

test.after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

test.run();
