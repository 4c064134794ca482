"""The lake's writer lease as the Node jobs hold it (jobs/ops/lease.ts, docs/contract.md "The
writer lease"): one object, the same JSON `{runId, stage, host, pid, acquiredAt, expiresAt}` (epoch
ms), at the place and with the timing the contract gives (`lease` in lakehouse_contract.json), so
that a Node run and a Spark run exclude each other. On a volume it is `<root>/.lakehouse/lease`,
created with link(2) of a fully written file and replaced by rename(2) while unchanged; with a REST
catalog it is an object beside ops.runs' metadata, created with `If-None-Match: *` and replaced
with `If-Match`. A lease past its expiry, or whose holder ran on this host and is gone, or that
cannot be believed (`distrust`, the Node rules word for word) is taken over by replacing it while
unchanged and reading it back a moment later. The holder renews it in a thread of its own."""

import json
import math
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from lakehouse_js import js_number_text

FIELDS = ("runId", "stage", "host", "pid", "acquiredAt", "expiresAt")
# A time a JavaScript Date can hold (epoch ms up to the year 275760), as the Node rules check it.
_MAX_TIME = 8.64e15
_MAX_SAFE_INTEGER = 2**53 - 1


# What a lease object that is not a JSON object reads as (the Node engine's `unreadable`): told
# apart by identity, and named like a holder where one is described.
UNREADABLE = {"runId": "?", "stage": "?", "host": "?", "pid": 0, "acquiredAt": math.nan, "expiresAt": math.nan}


@dataclass(frozen=True)
class Timing:
    ttl_ms: int
    renew_ms: int
    poll_ms: int
    settle_ms: int
    skew_ms: int

    @staticmethod
    def of(contract_lease: dict) -> "Timing":
        t = contract_lease["timing"]
        return Timing(t["ttlMs"], t["renewMs"], t["pollMs"], t["settleMs"], t["skewMs"])


def host_name() -> str:
    """The pod's name in Kubernetes (HOSTNAME), the machine's otherwise, as jobs/ops/host.ts says."""
    return os.environ.get("HOSTNAME", "").strip() or socket.gethostname()


def now_ms() -> int:
    return int(time.time() * 1000)


def encode(record: dict) -> bytes:
    return (json.dumps({f: record[f] for f in FIELDS}, separators=(",", ":")) + "\n").encode("utf-8")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse(data: bytes):
    """The lease's record as written (its fields unchecked: see `distrust`), or UNREADABLE."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except ValueError:
        return UNREADABLE
    return value if isinstance(value, dict) else UNREADABLE


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_time(value) -> bool:
    return _is_number(value) and 0 <= value <= _MAX_TIME


def _js_json(value) -> str:
    """JSON.stringify(value) as a message shows it (`undefined` for a missing field)."""
    if value is _MISSING:
        return "undefined"
    if _is_number(value):
        return js_number_text(float(value)) if math.isfinite(value) else "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_MISSING = object()


def _days_to_civil(days: int) -> tuple[int, int, int]:
    """Year, month, day of a day count since 1970-01-01 (proleptic Gregorian, any year)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def iso(ms) -> str:
    """new Date(ms).toISOString(): years beyond 9999 as +YYYYYY."""
    whole = math.trunc(ms)
    days, rest = divmod(whole, 86_400_000)
    year, month, day = _days_to_civil(days)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    year_text = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return f"{year_text}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def _round(x: float) -> int:
    """Math.round: halves up."""
    return math.floor(x + 0.5)


def distrust(record, now: float, timing: Timing) -> str | None:
    """Why the lease cannot be believed at `now` (it then counts as expired), or None: the Node
    engine's rules and words (jobs/ops/lease.ts `distrust`), held equal by a parity test."""
    if record is UNREADABLE:
        return "the lease file cannot be read as a JSON object"
    for field in ("runId", "stage", "host"):
        value = record.get(field, _MISSING)
        if not isinstance(value, str) or value == "":
            return f"its {field} is missing or not a name ({_js_json(value)})"
    pid = record.get("pid", _MISSING)
    if not (_is_number(pid) and math.isfinite(pid) and pid == int(pid) and 0 <= pid <= _MAX_SAFE_INTEGER):
        return f"its pid is not a process id ({_js_json(pid)})"
    for field in ("acquiredAt", "expiresAt"):
        value = record.get(field, _MISSING)
        if not _is_time(value):
            return f"its {field} is not a time ({_js_json(value)})"
    acquired, expires = record["acquiredAt"], record["expiresAt"]
    if acquired - now > timing.skew_ms:
        return f"it was acquired at {iso(acquired)}, {_round((acquired - now) / 1000)}s ahead of this host's clock"
    if expires < acquired:
        return f"it expires ({iso(expires)}) before it was acquired ({iso(acquired)})"
    if expires - now > timing.ttl_ms + timing.skew_ms:
        return (
            f"it claims to be held until {iso(expires)}, {_round((expires - now) / 1000)}s from now by this "
            f"host's clock: more than a lease's lifetime of {js_number_text(timing.ttl_ms / 1000)}s"
        )
    return None


def died_here(record: dict) -> bool:
    """A holder on this host whose process is gone died without releasing its lease."""
    pid = record.get("pid")
    if record.get("host") != host_name() or not _is_number(pid) or pid != int(pid) or pid <= 0:
        return False
    try:
        os.kill(int(pid), 0)
        return False
    except ProcessLookupError:
        return True
    except OSError:
        return False


class VolumeLeaseObject:
    """The lease file on the lake volume: created with link(2), replaced with rename(2) while its
    (inode, mtime, size) is unchanged, as jobs/lake/io/local-file-io.ts does."""

    def __init__(self, path: str):
        self.path = path
        self.description = path

    def _temporary(self) -> str:
        return os.path.join(os.path.dirname(self.path), f".{os.path.basename(self.path)}.{uuid.uuid4()}.tmp")

    def _write_temporary(self, data: bytes) -> str:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        temporary = self._temporary()
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return temporary

    def _sync_directory(self) -> None:
        fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _version(stat) -> str:
        return f"{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"

    def read(self):
        try:
            with open(self.path, "rb") as f:
                version = self._version(os.fstat(f.fileno()))
                return parse(f.read()), version
        except FileNotFoundError:
            return None

    def create(self, record: dict) -> bool:
        temporary = self._write_temporary(encode(record))
        try:
            os.link(temporary, self.path)
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
        self._sync_directory()
        return True

    def replace(self, record: dict, version: str) -> bool:
        temporary = self._write_temporary(encode(record))
        try:
            try:
                current = self._version(os.stat(self.path))
            except FileNotFoundError:
                return False
            if current != version:
                return False
            os.rename(temporary, self.path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        self._sync_directory()
        return True

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class ObjectLeaseObject:
    """The lease object on S3-compatible storage, through conditional PUTs (lakehouse_s3)."""

    def __init__(self, objects, uri: str):
        self.objects = objects
        self.uri = uri
        self.description = uri

    def read(self):
        try:
            found = self.objects.read_versioned(self.uri)
        except Exception:  # a store that did not answer: as the Node engine, an unreadable lease
            return UNREADABLE, ""
        return found and (parse(found[0]), found[1])

    def create(self, record: dict) -> bool:
        return self.objects.create(self.uri, encode(record))

    def replace(self, record: dict, version: str) -> bool:
        return self.objects.replace(self.uri, encode(record), version)

    def remove(self) -> None:
        self.objects.delete(self.uri)


class HeldLease:
    """A lease this run holds: renewed every `renew_ms` in a daemon thread until released."""

    def __init__(self, lease_object, record: dict, timing: Timing, took_over=None, distrusted=None):
        self.lease_object = lease_object
        self.record = record
        self.timing = timing
        self.took_over = took_over
        self.distrusted = distrusted
        self.lost = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._renew_loop, name="lakehouse-lease", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.timing.renew_ms / 1000):
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    current = self.lease_object.read()
                    if current is None or current[0].get("runId") != self.record["runId"]:
                        self.lost = current[0] if current else None
                        return
                    renewed = {**self.record, "expiresAt": now_ms() + self.timing.ttl_ms}
                    self.lease_object.replace(renewed, current[1])
                except Exception:
                    # Tried again at the next turn; at worst the lease expires and another run starts early.
                    pass

    def release(self) -> None:
        """Stops renewing and removes the lease if this run still holds it."""
        self._stop.set()
        with self._lock:
            current = self.lease_object.read()
            if current and current[0].get("runId") == self.record["runId"]:
                self.lease_object.remove()


@dataclass
class Acquired:
    lease: HeldLease | None
    holder: object  # the holder's record, UNREADABLE or None, when not acquired


def _try_acquire(lease_object, holder: dict, timing: Timing) -> Acquired:
    now = now_ms()
    record = {**holder, "acquiredAt": now, "expiresAt": now + timing.ttl_ms}
    if lease_object.create(record):
        return Acquired(HeldLease(lease_object, record, timing), None)
    current = lease_object.read()
    if current is None:
        return Acquired(None, None)
    found, version = current
    distrusted = distrust(found, now_ms(), timing)
    if not distrusted and found["expiresAt"] > now_ms() and not died_here(found):
        return Acquired(None, found)
    if not lease_object.replace(record, version):
        return Acquired(None, None)
    time.sleep((timing.settle_ms + random.random() * timing.settle_ms) / 1000)
    after = lease_object.read()
    if after and after[0].get("runId") == holder["runId"]:
        return Acquired(HeldLease(lease_object, record, timing, found, distrusted), None)
    believed = after and not distrust(after[0], now_ms(), timing)
    return Acquired(None, after[0] if believed else None)


def acquire(lease_object, holder: dict, wait_ms: int, on_wait, timing: Timing) -> Acquired:
    """Waits up to `wait_ms` for the lease, or says who holds it; `on_wait` hears of the holder
    once, when the first attempt finds the lease held."""
    deadline = now_ms() + wait_ms
    attempt = 0
    while True:
        result = _try_acquire(lease_object, holder, timing)
        if result.lease is not None or now_ms() >= deadline:
            return result
        if attempt == 0:
            on_wait(result.holder)
        attempt += 1
        time.sleep(min(timing.poll_ms * (0.5 + random.random()), max(deadline - now_ms(), 0)) / 1000)


def lease_time(ms) -> str:
    """A lease's time as written: an instant when it is one, else the value itself (JSON)."""
    if _is_number(ms) and math.isfinite(ms) and abs(ms) <= _MAX_TIME:
        return iso(ms)
    return _js_json(ms)


def describe_holder(holder) -> str:
    """The holder as the Node engine names it (jobs/ops/run-record.ts describeHolder)."""
    if not holder:
        return "another run (its lease could not be read)"
    get = lambda f: holder.get(f, _MISSING)  # noqa: E731
    pid = get("pid")
    pid_text = js_number_text(float(pid)) if _is_number(pid) else _js_text(pid)
    return (
        f"{_js_text(get('stage'))} run {_js_text(get('runId'))} on {_js_text(get('host'))} (pid {pid_text}) "
        f"since {lease_time(get('acquiredAt'))}, lease until {lease_time(get('expiresAt'))}"
    )


def _js_text(value) -> str:
    """String(value) in a template literal."""
    if value is _MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return js_number_text(float(value))
    if isinstance(value, str):
        return value
    return "[object Object]" if isinstance(value, dict) else ",".join(_js_text(v) for v in value)
