"""What each table has consumed of its input, as jobs/lake/lineage.ts reads it, for the Spark
engine: the same rules over the same table metadata (Iceberg's metadata JSON shape), held equal by
test/spark/lineage-parity.test.ts on shared fixtures.

silver.vehicles and silver.rejected record the last bronze snapshot whose records they hold; gold
records the silver snapshot it was computed from. A snapshot without a marker (another engine's
compaction) consumed nothing: the marker in force is the newest one at or before it. silver.rejected
is committed first and only when a run had rejects, so its marker may be ahead of silver's or behind.
"""

import json
import re
from dataclasses import dataclass, field

_ID = re.compile(r"^-?\d{1,20}$")
ROLLBACK_KEY = "lakehouse.rollback.snapshot-id"


class LineageError(Exception):
    pass


def _id(value):
    return None if value is None else int(value)


def current_snapshot(metadata):
    if metadata is None:
        return None
    main = (metadata.get("refs") or {}).get("main")
    wanted = _id(main["snapshot-id"]) if main else _id(metadata.get("current-snapshot-id"))
    if wanted is None or wanted < 0:
        return None
    return snapshot_by_id(metadata, wanted)


def snapshot_by_id(metadata, snapshot_id):
    for snapshot in metadata.get("snapshots") or []:
        if _id(snapshot["snapshot-id"]) == snapshot_id:
            return snapshot
    return None


def lineage(metadata, start=None):
    """The snapshot `start` (the current one by default) and its ancestors, newest first."""
    chain = []
    snapshot = current_snapshot(metadata) if start is None else start
    while snapshot is not None:
        chain.append(snapshot)
        # A rollback snapshot (jobs/rollback.ts) goes on from the snapshot it restored.
        restored = (snapshot.get("summary") or {}).get(ROLLBACK_KEY)
        if restored and re.match(r"^\d{1,20}$", restored):
            snapshot = snapshot_by_id(metadata, int(restored))
            continue
        parent = _id(snapshot.get("parent-snapshot-id"))
        snapshot = None if parent is None else snapshot_by_id(metadata, parent)
    return chain


def _marker_in(table, snapshot, key):
    value = (snapshot.get("summary") or {}).get(key)
    if value is None or value == "":
        return None
    if not _ID.match(value):
        raise LineageError(
            f"{table} is damaged: snapshot {snapshot['snapshot-id']}: {key} is {json.dumps(value)}, not a snapshot id"
        )
    return int(value)


def _marker_at(table, metadata, key, start=None):
    """(snapshot, marker) of the newest snapshot at or before `start` that records a marker."""
    if metadata is None:
        return None
    for snapshot in lineage(metadata, start):
        marker = _marker_in(table, snapshot, key)
        if marker is not None:
            return snapshot, marker
    return None


def _expired_from_bronze(bronze, marker, keys):
    recorded = (bronze.get("properties") or {}).get(keys["expiredOffsetRanges"])
    return marker is not None and snapshot_by_id(bronze, marker) is None and bool(recorded and json.loads(recorded))


def _operation(snapshot):
    return (snapshot.get("summary") or {}).get("operation")


@dataclass(frozen=True)
class SilverInput:
    bronze_head: int | None
    # The bronze snapshot silver.vehicles holds up to, and the one silver.rejected holds up to (never behind it).
    vehicles_through: int | None
    rejected_through: int | None
    # Bronze appends whose rejects are committed but whose events are not (a run died between its commits).
    recover: list = field(default_factory=list)
    # Bronze appends neither table holds, oldest first.
    pending: list = field(default_factory=list)


def silver_input(bronze, silver, rejected, keys):
    marker_key = keys["bronzeSnapshot"]
    head = current_snapshot(bronze)
    chain = list(reversed(lineage(bronze)))
    order = {_id(s["snapshot-id"]): i for i, s in enumerate(chain)}

    def place(name, metadata, may_be_expired):
        found = _marker_at(name, metadata, marker_key)
        if found is None:
            return -1
        at = order.get(found[1])
        if at is None and may_be_expired and _expired_from_bronze(bronze, found[1], keys):
            return -1
        if at is None:
            raise LineageError(
                f"{name} was built up to bronze snapshot {found[1]}, which is not in bronze's history; "
                "the lake's tables do not belong together"
            )
        return at

    vehicles_at = place("silver.vehicles", silver, False)
    rejected_at = max(place("silver.rejected", rejected, True), vehicles_at)

    def appends(start, end):
        return [_id(s["snapshot-id"]) for s in chain[start + 1 : end + 1] if _operation(s) == "append"]

    def through(at):
        return _id(chain[at]["snapshot-id"]) if at >= 0 else None

    return SilverInput(
        bronze_head=_id(head["snapshot-id"]) if head else None,
        vehicles_through=through(vehicles_at),
        rejected_through=through(rejected_at),
        recover=appends(vehicles_at, rejected_at),
        pending=appends(rejected_at, len(chain) - 1),
    )


@dataclass(frozen=True)
class GoldInput:
    consumed: int | None
    up_to_date: bool
    appends_only: bool
    changes: list


def _changes_after(silver, marker):
    chain = lineage(silver)
    ids = [_id(s["snapshot-id"]) for s in chain]
    if marker is None:
        index = len(chain)
    elif marker in ids:
        index = ids.index(marker)
    else:
        return None
    return [s for s in reversed(chain[:index]) if _operation(s) != "replace"]


def gold_input(silver, gold, keys):
    found = _marker_at("gold.stats", gold, keys["silverSnapshot"], current_snapshot(gold) if gold else None)
    recorded = found[1] if found else None
    since = None if recorded is None else _changes_after(silver, recorded)
    changes = since if since is not None else _changes_after(silver, None)
    return GoldInput(
        consumed=recorded if since is not None else None,
        up_to_date=since is not None and len(since) == 0,
        appends_only=since is not None and all(_operation(s) == "append" for s in since),
        changes=[_id(s["snapshot-id"]) for s in changes],
    )


# What forget records on bronze (jobs/lake/lineage.ts, erasureKeys): table properties.
ERASED_OFFSETS = "lakehouse.kafka.erased-offsets"
ERASURE_PENDING = "lakehouse.erasure.pending"


def erased_offsets(bronze):
    """Per Kafka partition, the offset ranges [first, next) that erasures removed from bronze."""
    recorded = ((bronze or {}).get("properties") or {}).get(ERASED_OFFSETS)
    if not recorded:
        return {}
    return {int(p): [list(r) for r in ranges] for p, ranges in json.loads(recorded).items()}


def pending_erasure_run(bronze):
    """The forget run whose erasure is not finished (a run died), or None."""
    recorded = ((bronze or {}).get("properties") or {}).get(ERASURE_PENDING)
    return json.loads(recorded)["run"] if recorded else None
