import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { idempotentProducer } from './client.ts';
import { partitionOfKey } from './murmur2.ts';

/**
 * Sends keyed messages with several idempotent producers (each its own producer id, one request
 * in flight, acks=all), so that several requests are in flight at once where one KafkaJS
 * idempotent producer allows one per broker. Messages go to the partition KafkaJS's default
 * partitioner picks for their key, in the order they were added: a partition always sends through
 * the same producer, whose sends are chained.
 */
export class PartitionedSender {
  private readonly buffers: Message[][];
  private readonly inFlight: (Promise<void> | undefined)[];
  private failure: Error | undefined;

  private constructor(
    private readonly topic: string,
    private readonly partitions: number,
    private readonly producers: readonly Producer[],
    private readonly batchSize: number,
    private readonly acknowledged: (count: number) => void,
  ) {
    this.buffers = Array.from({ length: partitions }, () => []);
    this.inFlight = producers.map(() => undefined);
  }

  /**
   * Connects a producer per partition of `topic` (at most `maxProducers`, each then serving every
   * n-th partition); `acknowledged` hears of every batch Kafka acknowledged.
   */
  static async open(
    kafka: Kafka,
    topic: string,
    partitions: number,
    options: { batchSize: number; maxProducers: number },
    acknowledged: (count: number) => void,
  ): Promise<PartitionedSender> {
    const producers = Array.from({ length: Math.min(partitions, options.maxProducers) }, () =>
      idempotentProducer(kafka),
    );
    try {
      await Promise.all(producers.map((p) => p.connect()));
    } catch (error) {
      await Promise.allSettled(producers.map((p) => p.disconnect()));
      throw error;
    }
    return new PartitionedSender(topic, partitions, producers, options.batchSize, acknowledged);
  }

  /**
   * Buffers a message. When its partition's buffer is full, returns the wait for its producer's
   * send in flight (then the buffer goes out): await it, so that memory stays bounded.
   */
  add(message: { key: string; value: string }): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    // The key decides the partition, as KafkaJS's default partitioner does.
    const partition = partitionOfKey(message.key, this.partitions);
    const buffer = this.buffers[partition];
    buffer.push({ key: message.key, value: message.value, partition });
    return buffer.length >= this.batchSize ? this.send(partition) : undefined;
  }

  /** Sends what is buffered and waits until Kafka acknowledged every message. */
  async flush(): Promise<void> {
    for (let partition = 0; partition < this.partitions; partition++) await this.send(partition);
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  /** Waits for the send in flight on the partition's producer, then sends the partition's buffer. */
  private async send(partition: number): Promise<void> {
    const lane = partition % this.producers.length;
    await this.inFlight[lane];
    if (this.failure) throw this.failure;
    const messages = this.buffers[partition];
    if (messages.length === 0) return;
    this.buffers[partition] = [];
    this.inFlight[lane] = this.producers[lane]
      .send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages })
      .then(
        () => this.acknowledged(messages.length),
        (error: Error) => {
          this.failure ??= error;
        },
      );
  }
}
