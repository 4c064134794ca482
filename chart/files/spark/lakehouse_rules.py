"""Silver's rules, interpreted from the contract's data (jobs/events/rules.ts, the contract JSON's
`rules`) as jobs/events/validate.ts interprets it: reason codes in the data's order, first failure
wins, the fields' types, ranges and lists, and each failure's detail from the data's templates.
A record value is bytes, decoded as strict UTF-8; the text is parsed as JavaScript's JSON.parse
would see it, so that both engines put every record in the same place:
- every JSON number is a double (parse_int=float), so 75.0 is an integer and 2**53+1 rounds;
- NaN, Infinity and -Infinity literals are not JSON (Python accepts them by default);
- a huge literal such as 1e400 parses to infinity, which the number checks reject;
- a string holding a lone surrogate (from an escape such as \\ud800) is not well-formed Unicode.
Details show values as JavaScript would (String(number), JSON.stringify of at most 40 UTF-16 units).
"""

import json
import math
import re
import sys
import threading
from collections.abc import Callable, Mapping

from lakehouse_config import snake_case
from lakehouse_js import js_number_text

# (reason, field, detail, then the event's values in the rules' field order); reason is None for
# a valid event, the values are None for a rejected one.
Checked = tuple
# A failed check: (reason, field, detail).
Failure = tuple[str, str | None, str]

# What the interpreters can apply: they parse before they check fields, and `unique` is silver's
# de-duplication.
_ORDER = re.compile(r"json object present type (oneOf range|range oneOf) unique")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")


def _template(text: str, allowed) -> Callable[[Mapping[str, str]], str]:
    """Replaces each {name} once (a value that holds braces is left as it is)."""
    parts = _PLACEHOLDER.split(text)
    for name in parts[1::2]:
        if name not in allowed:
            raise ValueError(f'rule detail "{text}": unknown {{{name}}}')

    def fill(values: Mapping[str, str]) -> str:
        return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))

    return fill


def reason_code(rules: Mapping, check: str) -> str:
    """The code of the reason that stands for `check`."""
    return next(r["code"] for r in rules["reasons"] if r["check"] == check)


def detail_template(rules: Mapping, check: str, outcome: str) -> str:
    """The detail template of one outcome of the reason that stands for `check`."""
    reason = next(r for r in rules["reasons"] if r["check"] == check)
    return reason["details"][outcome]


def integer_format(text: str, allowed) -> tuple[str, list[str]]:
    """A detail template as a printf format of integers (Spark's format_string) and the names of
    its arguments, in order."""
    parts = _PLACEHOLDER.split(text)
    names = parts[1::2]
    for name in names:
        if name not in allowed:
            raise ValueError(f'rule detail "{text}": unknown {{{name}}}')
    return "".join(part.replace("%", "%%") if i % 2 == 0 else "%d" for i, part in enumerate(parts)), names


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _js_string_literal(text: str) -> str:
    """JSON.stringify of a string: a lone surrogate is written as an escape."""
    shown = json.dumps(text, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", shown)


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        # JavaScript counts and cuts UTF-16 units (a cut may split a pair).
        units = value.encode("utf-16-le", "surrogatepass")
        if len(units) > 80:
            value = units[:80].decode("utf-16-le", "surrogatepass") + "…"
        return "the string " + _js_string_literal(value)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return js_number_text(value)
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


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
    """The contract's rules compiled once for the settings' lists (`settings` has the contract's
    setting keys in snake case as attributes, as lakehouse_config.Config does); built on the driver
    and shipped to the executors with the UDF that calls it (they need no contract file)."""

    def __init__(self, rules: Mapping, settings):
        order = " ".join(r["check"] for r in rules["reasons"])
        if not _ORDER.fullmatch(order):
            raise ValueError(
                f"the rules' checks run in the order {order}; these rules apply json, object, present, "
                "type, then oneOf and range in either order, unique last"
            )
        by_check = {r["check"]: r for r in rules["reasons"]}
        json_reason = by_check["json"]
        self._no_value = _rejection(json_reason, "noValue", None, ())
        self._not_utf8 = _rejection(json_reason, "notUtf8", None, ())
        self._not_json = _rejection(json_reason, "notJson", None, ("error",))
        self._not_an_object = _rejection(by_check["object"], "notAnObject", None, ("got",))
        self._names = tuple(f["name"] for f in rules["fields"])
        self._no_event = (None,) * len(self._names)
        self._integers = tuple(i for i, f in enumerate(rules["fields"]) if f["type"] == "integer")
        steps = {"present": _present, "type": _typed, "oneOf": _one_of, "range": _within}
        self._steps = tuple(steps[r["check"]](r, rules, settings) for r in rules["reasons"] if r["check"] in steps)

    def check_value(self, value: bytes | None) -> Checked:
        """Applies the rules to one record value as bronze holds it."""
        if value is None:
            return self._no_value({}) + self._no_event
        try:
            text = bytes(value).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            return self._not_utf8({}) + self._no_event
        return self.check_text(text)

    def check_text(self, raw: str | None) -> Checked:
        """Parses one record value's text and applies the rules."""
        if raw is None:
            return self._no_value({}) + self._no_event
        try:
            try:
                parsed = _parse(raw)
            except RecursionError:
                parsed = _parse_deep(raw)
        except (ValueError, RecursionError) as error:
            return self._not_json({"error": str(error)}) + self._no_event
        return self.check_object(parsed)

    def check_object(self, parsed) -> Checked:
        if not isinstance(parsed, dict):
            return self._not_an_object({"got": _describe(parsed)}) + self._no_event
        values = list(map(parsed.get, self._names))
        for step in self._steps:
            failed = step(values)
            if failed is not None:
                return failed + self._no_event
        for i in self._integers:
            values[i] = int(values[i])
        return (None, None, None, *values)


def _rejection(
    reason: Mapping, outcome: str, field: str | None, names, template: str | None = None
) -> Callable[[Mapping[str, str]], Failure]:
    """A reason's code with the detail of one of its outcomes, filled in when it happens."""
    text = template if template is not None else reason["details"].get(outcome)
    if text is None:
        raise ValueError(f'the rules give {reason["code"]} no detail "{outcome}"')
    detail = _template(text, names)
    code = reason["code"]
    return lambda values: (code, field, detail(values))


# One step per field check, in the data's order: each goes through the fields in their order and
# gives the first failure. (A closure per check and field cost ~45 % more than the hand-written
# rules did; a loop per check, ~20 %, most of a UDF row's time being elsewhere.)


def _present(reason: Mapping, rules: Mapping, settings):
    fields = tuple(
        (i, f["name"], _rejection(reason, "missing", f["name"], ("field",))) for i, f in enumerate(rules["fields"])
    )

    def step(v):
        if None in v or "" in v:
            for i, name, missing in fields:
                if v[i] is None or v[i] == "":
                    return missing({"field": name})
        return None

    return step


def _typed(reason: Mapping, rules: Mapping, settings):
    fields = []
    for i, f in enumerate(rules["fields"]):
        name, kind = f["name"], f["type"]
        if kind not in ("string", "number", "integer") or kind not in rules["types"]:
            raise ValueError(f"the rules give {name} the type {kind}, which these rules do not know")
        expected = f.get("expected", rules["types"][kind]["expected"])
        fields.append((i, kind == "string", kind == "integer", _type_failure(reason, name, kind, expected)))
    isfinite = math.isfinite

    def step(v):
        for i, string, integer, fail in fields:
            x = v[i]
            if string:
                # Python's json joins an escaped surrogate pair into one code point: any surrogate left is lone.
                if type(x) is not str or (not x.isascii() and _SURROGATE.search(x)):
                    return fail(x)
            elif type(x) is not float or not isfinite(x) or (integer and not x.is_integer()):
                return fail(x)
        return None

    return step


def _type_failure(reason: Mapping, name: str, kind: str, expected: str):
    """The rejection of a value of the wrong type, or of a string field's string that is not Unicode text."""
    wrong = _rejection(reason, "wrongType", name, ("field", "expected", "got"))
    not_unicode = _rejection(reason, "notUnicode", name, ("field", "got")) if kind == "string" else None

    def fail(x):
        if not_unicode is not None and type(x) is str:
            return not_unicode({"field": name, "got": _describe(x)})
        return wrong({"field": name, "expected": expected, "got": _describe(x)})

    return fail


def _one_of(reason: Mapping, rules: Mapping, settings):
    fields = []
    for i, f in enumerate(rules["fields"]):
        if "oneOf" in f:
            names = tuple(getattr(settings, snake_case(f["oneOf"])))
            unknown = _rejection(reason, "notOneOf", f["name"], ("field", "value", "allowed"))
            fields.append((i, frozenset(names), unknown, {"field": f["name"], "allowed": ", ".join(names)}))

    def step(v):
        for i, known, unknown, values in fields:
            if v[i] not in known:
                return unknown({**values, "value": v[i]})
        return None

    return step


def _within(reason: Mapping, rules: Mapping, settings):
    fields = []
    for i, f in enumerate(rules["fields"]):
        if "range" in f:
            bounds = f["range"]
            outside = _rejection(reason, "outside", f["name"], ("field", "value", *_BOUNDS), bounds.get("detail"))
            texts = {b: js_number_text(bounds[b]) if b in bounds else "undefined" for b in _BOUNDS}
            low = bounds.get("minimum", -math.inf)
            above = bounds.get("exclusiveMinimum", -math.inf)
            high = bounds.get("maximum", math.inf)
            below = bounds.get("exclusiveMaximum", math.inf)
            fields.append((i, low, above, high, below, outside, {**texts, "field": f["name"]}))

    def step(v):
        for i, low, above, high, below, outside, values in fields:
            x = v[i]
            if not (low <= x <= high and above < x < below):
                return outside({**values, "value": js_number_text(x)})
        return None

    return step
