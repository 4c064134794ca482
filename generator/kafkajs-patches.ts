// Hot spots of KafkaJS 2.2.4's producer and consumer, found with `node --cpu-prof` of `npm run bench`, are
// patched in the bundle the chart ships (the source runs of dev and tests keep KafkaJS as it is):
//  - groupMessagesPerPartition copies a partition's array once per message: quadratic in the batch,
//    a fifth of produce's CPU at 1000 messages per request (upstream tulios/kafkajs#1576, never
//    merged). It is swapped for a linear module with the same result.
//  - the protocol Encoder zero-fills every buffer it allocates (512 bytes per record) and writes
//    each varint through an array and a Buffer of its own: with the garbage they make, a quarter of
//    produce's time. It allocates without zero-filling (every write fills what it reserves, and an
//    encoder's `buffer` ends at its offset, so no unwritten byte is ever sent) and writes varints
//    in place, the same bytes.
//  - a record's timestamp delta is a varlong, which KafkaJS zigzags and writes through its BigInt
//    Long, a dozen objects per record (sized once, written once); a delta within ±2^30 ms, every
//    one in practice, has the same zigzag and bytes as a varint, so it goes the varint's way.
//  - the record batch's CRC-32C goes one byte per step through one table; eight tables take eight
//    bytes per step (slicing-by-8), the same checksum about four times as fast.
//  - the consumer's record decoder turns each record's offset and timestamp into strings through
//    BigInt Longs: the batch's base parsed from its string again for every record, the delta read
//    byte by byte into a Long. A delta of at most four varint bytes is read as a number, and a sum
//    of safe integers is added as numbers: the same strings, a fraction of the garbage.
// A patch applies only to the exact file it was written against: a KafkaJS upgrade that changes
// one stops the bundle, so that the patch is looked at again rather than applied blindly.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const patchesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'patches');
export const LINEAR_GROUPING = path.join(patchesDir, 'kafkajs-group-messages-per-partition.cjs');
export const SLICING_CRC32C = path.join(patchesDir, 'kafkajs-crc32c.cjs');

interface ModulePatch {
  readonly module: RegExp;
  /** sha256 of the module in kafkajs 2.2.4. */
  readonly sha256: string;
  readonly patched: (original: string) => Promise<string> | string;
}

export class KafkajsPatchError extends Error {}

/** Replaces each `[from, to]` of `edits` in `text`, each of which must occur exactly once. */
function edited(file: string, text: string, edits: readonly (readonly [string, string])[]): string {
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0)
      throw new KafkajsPatchError(`${file}: the text to patch is not there exactly once: ${from.split('\n')[0]}`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  return text;
}

const UVARINT_THROUGH_ARRAY = `  writeUVarInt(value) {
    const byteArray = []
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      byteArray.push((value & OTHER_BITS) | MOST_SIGNIFICANT_BIT)
      value >>>= 7
    }
    byteArray.push(value & OTHER_BITS)
    this.writeBufferInternal(Buffer.from(byteArray))
    return this
  }`;
const UVARINT_IN_PLACE = `  writeUVarInt(value) {
    this.ensureAvailable(5)
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      this.buf[this.offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT
      value >>>= 7
    }
    this.buf[this.offset++] = value & OTHER_BITS
    return this
  }`;

/** Where a varlong's value is also an int32 varint's (its 64-bit and 32-bit zigzags are equal). */
const VARLONG_AS_VARINT = `typeof value === 'number' && value >= -0x40000000 && value < 0x40000000 && Number.isInteger(value)`;

const RECORD_TIME_AND_OFFSET_THROUGH_LONGS = `  const timestampDelta = decoder.readVarLong()
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : Long.fromValue(firstTimestamp)
          .add(timestampDelta)
          .toString()

  const offsetDelta = decoder.readVarInt()
  const offset = Long.fromValue(firstOffset)
    .add(offsetDelta)
    .toString()
`;
const RECORD_TIME_AND_OFFSET_AS_NUMBERS = `  const timestampDelta = readShortVarLong(decoder)
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : plus(firstTimestamp, timestampDelta)

  const offsetDelta = decoder.readVarInt()
  const offset = plus(firstOffset, offsetDelta)
`;
const SHORT_VARLONG_AND_PLUS = `
// A varlong of at most four bytes (28 bits) as a number; a longer one through KafkaJS's Long.
const readShortVarLong = decoder => {
  const buffer = decoder.buffer
  let offset = decoder.offset
  let value = 0
  for (let shift = 0; shift < 28; shift += 7) {
    const byte = buffer[offset++]
    value |= (byte & 0x7f) << shift
    if (byte < 0x80) {
      decoder.offset = offset
      return (value >>> 1) ^ -(value & 1)
    }
  }
  return decoder.readVarLong()
}

// base (a decimal string) + delta as a decimal string, as Long's would be.
const plus = (base, delta) => {
  if (typeof delta === 'number') {
    const start = Number(base)
    const sum = start + delta
    if (Number.isSafeInteger(start) && Number.isSafeInteger(sum)) return String(sum)
  }
  return Long.fromValue(base)
    .add(delta)
    .toString()
}
`;

export const KAFKAJS_PATCHES: readonly ModulePatch[] = [
  {
    module: /[\\/]kafkajs[\\/]src[\\/]producer[\\/]groupMessagesPerPartition\.js$/,
    sha256: 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb',
    patched: () => readFile(LINEAR_GROUPING, 'utf8'),
  },
  {
    module: /[\\/]kafkajs[\\/]src[\\/]protocol[\\/]encoder\.js$/,
    sha256: '9977889e184a9e910e4f6098c36ec6a0ca36c183aa6ead0f24191b6aa1c9a777',
    patched: (original) =>
      edited('encoder.js', original, [
        [
          'this.buf = Buffer.alloc(Encoder.nextPowerOfTwo(initialSize))',
          'this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))',
        ],
        ['const newBuffer = Buffer.alloc(newLength)', 'const newBuffer = Buffer.allocUnsafe(newLength)'],
        [UVARINT_THROUGH_ARRAY, UVARINT_IN_PLACE],
        [
          '  static sizeOfVarLong(value) {\n',
          `  static sizeOfVarLong(value) {\n    if (${VARLONG_AS_VARINT}) return Encoder.sizeOfVarInt(value)\n`,
        ],
        [
          '  writeVarLong(value) {\n',
          `  writeVarLong(value) {\n    if (${VARLONG_AS_VARINT}) return this.writeVarInt(value)\n`,
        ],
      ]),
  },
  {
    module: /[\\/]kafkajs[\\/]src[\\/]protocol[\\/]recordBatch[\\/]crc32C[\\/]crc32C\.js$/,
    sha256: '1c09c7a44e7a207f2dabb920e6bf9f6b1b3fd9cc023e959a9e91ba83e5b6f61a',
    patched: () => readFile(SLICING_CRC32C, 'utf8'),
  },
  {
    module: /[\\/]kafkajs[\\/]src[\\/]protocol[\\/]recordBatch[\\/]record[\\/]v0[\\/]decoder\.js$/,
    sha256: '86d740054c8be29b02873bf2871eb43ba5004af94324610541dbab2d9fabcc65',
    patched: (original) =>
      edited('record/v0/decoder.js', original, [
        [RECORD_TIME_AND_OFFSET_THROUGH_LONGS, RECORD_TIME_AND_OFFSET_AS_NUMBERS],
        [
          "const TimestampTypes = require('../../../timestampTypes')\n",
          `const TimestampTypes = require('../../../timestampTypes')\n${SHORT_VARLONG_AND_PLUS}`,
        ],
      ]),
  },
];

export const kafkajsPatches: Plugin = {
  name: 'kafkajs-patches',
  setup(build) {
    for (const patch of KAFKAJS_PATCHES) {
      build.onLoad({ filter: patch.module }, async ({ path: file }) => {
        const original = await readFile(file, 'utf8');
        const digest = createHash('sha256').update(original).digest('hex');
        if (digest !== patch.sha256) {
          throw new KafkajsPatchError(
            `${file} is not the file generator/kafkajs-patches.ts patches (sha256 ${digest}); see whether KafkaJS fixed what the patch does, then update or drop the patch`,
          );
        }
        return { contents: await patch.patched(original), loader: 'js' };
      });
    }
  },
};
