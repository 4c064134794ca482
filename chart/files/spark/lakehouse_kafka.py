"""The one thing Spark's Kafka source cannot do for bronze: tell which partitions the topic has
(a batch query with specific starting offsets must name every partition). Asked through the
kafka-clients jar already on Spark's classpath, which also gives the wait-for-the-broker loop."""

import time
from typing import Dict, List

from lakehouse_config import Config


class KafkaUnavailable(Exception):
    pass


def topic_partitions(spark, config: Config) -> List[int]:
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.setProperty("bootstrap.servers", ",".join(config.bootstrap_servers))
    props.setProperty("client.id", f"{config.client_id}-spark-bronze-metadata")
    props.setProperty("allow.auto.create.topics", "false")
    deserializer = "org.apache.kafka.common.serialization.ByteArrayDeserializer"
    props.setProperty("key.deserializer", deserializer)
    props.setProperty("value.deserializer", deserializer)
    consumer = jvm.org.apache.kafka.clients.consumer.KafkaConsumer(props)
    deadline = time.monotonic() + config.kafka_wait_seconds
    last_error = "no answer"
    try:
        while True:
            try:
                infos = consumer.partitionsFor(config.topic, jvm.java.time.Duration.ofSeconds(5))
                partitions = sorted(int(info.partition()) for info in infos) if infos is not None else []
                if partitions:
                    return partitions
                last_error = f"topic {config.topic} does not exist (run the topics job first)"
            except Exception as error:  # py4j wraps the Java exception; retry until the deadline
                last_error = str(error).splitlines()[0]
            if time.monotonic() >= deadline:
                raise KafkaUnavailable(
                    f"Kafka at {','.join(config.bootstrap_servers)} gave no partitions for "
                    f"{config.topic} within {config.kafka_wait_seconds}s: {last_error}")
            time.sleep(2)
    finally:
        consumer.close()


def commit_group_offsets(spark, config: Config, next_offsets: Dict[int, int]) -> None:
    """Records in the consumer group what bronze holds, as the Node engine does, so tools that
    watch the group (and verify) see the same progress. Called only after the files are durable."""
    if not next_offsets:
        return
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.setProperty("bootstrap.servers", ",".join(config.bootstrap_servers))
    props.setProperty("client.id", f"{config.client_id}-spark-bronze-commit")
    offsets = jvm.java.util.HashMap()
    for partition, offset in sorted(next_offsets.items()):
        offsets.put(jvm.org.apache.kafka.common.TopicPartition(config.topic, int(partition)),
                    jvm.org.apache.kafka.clients.consumer.OffsetAndMetadata(jvm.java.lang.Long.valueOf(str(offset))))
    admin = jvm.org.apache.kafka.clients.admin.Admin.create(props)
    try:
        admin.alterConsumerGroupOffsets(config.consumer_group, offsets).all().get()
    finally:
        admin.close()
