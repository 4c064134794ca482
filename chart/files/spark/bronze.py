"""Bronze on Spark: the Kafka records not yet in table bronze.vehicles, read as one bounded batch
(from the next offsets its current snapshot records up to the offsets Kafka ends at now) and
appended as they came, in one snapshot whose summary records the offsets it holds. A re-run with no
new records commits nothing."""

import json

from lakehouse_kafka import KafkaAdmin, Topic, client_properties
from lakehouse_session import StageError, now_ms, run_stage
from lakehouse_tables import ConcurrentCommit, Lake, Snapshot
from pyspark.sql import functions as F


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _by_partition(offsets: dict[int, object]) -> dict:
    """{"<partition>": value} in partition order, as JSON.stringify writes the Node engine's."""
    return {str(p): offsets[p] for p in sorted(offsets)}


def check_same_source(snapshot: Snapshot | None, keys: dict, topic: Topic, cluster_id: str) -> None:
    """Offsets mean nothing on another cluster, or on a topic deleted and created again."""
    if snapshot is None:
        return
    recorded_cluster = snapshot.summary.get(keys["clusterId"])
    if recorded_cluster is not None and recorded_cluster != cluster_id:
        raise StageError(
            f"bronze.vehicles holds offsets of Kafka cluster {recorded_cluster} but this Kafka is cluster "
            f"{cluster_id}; nothing was read or deleted (use a new lake for another cluster)"
        )
    recorded_topic = snapshot.summary.get(keys["topicId"])
    if recorded_topic is not None and recorded_topic != topic.id:
        raise StageError(
            f"bronze.vehicles holds offsets of topic {topic.name} with id {recorded_topic} but the topic "
            f"now has id {topic.id} (deleted and created again?); nothing was read or deleted"
        )


def _not_null(column, fallback):
    # Kafka's metadata columns are never null, but the source declares them nullable; the
    # contract's columns are required, which Iceberg's writer checks.
    return F.coalesce(column, F.lit(fallback))


def bronze(config, logger, spark, phase) -> dict:
    lake = Lake(spark)
    keys = lake.contract.summary_keys
    with KafkaAdmin(spark, config, "bronze") as kafka:
        with phase("kafka_metadata"):
            topic = kafka.topic()
            cluster_id = kafka.cluster_id()
            # A lake of another cluster or topic is refused before anything of it is changed.
            check_same_source(lake.current("bronze"), keys, topic, cluster_id)
            lake.ensure("bronze", {"commit.retry.num-retries": "0"})
            start = lake.current("bronze")
            recorded = (
                {int(p): o for p, o in json.loads(start.summary.get(keys["nextOffsets"], "{}")).items()}
                if start
                else {}
            )
            earliest = kafka.offsets(topic, "earliest")
            latest = kafka.offsets(topic, "latest")
        # Records that retention deleted before bronze read them are recorded in the snapshot as lost
        # (verify reports them), as the Node engine does: the range starts where the table ended.
        first = {p: max(recorded.get(p, 0), earliest[p]) for p in topic.partitions}
        gaps = {p: [[recorded.get(p, 0), earliest[p]]] for p in topic.partitions if recorded.get(p, 0) < earliest[p]}
        for p, [[lost_from, lost_to]] in sorted(gaps.items()):
            logger.warn(
                "records were deleted from Kafka before bronze read them: recorded as data loss",
                partition=p,
                **{"from": lost_from, "to": lost_to, "lost": lost_to - lost_from},
            )
        ranges = {
            p: [gaps[p][0][0] if p in gaps else first[p], latest[p]]
            for p in topic.partitions
            if latest[p] > first[p] or p in gaps
        }
        next_offsets = {**recorded, **{p: end for p, (_, end) in ranges.items()}}
        result = {"partitions": len(topic.partitions), "offset_ranges": _by_partition(ranges), "records": 0}
        if not ranges:
            logger.info("nothing new in Kafka", next_offsets=_by_partition(next_offsets))
        else:
            records = (
                spark.read.format("kafka")
                .option("kafka.bootstrap.servers", ",".join(config.bootstrap_servers))
                .option("kafka.client.id", f"{config.client_id}-spark-bronze")
                .options(**{f"kafka.{key}": value for key, value in client_properties(config).items()})
                # Spark's own group ids then fall under the pipeline user's group ACL (a prefix).
                .option("groupIdPrefix", config.consumer_group)
                .option("subscribe", topic.name)
                .option("startingOffsets", _compact({topic.name: _by_partition(first)}))
                .option("endingOffsets", _compact({topic.name: _by_partition(latest)}))
                # Records deleted while this batch reads fail the stage rather than vanish; the re-run
                # finds them gone before it starts and records them as a gap.
                .option("failOnDataLoss", "true")
                .load()
            )
            rows = records.select(
                F.col("key"),
                F.col("value"),
                _not_null(F.col("topic"), "").alias("topic"),
                _not_null(F.col("partition"), 0).cast("int").alias("partition"),
                _not_null(F.col("offset"), 0).cast("long").alias("offset"),
                _not_null(F.col("timestamp"), F.timestamp_millis(F.lit(0))).alias("kafka_timestamp"),
                F.timestamp_millis(F.lit(now_ms())).alias("ingested_at"),
            )
            summary = {
                keys["topic"]: topic.name,
                keys["offsetRanges"]: _compact(_by_partition(ranges)),
                keys["nextOffsets"]: _compact(_by_partition(next_offsets)),
                keys["clusterId"]: cluster_id,
                keys["topicId"]: topic.id,
                keys["writer"]: "spark bronze",
                **({keys["gaps"]: _compact(_by_partition(gaps))} if gaps else {}),
            }
            with phase("read_kafka_append"):
                try:
                    snapshot = lake.append("bronze", rows, summary, start.id if start else None, "bronze")
                except ConcurrentCommit:
                    raise StageError("another bronze run committed first; nothing was added") from None
            result.update(records=int(snapshot.summary.get("added-records", 0)), snapshot_id=snapshot.id)
        with phase("commit_offsets"):
            kafka.commit_group_offsets(next_offsets)
    result["next_offsets"] = _by_partition(next_offsets)
    # For ops.runs, as the Node engine counts: records read, records appended.
    result["rowCounts"] = {"rowsIn": result["records"], "rowsOut": result["records"]}
    return result


if __name__ == "__main__":
    run_stage("bronze", bronze)
