"""The writer lease and the run history around a Spark stage, as the Node job-run wrapper keeps
them around a Node job (jobs/cli.ts, jobs/ops/run-record.ts): a writing stage takes the lake's
writer lease before it touches a table (the same object a Node run takes, lakehouse_lease), and
every run is appended to ops.runs when it ends (engine `spark`), so that `status`, the metrics
exporter and the alerts see it. Neither changes the stage's own outcome: a run that cannot be
recorded says so in a warning."""

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lakehouse_lease import (
    HeldLease,
    ObjectLeaseObject,
    Timing,
    VolumeLeaseObject,
    acquire,
    describe_holder,
    host_name,
    lease_time,
)
from lakehouse_s3 import S3Objects


@dataclass(frozen=True)
class Run:
    stage: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: int = field(default_factory=lambda: int(datetime.now(UTC).timestamp() * 1000))


def lake_exists(config) -> bool:
    """A volume lake exists once its root does (bronze creates it); a REST catalog's is its warehouse."""
    return config.catalog == "rest" or os.path.isdir(config.data_dir)


def lease_object(config, lease_contract: dict):
    """The lease object where the Node jobs keep it (Catalog.leaseLocation)."""
    locations = lease_contract["locations"]
    if config.catalog == "rest":
        objects = S3Objects(
            config.s3_endpoint, config.aws_region, config.aws_access_key_id, config.aws_secret_access_key
        )
        return ObjectLeaseObject(objects, config.catalog_warehouse.rstrip("/") + "/" + locations["catalog"])
    return VolumeLeaseObject(os.path.join(os.path.abspath(config.data_dir), locations["volume"]))


@dataclass(frozen=True)
class LeaseTaken:
    lease: HeldLease | None = None
    skip: str | None = None


def take_lease(config, lake, run: Run, logger) -> LeaseTaken:
    """The writer lease for a writing stage, waiting up to LAKEHOUSE_LEASE_WAIT_SECONDS; or why the
    run skips. A stage that does not write, or a lake not there for a stage that would not create
    it, takes none."""
    contract_lease = lake.contract.lease
    if run.stage not in contract_lease["writingStages"]:
        return LeaseTaken()
    if run.stage not in contract_lease["lakeCreatingStages"] and not lake_exists(config):
        return LeaseTaken()
    if config.catalog == "rest":
        # The lease object lies in ops.runs' location: the table comes first (an object where the
        # catalog's namespace must go breaks a table bucket).
        lake.ensure("runs", staged=False)
    holder = {"runId": run.run_id, "stage": run.stage, "host": host_name(), "pid": os.getpid()}
    wait = config.lease_wait_seconds

    def on_wait(current):
        logger.info("waiting for the lake writer lease", heldBy=describe_holder(current), waitSeconds=wait)

    result = acquire(lease_object(config, contract_lease), holder, wait * 1000, on_wait, Timing.of(contract_lease))
    if result.lease is None:
        return LeaseTaken(
            skip=(
                f"skipped: the lake's writer lease is held by {describe_holder(result.holder)}; waited {wait}s "
                "(LAKEHOUSE_LEASE_WAIT_SECONDS); nothing was changed, the next run does the work"
            )
        )
    held = result.lease
    if held.took_over is not None and held.distrusted:
        logger.warn(
            "took over a lake writer lease it cannot trust, as if expired (a wrong clock or a damaged file)",
            previous=describe_holder(held.took_over),
            claimedExpiry=lease_time(held.took_over.get("expiresAt", None)),
            reason=held.distrusted,
        )
    elif held.took_over is not None:
        logger.warn(
            "took over an expired lake writer lease (its holder stopped renewing it)",
            previous=describe_holder(held.took_over),
        )
    return LeaseTaken(lease=held)


def release_lease(held: HeldLease | None, logger) -> None:
    if held is None:
        return
    if held.lost:
        logger.warn(
            "the lake writer lease was taken over while this run held it (it was stalled past its expiry); "
            "the commit protocol kept the tables right",
            heldBy=held.lost.get("runId") if isinstance(held.lost, dict) else None,
        )
    try:
        held.release()
    except Exception as error:
        logger.warn("could not release the lake writer lease; it expires by itself", error=str(error))


def row_counts(result) -> tuple[int | None, int | None]:
    """rows_in and rows_out of a stage's result (`rowCounts`), None where it does not say."""
    counts = result.get("rowCounts") if isinstance(result, dict) else None
    counts = counts if isinstance(counts, dict) else {}

    def count(n):
        return n if isinstance(n, int) and not isinstance(n, bool) and abs(n) <= 2**53 - 1 else None

    return count(counts.get("rowsIn")), count(counts.get("rowsOut"))


def one_line(message: str, limit: int = 1000) -> str:
    """The first line of an error, bounded, as the Node engine records it."""
    line = message.split("\n", 1)[0].strip()
    return line[: limit - 1] + "…" if len(line) > limit else line


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def append_run(spark, lake, row: dict) -> None:
    """One row in ops.runs through Spark's Iceberg writer (an append, retried by Iceberg on a
    concurrent commit), its snapshot marked as the Node engine marks its own."""
    from pyspark.sql import types as T

    sql_types = {"string": T.StringType(), "long": T.LongType(), "timestamptz": T.TimestampType()}
    spec = lake.spec("runs")
    lake.ensure("runs", staged=False)
    schema = T.StructType([T.StructField(f.name, sql_types[f.type], not f.required) for f in spec.fields])
    values = tuple(_utc(row[f.name]) if f.type == "timestamptz" else row[f.name] for f in spec.fields)
    (
        spark.createDataFrame([values], schema)
        .writeTo(lake.name("runs"))
        .option(f"snapshot-property.{lake.contract.summary_keys['writer']}", f"spark {row['stage']}")
        .append()
    )


def record_run(spark, config, lake, run: Run, outcome: str, logger, result=None, error: str | None = None) -> None:
    """Appends the run to ops.runs; a failure to record is a warning, never the stage's failure. A
    lake that does not exist gets no history (none is created for it)."""
    if not lake_exists(config):
        return
    rows_in, rows_out = row_counts(result)
    row = {
        "run_id": run.run_id,
        "stage": run.stage,
        "engine": "spark",
        "host": host_name(),
        "started_at": run.started_at,
        "ended_at": int(datetime.now(UTC).timestamp() * 1000),
        "outcome": outcome,
        "rows_in": rows_in,
        "rows_out": rows_out,
        "error": None if error is None else one_line(error),
    }
    try:
        append_run(spark, lake, row)
    except Exception as failure:
        logger.warn(
            "could not record the run in ops.runs (the job outcome stands)",
            outcome=outcome,
            error=str(failure).split("\n", 1)[0],
        )
