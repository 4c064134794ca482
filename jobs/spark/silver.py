"""Silver on Spark: every bronze record parsed and checked by the rules of lakehouse_rules (the
same as the Node engine's), valid events de-duplicated on (vehicle_id, event_time) keeping the
first in (partition, offset) order, rejected records with their reason. Both directories are
replaced whole."""

import os

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.types import (DoubleType, IntegerType, LongType, StringType, StructField,
                               StructType)

from lakehouse_lake import (lake_paths, list_parquet_files, new_staging_dir,
                            remove_stale_temporaries, remove_staging_dir,
                            replace_directory_with_files, spark_part_files)
from lakehouse_rules import check_raw
from lakehouse_session import run_stage

BRONZE_SCHEMA = StructType([
    StructField("key", StringType(), True),
    StructField("value", StringType(), True),
    StructField("topic", StringType(), False),
    StructField("partition", IntegerType(), False),
    StructField("offset", LongType(), False),
    StructField("kafka_timestamp", LongType(), False),
    StructField("ingested_at", LongType(), False),
])

CHECKED = StructType([
    StructField("reason", StringType()),
    StructField("field", StringType()),
    StructField("detail", StringType()),
    StructField("vehicle_id", StringType()),
    StructField("type", StringType()),
    StructField("latitude", DoubleType()),
    StructField("longitude", DoubleType()),
    StructField("battery", IntegerType()),
    StructField("event_time", LongType()),
])


def _required(column, fallback):
    # Declares a column that can never be null as such, so Parquet marks it REQUIRED.
    return F.coalesce(column, F.lit(fallback))


def read_bronze(spark, bronze_dir: str):
    files = list_parquet_files(bronze_dir)
    if not files:
        return spark.createDataFrame([], BRONZE_SCHEMA)
    return spark.read.schema(BRONZE_SCHEMA).parquet(*files)


def silver(config, logger, spark, phase) -> dict:
    paths = lake_paths(config.data_dir)
    stale = remove_stale_temporaries(paths, "silver", [paths.silver_root])
    if stale:
        logger.info("removed unfinished files of an earlier run", count=stale)
    # Wrapped so Spark does not try to read a UDF kind from check_raw's type hints.
    check = F.udf(lambda raw: check_raw(raw), CHECKED)
    checked = (
        read_bronze(spark, paths.bronze)
        .select("key", "value", "partition", "offset", check(F.col("value")).alias("c"))
        .persist()
    )
    valid = checked.where(F.col("c.reason").isNull())
    first_seen = Window.partitionBy("c.vehicle_id", "c.event_time").orderBy("partition", "offset")
    ranked = valid.select(
        "*",
        F.row_number().over(first_seen).alias("occurrence"),
        F.first("partition").over(first_seen).alias("first_partition"),
        F.first("offset").over(first_seen).alias("first_offset"),
    ).persist()

    events = ranked.where(F.col("occurrence") == 1).select(
        _required(F.col("c.vehicle_id"), "").alias("vehicle_id"),
        _required(F.col("c.type"), "").alias("type"),
        _required(F.col("c.latitude"), 0.0).alias("latitude"),
        _required(F.col("c.longitude"), 0.0).alias("longitude"),
        _required(F.col("c.battery"), 0).alias("battery"),
        _required(F.col("c.event_time"), 0).cast("long").alias("event_time"),
        _required(F.col("partition"), 0).alias("source_partition"),
        _required(F.col("offset"), 0).alias("source_offset"),
    )
    invalid = checked.where(F.col("c.reason").isNotNull()).select(
        F.col("value").alias("raw_value"),
        "key",
        _required(F.col("partition"), 0).alias("source_partition"),
        _required(F.col("offset"), 0).alias("source_offset"),
        _required(F.col("c.reason"), "").alias("reason"),
        F.col("c.field").alias("field"),
        _required(F.col("c.detail"), "").alias("detail"),
    )
    duplicates = ranked.where(F.col("occurrence") > 1).select(
        F.col("value").alias("raw_value"),
        "key",
        _required(F.col("partition"), 0).alias("source_partition"),
        _required(F.col("offset"), 0).alias("source_offset"),
        F.lit("duplicate").alias("reason"),
        F.lit(None).cast("string").alias("field"),
        F.format_string("same vehicleId and timestamp as partition %d offset %d",
                        F.col("first_partition"), F.col("first_offset")).alias("detail"),
    )
    rejected = invalid.unionByName(duplicates)

    staging = new_staging_dir(paths, "silver")
    try:
        silver_out = os.path.join(staging, "vehicles")
        rejected_out = os.path.join(staging, "rejected")
        # Sorted like the source, so the part files read back in (partition, offset) order.
        with phase("write_silver"):
            events.orderBy("source_partition", "source_offset").write.parquet(silver_out)
        with phase("write_rejected"):
            rejected.orderBy("source_partition", "source_offset").write.parquet(rejected_out)
        with phase("count"):
            counts = {
                "bronze": checked.count(),
                "silver": events.count(),
                "rejected": invalid.count(),
                "duplicates": duplicates.count(),
            }
        with phase("publish"):
            replace_directory_with_files(spark_part_files(silver_out), paths.silver)
            replace_directory_with_files(spark_part_files(rejected_out), paths.rejected)
    finally:
        remove_staging_dir(staging)
        ranked.unpersist()
        checked.unpersist()
    return counts


if __name__ == "__main__":
    run_stage("silver", silver)
