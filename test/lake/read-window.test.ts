// How an object on object storage is read (jobs/lake/io/read-window.ts): every slice is exactly
// the object's bytes, whatever the order and size of the slices, with few requests; and the same
// through S3FileIO on the real SeaweedFS.
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { S3FileIO } from '../../jobs/lake/io/s3-file-io.ts';
import { windowedSlices } from '../../jobs/lake/io/read-window.ts';
import { createBucket } from '../../dev/objectstore/s3.ts';
import { sharedObjectStore } from '../support/objectstore-fixture.ts';

const object = randomBytes(3 * 1024 * 1024 + 17);

/** The object behind a fetchRange that records the ranges asked for. */
function recorded(failFirst = false) {
  const requests: [number, number][] = [];
  let failNext = failFirst;
  const fetchRange = async (start: number, end: number) => {
    requests.push([start, end]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (failNext) {
      failNext = false;
      throw new Error('connection reset');
    }
    return object.buffer.slice(object.byteOffset + start, object.byteOffset + end) as ArrayBuffer;
  };
  return { requests, fetchRange };
}

const same = (got: ArrayBuffer, start: number, end: number) =>
  assert.ok(Buffer.from(got).equals(object.subarray(start, Math.min(end, object.length))), `bytes ${start}..${end}`);

test('sequential small slices are served by one request per window', async () => {
  const { requests, fetchRange } = recorded();
  const slice = windowedSlices(object.length, fetchRange, { windowBytes: 1 << 20, windows: 2 });
  for (let at = 0; at < object.length; at += 4096) same(await slice(at, at + 4096), at, at + 4096);
  assert.equal(requests, [
    [0, 1 << 20],
    [1 << 20, 2 << 20],
    [2 << 20, 3 << 20],
    [3 << 20, object.length],
  ]);
});

test('any slices, in any order, are the bytes of the object; the windows held are bounded', async () => {
  const { requests, fetchRange } = recorded();
  const slice = windowedSlices(object.length, fetchRange, { windowBytes: 64 << 10, windows: 3 });
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    const start = next(object.length);
    const end = start + next(i % 50 === 0 ? 300_000 : 5_000);
    same(await slice(start, end), start, end);
  }
  // The footer, the end of the object, an empty and a backwards slice.
  same(await slice(object.length - 8), object.length - 8, object.length);
  same(await slice(object.length - 8, object.length + 100), object.length - 8, object.length);
  assert.is((await slice(10, 10)).byteLength, 0);
  assert.is((await slice(10, 5)).byteLength, 0);
  // A slice longer than a window is one request of its own length.
  const before = requests.length;
  same(await slice(5, 5 + (200 << 10)), 5, 5 + (200 << 10));
  assert.equal(requests.slice(before), [[5, 5 + (200 << 10)]]);
  assert.ok(requests.length < 2000, `${requests.length} requests for 2000 slices of 64 KiB windows`);
});

test('slices inside a window being fetched share its request', async () => {
  const { requests, fetchRange } = recorded();
  const slice = windowedSlices(object.length, fetchRange, { windowBytes: 1 << 20, windows: 2 });
  const parts = await Promise.all([slice(0, 100), slice(100, 5000), slice(70_000, 80_000)]);
  same(parts[0], 0, 100);
  same(parts[1], 100, 5000);
  same(parts[2], 70_000, 80_000);
  assert.is(requests.length, 1);
});

test('a failed request fails its slices and is asked again by the next', async () => {
  const { requests, fetchRange } = recorded(true);
  const slice = windowedSlices(object.length, fetchRange, { windowBytes: 1 << 20, windows: 2 });
  try {
    await slice(0, 10);
    assert.unreachable('the first request fails');
  } catch (error) {
    assert.match((error as Error).message, /connection reset/);
  }
  same(await slice(0, 10), 0, 10);
  assert.is(requests.length, 2);
});

test('S3FileIO reads an object on SeaweedFS slice by slice, exactly', async () => {
  const settings = await sharedObjectStore();
  const bucket = `read-window-${process.pid}`;
  await createBucket(settings, bucket);
  const io = new S3FileIO({
    endpoint: settings.LAKEHOUSE_S3_ENDPOINT,
    region: settings.AWS_REGION,
    accessKeyId: settings.AWS_ACCESS_KEY_ID,
    secretAccessKey: settings.AWS_SECRET_ACCESS_KEY,
  });
  const uri = `s3://${bucket}/data/file.parquet`;
  await io.write(uri, object);
  const input = await io.open(uri);
  assert.is(input.byteLength, object.length);
  const chunks: Buffer[] = [];
  for (let at = 0; at < object.length; at += 100_003) chunks.push(Buffer.from(await input.slice(at, at + 100_003)));
  assert.ok(Buffer.concat(chunks).equals(object));
  same(await input.slice(object.length - 8), object.length - 8, object.length);
});

test.run();
