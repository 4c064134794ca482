// S3 requests signed with SigV4 by aws4fetch (the client the jobs bundle will ship), path-style.
import { AwsClient } from 'aws4fetch';
import type { CatalogSettings } from './settings.ts';

export type S3Access = Pick<
  CatalogSettings,
  'LAKEHOUSE_S3_ENDPOINT' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION'
>;

/** A signing client for `service` ("s3"; "s3tables" for SeaweedFS's table bucket API). */
export function s3Client(access: S3Access, service = 's3'): AwsClient {
  return new AwsClient({
    accessKeyId: access.AWS_ACCESS_KEY_ID,
    secretAccessKey: access.AWS_SECRET_ACCESS_KEY,
    region: access.AWS_REGION,
    service,
    // Our servers answer at once; a retried 5xx would only hide what a test looks for.
    retries: 0,
  });
}

/** `http://host:port/bucket[/key]`, each key segment escaped as SigV4 canonicalises it. */
export function s3Url(access: S3Access, bucket: string, key = ''): string {
  const path = key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `${access.LAKEHOUSE_S3_ENDPOINT}/${bucket}${key ? `/${path}` : ''}`;
}

/** Creates a plain bucket; one this identity already owns is fine. */
export async function createBucket(access: S3Access, bucket: string): Promise<void> {
  const response = await s3Client(access).fetch(s3Url(access, bucket), { method: 'PUT' });
  const body = await response.text();
  if (response.ok || (response.status === 409 && body.includes('BucketAlreadyOwnedByYou'))) return;
  throw new Error(`creating bucket ${bucket} at ${access.LAKEHOUSE_S3_ENDPOINT}: HTTP ${response.status} ${body}`);
}

/**
 * Creates a table bucket of SeaweedFS's S3 Tables API (`PUT /buckets`, signed for `s3tables`): its
 * Iceberg REST catalog serves each table bucket as a warehouse of its own (`s3://<bucket>`).
 */
export async function createTableBucket(access: S3Access, bucket: string): Promise<void> {
  const response = await s3Client(access, 's3tables').fetch(`${access.LAKEHOUSE_S3_ENDPOINT}/buckets`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  });
  const body = await response.text();
  if (response.ok || response.status === 409) return;
  throw new Error(
    `creating table bucket ${bucket} at ${access.LAKEHOUSE_S3_ENDPOINT}: HTTP ${response.status} ${body}`,
  );
}
