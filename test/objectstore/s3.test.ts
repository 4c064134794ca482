// The S3 calls the lake's file interface will make, through aws4fetch (SigV4) against the real
// SeaweedFS: create-if-absent, ranged reads, listing under a prefix.
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createBucket, s3Client, s3Url } from '../../dev/objectstore/s3.ts';
import { sharedObjectStore } from '../support/objectstore-fixture.ts';

const bucket = `s3-test-${process.pid}-${randomBytes(3).toString('hex')}`;

async function store() {
  const settings = await sharedObjectStore();
  await createBucket(settings, bucket);
  return { settings, s3: s3Client(settings) };
}

/** ListObjectsV2's <Key>s, entities decoded (SeaweedFS escapes even the quotes of ETags). */
function keysOf(xml: string): string[] {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  const decode = (text: string) =>
    text.replace(/&(#\d+|#x[\da-f]+|\w+);/gi, (whole, name: string) =>
      name.startsWith('#x') || name.startsWith('#X')
        ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
        : name.startsWith('#')
          ? String.fromCodePoint(Number(name.slice(1)))
          : (entities[name] ?? whole),
    );
  return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => decode(match[1]));
}

test('PUT with If-None-Match: * creates an object once; the second PUT is refused with 412', async () => {
  const { settings, s3 } = await store();
  const url = s3Url(settings, bucket, 'metadata/v1.metadata.json');
  const put = (body: string) => s3.fetch(url, { method: 'PUT', body, headers: { 'if-none-match': '*' } });
  const first = await put('{"first":true}');
  assert.is(first.status, 200, await first.text());
  const second = await put('{"second":true}');
  const refusal = await second.text();
  assert.is(second.status, 412, refusal);
  assert.match(refusal, /PreconditionFailed/);
  const stored = await s3.fetch(url);
  assert.is(await stored.text(), '{"first":true}', 'the first write stands');
});

test('a ranged GET returns exactly the bytes asked for, with Content-Range', async () => {
  const { settings, s3 } = await store();
  const bytes = randomBytes(4096);
  const url = s3Url(settings, bucket, 'data/part=1/file 1.parquet');
  assert.is((await s3.fetch(url, { method: 'PUT', body: bytes })).status, 200);
  const middle = await s3.fetch(url, { headers: { range: 'bytes=1000-1999' } });
  assert.is(middle.status, 206);
  assert.is(middle.headers.get('content-range'), 'bytes 1000-1999/4096');
  assert.ok(Buffer.from(await middle.arrayBuffer()).equals(bytes.subarray(1000, 2000)));
  // A Parquet reader's first request: the footer, from the end.
  const footer = await s3.fetch(url, { headers: { range: 'bytes=-8' } });
  assert.is(footer.status, 206);
  assert.ok(Buffer.from(await footer.arrayBuffer()).equals(bytes.subarray(4088)));
});

test('ListObjectsV2 with a prefix lists the keys under it and nothing else', async () => {
  const { settings, s3 } = await store();
  const keys = ['list/a/1.avro', 'list/a/2.avro', 'list/a/sub/3.avro', 'list/ab/4.avro', 'list/b/5.avro'];
  for (const key of keys)
    assert.is((await s3.fetch(s3Url(settings, bucket, key), { method: 'PUT', body: key })).status, 200);
  const list = await s3.fetch(`${s3Url(settings, bucket)}?list-type=2&prefix=${encodeURIComponent('list/a/')}`);
  const xml = await list.text();
  assert.is(list.status, 200, xml);
  assert.equal(keysOf(xml).sort(), ['list/a/1.avro', 'list/a/2.avro', 'list/a/sub/3.avro']);
  const wrongSecret = s3Client({ ...settings, AWS_SECRET_ACCESS_KEY: `${settings.AWS_SECRET_ACCESS_KEY}x` });
  const refused = await wrongSecret.fetch(`${s3Url(settings, bucket)}?list-type=2`);
  assert.is(refused.status, 403, 'a request signed with another secret is refused');
});

test.run();
