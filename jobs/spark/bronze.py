"""Bronze on Spark: the Kafka records not yet in the lake, read as one bounded batch (from the
offsets the lake's bronze file names end at, up to the latest offsets at start), written as is,
one file per Kafka partition named by its offset range. A re-run with no new records adds nothing."""

import json
import os

from pyspark.sql import functions as F

from lakehouse_kafka import commit_group_offsets, topic_partitions
from lakehouse_lake import (BronzeFile, bronze_file_name, lake_paths, new_staging_dir,
                            next_offsets_in_lake, publish_file, remove_staging_dir,
                            remove_stale_temporaries, spark_part_files)
from lakehouse_session import now_ms, run_stage

_EARLIEST = -2


def _not_null(column, fallback):
    # Kafka's metadata columns are never null, but the source declares them nullable; this makes
    # the Parquet columns REQUIRED as in the contract.
    return F.coalesce(column, F.lit(fallback))


def bronze(config, logger, spark, phase) -> dict:
    paths = lake_paths(config.data_dir)
    os.makedirs(paths.bronze, exist_ok=True)
    stale = remove_stale_temporaries(paths, "bronze", [paths.bronze])
    if stale:
        logger.info("removed unfinished files of an earlier run", count=stale)
    with phase("kafka_metadata"):
        partitions = topic_partitions(spark, config)
    in_lake = next_offsets_in_lake(paths.bronze)
    starting = {str(p): in_lake.get(p, _EARLIEST) for p in partitions}
    records = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", ",".join(config.bootstrap_servers))
        .option("kafka.client.id", f"{config.client_id}-spark-bronze")
        .option("subscribe", config.topic)
        .option("startingOffsets", json.dumps({config.topic: starting}))
        .option("endingOffsets", "latest")
        # Like the Node engine: records that expired from Kafka before bronze read them are
        # skipped (Spark logs a warning) instead of failing every later run.
        .option("failOnDataLoss", "false")
        .load()
    )
    ingested_at = now_ms()
    table = records.select(
        F.col("key").cast("string").alias("key"),
        F.col("value").cast("string").alias("value"),
        _not_null(F.col("topic"), "").alias("topic"),
        _not_null(F.col("partition"), 0).cast("int").alias("partition"),
        _not_null(F.col("offset"), 0).cast("long").alias("offset"),
        _not_null(F.unix_millis(F.col("timestamp")), 0).alias("kafka_timestamp"),
        F.lit(ingested_at).cast("long").alias("ingested_at"),
    )
    staging = new_staging_dir(paths, "bronze")
    try:
        output = os.path.join(staging, "out")
        # The Kafka source makes one Spark partition per Kafka partition, in offset order, so each
        # task writes one file holding one contiguous offset range.
        with phase("read_kafka_write_parquet"):
            table.write.parquet(output)
        with phase("describe_files"):
            files = _describe_files(spark, output)
        with phase("publish"):
            for path, described, _ in files:
                publish_file(path, os.path.join(paths.bronze, bronze_file_name(described)))
    finally:
        remove_staging_dir(staging)
    committed = dict(in_lake)
    for _, described, _ in files:
        committed[described.partition] = max(committed.get(described.partition, 0), described.last_offset + 1)
    with phase("commit_offsets"):
        commit_group_offsets(spark, config, committed)
    return {"records": sum(rows for _, _, rows in files), "files": len(files),
            "partitions": len(partitions), "starting_offsets": starting,
            "next_offsets": {str(p): o for p, o in sorted(committed.items())}}


def _describe_files(spark, output: str):
    """(file, partition and offset range, rows) of each part file Spark wrote, in task order;
    files without rows are dropped."""
    paths = spark_part_files(output)
    if not paths:
        return []
    ranges = (
        spark.read.parquet(*paths)
        .groupBy(F.input_file_name().alias("file"))
        .agg(F.min("partition").alias("p_min"), F.max("partition").alias("p_max"),
             F.min("offset").alias("first"), F.max("offset").alias("last"), F.count("*").alias("rows"))
        .collect()
    )
    by_name = {}
    for r in ranges:
        if r.p_min != r.p_max:
            raise RuntimeError(f"Spark wrote Kafka partitions {r.p_min}..{r.p_max} into one file {r.file}")
        by_name[os.path.basename(r.file)] = (BronzeFile(r.p_min, r.first, r.last), r.rows)
    described = []
    for path in paths:
        entry = by_name.get(os.path.basename(path))
        if entry is not None:
            described.append((path, entry[0], entry[1]))
    return described


if __name__ == "__main__":
    run_stage("bronze", bronze)
