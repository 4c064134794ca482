// The chart's Secrets and Kafka address wired to a local broker secured as the chart's Kafka is
// (TLS, SCRAM users, ACLs), for running rendered pods on this machine (container.ts).
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { knownBroker } from '../../dev/broker/clients.ts';
import { brokerTls } from '../../dev/broker/tls.ts';
import { kafkaUsers, passwordFile, type KafkaRole } from '../../dev/broker/users.ts';
import { newCluster, type Cluster } from './container.ts';
import type { RenderedObject } from './rendered.ts';

type Secrets = Map<string, Record<string, string>>;

/**
 * The chart's Secrets the jobs mount, with the local broker's CA and its users' passwords in place
 * of the ones the chart generates (the broker is secure as the chart's Kafka is: TLS, SCRAM, ACLs).
 */
function brokerSecrets(objects: readonly RenderedObject[], bootstrap: string): Map<string, Record<string, string>> {
  const access = knownBroker(bootstrap);
  if (!access) throw new Error(`${bootstrap} is no local broker this process started`);
  const secrets = new Map<string, Record<string, string>>([
    ['lakehouse-kafka-ca', { 'ca.crt': readFileSync(brokerTls().caFile, 'utf8') }],
    ...(Object.keys(kafkaUsers) as KafkaRole[]).map(
      (role) =>
        [`lakehouse-kafka-user-${role}`, { password: readFileSync(passwordFile(access.dataDir, role), 'utf8') }] as [
          string,
          Record<string, string>,
        ],
    ),
  ]);
  for (const name of secrets.keys())
    assert.ok(
      objects.some((o) => o.kind === 'Secret' && o.metadata.name === name),
      `the chart renders Secret ${name}`,
    );
  return secrets;
}

/** `secrets` and `urls`: more Secrets and the object store's addresses, for the lake in a REST catalog. */
export function brokerCluster(
  objects: readonly RenderedObject[],
  bootstrap: string,
  more: { secrets?: Secrets; urls?: ReadonlyMap<string, string> } = {},
): Cluster {
  const addresses = kafkaAddresses(objects, 'lakehouse');
  assert.ok(addresses.length > 0, 'the chart serves Kafka through a Service selecting the StatefulSet');
  return newCluster(
    objects,
    new Map(addresses.map((a) => [a, bootstrap])),
    new Map([...brokerSecrets(objects, bootstrap), ...(more.secrets ?? [])]),
    more.urls,
  );
}

/** The Kafka addresses the chart serves: its client Service, as the jobs are told to reach it. */
function kafkaAddresses(objects: readonly RenderedObject[], namespace: string): string[] {
  const kafkaPods = objects.find(
    (o) => o.kind === 'StatefulSet' && o.metadata.labels?.['app.kubernetes.io/component'] === 'kafka',
  )!.spec.template.metadata.labels;
  return objects
    .filter((o) => o.kind === 'Service' && o.spec.clusterIP !== 'None')
    .filter((s) => Object.entries(s.spec.selector).every(([k, v]) => kafkaPods[k] === v))
    .flatMap((s) => s.spec.ports.map((p: any) => `${s.metadata.name}.${namespace}.svc:${p.port}`));
}
