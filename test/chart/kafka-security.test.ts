// What the chart renders for Kafka's security (issue 14): TLS and SCRAM by default with generated
// certificates and passwords, each client given only its own user's password and the CA; TLS off for
// a trusted dev cluster; an existing Kafka's CA and user Secrets; cert-manager and existing Secrets.
import { X509Certificate } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hookJobsInOrder, hookOf, parseRendered, type RenderedObject } from './rendered.ts';
import { podSpecOf } from './container.ts';
import { CHART_DIR, helms, helmTemplate, withTools } from './tools.ts';

const render = (bin: string, args: string[] = []): RenderedObject[] => parseRendered(helmTemplate(bin, args));
const decoded = (secret: RenderedObject, key: string) => Buffer.from(secret.data![key]!, 'base64').toString('utf8');
const secretNamed = (objects: readonly RenderedObject[], name: string) =>
  objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
const kafkaEnv = (objects: readonly RenderedObject[]): Record<string, string> =>
  Object.fromEntries(
    objects
      .find((o) => o.kind === 'StatefulSet')!
      .spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
  );
const envOf = (container: any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));

/** Secret name and key -> file, of every Secret volume the object's containers mount. */
function mountedSecrets(object: RenderedObject, containers?: readonly any[]): string[] {
  const spec = podSpecOf(object);
  const volumes = new Map((spec.volumes ?? []).map((v: any) => [v.name, v]));
  return (containers ?? [...(spec.initContainers ?? []), ...spec.containers])
    .flatMap((c: any) =>
      (c.volumeMounts ?? []).flatMap((m: any) => {
        const secret = (volumes.get(m.name) as any)?.secret;
        return secret
          ? (secret.items ?? [{ key: '*', path: '*' }]).map(
              (i: any) => `${secret.secretName}/${i.key} -> ${m.mountPath}/${i.path}`,
            )
          : [];
      }),
    )
    .filter((v: string, i: number, all: string[]) => all.indexOf(v) === i);
}

const clients = (objects: readonly RenderedObject[]) => [
  ...hookJobsInOrder(objects),
  ...objects.filter((o) => hookOf(o) === 'test' || o.kind === 'CronJob' || o.kind === 'Deployment'),
];

const CA = 'lakehouse-kafka-ca/ca.crt -> /etc/lakehouse/kafka-ca/ca.crt';
const user = (role: string) => `lakehouse-kafka-user-${role}/password -> /etc/lakehouse/kafka-user/password`;

withTools(test, () => {
  for (const { name, bin } of helms()) {
    test(`${name}: by default Kafka serves TLS on every listener, SCRAM users on the client one, and no access without an ACL`, () => {
      const objects = render(bin);
      const env = kafkaEnv(objects);
      assert.is(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, 'CONTROLLER:SSL,CLIENT:SASL_SSL');
      assert.is(env.KAFKA_INTER_BROKER_LISTENER_NAME, 'CLIENT');
      assert.is(env.KAFKA_LISTENER_NAME_CONTROLLER_SSL_CLIENT_AUTH, 'required');
      assert.is(env.KAFKA_SSL_KEYSTORE_TYPE, 'PEM');
      assert.is(env.KAFKA_SASL_ENABLED_MECHANISMS, 'SCRAM-SHA-512');
      assert.is(env.KAFKA_AUTHORIZER_CLASS_NAME, 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
      assert.is(env.KAFKA_SUPER_USERS, 'User:CN=lakehouse-kafka;User:lakehouse-admin');
      assert.is(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND, 'false');
    });

    test(`${name}: the generated certificate is signed by the generated CA and names every address of Kafka`, () => {
      const objects = render(bin, ['--set', 'kafka.replicas=3', '--set', 'topic.replicationFactor=3']);
      const tls = secretNamed(objects, 'lakehouse-kafka-tls')!;
      assert.is(tls.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      const ca = new X509Certificate(decoded(tls, 'ca.crt'));
      const cert = new X509Certificate(decoded(tls, 'tls.crt'));
      assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the CA');
      assert.is(cert.subject, 'CN=lakehouse-kafka');
      assert.match(
        decoded(tls, 'tls.key'),
        /BEGIN RSA PRIVATE KEY/,
        'PKCS#1: the Kafka start script wraps it into PKCS#8',
      );
      for (const host of [
        'lakehouse-kafka.lakehouse.svc',
        'lakehouse-kafka-headless.lakehouse.svc.cluster.local',
        'lakehouse-kafka',
        ...[0, 1, 2].map((i) => `lakehouse-kafka-${i}.lakehouse-kafka-headless.lakehouse.svc`),
      ]) {
        assert.is(cert.checkHost(host), host, `the certificate names ${host}`);
      }
      const clientCa = secretNamed(objects, 'lakehouse-kafka-ca')!;
      assert.equal(Object.keys(clientCa.data!), ['ca.crt'], "the clients' CA Secret holds no key");
      assert.is(decoded(clientCa, 'ca.crt'), decoded(tls, 'ca.crt'));
    });

    test(`${name}: each client mounts the CA and only its own user's password, never as an environment value`, () => {
      const objects = render(bin, [
        '--set',
        'schedule.pipeline=*/5 * * * *',
        '--set',
        'schedule.maintenance=@daily',
        '--set',
        'metrics.enabled=true',
      ]);
      const mounts = Object.fromEntries(
        clients(objects).map((o) => [`${o.kind}/${o.metadata.name}`, mountedSecrets(o)]),
      );
      assert.equal(mounts, {
        'Job/lakehouse-topics': [CA, user('admin')],
        'Job/lakehouse-producer': [CA, user('producer')],
        'Job/lakehouse-bronze': [CA, user('pipeline')],
        'Job/lakehouse-silver': [CA, user('pipeline')],
        'Job/lakehouse-gold': [CA, user('pipeline')],
        'Pod/lakehouse-verify': [CA, user('pipeline')],
        'CronJob/lakehouse-pipeline': [CA, user('pipeline')],
        'CronJob/lakehouse-maintenance': [],
        'Deployment/lakehouse-metrics': [CA, user('pipeline')],
      });
      const users = Object.fromEntries(
        clients(objects).map((o) => [o.metadata.name, envOf(podSpecOf(o).containers[0]).LAKEHOUSE_KAFKA_USER]),
      );
      assert.is(users['lakehouse-topics'], 'lakehouse-admin');
      assert.is(users['lakehouse-producer'], 'lakehouse-producer');
      assert.is(users['lakehouse-bronze'], 'lakehouse-pipeline');
      const passwords = ['admin', 'producer', 'pipeline'].map((role) =>
        decoded(secretNamed(objects, `lakehouse-kafka-user-${role}`)!, 'password'),
      );
      for (const password of passwords) assert.ok(password.length >= 32, 'a generated password');
      const notSecret = objects.filter((o) => o.kind !== 'Secret').map((o) => JSON.stringify(o));
      for (const password of passwords)
        assert.not.ok(
          notSecret.some((text) => text.includes(password)),
          'a password outside its Secret',
        );
      const env = envOf(podSpecOf(hookJobsInOrder(objects)[0]!).containers[0]);
      assert.is(env.LAKEHOUSE_KAFKA_SECURITY, 'sasl_ssl');
      assert.is(env.LAKEHOUSE_KAFKA_ACLS, 'true');
    });

    test(`${name}: the continuous producer's init container (creating its topic) alone mounts the admin password`, () => {
      const objects = render(bin, ['--set', 'producer.mode=continuous']);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'lakehouse-producer')!;
      const spec = podSpecOf(deployment);
      const [topics] = spec.initContainers;
      const [producer] = spec.containers;
      assert.is(topics.command.at(-1), 'topics');
      assert.equal(mountedSecrets(deployment, [topics]), [
        CA,
        'lakehouse-kafka-user-admin/password -> /etc/lakehouse/kafka-user/password',
      ]);
      assert.equal(mountedSecrets(deployment, [producer]), [CA, user('producer')]);
      assert.is(envOf(topics).LAKEHOUSE_KAFKA_USER, 'lakehouse-admin');
      assert.is(envOf(producer).LAKEHOUSE_KAFKA_USER, 'lakehouse-producer');
    });

    test(`${name}: Spark's driver and executors get the CA, the driver the pipeline user's password`, () => {
      const objects = render(bin, ['--set', 'engine=spark']);
      const bronze = hookJobsInOrder(objects).find((j) => j.metadata.name === 'lakehouse-bronze')!;
      const args: string[] = podSpecOf(bronze).containers[0].args;
      const secrets = args.filter((a) => /^spark\.kubernetes\.(driver|executor)\.secrets\./.test(a));
      assert.equal(secrets, [
        'spark.kubernetes.driver.secrets.lakehouse-kafka-ca=/etc/lakehouse/kafka-ca',
        'spark.kubernetes.executor.secrets.lakehouse-kafka-ca=/etc/lakehouse/kafka-ca',
        'spark.kubernetes.driver.secrets.lakehouse-kafka-user-pipeline=/etc/lakehouse/kafka-user',
      ]);
      assert.ok(
        args.includes('spark.kubernetes.driverEnv.LAKEHOUSE_KAFKA_PASSWORD_FILE=/etc/lakehouse/kafka-user/password'),
      );
    });

    test(`${name}: ci/plaintext-values.yaml (a trusted dev cluster) serves PLAINTEXT and mounts no Kafka Secret`, () => {
      const objects = render(bin, ['-f', `${CHART_DIR}/ci/plaintext-values.yaml`]);
      assert.is(
        kafkaEnv(objects).KAFKA_LISTENER_SECURITY_PROTOCOL_MAP,
        'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        "the listener's name before Kafka was secure",
      );
      assert.is(kafkaEnv(objects).KAFKA_INTER_BROKER_LISTENER_NAME, 'PLAINTEXT');
      assert.not.ok('KAFKA_AUTHORIZER_CLASS_NAME' in kafkaEnv(objects));
      assert.equal(
        objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name),
        ['lakehouse-kafka-cluster-id'],
      );
      for (const client of clients(objects)) {
        assert.equal(mountedSecrets(client), [], client.metadata.name);
        assert.is(envOf(podSpecOf(client).containers[0]).LAKEHOUSE_KAFKA_SECURITY, 'plaintext');
      }
    });

    test(`${name}: ci/external-kafka-values.yaml: the existing Kafka's CA and user Secrets, nothing generated`, () => {
      const objects = render(bin, ['-f', `${CHART_DIR}/ci/external-kafka-values.yaml`]);
      assert.equal(
        objects.filter((o) => o.kind === 'Secret'),
        [],
      );
      const mounts = Object.fromEntries(clients(objects).map((o) => [o.metadata.name, mountedSecrets(o)]));
      const ca = 'streaming-kafka-ca/ca.crt -> /etc/lakehouse/kafka-ca/ca.crt';
      assert.equal(mounts['lakehouse-topics'], [
        ca,
        'streaming-kafka-admin/password -> /etc/lakehouse/kafka-user/password',
      ]);
      assert.equal(mounts['lakehouse-producer'], [
        ca,
        'streaming-kafka-users/producer -> /etc/lakehouse/kafka-user/producer',
      ]);
      assert.equal(mounts['lakehouse-bronze'], [
        ca,
        'streaming-kafka-users/pipeline -> /etc/lakehouse/kafka-user/pipeline',
      ]);
      const topics = envOf(podSpecOf(hookJobsInOrder(objects)[0]!).containers[0]);
      assert.is(topics.LAKEHOUSE_KAFKA_SECURITY, 'sasl_ssl');
      assert.is(topics.LAKEHOUSE_KAFKA_USER, 'streaming-admin');
    });

    test(`${name}: an existing Kafka without a CA Secret trusts the public CAs; with allowPlaintext, SASL_PLAINTEXT`, () => {
      const base = [
        '--set',
        'kafka.enabled=false',
        '--set',
        'kafka.bootstrapServers=kafka.example.com:9093',
        '--set',
        'kafka.auth.existingSecret=users',
      ];
      const publicCa = envOf(podSpecOf(hookJobsInOrder(render(bin, base))[0]!).containers[0]);
      assert.is(publicCa.LAKEHOUSE_KAFKA_CA_FILE, 'system');
      const plain = render(bin, [
        ...base,
        '--set',
        'kafka.tls.enabled=false',
        '--set',
        'kafka.auth.allowPlaintext=true',
        '--set',
        'kafka.auth.mechanism=plain',
      ]);
      const topics = hookJobsInOrder(plain)[0]!;
      assert.is(envOf(podSpecOf(topics).containers[0]).LAKEHOUSE_KAFKA_SECURITY, 'sasl_plaintext');
      assert.is(envOf(podSpecOf(topics).containers[0]).LAKEHOUSE_KAFKA_SASL_MECHANISM, 'plain');
      assert.equal(mountedSecrets(topics), ['users/admin -> /etc/lakehouse/kafka-user/admin']);
      assert.is(
        envOf(podSpecOf(topics).containers[0]).LAKEHOUSE_KAFKA_PASSWORD_FILE,
        '/etc/lakehouse/kafka-user/admin',
      );
    });

    test(`${name}: a cert-manager issuer gets a Certificate for every address of Kafka, with a PKCS#8 key, and nothing generated`, () => {
      const objects = render(bin, [
        '--set',
        'kafka.tls.certManager.issuerRef.name=lakehouse-ca',
        '--set',
        'kafka.tls.certManager.issuerRef.kind=ClusterIssuer',
      ]);
      const certificate = objects.find((o) => o.kind === 'Certificate')!;
      assert.is(certificate.apiVersion, 'cert-manager.io/v1');
      assert.is(certificate.spec.secretName, 'lakehouse-kafka-tls');
      assert.equal(certificate.spec.issuerRef, {
        name: 'lakehouse-ca',
        kind: 'ClusterIssuer',
        group: 'cert-manager.io',
      });
      assert.is(certificate.spec.privateKey.encoding, 'PKCS8');
      assert.ok(certificate.spec.dnsNames.includes('lakehouse-kafka-0.lakehouse-kafka-headless.lakehouse.svc'));
      assert.ok(certificate.spec.usages.includes('client auth'), 'the controller listener is mutual TLS');
      assert.not.ok(
        secretNamed(objects, 'lakehouse-kafka-tls') || secretNamed(objects, 'lakehouse-kafka-ca'),
        'no generated certificate',
      );
      assert.equal(
        mountedSecrets(hookJobsInOrder(objects)[0]!)[0],
        'lakehouse-kafka-tls/ca.crt -> /etc/lakehouse/kafka-ca/ca.crt',
      );
      assert.not.ok(
        render(bin).some((o) => o.kind === 'Certificate'),
        'rendered only when an issuer is named',
      );
    });

    test(`${name}: an existing certificate Secret and node principal are used as given`, () => {
      const objects = render(bin, [
        '--set',
        'kafka.tls.existingSecret=my-kafka-tls',
        '--set',
        'kafka.tls.caSecret=my-kafka-ca',
        '--set',
        'kafka.tls.nodePrincipal=CN=kafka\\,O=example',
      ]);
      assert.not.ok(objects.some((o) => o.kind === 'Certificate') || secretNamed(objects, 'lakehouse-kafka-tls'));
      const sts = objects.find((o) => o.kind === 'StatefulSet')!;
      assert.is(
        sts.spec.template.spec.volumes.find((v: any) => v.name === 'kafka-tls').secret.secretName,
        'my-kafka-tls',
      );
      assert.is(kafkaEnv(objects).KAFKA_SUPER_USERS, 'User:CN=kafka,O=example;User:lakehouse-admin');
      assert.equal(
        mountedSecrets(hookJobsInOrder(objects)[0]!)[0],
        'my-kafka-ca/ca.crt -> /etc/lakehouse/kafka-ca/ca.crt',
      );
    });
  }
});

test.run();
