// The object store's one S3 identity: a random access key and secret per store, in SeaweedFS's
// identity file (-s3.config). The same pair signs S3 requests (SigV4) and, as OAuth2 client
// credentials, obtains the Iceberg catalog's bearer tokens.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Hex only: the pair travels as `id:secret` (PyIceberg's credential) and in form bodies unescaped. */
export function newCredentials(): S3Credentials {
  return {
    accessKeyId: `LH${randomBytes(9).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString('hex'),
  };
}

/** Writes the identity file: one identity allowed everything (it administers the store's buckets). */
export function writeIdentityFile(file: string, credentials: S3Credentials): void {
  const identity = {
    name: 'lakehouse',
    credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }],
    actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
  };
  writeFileSync(file, `${JSON.stringify({ identities: [identity] }, null, 2)}\n`, { mode: 0o600 });
}
