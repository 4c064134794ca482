"""The lake's four Iceberg tables, as the contract defines them, through Spark's Iceberg catalog
(HadoopCatalog, warehouse = lake root) and, where Spark's writer cannot say it, Iceberg's Java API
through py4j.

Appends are staged (Iceberg's write-audit-publish: the snapshot is written but not made current)
and then published only if the table is still at the snapshot the run started from, in one
metadata commit that fails if any other commit came first. Iceberg's own append would instead
rebase onto whatever the table holds at commit time, which for bronze would store the same Kafka
offsets twice."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from lakehouse_contract import TableSpec, contract
from lakehouse_session import CATALOG, StageError
from pyspark.sql import functions as F

_SQL_TYPES = {
    "string": "STRING",
    "binary": "BINARY",
    "int": "INT",
    "long": "BIGINT",
    "double": "DOUBLE",
    "timestamptz": "TIMESTAMP",
}
_SQL_TRANSFORMS = {"day": "days({})", "identity": "{}"}
_WAP_ID = "wap.id"


class ConcurrentCommit(StageError):
    pass


@dataclass(frozen=True)
class Snapshot:
    id: int
    parent_id: int | None
    summary: dict[str, str]


def _sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return f"`{name}`"


def create_table_sql(spec: TableSpec, properties: Mapping[str, str]) -> str:
    """CREATE TABLE in field id order: Iceberg numbers new columns 1..n in that order, which is
    what the contract's ids are (checked after creation)."""
    by_id = {f.id: f for f in spec.fields}
    columns = ", ".join(
        f"{_quote(f.name)} {_SQL_TYPES[f.type]}{' NOT NULL' if f.required else ''} COMMENT {_sql_string(f.doc)}"
        for f in sorted(spec.fields, key=lambda f: f.id)
    )
    partitioned = ""
    if spec.partition_by:
        partitioned = (
            " PARTITIONED BY ("
            + ", ".join(_SQL_TRANSFORMS[p.transform].format(_quote(by_id[p.source_id].name)) for p in spec.partition_by)
            + ")"
        )
    props = ", ".join(f"'{k}'='{v}'" for k, v in sorted(properties.items()))
    return (
        f"CREATE TABLE IF NOT EXISTS {CATALOG}.{spec.namespace}.{spec.table} ({columns}) USING iceberg"
        f"{partitioned} TBLPROPERTIES ({props})"
    )


class Lake:
    def __init__(self, spark):
        self.spark = spark
        self.jvm = spark.sparkContext._jvm
        self.contract = contract()

    def spec(self, key: str) -> TableSpec:
        return self.contract.tables[key]

    def name(self, key: str) -> str:
        return f"{CATALOG}.{self.spec(key).name}"

    def exists(self, key: str) -> bool:
        return self.spark.catalog.tableExists(self.name(key))

    def java_table(self, key: str):
        return self.jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(self.spark._jsparkSession, self.name(key))

    def ensure(self, key: str, properties: Mapping[str, str] = None, staged: bool = True) -> None:
        """Creates the table from the contract if absent (format 2, staged appends enabled unless
        not `staged`), adds missing `properties`, and fails unless its schema and partitioning are
        the contract's."""
        wanted = {"format-version": "2", **({"write.wap.enabled": "true"} if staged else {}), **(properties or {})}
        if not self.exists(key):
            # A REST catalog keeps namespaces of its own (a volume's are directories).
            self.spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {CATALOG}.{_quote(self.spec(key).namespace)}")
            self.spark.sql(create_table_sql(self.spec(key), wanted))
        table = self.java_table(key)
        current = dict(table.properties())
        missing = {k: v for k, v in wanted.items() if k != "format-version" and current.get(k) != v}
        if missing:
            update = table.updateProperties()
            for k, v in missing.items():
                update.set(k, v)
            update.commit()
        self._check_shape(key, table)

    def _check_shape(self, key: str, table) -> None:
        spec = self.spec(key)
        schema = [
            (f.fieldId(), f.name(), str(f.type().toString()), not f.isOptional()) for f in table.schema().columns()
        ]
        expected = [(f.id, f.name, f.type, f.required) for f in spec.fields]
        if schema != expected:
            raise StageError(f"{spec.name} at {table.location()} has schema {schema}, the contract says {expected}")
        partitioning = [
            (p.sourceId(), p.fieldId(), p.name(), str(p.transform().toString())) for p in table.spec().fields()
        ]
        expected_partitioning = [(p.source_id, p.field_id, p.name, p.transform) for p in spec.partition_by]
        if partitioning != expected_partitioning:
            raise StageError(f"{spec.name} is partitioned by {partitioning}, the contract says {expected_partitioning}")

    def current(self, key: str) -> Snapshot | None:
        """The table's current snapshot; None when the table is absent or has none."""
        if not self.exists(key):
            return None
        return _snapshot(self.java_table(key).currentSnapshot())

    def metadata(self, key: str) -> dict | None:
        """The table's snapshots, refs and properties in Iceberg's metadata JSON shape, as
        lakehouse_lineage reads them; None when the table is absent."""
        if not self.exists(key):
            return None
        table = self.java_table(key)
        current = table.currentSnapshot()
        snapshots = [
            {
                "snapshot-id": s.snapshotId(),
                "parent-snapshot-id": s.parentId(),
                "sequence-number": s.sequenceNumber(),
                "timestamp-ms": s.timestampMillis(),
                "summary": {**dict(s.summary()), "operation": s.operation()},
            }
            for s in table.snapshots()
        ]
        return {
            "current-snapshot-id": current.snapshotId() if current is not None else -1,
            "refs": {"main": {"snapshot-id": current.snapshotId(), "type": "branch"}} if current is not None else {},
            "snapshots": snapshots,
            "properties": dict(table.properties()),
        }

    def history(self, key: str) -> list[int]:
        """Snapshot ids of the table's current lineage, oldest first."""
        table = self.java_table(key)
        ids = []
        snapshot = table.currentSnapshot()
        while snapshot is not None:
            ids.append(snapshot.snapshotId())
            parent = snapshot.parentId()
            snapshot = table.snapshot(parent) if parent is not None else None
        return ids[::-1]

    def read_at(self, key: str, snapshot_id: int):
        return self.spark.read.option("versionAsOf", str(snapshot_id)).table(self.name(key))

    def read_added(self, key: str, after: int | None, through: int):
        """Rows appended by the snapshots after `after` (exclusive) up to `through` (inclusive):
        Iceberg's incremental read; with no `after`, the table as of `through`."""
        if after is None:
            return self.read_at(key, through)
        return (
            self.spark.read.format("iceberg")
            .option("start-snapshot-id", str(after))
            .option("end-snapshot-id", str(through))
            .load(self.name(key))
        )

    def append(self, key: str, rows, summary: Mapping[str, str], parent: int | None, stage: str) -> Snapshot:
        """Appends `rows` as one snapshot carrying `summary`, on top of snapshot `parent` and nothing
        else: ConcurrentCommit if another commit got there first (nothing is added then)."""
        wap_id = f"{stage}-{uuid.uuid4()}"
        writer = rows.writeTo(self.name(key))
        for k, v in summary.items():
            writer = writer.option(f"snapshot-property.{k}", v)
        self.spark.conf.set("spark.wap.id", wap_id)
        try:
            writer.append()
        finally:
            self.spark.conf.unset("spark.wap.id")
        table = self.java_table(key)
        staged = next(s for s in table.snapshots() if s.summary().get(_WAP_ID) == wap_id)
        self._publish(key, table, staged, parent, stage)
        return _snapshot(staged)

    def _publish(self, key: str, table, staged, parent: int | None, stage: str) -> None:
        lost = ConcurrentCommit(
            f"another {stage} run committed to {self.spec(key).name} first; nothing was added to it"
        )
        ops = table.operations()
        base = ops.refresh()
        head = base.currentSnapshot()
        if (head.snapshotId() if head is not None else None) != parent or staged.parentId() != parent:
            raise lost
        updated = (
            self.jvm.org.apache.iceberg.TableMetadata.buildFrom(base)
            .setBranchSnapshot(staged.snapshotId(), "main")
            .build()
        )
        try:
            ops.commit(base, updated)
        except Exception as error:
            java = getattr(error, "java_exception", None)
            if java is not None and java.getClass().getName() == "org.apache.iceberg.exceptions.CommitFailedException":
                raise lost from None
            raise

    def overwrite(self, key: str, rows, summary: Mapping[str, str]) -> Snapshot:
        """Replaces the table's rows by `rows` in one snapshot carrying `summary`."""
        writer = rows.writeTo(self.name(key))
        for k, v in summary.items():
            writer = writer.option(f"snapshot-property.{k}", v)
        writer.overwrite(F.lit(True))
        return self.current(key)


def _snapshot(java_snapshot) -> Snapshot | None:
    if java_snapshot is None:
        return None
    return Snapshot(java_snapshot.snapshotId(), java_snapshot.parentId(), dict(java_snapshot.summary()))
