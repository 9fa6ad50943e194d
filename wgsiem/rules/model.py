"""A detection rule as the TOML file holds it, and the schedule and type settings the
engine needs from it.

The file layout is elastic/detection-rules': `[metadata]`, `[rule]`, `[[rule.threat]]`,
`[rule.threshold]` or `[rule.new_terms]`, and `[rule.alert_suppression]`. A file is checked against
detection_rules/schemas/rule-toml.schema.json first, so everything after that may trust
the shape; problems name the file, the line where the key is written, and the key.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from wgsiem.content import DETECTION_RULES

from ..errors import WgsiemError
from ..settings import duration

SCHEMA = DETECTION_RULES / "schemas" / "rule-toml.schema.json"
RULE_TYPES = ("query", "threshold", "new_terms")


class RuleFileError(WgsiemError):
    """A rule file that cannot be used; each line of the message is one problem."""


@dataclass(frozen=True, slots=True)
class Cardinality:
    field: str
    value: int


@dataclass(frozen=True, slots=True)
class Threshold:
    """Group by `fields` (none: one group), alert where a group has at least `value`
    events and, if set, at least `cardinality.value` distinct values of its field."""

    fields: tuple[str, ...]
    value: int
    cardinality: Cardinality | None


@dataclass(frozen=True, slots=True)
class AlertSuppression:
    """Kibana's `alert_suppression`: one alert per group of `group_by` values (a threshold
    rule's groups are its threshold.field buckets, so it has none here), for the
    execution or, with `duration`, for that long after the group's alert was created."""

    group_by: tuple[str, ...]
    duration: timedelta | None
    # Kibana's default (DEFAULT_SUPPRESSION_MISSING_FIELDS_STRATEGY) when the key is absent.
    missing_fields_strategy: str = "suppress"

    @property
    def suppress_missing(self) -> bool:
        return self.missing_fields_strategy == "suppress"


_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}


@dataclass(frozen=True, slots=True)
class Rule:
    path: Path
    rule_id: str
    name: str
    type: str
    query: str
    severity: str
    risk_score: int
    interval: timedelta  # time between executions
    lookback: timedelta  # `from = "now-6m"`: each execution looks 6 minutes back
    max_signals: int
    threshold: Threshold | None
    new_terms_fields: tuple[str, ...]
    history_window: timedelta | None  # `history_window_start = "now-14d"`
    version: int
    metadata: dict[str, Any]
    body: dict[str, Any]  # the [rule] table as written

    @property
    def alert_suppression(self) -> AlertSuppression | None:
        """`[rule.alert_suppression]`, read from the body (the schema checked its shape)."""
        raw = self.body.get("alert_suppression")
        if not raw:
            return None
        spec = raw.get("duration")
        duration = timedelta(**{_DURATION_UNITS[spec["unit"]]: spec["value"]}) if spec else None
        return AlertSuppression(tuple(raw.get("group_by") or ()), duration, raw.get("missing_fields_strategy") or "suppress")

    @property
    def fields(self) -> tuple[str, ...]:
        """Fields the rule reads beyond its query: group-by, cardinality, new terms,
        alert suppression."""
        out = list(self.new_terms_fields)
        if self.threshold:
            out += self.threshold.fields
            if self.threshold.cardinality:
                out.append(self.threshold.cardinality.field)
        suppression = self.alert_suppression
        if suppression is not None:
            out += [f for f in suppression.group_by if f not in out]
        return tuple(out)


def lookback(text: str) -> timedelta:
    """`now-6m` → 6 minutes: the date math Kibana accepts for `from`."""
    if not text.startswith("now-"):
        raise ValueError(f"{text!r} is not date math like now-6m")
    return duration(text[4:])


@cache
def schema_validator(path: Path, *, formats: bool = False) -> jsonschema.protocols.Validator:
    """A content schema's validator, the schema itself checked first; `formats` also checks
    `format` (date-time, ...), which the rule schema leaves to the code after it."""
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER if formats else None
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def load_rule(path: Path) -> Rule:
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RuleFileError(f"{path}: not valid TOML: {err}") from None
    problems = [schema_problem(path, text, err) for err in sorted(schema_validator(SCHEMA).iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        raise RuleFileError("\n".join(problems))
    body = raw["rule"]
    threshold = None
    if "threshold" in body:
        t = body["threshold"]
        card = t.get("cardinality") or []
        threshold = Threshold(tuple(t["field"]), t["value"], Cardinality(card[0]["field"], card[0]["value"]) if card else None)
    new_terms = body.get("new_terms")
    return Rule(
        path=path,
        rule_id=body["rule_id"],
        name=body["name"],
        type=body["type"],
        query=body["query"].strip(),
        severity=body["severity"],
        risk_score=body["risk_score"],
        interval=duration(body["interval"]),
        lookback=lookback(body["from"]),
        max_signals=body["max_signals"],
        threshold=threshold,
        new_terms_fields=tuple(new_terms["value"]) if new_terms else (),
        history_window=lookback(new_terms["history_window_start"][0]["value"]) if new_terms else None,
        version=body["version"],
        metadata=raw["metadata"],
        body=body,
    )


def load_rules(directory: Path = DETECTION_RULES) -> list[Rule]:
    """Every `*.toml` of the folder, sorted by file name; all problems at once."""
    rules, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        try:
            rules.append(load_rule(path))
        except RuleFileError as err:
            problems.append(str(err))
    if problems:
        raise RuleFileError("\n".join(problems))
    return rules


def schema_problem(path: Path, text: str, err: jsonschema.ValidationError) -> str:
    """`file:line: key: what is wrong`, the line being where the key (or its table) is."""
    keys = [str(p) for p in err.absolute_path]
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [k for k in err.validator_value if k not in err.instance]
        table = ".".join(k for k in keys if not k.isdigit()) or "(top level)"
        return f"{path}:{_line_of(text, keys)}: [{table}] lacks {', '.join(repr(m) for m in missing)}"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        # A schema closing an object for one rule type says why in its $comment.
        why = f"not allowed here: {err.schema['$comment']}" if "$comment" in err.schema else "unknown key"
        return f"{path}:{_line_of(text, keys + extra[:1])}: {'.'.join(keys + extra[:1])}: {why}"
    where = ".".join(keys) or "(top level)"
    return f"{path}:{_line_of(text, keys)}: {where}: {err.message}"


def _line_of(text: str, keys: list[str]) -> int:
    """The line that writes the innermost key of `keys` (a best effort: TOML parsers do not
    keep positions). Array indices are skipped; the table header stands in for a table."""
    names = [k for k in keys if not k.isdigit()]
    lines = text.splitlines()
    start = 0
    # Walk down the tables: `[rule]`, then `[rule.threshold]` or `[[rule.threat]]`...
    for depth in range(len(names), 0, -1):
        header = ".".join(names[:depth])
        for number, line in enumerate(lines):
            if re.fullmatch(r"\s*\[\[?" + re.escape(header) + r"\]\]?\s*", line):
                start = number
                if depth == len(names):
                    return number + 1
                key = names[depth]
                for offset, later in enumerate(lines[number + 1 :], start=number + 2):
                    if re.match(r"\s*\[", later):
                        break
                    if re.match(r"\s*" + re.escape(key) + r"\s*=", later):
                        return offset
                return number + 1
    return start + 1
