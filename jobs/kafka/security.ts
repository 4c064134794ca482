import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { SYSTEM_CA, type Config } from '../config.ts';
import { protocolMismatch } from './listener-probe.ts';

/** Kafka cannot be used with these credentials or certificates; retrying will not help (exit 1). */
export class KafkaAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaAccessError';
  }
}

/**
 * KafkaJS's `ssl` and `sasl` options from the settings. The CA and the password are read here, at
 * start-up, so a missing or empty file stops the job naming the file before it touches Kafka.
 */
export function kafkaSecurityOptions(config: Config): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (config.kafkaSecurity === 'plaintext') return {};
  const tls = config.kafkaSecurity !== 'sasl_plaintext';
  const ssl =
    !tls || config.kafkaCaFile === SYSTEM_CA
      ? tls
      : { ca: [readSettingFile(config.kafkaCaFile, 'LAKEHOUSE_KAFKA_CA_FILE', 'CA certificate')] };
  if (config.kafkaSecurity === 'ssl') return { ssl };
  const password = readSettingFile(
    config.kafkaPasswordFile,
    'LAKEHOUSE_KAFKA_PASSWORD_FILE',
    `password of Kafka user "${config.kafkaUser}"`,
  );
  // The three mechanisms take the same fields; KafkaJS's type is a union keyed by the mechanism.
  const sasl = { mechanism: config.kafkaSaslMechanism, username: config.kafkaUser, password } as SASLOptions;
  return tls ? { ssl, sasl } : { sasl };
}

function readSettingFile(file: string, setting: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KafkaAccessError(
      `${setting}: cannot read the ${what} from ${file} (${code ?? (error as Error).message})`,
    );
  }
  // A Secret written with `echo` ends in a newline that is not part of the password.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new KafkaAccessError(`${setting}: ${file} (the ${what}) is empty`);
  return value;
}

/**
 * One line naming the user, host or file for a failure no retry can fix (a refused user, a
 * certificate that does not fit), or undefined for one worth retrying (Kafka still starting).
 */
export function securityFailure(error: unknown, config: Config): string | undefined {
  const hosts = config.bootstrapServers.join(',');
  const name = (error as Error)?.name ?? '';
  const message = String((error as Error)?.message ?? error);
  const unsupported = /SASL (\S+) mechanism is not supported/.exec(message);
  if (unsupported || findProperty(error, 'type') === 'UNSUPPORTED_SASL_MECHANISM') {
    return `Kafka at ${hosts} does not accept the SASL mechanism ${unsupported?.[1] ?? config.kafkaSaslMechanism.toUpperCase()} (LAKEHOUSE_KAFKA_SASL_MECHANISM=${config.kafkaSaslMechanism})`;
  }
  if (findProperty(error, 'type') === 'ILLEGAL_SASL_STATE' && config.kafkaSecurity.startsWith('sasl_')) {
    // It answered a SaslHandshake: the transport is as configured, the listener has no SASL.
    return protocolMismatch(config, hosts, { tls: config.kafkaSecurity === 'sasl_ssl', sasl: false });
  }
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(message)) {
    return (
      `Kafka at ${hosts} refused user "${config.kafkaUser}" (${config.kafkaSaslMechanism}): wrong password or unknown user ` +
      `(LAKEHOUSE_KAFKA_USER, LAKEHOUSE_KAFKA_PASSWORD_FILE=${config.kafkaPasswordFile})`
    );
  }
  const code = findProperty(error, 'code');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /does not match certificate's altnames/.test(message)) {
    return (
      `the TLS certificate of Kafka at ${hosts} is not issued for that host (${message}); ` +
      'connect by a name the certificate lists (KAFKA_BOOTSTRAP_SERVER) or reissue it'
    );
  }
  if (
    (code && tlsTrustCodes.has(code)) ||
    /self[- ]signed certificate|unable to (verify|get) .*certificate/i.test(message)
  ) {
    return `the TLS certificate of Kafka at ${hosts} is not signed by the CA in LAKEHOUSE_KAFKA_CA_FILE=${config.kafkaCaFile} (${code ?? message})`;
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(message)) {
    return `Kafka at ${hosts} did not answer TLS (${message}): is LAKEHOUSE_KAFKA_SECURITY=${config.kafkaSecurity} the listener's protocol?`;
  }
  return undefined;
}

const tlsTrustCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
]);

/** A string property (`code`, `type`) of `error` or of an error it wraps (KafkaJS keeps the cause as `originalError`/`cause`). */
export function findProperty(error: unknown, property: 'code' | 'type'): string | undefined {
  for (
    let e = error as { code?: unknown; type?: unknown; originalError?: unknown; cause?: unknown } | undefined,
      depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e[property] === 'string') return e[property];
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return undefined;
}
