"""Which alerts a scenario's expectations cover, and what is missing or left over.

Strict: each alert is covered by the first expectation whose rule and `where` it matches,
each expectation must cover exactly its `count`, and an alert nothing covers is a failure
(a false positive shows as one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..detection.testing import lookup, values_equal
from .scenario import Expectation


@dataclass
class Coverage:
    covered: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # expectation index → alerts
    uncovered: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def check(expectations: Sequence[Expectation], alerts: Sequence[dict[str, Any]]) -> Coverage:
    cov = Coverage(covered={i: [] for i in range(len(expectations))})
    for alert in alerts:
        for i, exp in enumerate(expectations):
            if matches(exp, alert):
                cov.covered[i].append(alert)
                break
        else:
            cov.uncovered.append(alert)
    for i, exp in enumerate(expectations):
        got = len(cov.covered[i])
        if got != exp.count:
            where = ", ".join(f"{k}={v!r}" for k, v in exp.where.items())
            cov.failures.append(f"expected {exp.count} alert(s) of {exp.rule!r}" + (f" where {where}" if where else "") + f", got {got}")
    for alert in cov.uncovered:
        cov.failures.append(f"unexpected alert: {describe(alert)}")
    return cov


def matches(exp: Expectation, alert: dict[str, Any]) -> bool:
    if exp.rule not in (alert.get("kibana.alert.rule.name"), alert.get("kibana.alert.rule.rule_id")):
        return False
    return all(values_equal(lookup(alert, name), value) for name, value in exp.where.items())


def describe(alert: dict[str, Any]) -> str:
    """One line: the rule, the time, and the facts that tell alerts apart."""
    parts = [f"{alert.get('kibana.alert.rule.name')} at {alert.get('kibana.alert.original_time')}"]
    for name in ("wireguard.peer.name", "wireguard.peer.public_key", "source.ip", "source.geo.country_iso_code",
                 "kibana.alert.new_terms", "kibana.alert.threshold_result.count"):  # fmt: skip
        value = lookup(alert, name, None)
        if value is not None:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)

