// The KafkaJS patches of the jobs' bundle (generator/kafkajs-patches.ts) change how fast, not what:
// the patched modules, built as the bundle builds them, give the same groups and the same bytes
// on the wire as KafkaJS's own for the same input.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KAFKAJS_PATCHES, kafkajsPatches, LINEAR_GROUPING, SLICING_CRC32C } from '../../generator/kafkajs-patches.ts';
import { jobsBuildOptions, REPO_ROOT } from '../../generator/bundle-jobs.ts';

type Grouping = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (a: { message: unknown }) => number;
}) => Record<string, unknown[]>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- KafkaJS's protocol modules are untyped; each write returns the encoder.
type Encoded = { buffer: Buffer; [write: string]: any };
type EncoderClass = new () => Encoded;
type RecordBatchDecoder = (decoder: unknown) => Promise<{ records: Record<string, unknown>[] }>;
type ProduceRequest = (args: Record<string, unknown>) => { encode(): Promise<Encoded> };
const require = createRequire(import.meta.url);
const original = {
  grouping: require('kafkajs/src/producer/groupMessagesPerPartition.js') as Grouping,
  Encoder: require('kafkajs/src/protocol/encoder.js') as EncoderClass,
  produceV3: require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceRequest,
};
const originalBatch = {
  Record: require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: Record<string, unknown>) => Encoded,
  RecordBatch: (
    require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
      RecordBatch: (b: Record<string, unknown>) => Promise<Encoded>;
    }
  ).RecordBatch,
  decode: require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as RecordBatchDecoder,
  Decoder: require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown,
};
const originalCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown; fromString(s: string): unknown };

/** The modules as the bundle has them: built with the same plugin, then imported (once). */
async function buildPatchedModules(): Promise<{
  Encoder: EncoderClass;
  produceV3: ProduceRequest;
  Decoder: new (b: Buffer) => Record<string, () => number>;
  decodeRecordBatch: RecordBatchDecoder;
}> {
  const result = await build({
    stdin: {
      contents: [
        'export { default as Encoder } from "kafkajs/src/protocol/encoder.js";',
        'export { default as Decoder } from "kafkajs/src/protocol/decoder.js";',
        'export { default as produceV3 } from "kafkajs/src/protocol/requests/produce/v3/request.js";',
        'export { default as decodeRecordBatch } from "kafkajs/src/protocol/recordBatch/v0/decoder.js";',
      ].join('\n'),
      resolveDir: REPO_ROOT,
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    plugins: [kafkajsPatches],
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-kafkajs-patched-'));
  try {
    const file = path.join(dir, 'patched.mjs');
    writeFileSync(file, result.outputFiles[0].text);
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let built: ReturnType<typeof buildPatchedModules> | undefined;
const patchedModules = () => (built ??= buildPatchedModules());

test("the linear grouping returns what KafkaJS's own returns: the same partitions, each in message order", () => {
  let seed = 7;
  const random = () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  const linear = require(LINEAR_GROUPING) as Grouping;
  for (const [count, partitions] of [
    [0, 3],
    [1, 1],
    [17, 3],
    [1000, 3],
    [2500, 8],
    [300, 64],
  ]) {
    const messages = Array.from({ length: count }, (_, i) => ({
      key: `vehicle-${Math.floor(random() * 50)}`,
      value: `event ${i}`,
      partition: Math.floor(random() * partitions),
    }));
    const args = {
      topic: 't',
      partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i })),
      messages,
      partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition,
    };
    const expected = original.grouping(args);
    const got = linear(args);
    assert.equal(got, expected, `${count} messages over ${partitions} partitions`);
    assert.equal(Object.keys(got), Object.keys(expected));
    for (const key of Object.keys(got))
      for (let i = 0; i < got[key].length; i++) assert.is(got[key][i], expected[key][i]);
  }
  assert.equal(linear({ topic: 't', partitionMetadata: [], messages: [{}], partitioner: () => 0 }), {});
});

test("the patched Encoder writes the bytes KafkaJS's writes, and its Decoder reads the values back", async () => {
  const patched = await patchedModules();
  const values = [
    0,
    1,
    63,
    64,
    127,
    128,
    255,
    300,
    16383,
    16384,
    2 ** 21 - 1,
    2 ** 21,
    2 ** 28,
    2 ** 31 - 1,
    -1,
    -64,
    -65,
    -300,
    -(2 ** 31),
  ];
  for (const value of values) {
    for (const method of ['writeVarInt', 'writeUVarInt']) {
      if (method === 'writeUVarInt' && value < 0) continue;
      const want = new original.Encoder()[method](value).buffer;
      const got = new patched.Encoder()[method](value).buffer;
      assert.equal([...got], [...want], `${method}(${value})`);
      const read = new patched.Decoder(got)[method === 'writeVarInt' ? 'readVarInt' : 'readUVarInt']();
      assert.is(read, value, `${method}(${value}) read back`);
    }
  }
  // Many writes into one encoder: it grows past its first buffer without losing what it holds.
  const mixed = (E: EncoderClass) => {
    const e = new E();
    for (let i = 0; i < 2000; i++)
      e.writeVarInt(i * 7919 - 5_000_000)
        .writeString(`vehicle-${i}-é`)
        .writeVarIntBytes(i % 3 ? Buffer.from([i & 255, 0, 255]) : null);
    return e.buffer;
  };
  assert.ok(Buffer.compare(mixed(patched.Encoder), mixed(original.Encoder)) === 0, '2000 mixed writes differ');
});

test("the patched Encoder's varlongs: the same sizes and bytes as KafkaJS's for numbers in and beyond the varint way, and Longs", async () => {
  const { Encoder } = await patchedModules();
  const Original = original.Encoder as unknown as { sizeOfVarLong(v: unknown): number };
  const Patched = Encoder as unknown as { sizeOfVarLong(v: unknown): number };
  const edges = [0, 1, -1, 63, -64, -65, 8191, 2 ** 29, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1];
  const values: unknown[] = [...edges, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3, -(2 ** 45), Number.MAX_SAFE_INTEGER];
  values.push('1795000000013', Long.fromString('-9000000000'), Long.fromInt(300));
  for (const value of values) {
    const want = new original.Encoder().writeVarLong(value).buffer;
    const got = new Encoder().writeVarLong(value).buffer;
    assert.equal([...got], [...want], `writeVarLong(${value})`);
    assert.is(Patched.sizeOfVarLong(value), Original.sizeOfVarLong(value), `sizeOfVarLong(${value})`);
  }
});

test("the patched record decoder gives KafkaJS's offsets and timestamps, near and beyond 2^53 and with deltas of any length", async () => {
  const { decodeRecordBatch } = await patchedModules();
  const deltas = [0, 1, 63, -64, 2 ** 27 - 1, -(2 ** 27), 2 ** 27, 2 ** 34 + 5, -(2 ** 40)];
  for (const [base, firstTimestamp] of [
    ['0', 1_795_000_000_000],
    ['123456789', 0],
    ['9007199254740990', 2 ** 53 - 3],
    ['9223372036854775000', 1_795_000_000_000],
  ] as const) {
    const records = deltas.map((timestampDelta, i) =>
      originalBatch.Record({
        offsetDelta: i * 1000,
        timestampDelta,
        key: i % 3 ? Buffer.from(`vehicle-${i}`) : null,
        value: Buffer.from(`{"i":${i}}`),
        headers: i === 2 ? { source: 'test' } : {},
      }),
    );
    const batch = await originalBatch.RecordBatch({
      firstOffset: Long.fromString(base),
      firstTimestamp,
      maxTimestamp: firstTimestamp,
      lastOffsetDelta: (deltas.length - 1) * 1000,
      records,
    });
    const want = await originalBatch.decode(new originalBatch.Decoder(batch.buffer));
    const got = await decodeRecordBatch(new originalBatch.Decoder(batch.buffer));
    const view = (r: Record<string, unknown>) => [r.offset, r.timestamp, r.key, r.value, r.headers];
    assert.equal(
      got.records.map(view),
      want.records.map(view),
      `base offset ${base}, first timestamp ${firstTimestamp}`,
    );
    assert.is(want.records.length, deltas.length);
  }
});

test("the slicing CRC-32C gives KafkaJS's checksum for every length and alignment", () => {
  const crc32C = require(SLICING_CRC32C) as (b: Buffer) => number;
  assert.is(crc32C(Buffer.from('123456789')), 0xe3069283, 'the check value of CRC-32C');
  let seed = 11;
  const byte = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 255;
  const bytes = Buffer.from(Array.from({ length: 70_000 }, byte));
  for (let length = 0; length < 300; length++)
    for (let offset = 0; offset < 8; offset++) {
      const slice = bytes.subarray(offset, offset + length);
      assert.is(crc32C(slice), originalCrc32C(slice), `${length} bytes at ${offset}`);
    }
  assert.is(crc32C(bytes), originalCrc32C(bytes), '70,000 bytes');
});

test('a produce request encodes to the same bytes with the patched Encoder', async () => {
  const patched = await patchedModules();
  const timestamp = 1_795_000_000_000;
  const messages = Array.from({ length: 1200 }, (_, i) => ({
    key: i % 50 === 0 ? null : `vehicle-${i % 97}`,
    value:
      i % 7 === 0
        ? Buffer.from(JSON.stringify({ i, s: 'ü€𝄞' }))
        : JSON.stringify({ vehicleId: `v${i}`, latitude: i / 3, battery: i % 100 }),
    timestamp: String(timestamp + i * 13),
    headers: i % 11 === 0 ? { source: 'bench', trace: [`a${i}`, 'b'] } : undefined,
  }));
  const request = (make: ProduceRequest) =>
    make({
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromString('4242'),
      producerEpoch: 3,
      topicData: [
        {
          topic: 'vehicles-events',
          partitions: [
            { partition: 0, firstSequence: 5000, messages: messages.slice(0, 700) },
            { partition: 2, firstSequence: 0, messages: messages.slice(700) },
          ],
        },
      ],
    });
  const want = (await request(original.produceV3).encode()).buffer;
  const got = (await request(patched.produceV3).encode()).buffer;
  assert.ok(want.length > 50_000, `${want.length} bytes`);
  assert.ok(
    Buffer.compare(got, want) === 0,
    `patched request of ${got.length} bytes differs from KafkaJS's of ${want.length}`,
  );
});

test("the jobs' bundle is built with every patch applied", async () => {
  // A probe after the bundle's own plugins is asked to load a patched module only if no patch
  // did; the metafile shows that the modules are in the bundle at all.
  const resolved = new Set<string>();
  const unpatched: string[] = [];
  const probe: Plugin = {
    name: 'probe',
    setup(b) {
      for (const { module } of KAFKAJS_PATCHES) {
        b.onLoad({ filter: module }, ({ path: file }) => {
          unpatched.push(file);
          return undefined;
        });
      }
    },
  };
  const options = jobsBuildOptions();
  const result = await build({ ...options, metafile: true, plugins: [...options.plugins, probe] });
  for (const input of Object.keys(result.metafile.inputs))
    if (KAFKAJS_PATCHES.some((p) => p.module.test(input))) resolved.add(input);
  assert.is(resolved.size, KAFKAJS_PATCHES.length, `patched modules in the bundle: ${[...resolved].join(', ')}`);
  assert.equal(unpatched, [], 'modules the bundle loaded without their patch');
});

test('a KafkaJS whose patched module changed stops the bundle instead of being patched blindly', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-kafkajs-patch-'));
  try {
    const file = path.join(dir, 'node_modules', 'kafkajs', 'src', 'protocol', 'encoder.js');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'module.exports = class Encoder {} // a later KafkaJS\n');
    const error = await build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      write: false,
      logLevel: 'silent',
      plugins: [kafkajsPatches],
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(error, 'the bundle was built');
    assert.match(error!.message, /encoder\.js is not the file generator\/kafkajs-patches\.ts patches/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
