import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { idempotentProducer } from './client.ts';
import { partitionOfKey } from './murmur2.ts';

export const senderLimits = {
  // Messages per partition per produce request; large enough to amortise the round trip, small
  // enough to stay well under the broker's default message.max.bytes per partition batch.
  batchSize: 1_000,
  maxProducers: 8,
} as const;

export interface Keyed {
  readonly key: string;
  readonly value: string;
}

export interface SenderOptions<M extends Keyed> {
  /** Messages per partition per request. */
  readonly batchSize: number;
  /** Producers (connections, producer ids) at most: a topic of many partitions shares them out. */
  readonly maxProducers: number;
  /** Hears of every batch Kafka acknowledged (acks=all), with its messages. */
  readonly acknowledged: (messages: readonly M[]) => void;
  /**
   * Called when a send failed: resolves true to send the same batch again through the same
   * producer (which gives it the same sequence numbers, so that Kafka drops what it already holds),
   * false to fail the sender. Without it the first failure fails the sender.
   */
  readonly resend?: (error: Error, attempt: number, partition: number) => Promise<boolean>;
}

/**
 * Sends keyed messages with several idempotent producers (each its own producer id, one request
 * in flight, acks=all), so that several requests are in flight at once where one KafkaJS
 * idempotent producer allows one per broker. Messages go to the partition KafkaJS's default
 * partitioner picks for their key, in the order they were added: a partition always sends through
 * the same producer, whose sends are chained. A request holds one partition's batch only, so Kafka
 * takes it whole or not at all, and a batch sent again is recognised by its sequence numbers: the
 * topic holds each acknowledged message once.
 */
export class PartitionedSender<M extends Keyed = Keyed> {
  private readonly buffers: M[][];
  private readonly inFlight: (Promise<void> | undefined)[];
  private failure: Error | undefined;

  private constructor(
    private readonly topic: string,
    private readonly partitions: number,
    private readonly producers: readonly Producer[],
    private readonly options: SenderOptions<M>,
  ) {
    this.buffers = Array.from({ length: partitions }, () => []);
    this.inFlight = producers.map(() => undefined);
  }

  /** Connects a producer per partition of `topic` (at most `maxProducers`, each then serving every n-th partition). */
  static async open<M extends Keyed>(
    kafka: Kafka,
    topic: string,
    partitions: number,
    options: SenderOptions<M>,
  ): Promise<PartitionedSender<M>> {
    const producers = Array.from({ length: Math.min(partitions, options.maxProducers) }, () =>
      idempotentProducer(kafka),
    );
    try {
      await Promise.all(producers.map((p) => p.connect()));
    } catch (error) {
      await Promise.allSettled(producers.map((p) => p.disconnect()));
      throw error;
    }
    return new PartitionedSender(topic, partitions, producers, options);
  }

  /**
   * Buffers a message. When its partition's buffer is full, returns the wait for its producer's
   * send in flight (then the buffer goes out): await it, so that memory stays bounded.
   */
  add(message: M): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    // The key decides the partition, as KafkaJS's default partitioner does.
    const partition = partitionOfKey(message.key, this.partitions);
    const buffer = this.buffers[partition];
    buffer.push(message);
    return buffer.length >= this.options.batchSize ? this.send(partition) : undefined;
  }

  /** Sends what is buffered and waits until Kafka acknowledged every message. */
  async flush(): Promise<void> {
    for (let partition = 0; partition < this.partitions; partition++) await this.send(partition);
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** Waits for the sends in flight, then disconnects. */
  async disconnect(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  /** Disconnects without waiting: what is in flight is given up (it may or may not reach Kafka). */
  async abandon(): Promise<void> {
    this.failure ??= new Error('the sender was abandoned');
    await Promise.allSettled(this.producers.map((p) => p.disconnect()));
  }

  /** Waits for the send in flight on the partition's producer, then sends the partition's buffer. */
  private async send(partition: number): Promise<void> {
    const lane = partition % this.producers.length;
    await this.inFlight[lane];
    if (this.failure) throw this.failure;
    const messages = this.buffers[partition];
    if (messages.length === 0) return;
    this.buffers[partition] = [];
    this.inFlight[lane] = this.deliver(this.producers[lane], partition, messages).then(
      () => this.options.acknowledged(messages),
      (error: Error) => {
        this.failure ??= error;
      },
    );
  }

  /** Sends one partition's batch until Kafka acknowledges it, or `resend` gives it up. */
  private async deliver(producer: Producer, partition: number, messages: readonly M[]): Promise<void> {
    const batch = messages.map(({ key, value }) => ({ key, value, partition }));
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages: batch });
        return;
      } catch (error) {
        if (this.failure || !(await this.options.resend?.(error as Error, attempt, partition))) throw error;
      }
    }
  }
}
