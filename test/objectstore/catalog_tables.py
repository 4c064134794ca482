"""Writes and reads a table through an Iceberg REST catalog, as a user of the lake would.

    python catalog_tables.py NAMESPACE

The catalog and its storage come from the variables `npm run objectstore -- start` exports
(LAKEHOUSE_CATALOG_URI, LAKEHOUSE_CATALOG_WAREHOUSE, LAKEHOUSE_CATALOG_CREDENTIAL when the catalog
wants one, LAKEHOUSE_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION). PyIceberg
opens it with a standard `type=rest` configuration, creates NAMESPACE.vehicles and appends to it
twice; a second PyIceberg catalog and DuckDB (its iceberg, httpfs and avro extensions loaded from
the PyPI wheels' files) then read the table back. Prints one JSON object.
"""

import glob
import json
import os
import sys
from datetime import UTC, datetime
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
from pyiceberg.catalog import load_catalog

ROWS = [
    [("CAR_000", 75, 1697203200000), ("BIKE_001", 40, 1697203201000)],
    [("SCOOTER_002", 12, 1697203202000)],
]
SCHEMA = pa.schema(
    [
        pa.field("vehicle_id", pa.string(), nullable=False),
        pa.field("battery", pa.int32()),
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
    ]
)


def setting(name):
    value = os.environ.get(name, "").strip()
    if not value:
        sys.exit(f"catalog_tables.py: {name} is not set")
    return value


def rest_catalog(name):
    uri = setting("LAKEHOUSE_CATALOG_URI")
    properties = {
        "type": "rest",
        "uri": uri,
        "warehouse": setting("LAKEHOUSE_CATALOG_WAREHOUSE"),
        "s3.endpoint": setting("LAKEHOUSE_S3_ENDPOINT"),
        "s3.access-key-id": setting("AWS_ACCESS_KEY_ID"),
        "s3.secret-access-key": setting("AWS_SECRET_ACCESS_KEY"),
        "s3.region": setting("AWS_REGION"),
        "s3.path-style-access": "true",
    }
    credential = os.environ.get("LAKEHOUSE_CATALOG_CREDENTIAL", "").strip()
    if credential:
        properties["credential"] = credential
        properties["oauth2-server-uri"] = f"{uri}/v1/oauth/tokens"
    return load_catalog(name, **properties)


def arrow_rows(table):
    rows = table.scan().to_arrow().sort_by("vehicle_id").to_pylist()
    return [[row["vehicle_id"], row["battery"], int(row["event_time"].timestamp() * 1000)] for row in rows]


def duckdb_rows(namespace):
    site = os.path.dirname(os.path.dirname(duckdb.__file__))
    connection = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    for extension in ("httpfs", "avro", "iceberg"):
        pattern = f"{site}/duckdb_extension_{extension}/extensions/v{duckdb.__version__}/{extension}.duckdb_extension"
        files = glob.glob(pattern)
        if len(files) != 1:
            sys.exit(f"catalog_tables.py: no {pattern}: run ci/spark/install.sh")
        connection.execute(f"LOAD '{files[0]}'")
    endpoint = urlparse(setting("LAKEHOUSE_S3_ENDPOINT"))
    connection.execute(
        "CREATE SECRET lake_s3 (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
        [
            setting("AWS_ACCESS_KEY_ID"),
            setting("AWS_SECRET_ACCESS_KEY"),
            setting("AWS_REGION"),
            endpoint.netloc,
            endpoint.scheme == "https",
        ],
    )
    uri = setting("LAKEHOUSE_CATALOG_URI")
    credential = os.environ.get("LAKEHOUSE_CATALOG_CREDENTIAL", "").strip()
    if credential:
        client_id, client_secret = credential.split(":", 1)
        connection.execute(
            "CREATE SECRET lake_catalog (TYPE iceberg, CLIENT_ID ?, CLIENT_SECRET ?, OAUTH2_SERVER_URI ?)",
            [client_id, client_secret, f"{uri}/v1/oauth/tokens"],
        )
        options = "SECRET lake_catalog"
    else:
        options = "AUTHORIZATION_TYPE 'none'"
    warehouse = setting("LAKEHOUSE_CATALOG_WAREHOUSE").replace("'", "''")
    connection.execute(f"ATTACH '{warehouse}' AS lake (TYPE iceberg, ENDPOINT '{uri}', {options})")
    rows = connection.execute(
        f'SELECT vehicle_id, battery, epoch_ms(event_time) FROM lake."{namespace}".vehicles ORDER BY vehicle_id'
    ).fetchall()
    return [list(row) for row in rows]


def main():
    namespace = sys.argv[1]
    catalog = rest_catalog("writer")
    catalog.create_namespace(namespace)
    table = catalog.create_table(f"{namespace}.vehicles", schema=SCHEMA)
    for batch in ROWS:
        columns = list(zip(*batch, strict=True))
        times = [datetime.fromtimestamp(ms / 1000, UTC) for ms in columns[2]]
        table.append(
            pa.Table.from_arrays([pa.array(columns[0]), pa.array(columns[1], pa.int32()), times], schema=SCHEMA)
        )
    reread = rest_catalog("reader").load_table(f"{namespace}.vehicles")
    print(
        json.dumps(
            {
                "location": reread.location(),
                "snapshots": len(reread.snapshots()),
                "dataFiles": [task.file.file_path for task in reread.scan().plan_files()],
                "pyiceberg": arrow_rows(reread),
                "duckdb": duckdb_rows(namespace),
            }
        )
    )


if __name__ == "__main__":
    main()
