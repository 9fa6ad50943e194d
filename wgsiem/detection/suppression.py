"""Alert suppression (a rule's `alert_suppression`): one alert per group of events, the
others counted into it, the way Kibana's detection engine writes them.

Paths are under x-pack/solutions/security/plugins/security_solution/server/lib/
detection_engine/rule_types/ unless they say otherwise.

What a suppressed alert carries (utils/suppression_utils.ts getSuppressionAlertFields, and
each type's wrap function): `kibana.alert.instance.id`, the hash of the group
(`objectHash([terms, rule id, space])`), `kibana.alert.suppression.terms` (`[{field,
value}]`), `kibana.alert.suppression.start` / `.end` (the time span of the events in it)
and `kibana.alert.suppression.docs_count` (how many alerts were suppressed into it).

How they are written: the rule registry's persistence wrapper
(x-pack/platform/plugins/shared/rule_registry/server/utils/create_persistence_rule_type_wrapper.ts),
`alertWithSuppression`, per call:

1. candidates whose id the alerts index holds are dropped (filterDuplicateAlerts);
2. for each group, the newest open alert with `kibana.alert.start` at or after the window
   start (`now - duration`, or the execution's `from` without a duration) is looked up;
3. a candidate whose group's alert comes from another execution and already ends at or
   after the candidate's end was suppressed before, and is dropped;
4. suppressAlertsInMemory: candidates sorted by suppression start, the first of each group
   is kept and the others add `docs_count + 1` to it and stretch its end;
5. a kept candidate whose group has that alert (with a duration: any; without: only one
   of this execution) updates it instead: end (if later), start (only within the
   execution that created it), `kibana.alert.last_detected`, and `docs_count` plus the
   candidate's plus one; the others are created, at most `max_alerts` of them.

The alerts index here is in memory, per rule: ids written, and per group its newest
alert, whose document is updated in place. Nothing ever closes an alert.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wgsiem.rules.model import AlertSuppression

from .alerts import SPACE_ID, NewAlerts, object_hash
from .schedule import Execution
from .timestamps import iso, parse_ms, timedelta_ms

INSTANCE_ID = "kibana.alert.instance.id"
SUPPRESSION_TERMS = "kibana.alert.suppression.terms"
SUPPRESSION_START = "kibana.alert.suppression.start"
SUPPRESSION_END = "kibana.alert.suppression.end"
SUPPRESSION_DOCS_COUNT = "kibana.alert.suppression.docs_count"
LAST_DETECTED = "kibana.alert.last_detected"

# getSuppressionMaxSignalsWarning (utils/utils.ts).
SUPPRESSION_MAX_SIGNALS_WARNING = "This rule reached the maximum alert limit for the rule execution. Some alerts were not created or suppressed."
# MAX_SIGNALS_SUPPRESSION_MULTIPLIER (rule_types/constants.ts): created and suppressed alerts
# together end an in-memory suppressing execution at this many times max_signals.
MAX_SIGNALS_SUPPRESSION_MULTIPLIER = 5

Terms = list[dict[str, Any]]


def instance_id(values: Any, rule_uuid: str) -> str:
    """The group's id: `objectHash([terms, rule saved-object id, space])`
    (createSuppressedAlertInstanceId; threshold hashes its sorted values instead of terms)."""
    return object_hash([values, rule_uuid, SPACE_ID])


def sorted_values(values: Sequence[Any]) -> list[Any]:
    """lodash `sortBy(values)`: strings by UTF-16 code units, numbers by value."""
    return sorted(values, key=lambda v: (0, v.encode("utf-16-be")) if isinstance(v, str) else (1, v) if isinstance(v, (int, float)) else (2, repr(v)))


def field_terms(group_by: Sequence[str], values: Sequence[Sequence[Any]]) -> Terms:
    """getSuppressionTerms (utils/suppression_utils.ts) over a hit's `fields`: each field's
    values sorted, or null when the field has none."""
    return [{"field": name, "value": sorted_values(v) if v else None} for name, v in zip(group_by, values, strict=True)]


@dataclass(slots=True)
class Candidate:
    """A wrapped alert on its way to the alerts index: its id, how to build its document
    (lazily: most candidates of a suppressing rule are never written) and, unless it is a
    plain alert (`instance` None), its suppression fields."""

    alert_id: str
    build: Callable[[], dict[str, Any]]
    instance: str | None = None
    terms: Terms = field(default_factory=list)
    start: int = 0  # epoch ms
    end: int = 0
    docs_count: int = 0

    def document(self) -> dict[str, Any]:
        alert = self.build()
        if self.instance is not None:
            alert[INSTANCE_ID] = self.instance
            alert[SUPPRESSION_TERMS] = copy.deepcopy(self.terms)
            alert[SUPPRESSION_START] = iso(self.start)
            alert[SUPPRESSION_END] = iso(self.end)
            alert[SUPPRESSION_DOCS_COUNT] = self.docs_count
        return alert


class AlertsIndex:
    """One rule's alerts as the persistence wrapper sees them: the ids written (shared with
    the rule's NewAlerts) and each group's newest alert with its execution's time."""

    def __init__(self, alerts: NewAlerts) -> None:
        self.written = alerts.written
        self.latest: dict[str, tuple[dict[str, Any], int]] = {}

    def persist(self, created: list[dict[str, Any]], candidates: Iterable[Candidate], max_alerts: int | None, at: int) -> bool:
        """alertWithPersistence (what bulkCreate calls): new ids only, at most `max_alerts`
        (none left: nothing; None: no cap). True when some were left out."""
        fresh = [c for c in candidates if c.alert_id not in self.written]
        if not fresh:
            return False
        if max_alerts == 0:
            return True
        truncated = False
        if max_alerts and len(fresh) > max_alerts:
            fresh, truncated = fresh[:max_alerts], True
        for candidate in fresh:
            self._create(created, candidate, at)
        return truncated

    def suppress(
        self,
        created: list[dict[str, Any]],
        candidates: Sequence[Candidate],
        execution: Execution,
        *,
        window_start: int,
        per_execution: bool,
        max_alerts: int | None,
    ) -> list[Candidate]:
        """alertWithSuppression: writes `candidates` (all suppressible) into `created` or into
        their groups' alerts; returns the suppressed ones (into an alert of the index, and
        into another candidate), Kibana's `suppressedAlerts`."""
        at = execution.started_at
        fresh = [c for c in candidates if c.alert_id not in self.written]
        if not fresh:
            return []
        existing: dict[str, tuple[dict[str, Any], int]] = {}
        for candidate in fresh:
            found = self.latest.get(candidate.instance or "")
            # Its kibana.alert.start is the time of the execution that created it.
            if found is not None and found[1] >= window_start:
                existing[candidate.instance or ""] = found
        # Already suppressed by an alert of an earlier execution that reaches as far.
        kept = [
            c for c in fresh if (e := existing.get(c.instance or "")) is None or e[1] == at or not parse_ms(e[0][SUPPRESSION_END]) >= c.end
        ]
        merged, suppressed = _suppress_in_memory(kept)
        for candidate in merged:
            found = existing.get(candidate.instance or "")
            if found is None or (per_execution and found[1] != at):
                continue
            alert, created_at = found
            if not parse_ms(alert[SUPPRESSION_END]) >= candidate.end:
                alert[SUPPRESSION_END] = iso(candidate.end)
            if created_at == at and parse_ms(alert[SUPPRESSION_START]) >= candidate.start:
                alert[SUPPRESSION_START] = iso(candidate.start)
            alert[LAST_DETECTED] = iso(at)
            alert[SUPPRESSION_DOCS_COUNT] += candidate.docs_count + 1
            suppressed.append(candidate)
        new = [c for c in merged if (f := existing.get(c.instance or "")) is None or (per_execution and f[1] != at)]
        if max_alerts and len(new) > max_alerts:
            new = new[:max_alerts]
        for candidate in new:
            self._create(created, candidate, at)
        return suppressed

    def _create(self, created: list[dict[str, Any]], candidate: Candidate, at: int) -> None:
        self.written.add(candidate.alert_id)
        alert = candidate.document()
        created.append(alert)
        if candidate.instance is not None:
            self.latest[candidate.instance] = (alert, at)


def _suppress_in_memory(candidates: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """suppressAlertsInMemory: by suppression start (a stable sort), the first of a group
    stays, with the others' docs_count + 1 added and the latest end; (kept, suppressed)."""
    first: dict[str, Candidate] = {}
    kept: list[Candidate] = []
    suppressed: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: c.start):
        group = candidate.instance or ""
        head = first.get(group)
        if head is not None:
            head.docs_count += candidate.docs_count + 1
            head.end = max(head.end, candidate.end)
            suppressed.append(candidate)
        else:
            first[group] = candidate
            kept.append(candidate)
    return kept, suppressed


@dataclass
class Tally:
    """One execution's writes so far (Kibana's toReturn): what it created and suppressed."""

    execution: Execution
    created: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0


class InMemorySuppression:
    """executeBulkCreateAlerts (utils/bulk_create_suppressed_alerts_in_memory.ts) as new
    terms calls it (new_terms/bulk_create_suppressed_alerts_in_memory.ts) for each chunk of
    5 × max_signals candidates of each createAlertsHook call: plain alerts (a group-by
    field missing, with `doNotSuppress`) through bulkCreate first, then the others through
    alertWithSuppression, each capped at what max_signals leaves. The execution stops
    (with SUPPRESSION_MAX_SIGNALS_WARNING) once it has created max_signals alerts or
    created and suppressed 5 × max_signals together."""

    def __init__(self, index: AlertsIndex, suppression: AlertSuppression, max_signals: int) -> None:
        self.index = index
        self.suppression = suppression
        self.max_signals = max_signals

    def hook(self, tally: Tally, candidates: Sequence[Candidate]) -> bool:
        """One createAlertsHook call; True when the execution must stop (truncated)."""
        execution = tally.execution
        duration = self.suppression.duration
        # `now-<duration>` against the execution time, else the range's `from`.
        window_start = execution.started_at - timedelta_ms(duration) if duration else execution.start
        size = MAX_SIGNALS_SUPPRESSION_MULTIPLIER * self.max_signals
        for i in range(0, len(candidates), size):
            chunk = candidates[i : i + size]
            plain = [c for c in chunk if c.instance is None]
            if plain:
                self.index.persist(tally.created, plain, self.max_signals - len(tally.created), execution.started_at)
            tally.suppressed += len(self.index.suppress(
                tally.created,
                [c for c in chunk if c.instance is not None],
                execution,
                window_start=window_start,
                per_execution=duration is None,
                max_alerts=self.max_signals - len(tally.created),
            ))
            created = len(tally.created)
            if tally.suppressed + created >= size or created >= self.max_signals:
                return True
        return False
