"""Two independent readers of the lake's Iceberg tables, for the tests (driven by iceberg-readers.ts).

  python iceberg_read.py pyiceberg REQUEST.json OUT.json      PyIceberg: StaticTable on the metadata file,
                                                              or the REST catalog the request names
  python iceberg_read.py duckdb REQUEST.json OUT.json         DuckDB's iceberg extension on the REST
                                                              catalog the request names (rows only)
  spark-submit iceberg_read.py spark REQUEST.json OUT.json    Spark SQL; the catalog `lakehouse` comes
                                                              from spark-submit's --conf settings

REQUEST.json: {"lakeRoot": "/abs/lake" | null, "catalog": {LAKEHOUSE_CATALOG_URI: …, …} | null,
"reads": [{"table": "silver.vehicles", "snapshotId": "…", "asOfMs": 123, "rows": true}, ...]}
(snapshotId and asOfMs optional; asOfMs is PyIceberg only). The catalog's settings are those
`npm run objectstore -- start` prints.
Every table is read in this one process, so a test pays Python's (or the JVM's) start-up once.

Values leave in one transport form that iceberg-readers.ts normalises for every reader alike:
timestamps as integer epoch microseconds, binary as base64, non-finite doubles as "NaN",
"Infinity" or "-Infinity", integers beyond 2^53 as decimal strings (which the TypeScript side
refuses rather than lose precision), snapshot ids always as decimal strings.
"""

import base64
import json
import math
import os
import re
import sys
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SAFE_INTEGER = 2**53 - 1


def transport(value):
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return (
            value
            if math.isfinite(value)
            else ("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - EPOCH) // timedelta(microseconds=1)
    raise TypeError(f"no transport form for {type(value).__name__}: {value!r}")


def table_dir(lake_root: str, name: str) -> str:
    namespace, table = name.split(".")
    return os.path.join(lake_root, namespace, table)


def current_metadata_file(directory: str) -> tuple[str, str | None]:
    """The table's current metadata file, found as Iceberg's HadoopTableOperations finds it: the
    version in metadata/version-hint.text (or the highest vN when the hint is missing), then on past
    every later vN.metadata.json that exists. Returns it with the hint's raw text."""
    metadata = os.path.join(directory, "metadata")
    versions = set()
    for name in os.listdir(metadata) if os.path.isdir(metadata) else []:
        match = re.fullmatch(r"v(\d+)\.metadata\.json", name)
        if match:
            versions.add(int(match.group(1)))
    if not versions:
        raise FileNotFoundError(f"no Iceberg metadata (vN.metadata.json) in {metadata}")
    hint_path = os.path.join(metadata, "version-hint.text")
    hint = open(hint_path, encoding="utf-8").read() if os.path.exists(hint_path) else None
    version = int(hint.strip()) if hint is not None and hint.strip().isdigit() else max(versions)
    while version + 1 in versions:
        version += 1
    if version not in versions:
        raise FileNotFoundError(f"version-hint.text names v{version}, which {metadata} does not hold")
    return os.path.join(metadata, f"v{version}.metadata.json"), hint


def snapshot_json(snapshot) -> dict:
    summary = snapshot.summary
    return {
        "snapshotId": str(snapshot.snapshot_id),
        "parentId": None if snapshot.parent_snapshot_id is None else str(snapshot.parent_snapshot_id),
        "sequenceNumber": snapshot.sequence_number,
        "timestampMs": snapshot.timestamp_ms,
        "operation": summary.operation.value if summary else None,
        "summary": dict(summary.additional_properties) if summary else {},
    }


def rest_catalog(settings: dict):
    """The REST catalog with a standard `type=rest` configuration, as a user of the lake opens it."""
    from pyiceberg.catalog import load_catalog

    uri = settings["LAKEHOUSE_CATALOG_URI"]
    properties = {
        "type": "rest",
        "uri": uri,
        "warehouse": settings["LAKEHOUSE_CATALOG_WAREHOUSE"],
        "s3.endpoint": settings["LAKEHOUSE_S3_ENDPOINT"],
        "s3.access-key-id": settings["AWS_ACCESS_KEY_ID"],
        "s3.secret-access-key": settings["AWS_SECRET_ACCESS_KEY"],
        "s3.region": settings["AWS_REGION"],
        "s3.path-style-access": "true",
    }
    if settings.get("LAKEHOUSE_CATALOG_CREDENTIAL"):
        properties["credential"] = settings["LAKEHOUSE_CATALOG_CREDENTIAL"]
        properties["oauth2-server-uri"] = f"{uri}/v1/oauth/tokens"
    return load_catalog("lakehouse", **properties)


def pyiceberg_read(lake_root: str | None, request: dict, catalog=None) -> dict:
    from pyiceberg.table import StaticTable

    if catalog is not None:
        table = catalog.load_table(request["table"])
        metadata_file, hint = table.metadata_location, None
    else:
        metadata_file, hint = current_metadata_file(table_dir(lake_root, request["table"]))
        table = StaticTable.from_metadata(metadata_file)
    current = table.current_snapshot()
    if request.get("snapshotId") is not None:
        snapshot = table.snapshot_by_id(int(request["snapshotId"]))
        if snapshot is None:
            raise LookupError(f"{request['table']} has no snapshot {request['snapshotId']}")
    elif request.get("asOfMs") is not None:
        snapshot = table.snapshot_as_of_timestamp(int(request["asOfMs"]))
        if snapshot is None:
            raise LookupError(f"{request['table']} has no snapshot at or before {request['asOfMs']} ms")
    else:
        snapshot = current
    result = {
        "table": request["table"],
        "metadataFile": metadata_file,
        "versionHint": hint,
        "formatVersion": table.metadata.format_version,
        "currentSnapshotId": None if current is None else str(current.snapshot_id),
        "readSnapshotId": None if snapshot is None else str(snapshot.snapshot_id),
        "schema": [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required}
            for f in table.schema().fields
        ],
        "partitionSpec": [
            {"sourceId": p.source_id, "fieldId": p.field_id, "name": p.name, "transform": str(p.transform)}
            for p in table.spec().fields
        ],
        "snapshots": [snapshot_json(s) for s in table.snapshots()],
        "files": [],
        "rows": None,
    }
    if snapshot is None:
        result["rows"] = [] if request.get("rows", True) else None
        return result
    scan = table.scan(snapshot_id=snapshot.snapshot_id)
    result["files"] = [
        {
            "path": task.file.file_path,
            "records": task.file.record_count,
            "deleteFiles": [d.file_path for d in task.delete_files],
        }
        for task in scan.plan_files()
    ]
    if request.get("rows", True):
        result["rows"] = [{k: transport(v) for k, v in row.items()} for row in scan.to_arrow().to_pylist()]
    return result


def spark_read(spark, request: dict) -> dict:
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    name = f"lakehouse.{request['table']}"
    frame = spark.table(name)
    if request.get("snapshotId") is not None:
        frame = spark.sql(f"SELECT * FROM {name} VERSION AS OF {int(request['snapshotId'])}")
    columns = []
    for field in frame.schema.fields:
        column = F.col(f"`{field.name}`")
        # Collected as datetime, a timestamp would pass through the session's time zone: take micros.
        # Binary is collected as bytes (Spark's base64() would wrap lines at 76 characters).
        if isinstance(field.dataType, TimestampType):
            column = F.unix_micros(column)
        columns.append(column.alias(field.name))
    rows = [{k: transport(v) for k, v in row.asDict().items()} for row in frame.select(*columns).collect()]
    snapshots = spark.sql(
        f"SELECT snapshot_id, parent_id, unix_millis(committed_at) AS ms, operation, summary FROM {name}.snapshots"
    ).collect()
    main = spark.sql(f"SELECT snapshot_id FROM {name}.refs WHERE name = 'main'").collect()
    return {
        "table": request["table"],
        "columns": [
            {"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable} for f in frame.schema.fields
        ],
        "currentSnapshotId": str(main[0].snapshot_id) if main else None,
        "snapshots": [
            {
                "snapshotId": str(s.snapshot_id),
                "parentId": None if s.parent_id is None else str(s.parent_id),
                "timestampMs": s.ms,
                "operation": s.operation,
                "summary": dict(s.summary or {}),
            }
            for s in snapshots
        ],
        "rows": rows,
    }


def duckdb_connection(settings: dict):
    """DuckDB with its iceberg, httpfs and avro extensions (loaded from the PyPI wheels' files)
    attached to the REST catalog as `lake`."""
    import glob
    from urllib.parse import urlparse

    import duckdb

    site = os.path.dirname(os.path.dirname(duckdb.__file__))
    connection = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    for extension in ("httpfs", "avro", "iceberg"):
        pattern = f"{site}/duckdb_extension_{extension}/extensions/v{duckdb.__version__}/{extension}.duckdb_extension"
        (found,) = glob.glob(pattern)
        connection.execute(f"LOAD '{found}'")
    endpoint = urlparse(settings["LAKEHOUSE_S3_ENDPOINT"])
    connection.execute(
        "CREATE SECRET lake_s3 (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
        [
            settings["AWS_ACCESS_KEY_ID"],
            settings["AWS_SECRET_ACCESS_KEY"],
            settings["AWS_REGION"],
            endpoint.netloc,
            endpoint.scheme == "https",
        ],
    )
    uri = settings["LAKEHOUSE_CATALOG_URI"]
    if settings.get("LAKEHOUSE_CATALOG_CREDENTIAL"):
        client_id, client_secret = settings["LAKEHOUSE_CATALOG_CREDENTIAL"].split(":", 1)
        connection.execute(
            "CREATE SECRET lake_catalog (TYPE iceberg, CLIENT_ID ?, CLIENT_SECRET ?, OAUTH2_SERVER_URI ?)",
            [client_id, client_secret, f"{uri}/v1/oauth/tokens"],
        )
        options = "SECRET lake_catalog"
    else:
        options = "AUTHORIZATION_TYPE 'none'"
    warehouse = settings["LAKEHOUSE_CATALOG_WAREHOUSE"].replace("'", "''")
    connection.execute(f"ATTACH '{warehouse}' AS lake (TYPE iceberg, ENDPOINT '{uri}', {options})")
    return connection


def duckdb_read(connection, request: dict) -> dict:
    namespace, table = request["table"].split(".")
    source = f'lake."{namespace}"."{table}"'
    # Timestamps leave as epoch microseconds in SQL (Python's datetime would need pytz for a zone).
    columns = [
        f'epoch_us("{name}") AS "{name}"' if kind.startswith("TIMESTAMP") else f'"{name}"'
        for name, kind, *_ in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    ]
    cursor = connection.execute(f"SELECT {', '.join(columns)} FROM {source}")
    names = [d[0] for d in cursor.description]
    rows = [{k: transport(v) for k, v in zip(names, row, strict=True)} for row in cursor.fetchall()]
    return {"table": request["table"], "columns": names, "rows": rows}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ("pyiceberg", "duckdb", "spark"):
        sys.stderr.write(__doc__)
        return 2
    mode, request_file, out_file = argv[1:]
    with open(request_file, encoding="utf-8") as f:
        request = json.load(f)
    settings = request.get("catalog")
    if mode == "pyiceberg":
        catalog = rest_catalog(settings) if settings else None
        results = [pyiceberg_read(request.get("lakeRoot"), read, catalog) for read in request["reads"]]
    elif mode == "duckdb":
        connection = duckdb_connection(settings)
        results = [duckdb_read(connection, read) for read in request["reads"]]
    else:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName("lakehouse-iceberg-read").getOrCreate()
        try:
            results = [spark_read(spark, read) for read in request["reads"]]
        finally:
            spark.stop()
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump(results, f, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
