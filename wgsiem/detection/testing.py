"""Run a rule's test cases (rules/cases.py) through the offline engine and judge the alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..rules.cases import Case, load_cases
from ..rules.exceptions import Tuning
from ..rules.model import Rule
from .engine import run_rules

_MISSING = object()


@dataclass(frozen=True)
class CaseResult:
    rule: Rule
    case: Case
    alerts: list[dict[str, Any]]
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.alerts) == self.case.alerts and not self.mismatches

    @property
    def summary(self) -> str:
        text = f"{len(self.alerts)} alert(s), expected {self.case.alerts}"
        return "; ".join([text, *self.mismatches])


def run_cases(rules: Iterable[Rule], cases_dir: Path, tuning: Tuning | None = None) -> list[CaseResult]:
    """Each rule's cases, with `tuning`'s exception lists applied as Kibana would (a near
    miss may be an excepted event)."""
    out = []
    for rule in rules:
        path = cases_dir / f"{rule.path.stem}.yaml"
        if not path.exists():
            continue
        for case in load_cases(path):
            result = run_rules([rule], case.events, start=case.start, end=case.end, tuning=tuning)
            out.append(CaseResult(rule, case, result.alerts, list(_mismatches(result.alerts, case.where))))
    return out


def _mismatches(alerts: list[dict[str, Any]], where: Mapping[str, Any]) -> Iterable[str]:
    for i, alert in enumerate(alerts):
        for name, expected in where.items():
            got = lookup(alert, name)
            if got is _MISSING:
                yield f"alert {i + 1} has no {name}"
            elif not values_equal(got, expected):
                yield f"alert {i + 1}: {name} is {got!r}, expected {expected!r}"


def lookup(doc: Mapping[str, Any], dotted: str, default: Any = _MISSING) -> Any:
    """A field of a document whose keys may be nested objects, dotted names, or both (an
    alert has `kibana.alert.*` as dotted keys beside the event's nested objects)."""
    if dotted in doc:
        return doc[dotted]
    parts = dotted.split(".")
    for i in range(1, len(parts)):
        head = ".".join(parts[:i])
        if head in doc and isinstance(doc[head], Mapping):
            found = lookup(doc[head], ".".join(parts[i:]))
            if found is not _MISSING:
                return found
    return default


def values_equal(got: Any, expected: Any) -> bool:
    """YAML gives 64497 where Kibana's new-terms values may be strings: compare as text too."""
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(values_equal(g, e) for g, e in zip(got, expected, strict=True))
    return got == expected or (got is not _MISSING and got is not None and str(got) == str(expected))
