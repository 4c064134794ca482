"""Settings of the Spark stages: the contract's settings (environment variables, --flags,
defaults, parser kinds), parsed exactly as jobs/setting-kinds.ts parses them, before Spark
starts, so a bad value stops the job with exit code 2 and a message naming the setting."""

import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence

from lakehouse_contract import contract
from lakehouse_js import js_number_text, js_trim


class ConfigError(Exception):
    def __init__(self, setting: str, message: str):
        super().__init__(f"invalid setting {setting}: {message}")
        self.setting = setting


class ParseError(Exception):
    pass


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]+", js_trim(raw)):
            raise ParseError(f'"{raw}" is not an integer')
        value = float(js_trim(raw))  # Number(raw): a double, as JavaScript reads it
        if value < low or value > high:
            raise ParseError(f"{js_number_text(value)} is outside {low}..{high}")
        return int(value)

    return parse


_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_NON_DECIMAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def _js_number(raw: str) -> float:
    """Number(raw) of JavaScript: NaN where it gives NaN (Python's float() accepts more: '1_0',
    'nan', non-ASCII digits)."""
    text = js_trim(raw)
    if text == "":
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    if _JS_NON_DECIMAL.fullmatch(text):
        return float(int(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()]))
    return math.nan


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _ratio(raw: str) -> float:
    # Decimal notation only, as the Node jobs: 0x1 or 0b1 is nobody's idea of a share.
    value = _js_number(raw)
    if not _DECIMAL.fullmatch(js_trim(raw)) or not math.isfinite(value):
        raise ParseError(f'"{raw}" is not a decimal number')
    if value < 0 or value > 1:
        raise ParseError(f"{js_number_text(value)} is outside 0..1")
    return value


def _non_empty(raw: str) -> str:
    if js_trim(raw) == "":
        raise ParseError("must not be empty")
    return js_trim(raw)


def _boolean(raw: str) -> bool:
    # ASCII case folding only, as JavaScript's /i without u (Python's re.I would also fold 'ſ' to 's').
    folded = raw.lower() if raw.isascii() else raw
    if folded in ("true", "1", "yes"):
        return True
    if folded in ("false", "0", "no"):
        return False
    raise ParseError(f'"{raw}" is not true or false')


def _topic_name(raw: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9._-]{1,249}", raw) or raw in (".", ".."):
        raise ParseError(f'"{raw}" is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)')
    return raw


def _host_port_list(raw: str):
    servers = [js_trim(s) for s in raw.split(",") if js_trim(s)]
    if not servers:
        raise ParseError("must name at least one host:port")
    for server in servers:
        match = re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})", server)
        if not match or not 1 <= int(match.group(2)) <= 65535:
            raise ParseError(f'"{server}" is not host:port')
    return servers


# The pattern of jobs/setting-kinds.ts (LOWERCASE_NAME_PATTERN); fullmatch, as its ^...$.
_LOWERCASE_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def _name_list(raw: str):
    names = [js_trim(s) for s in raw.split(",") if js_trim(s)]
    if not names:
        raise ParseError("must name at least one")
    for i, name in enumerate(names):
        if not _LOWERCASE_NAME.fullmatch(name):
            raise ParseError(f'"{name}" is not a lowercase name (a-z, then a-z 0-9 _ -)')
        if names.index(name) < i:
            raise ParseError(f'"{name}" is named twice')
    return names


_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?"
    r"(Z|([+-])([0-9]{2}):([0-9]{2}))"
)


def _iso_ms(text: str) -> int | None:
    """Date.parse of V8 for the ISO form the contract accepts: fields checked one by one (days up
    to 31 in every month, rolling over like Date.UTC; 24:00 is the next midnight), None for NaN."""
    m = _ISO.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    ms = int((m.group(7) or "0").ljust(3, "0"))
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute or second or ms)):
        return None
    offset = 0
    if m.group(8) != "Z":
        offset_hours, offset_minutes = int(m.group(10)), int(m.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = (offset_hours * 60 + offset_minutes) * (1 if m.group(9) == "+" else -1)
    # Day 1 of the month (proleptic Gregorian, year 0 included), then the rest as a duration.
    days = _days_from_civil(year, month, 1) + day - 1
    return ((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + ms


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, 0 included)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _instant(now: Callable[[], int]) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        text = js_trim(raw)
        if text == "now":
            return now()
        if re.fullmatch(r"[0-9]{1,16}", text):
            return int(float(text))
        ms = _iso_ms(text)
        if ms is not None:
            return ms
        raise ParseError(
            f'"{raw}" is not now, epoch milliseconds or an ISO 8601 time with a zone (2023-10-13T13:20:00Z)'
        )

    return parse


def _one_of(values: Sequence[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if js_trim(raw) not in values:
            raise ParseError(f'"{raw}" is not one of {", ".join(values)}')
        return js_trim(raw)

    return parse


def _text(raw: str) -> str:
    return js_trim(raw)


_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?")


def _http_url(raw: str) -> str:
    value = js_trim(raw)
    if value == "":
        return ""
    if not _HTTP_URL.fullmatch(value):
        raise ParseError(f'"{raw}" is not an http:// or https:// URL of a server')
    return value.rstrip("/")


def _now_ms() -> int:
    return int(time.time() * 1000)


def parser_of(spec: Mapping, now: Callable[[], int] = _now_ms) -> Callable[[str], object]:
    """The parser of a contract kind ({"kind": "integer", "min": 1, "max": 10} ...)."""
    kind = spec["kind"]
    if kind == "integer":
        return _integer(spec["min"], spec["max"])
    simple = {
        "ratio": _ratio,
        "nonEmpty": _non_empty,
        "boolean": _boolean,
        "topicName": _topic_name,
        "hostPortList": _host_port_list,
        "nameList": _name_list,
        "text": _text,
        "httpUrl": _http_url,
    }
    if kind in simple:
        return simple[kind]
    if kind == "instant":
        return _instant(now)
    if kind == "oneOf":
        return _one_of(spec["values"])
    raise ValueError(f"the contract has a setting kind this engine does not know: {kind}")


def snake_case(key: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), key)


class Config:
    """The parsed settings, as attributes named like the contract's keys in snake case
    (bootstrapServers -> bootstrap_servers)."""

    def __init__(self, values: dict[str, object]):
        self.__dict__.update(values)

    def __setattr__(self, name, value):
        raise AttributeError("settings are read-only")


def parse_flags(argv: Sequence[str]) -> dict[str, str]:
    """`--name value` and `--name=value`; a flag with no value is `true`. No positionals."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            raise ConfigError(arg, "unexpected argument (flags are --name value)")
        if "=" in arg:
            name, value = arg[2:].split("=", 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            name, value = arg[2:], argv[i + 1]
            i += 1
        else:
            name, value = arg[2:], "true"
        flags[name] = value
        i += 1
    return flags


def load_config(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    settings = contract().settings
    flags = parse_flags(argv)
    known = {s["flag"] for s in settings}
    for flag in flags:
        if flag not in known:
            raise ConfigError(f"--{flag}", "unknown flag")
    values = {}
    for s in settings:
        from_env = env.get(s["env"])
        # An empty variable means "unset", except for a path or name (as the Node jobs).
        if (
            s["flag"] not in flags
            and from_env is not None
            and js_trim(from_env) == ""
            and s["parser"]["kind"] == "nonEmpty"
        ):
            raise ConfigError(s["env"], f"is set but empty (unset it for the default {s['default']})")
        if s["flag"] in flags:
            raw, name = flags[s["flag"]], f"--{s['flag']}"
        elif from_env not in (None, ""):
            raw, name = from_env, s["env"]
        else:
            raw, name = s["default"], s["env"]
        try:
            values[snake_case(s["key"])] = parser_of(s["parser"])(raw)
        except ParseError as error:
            raise ConfigError(name, str(error)) from None
    _check_catalog(values)
    return Config(values)


def _check_catalog(values: dict) -> None:
    """A REST catalog needs its URI, its warehouse and the storage's keys, as the Node jobs check."""
    if values.get("catalog") != "rest":
        return
    for name, key in (
        ("LAKEHOUSE_CATALOG_URI", "catalog_uri"),
        ("LAKEHOUSE_CATALOG_WAREHOUSE", "catalog_warehouse"),
        ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
    ):
        if values[key] == "":
            raise ConfigError(name, "must be set when LAKEHOUSE_CATALOG=rest")
    if not re.match(r"s3a?://[^/]+", values["catalog_warehouse"]):
        raise ConfigError(
            "LAKEHOUSE_CATALOG_WAREHOUSE", f'"{values["catalog_warehouse"]}" is not an s3://bucket location'
        )
