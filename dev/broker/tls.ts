// The local broker's TLS material: a CA and a server certificate for 127.0.0.1, made once
// with openssl into the cache and reused by every broker (a new CA per start would force every
// client to re-read it; the private keys never leave this machine).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lakehouseCache } from './paths.ts';

export interface BrokerTls {
  /** PEM CA certificate the clients trust. */
  readonly caFile: string;
  /** PEM private key (PKCS#8) followed by the server certificate and the CA: Kafka's PEM keystore. */
  readonly keystoreFile: string;
  /** The server certificate's subject, the principal of the controller's mutual-TLS connections. */
  readonly serverPrincipal: string;
}

const SUBJECT = 'CN=lakehouse-broker';

export function brokerTls(): BrokerTls {
  const dir = join(lakehouseCache(), 'kafka-tls-v2');
  const tls = {
    caFile: join(dir, 'ca.crt'),
    keystoreFile: join(dir, 'server-keystore.pem'),
    serverPrincipal: `User:${SUBJECT}`,
  };
  if (existsSync(tls.caFile) && existsSync(tls.keystoreFile)) return tls;
  mkdirSync(lakehouseCache(), { recursive: true });
  const work = mkdtempSync(join(lakehouseCache(), 'kafka-tls-tmp-'));
  try {
    makeCertificates(work);
    try {
      renameSync(work, dir);
    } catch (error) {
      // Another process made them first: theirs are as good.
      if (!existsSync(tls.keystoreFile)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return tls;
}

/**
 * A CA, then a server key and certificate it signs for the address clients use (the broker
 * advertises 127.0.0.1). Only that address: `localhost` is then a name of the same broker that its
 * certificate does not list, which is how the tests see a host mismatch refused.
 */
export function makeCertificates(dir: string, sans = 'IP:127.0.0.1', subject = SUBJECT): void {
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
      throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr || (error as Error).message}`);
    }
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    '/CN=lakehouse-dev-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/${subject}`,
  );
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '3650',
    '-extfile',
    'server.ext',
  );
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server-pkcs8.key');
  execFileSync('sh', ['-c', 'cat server-pkcs8.key server.crt ca.crt > server-keystore.pem'], { cwd: dir });
}
