"""Settings of the Spark stages: the same environment variables and --flags as the Node jobs
(docs/contract.md), parsed and checked before Spark starts so a bad value stops the job with
exit code 2 and a message naming the setting."""

import os
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence


class ConfigError(Exception):
    def __init__(self, setting: str, message: str):
        super().__init__(f"invalid setting {setting}: {message}")
        self.setting = setting


class _ParseError(Exception):
    pass


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise _ParseError(f'"{raw}" is not an integer')
        value = int(raw)
        if value < low or value > high:
            raise _ParseError(f"{value} is outside {low}..{high}")
        return value
    return parse


def _ratio(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _ParseError(f'"{raw}" is not a number') from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _ParseError(f'"{raw}" is not a number')
    if value < 0 or value > 1:
        raise _ParseError(f"{value} is outside 0..1")
    return value


def _non_empty(raw: str) -> str:
    if raw.strip() == "":
        raise _ParseError("must not be empty")
    return raw.strip()


def _boolean(raw: str) -> bool:
    if re.fullmatch(r"(?i)true|1|yes", raw):
        return True
    if re.fullmatch(r"(?i)false|0|no", raw):
        return False
    raise _ParseError(f'"{raw}" is not true or false')


def _topic_name(raw: str) -> str:
    # Kafka's own rule for topic names.
    if not re.fullmatch(r"[a-zA-Z0-9._-]{1,249}", raw) or raw in (".", ".."):
        raise _ParseError(f'"{raw}" is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)')
    return raw


def _host_port_list(raw: str) -> List[str]:
    servers = [s.strip() for s in raw.split(",") if s.strip()]
    if not servers:
        raise _ParseError("must name at least one host:port")
    for server in servers:
        match = re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})", server)
        if not match or not 1 <= int(match.group(2)) <= 65535:
            raise _ParseError(f'"{server}" is not host:port')
    return servers


@dataclass(frozen=True)
class _Setting:
    key: str
    env: str
    flag: str
    default: str
    parse: Callable[[str], object]


_SETTINGS = (
    _Setting("bootstrap_servers", "KAFKA_BOOTSTRAP_SERVER", "bootstrap-server", "localhost:9092", _host_port_list),
    _Setting("topic", "LAKEHOUSE_TOPIC", "topic", "vehicles-events", _topic_name),
    _Setting("partitions", "LAKEHOUSE_PARTITIONS", "partitions", "3", _integer(1, 10_000)),
    _Setting("replication_factor", "LAKEHOUSE_REPLICATION_FACTOR", "replication-factor", "1", _integer(1, 32)),
    _Setting("data_dir", "LAKEHOUSE_DATA_DIR", "data-dir", "./data", _non_empty),
    _Setting("events", "LAKEHOUSE_EVENTS", "events", "30", _integer(0, 1_000_000_000)),
    _Setting("invalid_ratio", "LAKEHOUSE_INVALID_RATIO", "invalid-ratio", "0.05", _ratio),
    _Setting("duplicate_ratio", "LAKEHOUSE_DUPLICATE_RATIO", "duplicate-ratio", "0", _ratio),
    _Setting("seed", "LAKEHOUSE_SEED", "seed", "42", _integer(0, 2**32 - 1)),
    _Setting("consumer_group", "LAKEHOUSE_CONSUMER_GROUP", "consumer-group", "lakehouse-bronze", _non_empty),
    _Setting("row_group_size", "LAKEHOUSE_ROW_GROUP_SIZE", "row-group-size", "10000", _integer(1, 10_000_000)),
    _Setting("file_rows", "LAKEHOUSE_FILE_ROWS", "file-rows", "1000000", _integer(1, 1_000_000_000)),
    # Bounds the Node silver's memory; Spark's shuffle spills on its own, so it is checked, not used.
    _Setting("dedup_bucket_events", "LAKEHOUSE_DEDUP_BUCKET_EVENTS", "dedup-bucket-events", "250000", _integer(1, 100_000_000)),
    _Setting("kafka_wait_seconds", "LAKEHOUSE_KAFKA_WAIT_SECONDS", "kafka-wait-seconds", "300", _integer(0, 86_400)),
    _Setting("client_id", "LAKEHOUSE_CLIENT_ID", "client-id", "lakehouse", _non_empty),
    _Setting("verify_kafka", "LAKEHOUSE_VERIFY_KAFKA", "verify-kafka", "true", _boolean),
)


@dataclass(frozen=True)
class Config:
    bootstrap_servers: List[str]
    topic: str
    partitions: int
    replication_factor: int
    data_dir: str
    events: int
    invalid_ratio: float
    duplicate_ratio: float
    seed: int
    consumer_group: str
    row_group_size: int
    file_rows: int
    dedup_bucket_events: int
    kafka_wait_seconds: int
    client_id: str
    verify_kafka: bool


def parse_flags(argv: Sequence[str]) -> Dict[str, str]:
    """`--name value` and `--name=value`; a flag with no value is `true`. No positionals."""
    flags: Dict[str, str] = {}
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


def load_config(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> Config:
    env = os.environ if env is None else env
    flags = parse_flags(argv)
    known = {s.flag for s in _SETTINGS}
    for flag in flags:
        if flag not in known:
            raise ConfigError(f"--{flag}", "unknown flag")
    values = {}
    for s in _SETTINGS:
        from_env = env.get(s.env)
        if s.flag in flags:
            raw, name = flags[s.flag], f"--{s.flag}"
        elif from_env not in (None, ""):
            raw, name = from_env, s.env
        else:
            raw, name = s.default, s.env
        try:
            values[s.key] = s.parse(raw)
        except _ParseError as error:
            raise ConfigError(name, str(error)) from None
    return Config(**values)
