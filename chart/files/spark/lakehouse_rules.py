"""The silver rules, the same as jobs/events/validate.ts: reason codes in the documented order,
first failure wins. Values are parsed as JavaScript's JSON.parse would see them, so that both
engines put every record in the same place:
- every JSON number is a double (parse_int=float), so 75.0 is an integer and 2**53+1 rounds;
- NaN, Infinity and -Infinity literals are not JSON (Python accepts them by default);
- a huge literal such as 1e400 parses to infinity, which the number checks reject.
"""

import json
import math
import sys
import threading
from typing import Optional, Tuple

VEHICLE_TYPES = ("car", "bike", "scooter")
FIELDS = ("vehicleId", "type", "latitude", "longitude", "battery", "timestamp")
MAX_SAFE_INTEGER = 2**53 - 1

# (reason, field, detail, vehicle_id, type, latitude, longitude, battery, event_time);
# reason is None for a valid event, the event columns are None for a rejected one.
Checked = Tuple[Optional[str], Optional[str], Optional[str], Optional[str], Optional[str],
                Optional[float], Optional[float], Optional[int], Optional[int]]


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _reject(reason: str, field: Optional[str], detail: str) -> Checked:
    return (reason, field, detail, None, None, None, None, None, None)


def _format_number(value: float) -> str:
    # JavaScript's String(number) for the values a detail message shows.
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


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
        return _format_number(value)
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


def check_raw(raw: Optional[str]) -> Checked:
    """Parses one raw record value and applies the silver rules."""
    if raw is None:
        return _reject("malformed_json", None, "the record has no value")
    try:
        try:
            parsed = _parse(raw)
        except RecursionError:
            parsed = _parse_deep(raw)
    except (ValueError, RecursionError) as error:
        return _reject("malformed_json", None, f"not JSON: {error}")
    return check_object(parsed)


def check_object(parsed) -> Checked:
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
        return _reject("wrong_type", "timestamp",
                       f"timestamp must be an integer (epoch ms), got {_describe(timestamp)}")
    if vehicle_type not in VEHICLE_TYPES:
        return _reject("unknown_type", "type", f'type "{vehicle_type}" is not one of car, bike, scooter')
    if not -90 <= latitude <= 90:
        return _reject("out_of_range", "latitude", f"latitude {_format_number(latitude)} is outside -90..90")
    if not -180 <= longitude <= 180:
        return _reject("out_of_range", "longitude",
                       f"longitude {_format_number(longitude)} is outside -180..180")
    if not 0 <= battery <= 100:
        return _reject("out_of_range", "battery", f"battery {_format_number(battery)} is outside 0..100")
    if not 0 < timestamp <= MAX_SAFE_INTEGER:
        return _reject("out_of_range", "timestamp",
                       f"timestamp {_format_number(timestamp)} is not a positive epoch-ms value")
    return (None, None, None, vehicle_id, vehicle_type, latitude, longitude, int(battery), int(timestamp))
