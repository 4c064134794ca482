"""Gold on Spark: one row of statistics per vehicle type present in silver, sorted by type, in a
single file that replaces the previous one."""

import os

from pyspark.sql import functions as F
from pyspark.sql.types import (DoubleType, IntegerType, LongType, StringType, StructField,
                               StructType)

from lakehouse_lake import (lake_paths, list_parquet_files, new_staging_dir,
                            remove_stale_temporaries, remove_staging_dir,
                            replace_directory_with_files, spark_part_files)
from lakehouse_session import now_ms, run_stage

SILVER_SCHEMA = StructType([
    StructField("vehicle_id", StringType(), False),
    StructField("type", StringType(), False),
    StructField("latitude", DoubleType(), False),
    StructField("longitude", DoubleType(), False),
    StructField("battery", IntegerType(), False),
    StructField("event_time", LongType(), False),
    StructField("source_partition", IntegerType(), False),
    StructField("source_offset", LongType(), False),
])


def _required(column, fallback):
    return F.coalesce(column, F.lit(fallback))


def gold(config, logger, spark, phase) -> dict:
    paths = lake_paths(config.data_dir)
    stale = remove_stale_temporaries(paths, "gold", [paths.gold_root])
    if stale:
        logger.info("removed unfinished files of an earlier run", count=stale)
    files = list_parquet_files(paths.silver)
    events = (spark.read.schema(SILVER_SCHEMA).parquet(*files) if files
              else spark.createDataFrame([], SILVER_SCHEMA))
    computed_at = now_ms()
    stats = (
        events.groupBy("type")
        .agg(
            F.count("*").alias("event_count"),
            F.countDistinct("vehicle_id").alias("vehicle_count"),
            F.avg("battery").alias("avg_battery"),
            F.min("battery").alias("min_battery"),
            F.max("battery").alias("max_battery"),
            F.avg("latitude").alias("avg_latitude"),
            F.avg("longitude").alias("avg_longitude"),
            F.min("event_time").alias("first_event_at"),
            F.max("event_time").alias("last_event_at"),
        )
        .select(
            _required(F.col("type"), "").alias("type"),
            _required(F.col("event_count"), 0).cast("long").alias("event_count"),
            _required(F.col("vehicle_count"), 0).cast("long").alias("vehicle_count"),
            _required(F.col("avg_battery"), 0.0).alias("avg_battery"),
            _required(F.col("min_battery"), 0).cast("int").alias("min_battery"),
            _required(F.col("max_battery"), 0).cast("int").alias("max_battery"),
            _required(F.col("avg_latitude"), 0.0).alias("avg_latitude"),
            _required(F.col("avg_longitude"), 0.0).alias("avg_longitude"),
            _required(F.col("first_event_at"), 0).cast("long").alias("first_event_at"),
            _required(F.col("last_event_at"), 0).cast("long").alias("last_event_at"),
            F.lit(computed_at).cast("long").alias("computed_at"),
        )
        # One partition, sorted inside it: one file with the rows in type order.
        .repartition(1)
        .sortWithinPartitions("type")
    )
    staging = new_staging_dir(paths, "gold")
    try:
        output = os.path.join(staging, "stats")
        with phase("aggregate_write"):
            stats.write.parquet(output)
        written = spark_part_files(output)
        if len(written) != 1:
            raise RuntimeError(f"expected one gold part file, Spark wrote {len(written)}")
        rows = spark.read.parquet(*written).count()
        with phase("publish"):
            replace_directory_with_files(written, paths.gold)
    finally:
        remove_staging_dir(staging)
    return {"types": rows}


if __name__ == "__main__":
    run_stage("gold", gold)
