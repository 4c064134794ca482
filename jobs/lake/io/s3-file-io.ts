/**
 * FileIO on S3-compatible object storage (`s3://bucket/key`), through SigV4-signed `fetch`
 * (aws4fetch) with path-style addressing. `create` is a PUT with `If-None-Match: *` and `replace`
 * one with `If-Match: <etag>`: the store decides which of two writers wins. New objects are written
 * to a local staging file first (Parquet writers write files) and streamed up when published.
 */
import { isUnreached } from './unreached.ts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AwsClient } from 'aws4fetch';
import { FileNotFoundError, type FileInfo, type FileIO, type InputFile, type OutputFile } from './file-io.ts';
import { windowedSlices } from './read-window.ts';

export interface S3Settings {
  /** e.g. `http://127.0.0.1:8333`; empty for AWS's own endpoint of the region. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Where new objects are staged before upload. */
  readonly stagingDir?: string;
}

/** An S3 request that failed: the operation, the location and what the store answered. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly uri: string,
    message: string,
  ) {
    super(message);
  }
}

const attempts = 5;
const requestTimeoutMs = 60_000;

/** `s3://bucket/key` → bucket and key (also `s3a:`, as Spark's writers may spell it). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`${uri}: not an s3:// location`);
  return { bucket: match[1], key: match[2] };
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** The text of an XML element, entities decoded (SeaweedFS escapes quotes in ETags). */
function xmlText(xml: string, tag: string): string[] {
  const values: string[] = [];
  for (const match of xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))) {
    values.push(
      match[1]
        .replace(/&#34;|&quot;/g, '"')
        .replace(/&#39;|&apos;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
  }
  return values;
}

export class S3FileIO implements FileIO {
  private readonly client: AwsClient;
  private readonly endpoint: string;
  private readonly stagingDir: string;

  constructor(settings: S3Settings) {
    this.client = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      sessionToken: settings.sessionToken,
      service: 's3',
      region: settings.region,
    });
    this.endpoint = (settings.endpoint || `https://s3.${settings.region}.amazonaws.com`).replace(/\/+$/, '');
    this.stagingDir = settings.stagingDir ?? path.join(os.tmpdir(), 'lakehouse-staging');
  }

  private url(uri: string, query = ''): string {
    const { bucket, key } = parseS3Uri(uri);
    return `${this.endpoint}/${encodeURIComponent(bucket)}/${encodeKey(key)}${query}`;
  }

  /**
   * One request, tried again on a server error or a dropped connection (a store restarting answers
   * 500/503); with `retry` false (a create-if-absent, whose retry would find its own object) only
   * when it never reached the store.
   */
  private async request(
    uri: string,
    url: string,
    init: RequestInit & { duplex?: 'half' },
    retry = true,
  ): Promise<Response> {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await this.client.fetch(url, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
        if (response.status < 500 || attempt === attempts || !retry) return response;
        last = new S3Error(
          response.status,
          uri,
          `${init.method ?? 'GET'} ${uri}: ${response.status} ${await response.text()}`,
        );
      } catch (error) {
        last = error;
        // A request that never reached the store is retried whatever it is (nothing was sent).
        if ((!retry && !isUnreached(error)) || attempt === attempts) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
    throw last instanceof S3Error
      ? last
      : new S3Error(0, uri, `${init.method ?? 'GET'} ${uri} at ${this.endpoint}: ${(last as Error)?.message ?? last}`);
  }

  private async fail(uri: string, method: string, response: Response): Promise<never> {
    const body = await response.text();
    const code = xmlText(body, 'Code')[0] ?? '';
    const message = xmlText(body, 'Message')[0] ?? body.slice(0, 200);
    throw new S3Error(response.status, uri, `${method} ${uri}: ${response.status} ${code} ${message}`.trim());
  }

  async read(uri: string): Promise<Uint8Array> {
    const response = await this.request(uri, this.url(uri), {});
    if (response.status === 404) throw new FileNotFoundError(uri);
    if (!response.ok) return this.fail(uri, 'GET', response);
    return new Uint8Array(await response.arrayBuffer());
  }

  async readVersioned(uri: string) {
    const response = await this.request(uri, this.url(uri), {});
    if (response.status === 404) return undefined;
    if (!response.ok) return this.fail(uri, 'GET', response);
    return { bytes: new Uint8Array(await response.arrayBuffer()), version: response.headers.get('etag') ?? '' };
  }

  async open(uri: string): Promise<InputFile> {
    const info = await this.stat(uri);
    if (!info) throw new FileNotFoundError(uri);
    const byteLength = info.size;
    const url = this.url(uri);
    const range = async (start: number, end: number) => {
      const response = await this.request(uri, url, { headers: { range: `bytes=${start}-${end - 1}` } });
      if (response.status === 404) throw new FileNotFoundError(uri);
      if (response.status !== 206 && !response.ok) return this.fail(uri, 'GET', response);
      const bytes = await response.arrayBuffer();
      // A store that ignores Range answers 200 with the whole object.
      return response.status === 206 ? bytes : bytes.slice(start, end);
    };
    return { uri, byteLength, slice: windowedSlices(byteLength, range) };
  }

  async stat(uri: string): Promise<FileInfo | undefined> {
    const response = await this.request(uri, this.url(uri), { method: 'HEAD' });
    if (response.status === 404) return undefined;
    if (!response.ok) return this.fail(uri, 'HEAD', response);
    return {
      uri,
      size: Number(response.headers.get('content-length') ?? 0),
      modifiedMs: Date.parse(response.headers.get('last-modified') ?? '') || 0,
    };
  }

  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const response = await this.request(uri, this.url(uri), { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> });
    if (!response.ok) await this.fail(uri, 'PUT', response);
  }

  async create(uri: string, bytes: Uint8Array): Promise<boolean> {
    // Not retried: a retry of a create that landed would find its own object and report a loss.
    const response = await this.request(
      uri,
      this.url(uri),
      { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'if-none-match': '*' } },
      false,
    );
    if (response.status === 412 || response.status === 409) return false;
    if (!response.ok) await this.fail(uri, 'PUT', response);
    return true;
  }

  async replace(uri: string, bytes: Uint8Array, version: string): Promise<boolean> {
    const response = await this.request(
      uri,
      this.url(uri),
      { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'if-match': version } },
      false,
    );
    if (response.status === 412 || response.status === 404 || response.status === 409) return false;
    if (!response.ok) await this.fail(uri, 'PUT', response);
    return true;
  }

  output(uri: string): OutputFile {
    fs.mkdirSync(this.stagingDir, { recursive: true });
    const localPath = path.join(this.stagingDir, `${randomUUID()}-${path.posix.basename(parseS3Uri(uri).key)}`);
    let published = false;
    return {
      uri,
      localPath,
      publish: async () => {
        const size = fs.statSync(localPath).size;
        const body = Readable.toWeb(fs.createReadStream(localPath)) as ReadableStream<Uint8Array>;
        const response = await this.request(
          uri,
          this.url(uri),
          { method: 'PUT', body, duplex: 'half', headers: { 'content-length': String(size) } },
          false,
        );
        if (!response.ok) await this.fail(uri, 'PUT', response);
        published = true;
        fs.rmSync(localPath, { force: true });
      },
      discard: async () => {
        fs.rmSync(localPath, { force: true });
        if (published) await this.delete(uri);
      },
    };
  }

  async *list(prefix: string): AsyncIterable<FileInfo> {
    const { bucket, key } = parseS3Uri(prefix);
    const base = key === '' || key.endsWith('/') ? key : `${key}/`;
    for await (const page of this.pages(bucket, base, undefined)) {
      for (const object of page.objects) yield object;
    }
  }

  async children(prefix: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefix);
    const base = key === '' || key.endsWith('/') ? key : `${key}/`;
    const names = new Set<string>();
    for await (const page of this.pages(bucket, base, '/')) {
      for (const object of page.objects) names.add(object.uri.slice(`s3://${bucket}/${base}`.length));
      for (const common of page.prefixes) names.add(common.slice(base.length).replace(/\/$/, ''));
    }
    return [...names].sort();
  }

  private async *pages(bucket: string, prefix: string, delimiter: string | undefined) {
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix });
      if (delimiter) query.set('delimiter', delimiter);
      if (token) query.set('continuation-token', token);
      const uri = `s3://${bucket}/${prefix}`;
      const url = `${this.endpoint}/${encodeURIComponent(bucket)}?${query.toString().replace(/\+/g, '%20')}`;
      const response = await this.request(uri, url, {});
      if (response.status === 404) return;
      if (!response.ok) await this.fail(uri, 'LIST', response);
      const xml = await response.text();
      const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({
        uri: `s3://${bucket}/${xmlText(m[1], 'Key')[0]}`,
        size: Number(xmlText(m[1], 'Size')[0] ?? 0),
        modifiedMs: Date.parse(xmlText(m[1], 'LastModified')[0] ?? '') || 0,
      }));
      const prefixes = [...xml.matchAll(/<CommonPrefixes>([\s\S]*?)<\/CommonPrefixes>/g)].map(
        (m) => xmlText(m[1], 'Prefix')[0],
      );
      yield { objects, prefixes };
      token = xmlText(xml, 'IsTruncated')[0] === 'true' ? xmlText(xml, 'NextContinuationToken')[0] : undefined;
    } while (token);
  }

  async touch(uri: string, ms: number): Promise<void> {
    const info = await this.stat(uri);
    if (!info || info.modifiedMs >= ms) return;
    // An object's time cannot be set: a copy onto itself makes it now, which is later than asked.
    const { bucket, key } = parseS3Uri(uri);
    const response = await this.request(uri, this.url(uri), {
      method: 'PUT',
      headers: { 'x-amz-copy-source': `/${bucket}/${encodeKey(key)}`, 'x-amz-metadata-directive': 'REPLACE' },
    });
    if (!response.ok) await this.fail(uri, 'COPY', response);
  }

  async delete(uri: string): Promise<void> {
    const response = await this.request(uri, this.url(uri), { method: 'DELETE' });
    if (!response.ok && response.status !== 404) await this.fail(uri, 'DELETE', response);
  }

  join(base: string, relative: string): string {
    return `${base.replace(/\/+$/, '')}/${relative.replace(/^\/+/, '')}`;
  }

  contains(location: string, uri: string): boolean {
    let root: { bucket: string; key: string };
    let target: { bucket: string; key: string };
    try {
      root = parseS3Uri(location);
      target = parseS3Uri(uri);
    } catch {
      return false;
    }
    const segments = target.key.split('/');
    // Keys are names, not paths, but stores and tools resolve `.` and `..`: refuse them, and empty segments.
    if (segments.some((s) => s === '.' || s === '..' || s === '')) return false;
    const base = root.key.replace(/\/+$/, '');
    return target.bucket === root.bucket && (base === '' || target.key.startsWith(`${base}/`));
  }

  canonical(uri: string): string {
    return uri.replace(/^s3a:\/\//, 's3://');
  }
}
