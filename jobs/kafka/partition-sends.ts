import { CompressionTypes, Partitioners, type Admin, type Message, type PartitionMetadata, type Producer } from 'kafkajs';

/** The topic's partitions as the producer's partitioner sees them. */
export async function topicPartitions(admin: Admin, topic: string): Promise<PartitionMetadata[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions ?? [];
}

/**
 * Sends a batch as one send per partition, all at once, each partition chosen as KafkaJS's default
 * partitioner would. A KafkaJS send spanning several leaders retries, after a broker fails, only
 * to the brokers that had not answered: a partition whose leader moved to one that had answered
 * (a Kafka node lost mid-send) is not sent again, and its rolled-back sequence numbers then fail
 * the next send with OUT_OF_ORDER_SEQUENCE_NUMBER. With one partition per send, the retry goes to
 * the partition's new leader with the same sequence numbers, which it deduplicates.
 */
export function partitionSender(producer: Producer, topic: string, partitions: PartitionMetadata[]) {
  const partitionOf = Partitioners.DefaultPartitioner();
  return async (messages: readonly Message[]): Promise<void> => {
    const byPartition = new Map<number, Message[]>();
    for (const message of messages) {
      const partition = partitionOf({ topic, partitionMetadata: partitions, message });
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = []));
      group.push({ ...message, partition });
    }
    await Promise.all(
      [...byPartition.values()].map((group) => producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: group })),
    );
  };
}
