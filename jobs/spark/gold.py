"""Gold on Spark: one row of statistics per vehicle type present in silver, sorted by type,
recomputed from all of silver's current snapshot and committed as one overwrite snapshot that
records which silver snapshot it was computed from. Commits nothing when gold already is."""

from lakehouse_lineage import gold_input
from lakehouse_session import now_ms, run_stage
from lakehouse_tables import Lake
from pyspark.sql import functions as F


def _required(column, fallback):
    return F.coalesce(column, F.lit(fallback))


def gold(config, logger, spark, phase) -> dict:
    lake = Lake(spark)
    keys = lake.contract.summary_keys
    lake.ensure("gold")
    silver_at = lake.current("silver")
    if silver_at is None:
        logger.info("silver.vehicles has no snapshot yet: nothing to aggregate")
        return {"types": 0, "rowCounts": {"rowsIn": 0, "rowsOut": 0}}
    gold_at = lake.current("gold")
    if gold_at is not None and gold_input(lake.metadata("silver"), lake.metadata("gold"), keys).up_to_date:
        logger.info("gold is up to date", silver_snapshot=silver_at.id)
        return {
            "types": int(gold_at.summary.get("total-records", 0)),
            "silver_snapshot": silver_at.id,
            "rowCounts": {"rowsIn": 0, "rowsOut": 0},
        }
    epoch = F.timestamp_millis(F.lit(0))
    stats = (
        lake.read_at("silver", silver_at.id)
        .groupBy("type")
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
            F.coalesce(F.col("first_event_at"), epoch).alias("first_event_at"),
            F.coalesce(F.col("last_event_at"), epoch).alias("last_event_at"),
            F.timestamp_millis(F.lit(now_ms())).alias("computed_at"),
        )
        # One task, sorted inside it: one data file with the rows in type order.
        .repartition(1)
        .sortWithinPartitions("type")
    )
    with phase("aggregate_overwrite"):
        snapshot = lake.overwrite(
            "gold", stats, {keys["silverSnapshot"]: str(silver_at.id), keys["writer"]: "spark gold"}
        )
    types = int(snapshot.summary.get("total-records", 0))
    return {
        "types": types,
        "silver_snapshot": silver_at.id,
        "snapshot_id": snapshot.id,
        # For ops.runs: the silver rows aggregated (all of them: Spark recomputes), the gold rows.
        "rowCounts": {"rowsIn": int(silver_at.summary.get("total-records", 0)), "rowsOut": types},
    }


if __name__ == "__main__":
    run_stage("gold", gold)
