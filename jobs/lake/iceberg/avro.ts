import avro from 'avsc';

/**
 * Avro object container files, as Iceberg keeps manifests and manifest lists, through avsc. Every
 * Avro `long` is a bigint here: Iceberg's snapshot ids use the whole 64-bit range.
 */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint | number) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(BigInt(value));
    return buffer;
  },
  fromJSON: (value: number | string) => BigInt(value),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

function typeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigLong } as never, wrapUnions: false });
}

/** The bytes of an Avro container file holding `records`, with the schema written as given (field ids kept). */
export async function encodeAvroFile(
  schema: object,
  records: readonly object[],
  metadata: Record<string, string>,
): Promise<Buffer> {
  const encoder = new avro.streams.BlockEncoder(typeOf(schema), {
    codec: 'deflate',
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)])),
  } as never);
  // avsc writes the type's own schema unless told the original, which carries Iceberg's field ids.
  (encoder as unknown as { _schema: object })._schema = schema;
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    encoder.on('end', resolve);
    encoder.on('error', reject);
  });
  for (const record of records) encoder.write(record);
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

export interface AvroFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly records: Record<string, unknown>[];
}

/** Every record of an Avro container file's bytes, decoded with the file's own schema; `name` names it in errors. */
export async function decodeAvroFile(bytes: Uint8Array, name: string): Promise<AvroFile> {
  const records: Record<string, unknown>[] = [];
  let metadata: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({ parseHook: (schema: unknown) => typeOf(schema) } as never);
    decoder.on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
      metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
    });
    decoder.on('data', (record: Record<string, unknown>) => records.push(record));
    decoder.on('end', resolve);
    decoder.on('error', (error: Error) => reject(new Error(`${name}: not a readable Avro file (${error.message})`)));
    decoder.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  return { metadata, records };
}
