"""A rule's own test cases: an event set it must alert on and a near miss it must not.

`detection_rules/_dev/test/<rule file stem>.yaml` (the elastic/integrations habit of keeping
test data next to the content it tests):

    base:                       # fields every event starts from, dotted names
      event.dataset: wireguard.status
    cases:
      fires:
        description: why this must alert
        start: 30d              # when rules start running, after t0 (default: first event)
        events:
          - {at: 0s, event.action: peer-discovered, wireguard.peer.public_key: "..."}
          - {at: 30d, repeat: 120, every: 500ms, event.action: handshake-invalid}
        alerts: 1               # how many alerts the rule gives
        where: {kibana.alert.new_terms: [vpn1, "..."]}   # what every alert holds
      near-miss:
        ...
        alerts: 0

Times are offsets from t0 (2026-11-01T00:00:00Z): `500ms`, `30s`, `5m`, `2h`, `30d`, or
sums like `30d2h`. Events are written as documents with nested objects, a deterministic
`event.id`, and `@timestamp` from `at`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from wgsiem.content import DETECTION_RULES

from ..errors import WgsiemError

CASES = DETECTION_RULES / "_dev" / "test"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_CASE_KEYS = {"description", "start", "end", "events", "alerts", "where"}


class CaseFileError(WgsiemError):
    """A case file that cannot be used; the message names the file, case and key."""


@dataclass(frozen=True, slots=True)
class Case:
    file: Path
    name: str
    description: str
    events: list[dict[str, Any]]
    start: datetime | None
    end: datetime | None
    alerts: int
    where: dict[str, Any]


def offset(text: Any, where: str) -> timedelta:
    text = str(text)
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise CaseFileError(f"{where}: {text!r} is not an offset like 500ms, 30s, 5m, 2h, 30d or 1d2h")
    return timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in parts))


def load_cases(path: Path) -> list[Case]:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise CaseFileError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), dict) or not raw["cases"]:
        raise CaseFileError(f"{path}: expected a mapping with `cases:` (and optionally `base:`)")
    unknown = set(raw) - {"base", "cases"}
    if unknown:
        raise CaseFileError(f"{path}: unknown key(s) {sorted(unknown)}")
    base = raw.get("base") or {}
    return [_case(path, name, body, base) for name, body in raw["cases"].items()]


def _case(path: Path, name: str, body: Any, base: dict[str, Any]) -> Case:
    where = f"{path}: case {name!r}"
    if not isinstance(body, dict):
        raise CaseFileError(f"{where}: expected a mapping")
    unknown = set(body) - _CASE_KEYS
    if unknown:
        raise CaseFileError(f"{where}: unknown key(s) {sorted(unknown)}")
    if not isinstance(body.get("alerts"), int) or body["alerts"] < 0:
        raise CaseFileError(f"{where}: `alerts` must be the number of alerts expected")
    if not isinstance(body.get("events"), list) or not body["events"]:
        raise CaseFileError(f"{where}: `events` must be a non-empty list")
    events: list[dict[str, Any]] = []
    for i, entry in enumerate(body["events"]):
        events += _expand(entry, base, f"{where}: event {i + 1}", name, len(events))
    events.sort(key=lambda e: e["@timestamp"])
    return Case(
        file=path,
        name=name,
        description=str(body.get("description", "")).strip(),
        events=events,
        start=T0 + offset(body["start"], f"{where}: start") if "start" in body else None,
        end=T0 + offset(body["end"], f"{where}: end") if "end" in body else None,
        alerts=body["alerts"],
        where=dict(body.get("where") or {}),
    )


def _expand(entry: Any, base: dict[str, Any], where: str, case: str, first: int) -> list[dict[str, Any]]:
    if not isinstance(entry, dict) or "at" not in entry:
        raise CaseFileError(f"{where}: expected a mapping with `at:`")
    fields = {**base, **{k: v for k, v in entry.items() if k not in ("at", "repeat", "every")}}
    at = offset(entry["at"], f"{where}: at")
    repeat = entry.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise CaseFileError(f"{where}: `repeat` must be a positive integer")
    every = offset(entry["every"], f"{where}: every") if "every" in entry else timedelta(0)
    out = []
    for n in range(repeat):
        doc = nest({**fields, "@timestamp": _iso(T0 + at + n * every), "event.id": f"{case}-{first + n + 1}"})
        out.append(doc)
    return out


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1}` → `{"a": {"b": 1}}`, as the shipper writes its documents."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, last = key.split(".") if key != "@timestamp" else [key]
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
