"""What bronze asks Kafka outside Spark's Kafka source, through the Java Admin client of the
kafka-clients jar already on Spark's classpath: the topic's partitions and id, the cluster id, the
offsets a batch ends at, and the consumer group commit. Waits for the broker like the Node jobs."""

import time
from dataclasses import dataclass

from lakehouse_config import Config


class KafkaUnavailable(Exception):
    pass


def _read_file(path: str, setting: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise KafkaUnavailable(f"{setting}: cannot read the {what} from {path} ({error.strerror})") from None
    value = text[:-1] if text.endswith("\n") else text
    if value == "":
        raise KafkaUnavailable(f"{setting}: {path} (the {what}) is empty")
    return value


_JAAS_MODULES = {
    "plain": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "scram-sha-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "scram-sha-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


def client_properties(config: Config) -> dict[str, str]:
    """The Java client's security properties from the contract's settings, as the Node jobs read
    them (jobs/kafka/security.ts): TLS trusting LAKEHOUSE_KAFKA_CA_FILE (PEM), a SASL user whose
    password is read from its file."""
    if config.kafka_security == "plaintext":
        return {"security.protocol": "PLAINTEXT"}
    props = {"security.protocol": config.kafka_security.upper()}
    if config.kafka_security != "sasl_plaintext" and config.kafka_ca_file != "system":
        _read_file(config.kafka_ca_file, "LAKEHOUSE_KAFKA_CA_FILE", "CA certificate")
        props.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": config.kafka_ca_file})
    if config.kafka_security in ("sasl_ssl", "sasl_plaintext"):
        password = _read_file(
            config.kafka_password_file, "LAKEHOUSE_KAFKA_PASSWORD_FILE", f'password of Kafka user "{config.kafka_user}"'
        )

        def escape(text):
            return text.replace("\\", "\\\\").replace('"', '\\"')

        props.update(
            {
                "sasl.mechanism": config.kafka_sasl_mechanism.upper(),
                "sasl.jaas.config": f"{_JAAS_MODULES[config.kafka_sasl_mechanism]} required "
                f'username="{escape(config.kafka_user)}" password="{escape(password)}";',
            }
        )
    return props


def _access_failure(error_text: str, config: Config):
    """One line for a failure no retry fixes (a refused user, a certificate that does not fit)."""
    hosts = ",".join(config.bootstrap_servers)
    if "SaslAuthenticationException" in error_text:
        return (
            f'Kafka at {hosts} refused user "{config.kafka_user}" ({config.kafka_sasl_mechanism}): wrong password '
            f"or unknown user (LAKEHOUSE_KAFKA_USER, LAKEHOUSE_KAFKA_PASSWORD_FILE={config.kafka_password_file})"
        )
    if "No subject alternative" in error_text or "doesn't match any of the subject alternative names" in error_text:
        return f"the TLS certificate of Kafka at {hosts} is not issued for that host"
    if "SSLHandshakeException" in error_text or "PKIX path" in error_text:
        return (
            f"the TLS certificate of Kafka at {hosts} is not signed by the CA in "
            f"LAKEHOUSE_KAFKA_CA_FILE={config.kafka_ca_file}"
        )
    return None


@dataclass(frozen=True)
class Topic:
    name: str
    id: str
    partitions: list[int]


class KafkaAdmin:
    def __init__(self, spark, config: Config, role: str):
        self.jvm = spark.sparkContext._jvm
        self.config = config
        props = self.jvm.java.util.Properties()
        props.setProperty("bootstrap.servers", ",".join(config.bootstrap_servers))
        props.setProperty("client.id", f"{config.client_id}-spark-{role}")
        for key, value in client_properties(config).items():
            props.setProperty(key, value)
        self.admin = self.jvm.org.apache.kafka.clients.admin.Admin.create(props)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.admin.close()

    def _get(self, future, what: str):
        """The future's value, retried until kafka_wait_seconds have passed."""
        deadline = time.monotonic() + self.config.kafka_wait_seconds
        while True:
            try:
                return future().get(10, self.jvm.java.util.concurrent.TimeUnit.SECONDS)
            except Exception as error:  # py4j wraps the Java exception; retry until the deadline
                failure = _access_failure(str(error), self.config)
                if failure:
                    raise KafkaUnavailable(failure) from None
                last_error = str(error).splitlines()[0]
            if time.monotonic() >= deadline:
                raise KafkaUnavailable(
                    f"Kafka at {','.join(self.config.bootstrap_servers)} gave no {what} "
                    f"within {self.config.kafka_wait_seconds}s: {last_error}"
                )
            time.sleep(2)

    def topic(self) -> Topic:
        name = self.config.topic
        names = self.jvm.java.util.List.of(name)
        description = self._get(
            lambda: self.admin.describeTopics(names).allTopicNames(),
            f"description of topic {name} (run the topics job first)",
        ).get(name)
        partitions = sorted(int(p.partition()) for p in description.partitions())
        return Topic(name, description.topicId().toString(), partitions)

    def cluster_id(self) -> str:
        return self._get(lambda: self.admin.describeCluster().clusterId(), "cluster id")

    def offsets(self, topic: Topic, spec: str) -> dict[int, int]:
        """Per partition, the earliest offset or the offset after the last record (spec =
        "earliest" or "latest")."""
        jvm = self.jvm
        requests = jvm.java.util.HashMap()
        for p in topic.partitions:
            offset_spec = getattr(jvm.org.apache.kafka.clients.admin.OffsetSpec, spec)()
            requests.put(jvm.org.apache.kafka.common.TopicPartition(topic.name, p), offset_spec)
        result = self._get(lambda: self.admin.listOffsets(requests).all(), f"{spec} offsets of {topic.name}")
        return {int(tp.partition()): int(info.offset()) for tp, info in result.items()}

    def commit_group_offsets(self, next_offsets: dict[int, int]) -> None:
        """Records in the consumer group what bronze holds, as the Node engine does, so tools that
        watch the group (and verify) see the same progress. Called only after bronze committed."""
        if not next_offsets:
            return
        jvm = self.jvm
        offsets = jvm.java.util.HashMap()
        for partition, offset in sorted(next_offsets.items()):
            offsets.put(
                jvm.org.apache.kafka.common.TopicPartition(self.config.topic, int(partition)),
                jvm.org.apache.kafka.clients.consumer.OffsetAndMetadata(jvm.java.lang.Long.valueOf(str(offset))),
            )
        self.admin.alterConsumerGroupOffsets(self.config.consumer_group, offsets).all().get()
