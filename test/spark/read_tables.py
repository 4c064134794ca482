"""Reads a lake's Iceberg tables with PyIceberg, independently of the engine that wrote them, and
prints JSON per table: format version, properties, schema, partition spec, the current lineage's
snapshots (oldest first) and the data files of the current snapshot.

    python read_tables.py <lake root> <table location> ...     (locations as in the contract)
    python read_tables.py --catalog <table location> ...       the tables of the REST catalog the
                                                               environment names (LAKEHOUSE_CATALOG_URI, …)
"""

import json
import os
import sys

from pyiceberg.table import StaticTable


def current_metadata(location: str) -> str:
    metadata = os.path.join(location, "metadata")
    with open(os.path.join(metadata, "version-hint.text")) as f:
        version = f.read().strip()
    return os.path.join(metadata, f"v{version}.metadata.json")


def rest_catalog():
    """The REST catalog the environment names, opened as test/support/iceberg_read.py opens it."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
    from iceberg_read import rest_catalog as open_rest_catalog

    return open_rest_catalog(os.environ)


def open_table(location: str, catalog):
    if catalog is not None:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return catalog.load_table(location.replace("/", "."))
        except NoSuchTableError:
            return None
    if not os.path.isdir(os.path.join(location, "metadata")):
        return None
    return StaticTable.from_metadata(current_metadata(location))


def describe(location: str, catalog=None):
    table = open_table(location, catalog)
    if table is None:
        return None
    meta = table.metadata
    lineage = []
    snapshot = table.current_snapshot()
    while snapshot is not None:
        lineage.append(
            {
                "snapshotId": snapshot.snapshot_id,
                "parentId": snapshot.parent_snapshot_id,
                "operation": snapshot.summary.operation.value if snapshot.summary else None,
                "summary": {
                    k: v for k, v in (snapshot.summary.additional_properties if snapshot.summary else {}).items()
                },
            }
        )
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
    files = [task.file.file_path for task in table.scan().plan_files()] if table.current_snapshot() else []
    return {
        "formatVersion": meta.format_version,
        "properties": dict(meta.properties),
        "schema": [
            {"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required}
            for f in table.schema().fields
        ],
        "partitionSpec": [
            {"sourceId": p.source_id, "fieldId": p.field_id, "name": p.name, "transform": str(p.transform)}
            for p in table.spec().fields
        ],
        "snapshots": lineage[::-1],
        "dataFiles": [f[len("file:") :] if f.startswith("file:") else f for f in files],
        "rows": len(table.scan().to_arrow()) if table.current_snapshot() else 0,
    }


if sys.argv[1] == "--catalog":
    catalog = rest_catalog()
    json.dump({location: describe(location, catalog) for location in sys.argv[2:]}, sys.stdout)
else:
    root = sys.argv[1]
    json.dump({location: describe(os.path.join(root, location)) for location in sys.argv[2:]}, sys.stdout)
