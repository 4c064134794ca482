"""Silver on Spark: the bronze snapshots added since the one silver last consumed, each record
checked by the rules of lakehouse_rules (the same as the Node engine's), valid events
de-duplicated on (vehicle_id, event_time) against each other (the first in (partition, offset)
order is kept) and against silver, rejected records with their reason. Commits silver.rejected,
then silver.vehicles, each one snapshot recording the last bronze snapshot consumed."""

from lakehouse_lineage import LineageError, silver_input, snapshot_by_id
from lakehouse_rules import Rules, detail_template, integer_format, reason_code
from lakehouse_session import StageError, run_stage
from lakehouse_tables import ConcurrentCommit, Lake
from pyspark import StorageLevel
from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

CHECKED = StructType(
    [
        StructField("reason", StringType()),
        StructField("field", StringType()),
        StructField("detail", StringType()),
        StructField("vehicle_id", StringType()),
        StructField("type", StringType()),
        StructField("latitude", DoubleType()),
        StructField("longitude", DoubleType()),
        StructField("battery", IntegerType()),
        StructField("event_time", LongType()),
    ]
)


def _required(column, fallback):
    # Declares a column that can never be null as such, as the contract's required fields are.
    return F.coalesce(column, F.lit(fallback))


def _duplicate_detail(rules, original):
    """The contract's duplicate detail as a Spark column: its {partition} and {offset} filled in."""
    text, names = integer_format(detail_template(rules, "unique", "duplicate"), ("partition", "offset"))
    return F.format_string(text, *(original[name] for name in names))


def split(spark, lake: Lake, config, bronze_rows, silver_snapshot: int | None):
    """(events, rejected, counts) of bronze rows: the rules, then duplicates against each other and
    against silver as of `silver_snapshot`. Counts are taken before anything is written."""
    rules = Rules(lake.contract.rules, config)
    check = F.udf(lambda value: rules.check_value(value), CHECKED)
    checked = bronze_rows.select("key", "value", "partition", "offset", check(F.col("value")).alias("c")).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    valid = checked.where(F.col("c.reason").isNull()).select(
        "key",
        "value",
        "partition",
        "offset",
        F.col("c.vehicle_id").alias("vehicle_id"),
        F.timestamp_millis(F.col("c.event_time")).alias("event_time"),
        "c",
    )
    # A new event can only repeat a silver row of its own time range: silver is read for that range
    # alone (day partitions and file statistics prune the rest).
    low, high = valid.agg(F.min("c.event_time"), F.max("c.event_time")).first()
    if silver_snapshot is None or low is None:
        seen = None
    else:
        seen = (
            lake.read_at("silver", silver_snapshot)
            .where(F.col("event_time").between(F.timestamp_millis(F.lit(low)), F.timestamp_millis(F.lit(high))))
            .groupBy("vehicle_id", "event_time")
            .agg(
                F.min(
                    F.struct(F.col("source_partition").alias("partition"), F.col("source_offset").alias("offset"))
                ).alias("in_silver")
            )
        )
    first_seen = Window.partitionBy("vehicle_id", "event_time").orderBy("partition", "offset")
    ranked = valid.select(
        "*",
        F.row_number().over(first_seen).alias("occurrence"),
        F.first(F.struct("partition", "offset")).over(first_seen).alias("in_batch"),
    )
    if seen is None:
        ranked = ranked.withColumn("in_silver", F.lit(None).cast(ranked.schema["in_batch"].dataType))
    else:
        ranked = ranked.join(seen, ["vehicle_id", "event_time"], "left")
    ranked = ranked.withColumn("kept", F.col("in_silver").isNull() & (F.col("occurrence") == 1)).persist(
        StorageLevel.MEMORY_AND_DISK
    )

    events = ranked.where("kept").select(
        _required(F.col("c.vehicle_id"), "").alias("vehicle_id"),
        _required(F.col("c.type"), "").alias("type"),
        _required(F.col("c.latitude"), 0.0).alias("latitude"),
        _required(F.col("c.longitude"), 0.0).alias("longitude"),
        _required(F.col("c.battery"), 0).alias("battery"),
        _required(F.col("event_time"), F.timestamp_millis(F.lit(0))).alias("event_time"),
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
    original = F.coalesce(F.col("in_silver"), F.col("in_batch"))
    duplicates = ranked.where(~F.col("kept")).select(
        F.col("value").alias("raw_value"),
        "key",
        _required(F.col("partition"), 0).alias("source_partition"),
        _required(F.col("offset"), 0).alias("source_offset"),
        F.lit(reason_code(lake.contract.rules, "unique")).alias("reason"),
        F.lit(None).cast("string").alias("field"),
        _duplicate_detail(lake.contract.rules, original).alias("detail"),
    )
    counts = {
        "bronze": checked.count(),
        "silver": events.count(),
        "rejected": invalid.count(),
        "duplicates": duplicates.count(),
    }
    # Reconciliation: every bronze record lands once, in silver or in rejected (a join that
    # multiplied rows, or a rule that dropped one, stops the run before it commits).
    if counts["silver"] + counts["rejected"] + counts["duplicates"] != counts["bronze"]:
        raise StageError(f"silver + rejected + duplicates != bronze records read: {counts}; nothing was committed")
    rejected = invalid.unionByName(duplicates).orderBy("source_partition", "source_offset")
    return events, rejected, counts, [checked, ranked]


def _read_after(bronze, appends, after):
    """Where Iceberg's incremental read of `appends` (bronze snapshot ids, oldest first) starts: the
    first one's parent. Iceberg reads the parent chain, which past a rollback still holds the appends
    the rollback dropped (the lineage goes on from the restored snapshot instead): read from the
    rollback snapshot, only the appends since are read."""
    if not appends:
        return after
    parent = (snapshot_by_id(bronze, appends[0]) or {}).get("parent-snapshot-id")
    return after if parent is None else int(parent)


def silver(config, logger, spark, phase) -> dict:
    lake = Lake(spark)
    keys = lake.contract.summary_keys
    marker = keys["bronzeSnapshot"]
    for key in ("silver", "rejected"):
        lake.ensure(key)
    bronze = lake.metadata("bronze")
    try:
        plan = silver_input(bronze, lake.metadata("silver"), lake.metadata("rejected"), keys)
    except LineageError as error:
        raise StageError(str(error)) from None
    if plan.bronze_head is None:
        logger.info("bronze.vehicles has no snapshot yet: nothing to consume")
        return {"bronze": 0}
    vehicles = lake.current("silver")
    rejected = lake.current("rejected")
    writer = {keys["writer"]: "spark silver"}
    result = {}

    def commit(key: str, rows, parent, through: int):
        try:
            return lake.append(key, rows, {marker: str(through), **writer}, parent.id if parent else None, "silver")
        except ConcurrentCommit as error:
            raise StageError(str(error)) from None

    if plan.recover:
        # A run died between its two commits: its rejects are in, its silver rows are not. Those
        # bronze snapshots are split again (silver is as that run saw it) and only silver is written.
        logger.info(
            "completing a silver run that committed silver.rejected only",
            after=plan.vehicles_through,
            through=plan.rejected_through,
        )
        with phase("recover"):
            events, _, counts, cached = split(
                spark,
                lake,
                config,
                lake.read_added(
                    "bronze", _read_after(bronze, plan.recover, plan.vehicles_through), plan.rejected_through
                ),
                vehicles.id if vehicles else None,
            )
            vehicles = commit("silver", events, vehicles, plan.rejected_through)
            for frame in cached:
                frame.unpersist()
        result["recovered"] = counts
    if not plan.pending:
        logger.info("no new bronze snapshot", bronze_snapshot=plan.bronze_head)
        return {**result, "bronze": 0, "rowCounts": {"rowsIn": 0, "rowsOut": 0}}
    with phase("split"):
        events, rejects, counts, cached = split(
            spark,
            lake,
            config,
            lake.read_added("bronze", _read_after(bronze, plan.pending, plan.rejected_through), plan.bronze_head),
            vehicles.id if vehicles else None,
        )
    with phase("commit_rejected"):
        commit("rejected", rejects, rejected, plan.bronze_head)
    with phase("commit_silver"):
        commit("silver", events, vehicles, plan.bronze_head)
    for frame in cached:
        frame.unpersist()
    # For ops.runs, as the Node engine counts: bronze rows read, rows written to silver and rejected.
    written = counts["silver"] + counts["rejected"] + counts["duplicates"]
    row_counts = {"rowsIn": counts["bronze"], "rowsOut": written}
    return {**result, **counts, "bronze_snapshot": plan.bronze_head, "rowCounts": row_counts}


if __name__ == "__main__":
    run_stage("silver", silver)
