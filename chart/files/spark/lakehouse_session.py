"""What every Spark stage shares: the JSON log line of the contract, the SparkSession with the
lake's Iceberg catalog, and the exit codes (0 done, 1 job failed, 2 bad configuration)."""

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from lakehouse_config import Config, ConfigError, load_config

# The Spark catalog name of the lake's tables: lakehouse.bronze.vehicles and so on.
CATALOG = "lakehouse"

# Set by run-stage.sh just before spark-submit, so the log can tell JVM start-up time apart.
_LAUNCHED_AT_ENV = "LAKEHOUSE_SPARK_LAUNCHED_AT_MS"


def now_ms() -> int:
    return int(time.time() * 1000)


class Phases:
    """Wall time of a stage's steps, for the closing log line: where a run's time goes."""

    def __init__(self):
        self.ms = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0) + round((time.perf_counter() - started) * 1000)


class StageError(Exception):
    """A failure the stage explains itself in one line (logged without a trace); exit code 1."""


class Logger:
    def __init__(self, job: str):
        self.job = job

    def log(self, level: str, msg: str, **fields) -> None:
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "job": self.job,
            "engine": "spark",
            "msg": msg,
            **fields,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    def info(self, msg: str, **fields) -> None:
        self.log("info", msg, **fields)

    def warn(self, msg: str, **fields) -> None:
        self.log("warn", msg, **fields)

    def error(self, msg: str, **fields) -> None:
        self.log("error", msg, **fields)


def catalog_properties(config: Config) -> dict[str, str]:
    """The lake's Iceberg catalog as Spark opens it: on a volume, Iceberg's HadoopCatalog with the
    lake root as warehouse (table bronze.vehicles in <root>/bronze/vehicles, as the Node engine lays
    it out); with LAKEHOUSE_CATALOG=rest, the REST catalog and S3FileIO on the object storage."""
    if config.catalog != "rest":
        return {"type": "hadoop", "warehouse": "file:" + os.path.abspath(config.data_dir)}
    properties = {
        "type": "rest",
        "uri": config.catalog_uri,
        "warehouse": config.catalog_warehouse,
        "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "s3.path-style-access": "true",
        "s3.access-key-id": config.aws_access_key_id,
        "s3.secret-access-key": config.aws_secret_access_key,
        "client.region": config.aws_region,
    }
    if config.s3_endpoint:
        properties["s3.endpoint"] = config.s3_endpoint
    if config.catalog_credential:
        properties["credential"] = config.catalog_credential
        properties["oauth2-server-uri"] = config.catalog_uri + "/v1/oauth/tokens"
    return properties


def spark_session(job: str, config: Config):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(f"lakehouse-{job}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config(f"spark.sql.catalog.{CATALOG}", "org.apache.iceberg.spark.SparkCatalog")
        # Snappy, which the Node engine's Parquet reader decodes without extra codecs (Iceberg's
        # Spark writer would pick zstd).
        .config("spark.sql.iceberg.compression-codec", "snappy")
        # Each stage commits and then reads table state again: no cached table may hide a commit.
        .config(f"spark.sql.catalog.{CATALOG}.cache-enabled", "false")
    )
    for key, value in catalog_properties(config).items():
        builder = builder.config(f"spark.sql.catalog.{CATALOG}.{key}", value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("LAKEHOUSE_SPARK_LOG_LEVEL", "WARN"))
    # Hadoop's local file system writes a .crc file beside every file; the tables need none (the
    # Node engine writes none). Executors in other JVMs (cluster mode) still may.
    jvm = spark.sparkContext._jvm
    jvm.org.apache.hadoop.fs.FileSystem.get(
        jvm.java.net.URI("file:///"), spark.sparkContext._jsc.hadoopConfiguration()
    ).setWriteChecksum(False)
    return spark


def run_stage(job: str, body: Callable[[Config, Logger, object, Phases], dict]) -> None:
    """Parses the settings, starts Spark, takes the lake's writer lease (a writing stage), runs
    `body`, records the run in ops.runs and exits with the contract's code, as the Node job-run
    wrapper does (lakehouse_runs)."""
    from lakehouse_runs import Run, record_run, release_lease, take_lease
    from lakehouse_tables import Lake

    logger = Logger(job)
    started = now_ms()
    run = Run(job)
    try:
        config = load_config(sys.argv[1:])
    except ConfigError as error:
        logger.error("failed", ok=False, error=str(error), setting=error.setting)
        sys.exit(2)
    spark = None
    lake = None
    held = None

    def fail(error: str, **fields) -> None:
        release_lease(held, logger)
        if lake is not None:
            record_run(spark, config, lake, run, "failed", logger, error=error)
        logger.error("failed", ok=False, seconds=round((now_ms() - started) / 1000, 3), error=error, **fields)
        if spark is not None:
            spark.stop()
        sys.exit(1)

    try:
        spark = spark_session(job, config)
        session_ready = now_ms()
        launched = os.environ.get(_LAUNCHED_AT_ENV, "")
        timings = {"session_ms": session_ready - started}
        if launched.isdigit():
            timings["launch_to_session_ms"] = session_ready - int(launched)
        lake = Lake(spark)
        taken = take_lease(config, lake, run, logger)
        if taken.skip:
            record_run(spark, config, lake, run, "skipped", logger, error=taken.skip)
            logger.info(
                "skipped", ok=True, outcome="skipped", seconds=round((now_ms() - started) / 1000, 3), reason=taken.skip
            )
            spark.stop()
            return
        held = taken.lease
        phases = Phases()
        counts = body(config, logger, spark, phases)
        timings["job_ms"] = now_ms() - session_ready
        release_lease(held, logger)
        held = None
        record_run(spark, config, lake, run, "succeeded", logger, result=counts)
        logger.info(
            "finished",
            ok=True,
            seconds=round((now_ms() - started) / 1000, 3),
            result=counts,
            **timings,
            phases_ms=phases.ms,
        )
    except StageError as error:
        fail(str(error))
    except Exception as error:  # the job fails as a whole: log why, exit 1
        fail(f"{type(error).__name__}: {error}", trace=traceback.format_exc(limit=8))
    spark.stop()
