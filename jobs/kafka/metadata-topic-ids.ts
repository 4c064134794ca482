/**
 * Kafka's Metadata request and response from version 10 (Kafka 2.8), the first that carries topic
 * ids, to 12: flexible versions (compact strings and arrays, tagged fields). KafkaJS 2.2.4 speaks
 * Metadata up to version 6. Only what a topic id needs is read; the rest is skipped field by field.
 */

export const METADATA_API_KEY = 3;
export const METADATA_TOPIC_ID_VERSIONS = { min: 10, max: 12 } as const;

export interface TopicIdAnswer {
  readonly name: string | null;
  readonly errorCode: number;
  /** Kafka's Uuid as its tools print it (URL-safe base64, no padding); the zero Uuid when unknown. */
  readonly topicId: string;
}

const uvarint = (value: number): Buffer => {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
};
const NO_TAGS = Buffer.from([0]);
const compactString = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([uvarint(bytes.length + 1), bytes]);
};

/**
 * The request body for `topics` at `version`, preceded by the request header's tagged fields (the
 * rest of the header, up to the client id, is written by the connection).
 */
export function metadataRequest(version: number, topics: readonly string[]): Buffer {
  if (version < METADATA_TOPIC_ID_VERSIONS.min || version > METADATA_TOPIC_ID_VERSIONS.max)
    throw new Error(
      `Metadata version ${version} is not one of ${METADATA_TOPIC_ID_VERSIONS.min}..${METADATA_TOPIC_ID_VERSIONS.max}`,
    );
  const topic = (name: string) => Buffer.concat([Buffer.alloc(16), compactString(name), NO_TAGS]);
  return Buffer.concat([
    NO_TAGS,
    uvarint(topics.length + 1),
    ...topics.map(topic),
    Buffer.from([0]), // allow_auto_topic_creation
    ...(version === 10 ? [Buffer.from([0])] : []), // include_cluster_authorized_operations
    Buffer.from([0]), // include_topic_authorized_operations
    NO_TAGS,
  ]);
}

class Reader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}
  int8 = () => this.bytes.readInt8(this.take(1));
  int16 = () => this.bytes.readInt16BE(this.take(2));
  int32 = () => this.bytes.readInt32BE(this.take(4));
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.bytes.readUInt8(this.take(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      if (shift > 28) throw new Error('Metadata response: a varint longer than 5 bytes');
    }
  }
  compactString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const start = this.take(length);
    return this.bytes.toString('utf8', start, start + length);
  }
  uuid(): string {
    const start = this.take(16);
    return this.bytes.subarray(start, start + 16).toString('base64url');
  }
  array<T>(item: () => T): T[] {
    const count = this.uvarint() - 1;
    return Array.from({ length: Math.max(count, 0) }, item);
  }
  tags(): void {
    for (let count = this.uvarint(); count > 0; count--) {
      this.uvarint();
      this.take(this.uvarint());
    }
  }
  private take(n: number): number {
    if (this.at + n > this.bytes.length)
      throw new Error(`Metadata response ends at byte ${this.bytes.length}, before its end`);
    const at = this.at;
    this.at += n;
    return at;
  }
}

/**
 * The topics of a Metadata response (versions 10 to 12 lay them out alike), from the response
 * header's tagged fields on; what follows the topics is not read.
 */
export function parseMetadataTopics(payload: Buffer): TopicIdAnswer[] {
  const r = new Reader(payload);
  r.tags();
  r.int32(); // throttle_time_ms
  r.array(() => {
    r.int32();
    r.compactString();
    r.int32();
    r.compactString();
    r.tags();
  });
  r.compactString(); // cluster_id
  r.int32(); // controller_id
  return r.array(() => {
    const errorCode = r.int16();
    const name = r.compactString();
    const topicId = r.uuid();
    r.int8(); // is_internal
    r.array(() => {
      r.int16();
      r.int32();
      r.int32();
      r.int32();
      for (let list = 0; list < 3; list++) r.array(r.int32);
      r.tags();
    });
    r.int32(); // topic_authorized_operations
    r.tags();
    return { name, errorCode, topicId };
  });
}
