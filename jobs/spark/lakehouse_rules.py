"""The silver rules, the same as jobs/events/validate.ts: reason codes in the documented order,
first failure wins, vehicle types from the contract. A record value is bytes, decoded as strict
UTF-8; the text is parsed as JavaScript's JSON.parse would see it, so that both engines put every
record in the same place:
- every JSON number is a double (parse_int=float), so 75.0 is an integer and 2**53+1 rounds;
- NaN, Infinity and -Infinity literals are not JSON (Python accepts them by default);
- a huge literal such as 1e400 parses to infinity, which the number checks reject.
"""

import json
import math
import sys
import threading
from collections.abc import Sequence

from lakehouse_js import js_number_text

# The reason codes these rules give, in the order they are checked; the contract must list the same.
REASON_CODES = (
    "malformed_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "unknown_type",
    "out_of_range",
    "duplicate",
)
FIELDS = ("vehicleId", "type", "latitude", "longitude", "battery", "timestamp")
MAX_SAFE_INTEGER = 2**53 - 1

# (reason, field, detail, vehicle_id, type, latitude, longitude, battery, event_time);
# reason is None for a valid event, the event columns are None for a rejected one.
Checked = tuple[
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    float | None,
    float | None,
    int | None,
    int | None,
]


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _reject(reason: str, field: str | None, detail: str) -> Checked:
    return (reason, field, detail, None, None, None, None, None, None)


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        shown = value[:40] + "…" if len(value) > 40 else value
        return "the string " + json.dumps(shown, ensure_ascii=False)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return js_number_text(value)
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_number(value) -> bool:
    return type(value) is float and math.isfinite(value)


def _is_integer(value) -> bool:
    return _is_number(value) and value.is_integer()


def _parse(raw: str):
    return json.loads(raw, parse_int=float, parse_constant=_no_constants)


def _parse_deep(raw: str):
    """JSON.parse has no nesting limit; Python's parser stops at the recursion limit. A value
    nested that deep is parsed again on a thread whose stack fits the depth (at most one level per
    character)."""
    outcome = {}

    def parse():
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(len(raw) + 1000)
        try:
            outcome["value"] = _parse(raw)
        except (ValueError, RecursionError) as error:
            outcome["error"] = error
        finally:
            sys.setrecursionlimit(limit)

    previous = threading.stack_size(min(len(raw) * 1024 + (16 << 20), 1 << 30))
    try:
        thread = threading.Thread(target=parse)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Rules:
    """The rules with the contract's vehicle types; built on the driver and shipped to the
    executors with the UDF that calls it (the executors need no contract file)."""

    def __init__(self, vehicle_types: Sequence[str], reason_codes: Sequence[str]):
        if tuple(reason_codes) != REASON_CODES:
            raise ValueError(
                f"the contract's reason codes {list(reason_codes)} are not the ones these rules give "
                f"{list(REASON_CODES)}: lakehouse_rules.py must change with the contract"
            )
        self.vehicle_types = tuple(vehicle_types)

    def check_value(self, value: bytes | None) -> Checked:
        """Applies the rules to one record value as bronze holds it."""
        if value is None:
            return _reject("malformed_json", None, "the record has no value")
        try:
            text = bytes(value).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            return _reject("malformed_json", None, "value is not valid UTF-8")
        return self.check_text(text)

    def check_text(self, raw: str | None) -> Checked:
        """Parses one record value's text and applies the rules."""
        if raw is None:
            return _reject("malformed_json", None, "the record has no value")
        try:
            try:
                parsed = _parse(raw)
            except RecursionError:
                parsed = _parse_deep(raw)
        except (ValueError, RecursionError) as error:
            return _reject("malformed_json", None, f"not JSON: {error}")
        return self.check_object(parsed)

    def check_object(self, parsed) -> Checked:
        return _check_object(parsed, self.vehicle_types)


def _check_object(parsed, vehicle_types: tuple[str, ...]) -> Checked:
    if not isinstance(parsed, dict):
        return _reject("not_an_object", None, f"expected a JSON object, got {_describe(parsed)}")
    for field in FIELDS:
        if parsed.get(field) is None or parsed.get(field) == "":
            return _reject("missing_field", field, f"{field} is missing")
    vehicle_id = parsed["vehicleId"]
    vehicle_type = parsed["type"]
    latitude = parsed["latitude"]
    longitude = parsed["longitude"]
    battery = parsed["battery"]
    timestamp = parsed["timestamp"]
    if not isinstance(vehicle_id, str):
        return _reject("wrong_type", "vehicleId", f"vehicleId must be a string, got {_describe(vehicle_id)}")
    if not isinstance(vehicle_type, str):
        return _reject("wrong_type", "type", f"type must be a string, got {_describe(vehicle_type)}")
    if not _is_number(latitude):
        return _reject("wrong_type", "latitude", f"latitude must be a number, got {_describe(latitude)}")
    if not _is_number(longitude):
        return _reject("wrong_type", "longitude", f"longitude must be a number, got {_describe(longitude)}")
    if not _is_integer(battery):
        return _reject("wrong_type", "battery", f"battery must be an integer, got {_describe(battery)}")
    if not _is_integer(timestamp):
        return _reject(
            "wrong_type", "timestamp", f"timestamp must be an integer (epoch ms), got {_describe(timestamp)}"
        )
    if vehicle_type not in vehicle_types:
        return _reject("unknown_type", "type", f'type "{vehicle_type}" is not one of {", ".join(vehicle_types)}')
    if not -90 <= latitude <= 90:
        return _reject("out_of_range", "latitude", f"latitude {js_number_text(latitude)} is outside -90..90")
    if not -180 <= longitude <= 180:
        return _reject("out_of_range", "longitude", f"longitude {js_number_text(longitude)} is outside -180..180")
    if not 0 <= battery <= 100:
        return _reject("out_of_range", "battery", f"battery {js_number_text(battery)} is outside 0..100")
    if not 0 < timestamp <= MAX_SAFE_INTEGER:
        return _reject(
            "out_of_range", "timestamp", f"timestamp {js_number_text(timestamp)} is not a positive epoch-ms value"
        )
    return (None, None, None, vehicle_id, vehicle_type, latitude, longitude, int(battery), int(timestamp))
