// How a client reaches a local broker: KafkaJS options, job settings and Java client properties,
// each for one of the broker's users.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaConfig } from 'kafkajs';
import { parseArgs } from '../../jobs/config.ts';
import type { BrokerAccess } from './handle.ts';
import { readState } from './state-file.ts';
import { brokerTls } from './tls.ts';
import { kafkaUsers, passwordFile, SASL_MECHANISM, type KafkaRole } from './users.ts';

const known = new Map<string, BrokerAccess>();

/**
 * A broker's access (JSON) handed to child processes that run jobs themselves (`npm run local`, a
 * test's own job processes), so that they find a broker their parent started.
 */
export const DEV_BROKER_ENV = 'LAKEHOUSE_DEV_BROKER';

/** Records a broker this process started, so that `knownBroker` finds it by its address. */
export function rememberBroker(access: BrokerAccess): void {
  known.set(access.bootstrap, { bootstrap: access.bootstrap, dataDir: access.dataDir, security: access.security });
}

/**
 * The local broker at `bootstrap`: one this process started, the one in LAKEHOUSE_DEV_BROKER, or
 * the one `npm run broker -- start` recorded; undefined for any other address.
 */
export function knownBroker(bootstrap: string | undefined): BrokerAccess | undefined {
  if (!bootstrap) return undefined;
  const started = known.get(bootstrap);
  if (started) return started;
  const inherited = process.env[DEV_BROKER_ENV];
  if (inherited) {
    const access = JSON.parse(inherited) as BrokerAccess;
    if (access.bootstrap === bootstrap) return access;
  }
  const recorded = readState();
  return recorded?.bootstrap === bootstrap ? recorded : undefined;
}

/**
 * `env` with, under its own settings, those that sign `job` in to the local broker it names: its
 * `--bootstrap-server` among `args`, else its KAFKA_BOOTSTRAP_SERVER. For any other Kafka, `env` as it is.
 */
export function withBrokerAccess(
  job: string,
  env: Readonly<Record<string, string | undefined>>,
  args: readonly string[] = [],
): Record<string, string | undefined> {
  const access = knownBroker(parseArgs(args).flags.get('bootstrap-server') ?? env.KAFKA_BOOTSTRAP_SERVER);
  return access ? { ...jobKafkaEnv(access, job), ...env } : { ...env };
}

/** The user each job signs in as: the chart gives each Job the same one. */
export function roleOfJob(job: string): KafkaRole {
  if (job === 'topics') return 'admin';
  if (job === 'produce') return 'producer';
  return 'pipeline';
}

/** KafkaJS `ssl` and `sasl` options for `role`. */
export function kafkaJsSecurity(access: BrokerAccess, role: KafkaRole): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (access.security === 'plaintext') return {};
  return {
    ssl: { ca: [readFileSync(brokerTls().caFile, 'utf8')] },
    sasl: {
      mechanism: 'scram-sha-512',
      username: kafkaUsers[role],
      password: readFileSync(passwordFile(access.dataDir, role), 'utf8'),
    },
  };
}

/** The job settings (docs/contract.md) that make `job` sign in as its user. */
export function jobKafkaEnv(access: BrokerAccess, job: string): Record<string, string> {
  if (access.security === 'plaintext') return { LAKEHOUSE_KAFKA_SECURITY: 'plaintext' };
  const role = roleOfJob(job);
  return {
    LAKEHOUSE_KAFKA_SECURITY: 'sasl_ssl',
    LAKEHOUSE_KAFKA_SASL_MECHANISM: SASL_MECHANISM.toLowerCase(),
    LAKEHOUSE_KAFKA_CA_FILE: brokerTls().caFile,
    LAKEHOUSE_KAFKA_USER: kafkaUsers[role],
    LAKEHOUSE_KAFKA_PASSWORD_FILE: passwordFile(access.dataDir, role),
  };
}

/** Java client properties (for Kafka's own tools) for `role`. */
export function javaClientProperties(access: BrokerAccess, role: KafkaRole): Record<string, string> {
  if (access.security === 'plaintext') return { 'security.protocol': 'PLAINTEXT' };
  const password = readFileSync(passwordFile(access.dataDir, role), 'utf8');
  return {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': SASL_MECHANISM,
    'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${kafkaUsers[role]}" password="${password}";`,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': brokerTls().caFile,
  };
}

/** A Java properties file's text: one `key=value` a line, backslashes escaped. */
export function javaPropertiesText(entries: Record<string, string | number>): string {
  return Object.entries(entries)
    .map(([key, value]) => `${key}=${String(value).replace(/\\/g, '\\\\')}\n`)
    .join('');
}

/** Writes javaClientProperties into the broker's data directory; returns the file (for --command-config). */
export function javaClientConfigFile(access: BrokerAccess, role: KafkaRole): string {
  const file = join(access.dataDir, `client-${role}.properties`);
  writeFileSync(file, javaPropertiesText(javaClientProperties(access, role)), { mode: 0o600 });
  return file;
}
