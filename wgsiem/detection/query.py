"""Custom query rules: one alert per matching event (query/query.ts →
utils/search_after_bulk_create.ts and search_after_bulk_create_factory.ts).

Kibana pages through the range sorted by `@timestamp` ascending, wraps every hit into an
alert whose id depends only on the event and the rule (wrap_hits.ts), and lets the
persistence wrapper drop ids the alerts index already holds (filterDuplicateAlerts in
create_persistence_rule_type_wrapper.ts). That is what keeps overlapping windows from
alerting twice. Of the remaining new alerts it writes at most max_signals, the earliest
first, and reports the max-signals warning once a page holds a new alert past the cap.
An event left out that way is only picked up by a later execution whose range still
covers it.

With `alert_suppression`, query.ts hands the execution to
query/alert_suppression/group_and_bulk_create.ts instead (QueryGroups): one composite
aggregation page over the group-by fields, one alert per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from .alerts import MAX_SIGNALS_WARNING, SPACE_ID, NewAlerts, RuleContext, build_alert, object_hash, query_alert_id
from .events import EventSet
from .fields import TermReader, sort_key
from .matching import RuleEvents
from .schedule import Execution, Outcome
from .suppression import SUPPRESSION_DOCS_COUNT, AlertsIndex, Candidate, instance_id
from .timestamps import iso, timedelta_ms

Key = tuple[Any, ...]  # a group's values, one per group-by field (None: the field is missing)


class QueryExecutor:
    def __init__(self, ctx: RuleContext, events: EventSet, rule_events: RuleEvents, max_signals: int) -> None:
        self.ctx = ctx
        self.events = events
        self.rule_events = rule_events
        self.max_signals = max_signals
        self.alerts = NewAlerts(max_signals)
        suppression = ctx.rule.alert_suppression
        self.groups = QueryGroups(ctx, self.alerts, max_signals) if suppression is not None else None
        self.readers = [TermReader.of(f, rule_events.types) for f in suppression.group_by] if suppression is not None else []
        self._keys: dict[int, tuple[list[Key], bool]] = {}

    def run(self, execution: Execution) -> Outcome:
        if self.groups is not None:
            return self._grouped(execution, self.groups)
        created: list[dict[str, Any]] = []
        # Keyed by position: the alert id is a function of the event alone.
        window = self.rule_events.window(execution.started_at, execution.start, execution.end)
        capped = self.alerts.add(created, ((pos, partial(self._alert, pos, execution)) for pos in window))
        return Outcome(created, MAX_SIGNALS_WARNING if capped else None)

    def _alert(self, pos: int, execution: Execution) -> dict[str, Any]:
        events = self.events
        return query_alert(self.ctx, events.docs[pos], events.index(pos), events.doc_id(pos), events.ts[pos], execution)

    def _group_keys(self, pos: int, suppress_missing: bool) -> tuple[list[Key], bool]:
        """The composite buckets an event is in (one per combination of its values; a
        missing field is the null key with `missing_bucket`, else no bucket), and whether
        it lacks a group-by field."""
        known = self._keys.get(pos)
        if known is None:
            doc = self.events.docs[pos]
            keys: list[Key] = [()]
            lacks = False
            for reader in self.readers:
                values: list[Any] = reader.terms(doc)
                if not values:
                    lacks = True
                    values = [None] if suppress_missing else []
                keys = [k + (v,) for k in keys for v in values]
            known = self._keys[pos] = (keys, lacks)
        return known

    def _grouped(self, execution: Execution, groups: QueryGroups) -> Outcome:
        suppress_missing = groups.suppression.suppress_missing
        history = groups.live_history(execution)
        found: dict[Key, Group] = {}
        missing: list[int] = []
        events = self.events
        for pos in self.rule_events.window(execution.started_at, execution.start, execution.end):
            keys, lacks = self._group_keys(pos, suppress_missing)
            if lacks:
                missing.append(pos)
            ts = events.ts[pos]
            # buildBucketHistoryFilter: a document of a group alerted on up to its end is out.
            if not keys or (history and any(history.get(k, ts - 1) >= ts for k in keys)):
                continue
            for key in keys:
                group = found.get(key)
                if group is None:  # positions come in time order: the first is the oldest
                    found[key] = Group(key, 1, ts, ts, events.docs[pos], events.index(pos), events.doc_id(pos))
                else:
                    group.count += 1
                    group.last = ts
        types = [r.type for r in self.readers]
        ordered = sorted(found.values(), key=lambda g: group_order(types, g.key))[: self.max_signals + 1]
        created: list[dict[str, Any]] = []
        # bulk_create_unsuppressed_alerts.ts, while fewer groups than max_signals came back:
        # the query rule's own path over the events lacking a group-by field (not filtered
        # by the group history).
        unsuppressed = not suppress_missing and self.max_signals - len(ordered) > 0
        capped = unsuppressed and self.alerts.add(created, ((pos, partial(self._alert, pos, execution)) for pos in missing))
        warning = MAX_SIGNALS_WARNING if capped or len(ordered) > self.max_signals else None
        suppressed = groups.write(execution, ordered, created)
        return Outcome(created, warning, suppressed)


def group_order(types: Sequence[str | None], key: Key) -> tuple[Any, ...]:
    """Composite-key order, each source ascending with `missing_order: last`."""
    return tuple((1,) if v is None else (0, sort_key(t, v)) for t, v in zip(types, key, strict=True))


@dataclass(slots=True)
class Group:
    """One composite bucket: its key, document count, min and max `@timestamp`, and its
    oldest event (top_hits sorted `@timestamp` asc: `_source`, index, `_id`)."""

    key: Key
    count: int
    first: int
    last: int
    source: dict[str, Any]
    index: str
    doc_id: str


class QueryGroups:
    """query/alert_suppression/group_and_bulk_create.ts, what both engines share: the group
    history (the rule's suppressionGroupHistory state) and the writing of one alert per
    group (wrap_suppressed_alerts.ts): built from the group's oldest event,
    `kibana.alert.suppression.terms` the bucket's key (values, not arrays),
    `docs_count` its other documents, start and end its min and max `@timestamp`. With a
    duration they go through alertWithSuppression (groups of earlier executions within it
    are updated), without one through plain bulkCreate. Both without a max_alerts cap:
    the composite page has up to max_signals + 1 groups, all written."""

    def __init__(self, ctx: RuleContext, alerts: NewAlerts, max_signals: int) -> None:
        suppression = ctx.rule.alert_suppression
        assert suppression is not None
        self.ctx = ctx
        self.suppression = suppression
        self.max_signals = max_signals
        self.index = AlertsIndex(alerts)
        self.history: dict[Key, int] = {}  # group key → the max @timestamp of its last alert

    def live_history(self, execution: Execution) -> dict[Key, int]:
        """filterBucketHistory: entries whose end is after the range's `from`."""
        self.history = {key: end for key, end in self.history.items() if end > execution.start}
        return self.history

    def write(self, execution: Execution, groups: Sequence[Group], created: list[dict[str, Any]]) -> int:
        """Writes the groups' alerts into `created` (or into earlier alerts) and remembers
        the groups; returns getNumberOfSuppressedAlerts: the docs_count of the alerts
        created, plus docs_count + 1 of each candidate suppressed into an earlier one."""
        at = execution.started_at
        candidates = [self._candidate(execution, g) for g in groups]
        before = len(created)
        duration = self.suppression.duration
        suppressed = 0
        if duration is not None:
            into = self.index.suppress(created, candidates, execution, window_start=at - timedelta_ms(duration), per_execution=False, max_alerts=None)
            suppressed = sum(c.docs_count + 1 for c in into)
        else:
            self.index.persist(created, candidates, None, at)
        suppressed += sum(int(a[SUPPRESSION_DOCS_COUNT]) for a in created[before:])
        for group in groups:
            self.history[group.key] = max(group.last, self.history.get(group.key, group.last))
        return suppressed

    def _candidate(self, execution: Execution, group: Group) -> Candidate:
        ctx = self.ctx
        terms = [{"field": f, "value": v} for f, v in zip(self.suppression.group_by, group.key, strict=True)]
        # wrap_suppressed_alerts.ts: objectHash([_index, _id, String(_version), space:rule, terms, start, end]).
        alert_id = object_hash([group.index, group.doc_id, "undefined", f"{SPACE_ID}:{ctx.uuid}", terms, iso(group.first), iso(group.last)])
        build = partial(query_alert, ctx, group.source, group.index, group.doc_id, group.first, execution, alert_id)
        return Candidate(alert_id, build, instance_id(terms, ctx.uuid), terms, group.first, group.last, group.count - 1)


def query_alert(
    ctx: RuleContext, source: dict[str, Any], index: str, doc_id: str, ts: int, execution: Execution, alert_id: str | None = None
) -> dict[str, Any]:
    """The alert of one hit (`_source`, index, `_id`, its `@timestamp` in epoch ms); its id
    is wrap_hits.ts's unless a suppressing wrapper gives its own."""
    return build_alert(
        ctx,
        source,
        alert_id=alert_id or query_alert_id(index, doc_id, ctx.uuid),
        parent_id=doc_id,
        parent_index=index,
        started_at=execution.started_at,
        original_time=ts,
    )
