"""Builders shared by the tests/test_detection_*.py files: rules, events, and a tiny
stand-in for the KQL compiler (`field: "value"` clauses joined by `and`, plus
`@timestamp >= now-Nm`), so the engine's tests do not depend on wgsiem.kql."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wgsiem.detection.fields import raw_values
from wgsiem.rules.model import Cardinality, Rule, Threshold

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def at(minutes: float = 0, seconds: float = 0, ms: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds, milliseconds=ms)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_rule(
    query: str = 'event.action: "handshake"',
    *,
    type: str = "query",  # noqa: A002 - the rule's own key
    rule_id: str = "11111111-2222-4333-8444-555555555555",
    name: str = "Test rule",
    interval: str = "5m",
    lookback: str = "6m",
    max_signals: int = 100,
    threshold: tuple[tuple[str, ...], int, tuple[str, int] | None] | None = None,
    new_terms: tuple[str, ...] = (),
    history: str = "14d",
    index: list[str] | None = None,
    **body: Any,
) -> Rule:
    from wgsiem.rules.model import duration
    from wgsiem.rules.model import lookback as parse_lookback

    raw: dict[str, Any] = {
        "rule_id": rule_id,
        "name": name,
        "type": type,
        "query": query,
        "language": "kuery",
        "index": ["logs-wireguard.*"] if index is None else index,
        "interval": interval,
        "from": f"now-{lookback}",
        "max_signals": max_signals,
        "risk_score": 47,
        "severity": "medium",
        "description": "A rule of the tests.",
        "tags": ["Domain: Network"],
        "threat": [],
        "version": 1,
    }
    if index == []:
        del raw["index"]
    spec = None
    if threshold is not None:
        fields, value, card = threshold
        spec = Threshold(fields, value, Cardinality(*card) if card else None)
        raw["threshold"] = {"field": list(fields), "value": value, "cardinality": [{"field": card[0], "value": card[1]}] if card else []}
    if new_terms:
        raw["new_terms"] = {"field": "new_terms_fields", "value": list(new_terms), "history_window_start": [{"field": "history_window_start", "value": f"now-{history}"}]}
    raw.update(body)
    return Rule(
        path=Path(f"{rule_id}.toml"),
        rule_id=rule_id,
        name=name,
        type=type,
        query=query,
        severity=raw["severity"],
        risk_score=raw["risk_score"],
        interval=duration(interval),
        lookback=parse_lookback(f"now-{lookback}"),
        max_signals=max_signals,
        threshold=spec,
        new_terms_fields=tuple(new_terms),
        history_window=parse_lookback(f"now-{history}") if new_terms else None,
        version=1,
        metadata={},
        body=raw,
    )


_COUNTER = iter(range(1, 10**9))


def event(moment: datetime | str, action: str = "handshake", *, dataset: str = "wireguard.log", **fields: Any) -> dict[str, Any]:
    """A nested ECS document; keyword arguments are dotted field names (`source__ip` for
    `source.ip`, as Python names cannot hold dots)."""
    doc: dict[str, Any] = {
        "@timestamp": moment if isinstance(moment, str) else stamp(moment),
        "event": {"id": f"ev{next(_COUNTER):06d}", "action": action, "dataset": dataset, "kind": "event", "category": ["network"]},
        "data_stream": {"type": "logs", "dataset": dataset, "namespace": "default"},
        "host": {"name": "gw1"},
    }
    for key, value in fields.items():
        node = doc
        parts = key.split("__")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return doc


class TinyQuery:
    """Clauses `field: "value"` (any of the field's values equal), `*`, and
    `@timestamp >= now-<N>m` joined by ` and `."""

    def __init__(self, text: str, now: datetime | None) -> None:
        self.calls = 0
        self.clauses: list[tuple[str, Any]] = []
        for clause in (c.strip() for c in text.split(" and ")):
            if clause == "*":
                continue
            relative = re.fullmatch(r"@timestamp >= now-(\d+)m", clause)
            if relative:
                if now is None:
                    raise ValueError("needs now")
                self.clauses.append(("@timestamp>=", now - timedelta(minutes=int(relative[1]))))
                continue
            field, _, value = clause.partition(":")
            self.clauses.append((field.strip(), value.strip().strip('"')))

    def matches(self, doc: dict[str, Any]) -> bool:
        self.calls += 1
        for field, value in self.clauses:
            if field == "@timestamp>=":
                if datetime.fromisoformat(doc["@timestamp"]) < value:
                    return False
            elif value not in [str(v) for v in raw_values(doc, field)]:
                return False
        return True

    def constant_terms(self, field: str) -> frozenset[str] | None:
        values = [v for f, v in self.clauses if f == field]
        return frozenset(values[:1]) if values else None


def tiny_compile(text: str, now: datetime | None) -> TinyQuery:
    return TinyQuery(text, now)
