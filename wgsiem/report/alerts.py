"""The alerts a report lists: what `wgsiem rules run` (or Kibana) wrote, read as they come.

An alert document keeps its fields under dotted keys (`kibana.alert.rule.name`) or nested;
both are read. The report keeps the newest `ALERTS_KEPT` alerts and a count per rule.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wgsiem.detection.timestamps import parse_ms_or_none
from wgsiem.kql.documents import MISSING, getter

ALERTS_KEPT = 500
_FIELDS = {
    name: getter(name)
    for name in (
        "kibana.alert.rule.name", "kibana.alert.rule.rule_id", "kibana.alert.severity", "kibana.alert.reason",
        "kibana.alert.original_time", "@timestamp", "wireguard.peer.name", "wireguard.peer.public_key",
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True, order=True)
class Alert:
    time_ms: int
    rule: str
    rule_id: str | None
    severity: str | None
    reason: str | None
    peer: str | None
    public_key: str | None


def read_alert(doc: Mapping[str, Any]) -> Alert | None:
    def get(name: str) -> Any:
        value = _FIELDS[name](doc)
        if isinstance(value, list):
            value = value[0] if value else MISSING
        return None if value is MISSING else value

    rule = get("kibana.alert.rule.name")
    if rule is None:
        return None
    when = parse_ms_or_none(get("kibana.alert.original_time") or get("@timestamp"))
    if when is None:
        return None
    return Alert(
        when, str(rule), get("kibana.alert.rule.rule_id"), get("kibana.alert.severity"), get("kibana.alert.reason"),
        get("wireguard.peer.name"), get("wireguard.peer.public_key"),
    )  # fmt: skip


@dataclass
class Alerts:
    start_ms: int | None = None
    end_ms: int | None = None
    peer: str | None = None  # only alerts about this peer (wireguard.peer.name)
    by_rule: Counter[str] = field(default_factory=Counter)
    rule_ids: dict[str, str] = field(default_factory=dict)
    _newest: list[Alert] = field(default_factory=list)

    def add(self, doc: Mapping[str, Any]) -> Alert | None:
        alert = read_alert(doc)
        if alert is None:
            return None
        if (self.start_ms is not None and alert.time_ms < self.start_ms) or (self.end_ms is not None and alert.time_ms > self.end_ms):
            return None
        if self.peer is not None and alert.peer != self.peer:
            return None
        self.by_rule[alert.rule] += 1
        if alert.rule_id:
            self.rule_ids[alert.rule] = alert.rule_id
        if len(self._newest) < ALERTS_KEPT:
            heapq.heappush(self._newest, alert)
        else:
            heapq.heappushpop(self._newest, alert)
        return alert

    @property
    def total(self) -> int:
        return sum(self.by_rule.values())

    def newest(self) -> list[Alert]:
        return sorted(self._newest, reverse=True)
