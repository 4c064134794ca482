"""The project's one contract (jobs/contract.ts), read from lakehouse_contract.json, which
`npm run generate` writes beside these files: the settings, the tables with their Iceberg schemas,
the snapshot summary keys, silver's rules (which lakehouse_rules interprets), the writer lease's
locations and timing (lakehouse_lease) and ops.runs' outcomes. Nothing here keeps a copy.

The file is looked up beside this module (a checkout, or the driver's working directory where
spark-submit puts `--files` and `--py-files` in Kubernetes cluster mode), then in the working
directory. Loading happens on first use, never at import: executors import these modules too."""

import json
import os
from dataclasses import dataclass
from functools import lru_cache

CONTRACT_FILE = "lakehouse_contract.json"


@dataclass(frozen=True)
class Field:
    id: int
    name: str
    type: str
    required: bool
    doc: str


@dataclass(frozen=True)
class PartitionField:
    source_id: int
    field_id: int
    name: str
    transform: str


@dataclass(frozen=True)
class TableSpec:
    key: str
    name: str
    namespace: str
    table: str
    location: str
    fields: tuple[Field, ...]
    partition_by: tuple[PartitionField, ...]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class Contract:
    settings: tuple[dict, ...]
    tables: dict[str, TableSpec]
    summary_keys: dict[str, str]
    rules: dict
    lease: dict
    run_outcomes: tuple[str, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The reason codes, in the order the rules check them."""
        return tuple(r["code"] for r in self.rules["reasons"])


def _candidates() -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, CONTRACT_FILE), os.path.join(os.getcwd(), CONTRACT_FILE)]


def _table(key: str, raw: dict) -> TableSpec:
    fields = tuple(
        Field(f["id"], f["name"], f["type"], f["required"], f.get("doc", "")) for f in raw["schema"]["fields"]
    )
    partition_by = tuple(
        PartitionField(p["sourceId"], p["fieldId"], p["name"], p["transform"]) for p in raw["partitionBy"]
    )
    return TableSpec(key, raw["name"], raw["namespace"], raw["table"], raw["location"], fields, partition_by)


def parse_contract(raw: dict) -> Contract:
    return Contract(
        settings=tuple(raw["settings"]),
        tables={key: _table(key, spec) for key, spec in raw["tables"].items()},
        summary_keys=dict(raw["summaryKeys"]),
        rules=raw["rules"],
        lease=raw["lease"],
        run_outcomes=tuple(raw["runOutcomes"]),
    )


@lru_cache(maxsize=1)
def contract(path: str | None = None) -> Contract:
    for candidate in [path] if path else _candidates():
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as f:
                return parse_contract(json.load(f))
    raise FileNotFoundError(
        f"{CONTRACT_FILE} not found (looked in {', '.join([path] if path else _candidates())}); "
        "`npm run generate` writes it beside the Spark stages"
    )
