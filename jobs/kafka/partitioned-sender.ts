import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { idempotentProducer } from './client.ts';
import { partitionOfKey } from './murmur2.ts';

/**
 * Sends keyed messages with one idempotent producer per partition (each its own producer id, one
 * request in flight, acks=all), so that every partition has a request in flight at once where one
 * KafkaJS idempotent producer allows one per broker. Messages go to the partition KafkaJS's default
 * partitioner picks for their key, in the order they were added: each partition's sends are chained.
 */
export class PartitionedSender {
  private readonly buffers: Message[][];
  private readonly inFlight: (Promise<void> | undefined)[];
  private failure: Error | undefined;

  private constructor(
    private readonly topic: string,
    private readonly producers: readonly Producer[],
    private readonly batchSize: number,
    private readonly acknowledged: (count: number) => void,
  ) {
    this.buffers = producers.map(() => []);
    this.inFlight = producers.map(() => undefined);
  }

  /** Connects one producer per partition of `topic`; `acknowledged` hears of every batch Kafka acknowledged. */
  static async open(kafka: Kafka, topic: string, partitions: number, batchSize: number, acknowledged: (count: number) => void): Promise<PartitionedSender> {
    const producers = Array.from({ length: partitions }, () => idempotentProducer(kafka));
    try {
      await Promise.all(producers.map((p) => p.connect()));
    } catch (error) {
      await Promise.allSettled(producers.map((p) => p.disconnect()));
      throw error;
    }
    return new PartitionedSender(topic, producers, batchSize, acknowledged);
  }

  /**
   * Buffers a message. When its partition's buffer is full, returns the wait for that partition's
   * send in flight (then the buffer goes out): await it, so that memory stays bounded.
   */
  add(message: { key: string; value: string }): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    // The key decides the partition, as KafkaJS's default partitioner does, and so the producer.
    const partition = partitionOfKey(message.key, this.producers.length);
    const buffer = this.buffers[partition];
    buffer.push({ key: message.key, value: message.value, partition });
    return buffer.length >= this.batchSize ? this.send(partition) : undefined;
  }

  /** Sends what is buffered and waits until Kafka acknowledged every message. */
  async flush(): Promise<void> {
    await Promise.all(this.producers.map((_, partition) => this.send(partition)));
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  /** Waits for the partition's send in flight, then starts the next with its buffer. */
  private async send(partition: number): Promise<void> {
    await this.inFlight[partition];
    if (this.failure) throw this.failure;
    const messages = this.buffers[partition];
    if (messages.length === 0) return;
    this.buffers[partition] = [];
    this.inFlight[partition] = this.producers[partition]
      .send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages })
      .then(
        () => this.acknowledged(messages.length),
        (error: Error) => {
          this.failure ??= error;
        },
      );
  }
}
