/**
 * Which protocol a Kafka listener speaks, found by asking it directly: a TLS handshake (any
 * certificate accepted: this only asks whether it speaks TLS), then, over TLS or not, one Kafka
 * SaslHandshake request with a mechanism no broker has. A listener with SASL answers with the
 * mechanisms it enables; one without answers ILLEGAL_SASL_STATE. A client of the wrong protocol only
 * sees its connection closed (KafkaJS: "Closed connection") and would retry until its wait ends.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config.ts';

export interface ListenerProtocol {
  readonly tls: boolean;
  /** Undefined when the listener spoke TLS but did not answer the SaslHandshake. */
  readonly sasl?: boolean;
  /** The SASL mechanisms it enables, when it has SASL. */
  readonly mechanisms?: readonly string[];
}

const SASL_HANDSHAKE = 17;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const CORRELATION_ID = 0x4c48;

/** SaslHandshake v1 (request header v1): size, api key, version, correlation id, client id, mechanism. */
function saslHandshakeRequest(): Buffer {
  const string = (value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(2);
    length.writeInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const header = Buffer.alloc(8);
  header.writeInt16BE(SASL_HANDSHAKE, 0);
  header.writeInt16BE(1, 2);
  header.writeInt32BE(CORRELATION_ID, 4);
  const body = Buffer.concat([header, string('lakehouse-probe'), string('LAKEHOUSE-PROBE')]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** The answer to saslHandshakeRequest, or undefined when `response` is not one. */
function parseSaslHandshake(response: Buffer): Pick<ListenerProtocol, 'sasl' | 'mechanisms'> | undefined {
  if (response.length < 14 || response.readInt32BE(0) !== response.length - 4) return undefined;
  if (response.readInt32BE(4) !== CORRELATION_ID) return undefined;
  const error = response.readInt16BE(8);
  if (error === ILLEGAL_SASL_STATE) return { sasl: false };
  if (error !== 0 && error !== UNSUPPORTED_SASL_MECHANISM) return undefined;
  const mechanisms: string[] = [];
  let at = 14;
  for (let count = response.readInt32BE(10); count > 0 && count < 64; count--) {
    if (at + 2 > response.length) return undefined;
    const length = response.readInt16BE(at);
    mechanisms.push(response.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  return { sasl: true, mechanisms };
}

/** Sends the SaslHandshake on `socket` and reads one whole response, within `ms`; destroys the socket. */
function askSasl(socket: net.Socket, ms: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const done = (value: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= received.readInt32BE(0) + 4) done(received);
      else if (received.length > 4096) done(undefined);
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.write(saslHandshakeRequest());
  });
}

/** A socket on which a TLS handshake completed within `ms`, or undefined. */
function tlsHandshake(host: string, port: number, ms: number): Promise<tls.TLSSocket | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ...(net.isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
    });
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, ms);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.on('error', fail);
  });
}

function tcpConnection(host: string, port: number, ms: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.on('error', fail);
  });
}

/** What the listener at host:port speaks; undefined when it cannot be told (nothing listens, or nothing answers within `ms` a step). */
export async function probeListener(host: string, port: number, ms = 3_000): Promise<ListenerProtocol | undefined> {
  const secure = await tlsHandshake(host, port, ms);
  if (secure) {
    const answer = await askSasl(secure, ms);
    const sasl = answer && parseSaslHandshake(answer);
    return { tls: true, ...sasl };
  }
  const plain = await tcpConnection(host, port, ms);
  const answer = plain && (await askSasl(plain, ms));
  const sasl = answer && parseSaslHandshake(answer);
  return sasl ? { tls: false, ...sasl } : undefined;
}

const described: Record<Config['kafkaSecurity'], string> = {
  sasl_ssl: 'TLS with SASL authentication (SASL_SSL)',
  ssl: 'TLS without SASL (SSL)',
  sasl_plaintext: 'SASL without TLS (SASL_PLAINTEXT)',
  plaintext: 'neither TLS nor SASL (PLAINTEXT)',
};

/** One line saying how the listener differs from the settings, or undefined when it does not (as far as the probe tells). */
export function protocolMismatch(config: Config, address: string, found: ListenerProtocol): string | undefined {
  const security = config.kafkaSecurity;
  const wantsTls = security === 'ssl' || security === 'sasl_ssl';
  const wantsSasl = security.startsWith('sasl_');
  if (found.sasl === undefined) {
    if (found.tls === wantsTls) return undefined;
    return `Kafka at ${address} speaks TLS but LAKEHOUSE_KAFKA_SECURITY=${security} (--kafka-security; ssl or sasl_ssl use TLS)`;
  }
  if (found.tls !== wantsTls || found.sasl !== wantsSasl) {
    const actual = `${found.sasl ? 'sasl_' : ''}${found.tls ? 'ssl' : 'plaintext'}` as Config['kafkaSecurity'];
    return (
      `Kafka at ${address} speaks ${described[actual]} but LAKEHOUSE_KAFKA_SECURITY=${security}: ` +
      `set LAKEHOUSE_KAFKA_SECURITY=${actual} (--kafka-security), or point KAFKA_BOOTSTRAP_SERVER at a listener that speaks ${described[security]}`
    );
  }
  const mechanism = config.kafkaSaslMechanism.toUpperCase();
  if (found.sasl && found.mechanisms && !found.mechanisms.includes(mechanism))
    return `Kafka at ${address} accepts the SASL mechanisms ${found.mechanisms.join(', ') || '(none)'}, not LAKEHOUSE_KAFKA_SASL_MECHANISM=${config.kafkaSaslMechanism}`;
  return undefined;
}

/** "host:port" of the broker a KafkaJS connection error names (KafkaJS keeps it on the error or one it wraps). */
function brokerOf(error: unknown): string | undefined {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.broker === 'string') return e.broker;
    if (typeof e.host === 'string' && typeof e.port === 'number') return `${e.host}:${e.port}`;
    e = (e.cause ?? e.originalError) as Record<string, unknown> | undefined;
  }
  return undefined;
}

/**
 * Probes the broker `error` names (else every bootstrap server) and says how its listener differs
 * from the settings; undefined when it does not, or when it cannot be told.
 */
export async function listenerMismatch(error: unknown, config: Config): Promise<string | undefined> {
  const named = brokerOf(error);
  const addresses = named ? [named] : config.bootstrapServers;
  const found = await Promise.all(
    addresses.map(async (address) => {
      const at = address.lastIndexOf(':');
      const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
      const probed = await probeListener(host, Number(address.slice(at + 1)));
      return probed && protocolMismatch(config, address, probed);
    }),
  );
  return found.find((message) => message !== undefined);
}

const nothingListening = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether `error` is a connection that ended, or timed out (`orTimedOut`), without a Kafka answer:
 * what a client of the wrong protocol sees. Not when nothing listens (Kafka not up yet).
 */
export function answeredNothing(error: unknown, orTimedOut: boolean): boolean {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && nothingListening.has(e.code)) return false;
    const name = String(e.name);
    const message = String(e.message);
    if (
      name === 'KafkaJSConnectionClosedError' ||
      /Closed connection|ECONNRESET|socket disconnected|EPIPE/.test(message)
    )
      return true;
    if (
      orTimedOut &&
      (name === 'KafkaJSRequestTimeoutError' || /Connection timeout|Request .*timed out/i.test(message))
    )
      return true;
    e = (e.cause ?? e.originalError) as Record<string, unknown> | undefined;
  }
  return false;
}
