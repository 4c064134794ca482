// The broker's server.properties: one KRaft node acting as broker and controller on loopback.
import type { BrokerTls } from './tls.ts';
import { kafkaUsers, SASL_MECHANISM } from './users.ts';

export interface ServerConfigInput {
  readonly clientPort: number;
  readonly controllerPort: number;
  readonly logDir: string;
  /**
   * TLS on both listeners, SCRAM users on the client one, ACLs by StandardAuthorizer; without it,
   * PLAINTEXT as before (for measuring what security costs).
   */
  readonly secure?: { readonly tls: BrokerTls; readonly adminPassword: string };
  /** Overrides and additions, applied last. */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
}

export function serverProperties(input: ServerConfigInput): string {
  const { clientPort, controllerPort, logDir } = input;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `CLIENT://127.0.0.1:${clientPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `CLIENT://127.0.0.1:${clientPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'CLIENT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,CLIENT:PLAINTEXT',
    ...(input.secure ? secureSettings(input.secure) : {}),
    'log.dirs': logDir,
    'num.partitions': 3,
    // One node: every internal topic must be satisfiable with a single replica.
    'offsets.topic.replication.factor': 1,
    // 50 (the default) makes the first group join noticeably slower on a 2-core machine.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    ...input.extra,
  };
  for (const [key, value] of Object.entries(settings)) {
    if (!/^[a-z0-9.\-_]+$/i.test(key)) throw new Error(`broker config: bad property name ${JSON.stringify(key)}`);
    if (/[\r\n]/.test(String(value))) throw new Error(`broker config: ${key} contains a line break`);
  }
  return (
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n') + '\n'
  );
}

function secureSettings({ tls, adminPassword }: NonNullable<ServerConfigInput['secure']>): Record<string, string> {
  const admin = kafkaUsers.admin;
  return {
    // KRaft controllers cannot use SCRAM (its credentials live in the metadata they serve), so the
    // controller listener authenticates the node itself by mutual TLS.
    'listener.security.protocol.map': 'CONTROLLER:SSL,CLIENT:SASL_SSL',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': tls.keystoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tls.caFile,
    'listener.name.controller.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': SASL_MECHANISM,
    'sasl.mechanism.inter.broker.protocol': SASL_MECHANISM,
    'listener.name.client.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${adminPassword}";`,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `${tls.serverPrincipal};User:${admin}`,
    'allow.everyone.if.no.acl.found': 'false',
  };
}
