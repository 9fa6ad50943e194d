"""New terms rules (new_terms/create_new_terms_alert_type.ts with
build_new_terms_aggregation.ts, multi_terms_composite.ts and wrap_new_terms_alerts.ts).

Kibana's three phases per execution, all under the rule's query:

1. A composite aggregation over the rule range collects every term seen there: for one
   field each value of a multi-valued field is its own term; for several fields a term
   is a combination, one per element of the cross product of the fields' values (a
   composite aggregation's behaviour), and a document lacking any field has none.
2. Over [history_window_start, to] each term's `first_seen` is the min `@timestamp`;
   the bucket_selector keeps it when `first_seen > from`, strictly: a term whose first
   event is exactly at the range start is not new, nor is one seen anywhere in
   [history start, from].
3. The alert is built from the term's oldest event (top_hits sorted `@timestamp` asc),
   one alert per new term, so one event holding two new values makes two alerts.

The alert id hashes the event and the term (wrap_new_terms_alerts.ts), so a term still
new in the next, overlapping execution gives the same id and is not created again.

Instead of re-aggregating the history window every execution, each term keeps the sorted
times (and positions) of its events; `first_seen` in [h, to] is then one bisect, exactly
the aggregation's answer because the term occurs in [from, to] ⊆ [h, to].

With `alert_suppression` the new terms' alerts are suppressed in memory
(new_terms/wrap_suppressed_new_terms_alerts.ts, bulk_create_suppressed_alerts_in_memory.ts,
suppression.InMemorySuppression): each candidate is grouped by the group-by fields'
values as the event's `fields` hold them, and Kibana hands them over one createAlertsHook
call at a time (a phase-1 page for one field, a batch of 500 phase-1 terms for several).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import chain
from typing import Any

from wgsiem.rules.model import Rule

from .alerts import MAX_SIGNALS_WARNING, NewAlerts, RuleContext, build_alert, new_terms_alert_id
from .events import EventSet
from .fields import TermReader, sort_key
from .matching import RuleEvents
from .schedule import Execution, Outcome
from .searches import NEW_TERMS_BATCH_SIZE
from .suppression import SUPPRESSION_MAX_SIGNALS_WARNING, AlertsIndex, Candidate, InMemorySuppression, Tally, field_terms, instance_id
from .timestamps import timedelta_ms

# Phase 1's composite page size (build_new_terms_aggregation.ts PAGE_SIZE).
PAGE_SIZE = 10_000

Term = tuple[Any, ...]


def history_window(rule: Rule) -> int:
    """The rule's history window in ms, checked: validateHistoryWindowStart
    (new_terms/utils.ts) refuses a window that does not reach before `from`."""
    if not rule.new_terms_fields or rule.history_window is None:
        raise ValueError(f"rule {rule.rule_id}: a new_terms rule needs [rule.new_terms]")
    history = timedelta_ms(rule.history_window)
    if history <= timedelta_ms(rule.lookback):
        raise ValueError(f"rule {rule.rule_id}: history_window_start must be earlier than from")
    return history


class NewTermsExecutor:
    def __init__(self, ctx: RuleContext, events: EventSet, rule_events: RuleEvents, max_signals: int) -> None:
        rule = ctx.rule
        self.history = history_window(rule)
        self.ctx = ctx
        self.events = events
        self.rule_events = rule_events
        self.alerts = NewAlerts(max_signals)
        self.readers = [TermReader.of(f, rule_events.types) for f in rule.new_terms_fields]
        suppression = rule.alert_suppression
        self.suppressing = InMemorySuppression(AlertsIndex(self.alerts), suppression, max_signals) if suppression is not None else None
        self.group_readers = [TermReader.of(f, rule_events.types) for f in suppression.group_by] if suppression is not None else []
        self._terms: dict[int, list[Term]] = {}
        self._occurrences = None if rule_events.per_execution else self._index(rule_events.matched)

    def terms(self, pos: int) -> list[Term]:
        known = self._terms.get(pos)
        if known is None:
            doc = self.events.docs[pos]
            combos: list[Term] = [()]
            for reader in self.readers:
                values = reader.terms(doc)
                combos = [c + (v,) for c in combos for v in values]
            known = self._terms[pos] = combos
        return known

    def _index(self, positions: Iterable[int]) -> dict[Term, tuple[list[int], list[int]]]:
        """term → (times, positions) of the events having it, in time order."""
        occurrences: dict[Term, tuple[list[int], list[int]]] = {}
        ts = self.events.ts
        for pos in positions:
            for term in self.terms(pos):
                entry = occurrences.get(term)
                if entry is None:
                    entry = occurrences[term] = ([], [])
                entry[0].append(ts[pos])
                entry[1].append(pos)
        return occurrences

    def run(self, execution: Execution) -> Outcome:
        start, at = execution.start, execution.started_at
        history_start = at - self.history
        occurrences = self._occurrences
        if occurrences is None:
            occurrences = self._index(self.rule_events.window(at, history_start, execution.end))
        in_range: dict[Term, int] = {}  # term → its document count in the range
        for pos in self.rule_events.window(at, start, execution.end):
            for term in self.terms(pos):
                in_range[term] = in_range.get(term, 0) + 1
        new: dict[Term, int] = {}  # term → position of its oldest event
        for term in in_range:
            times, positions = occurrences[term]
            first = bisect_left(times, history_start)
            if times[first] > start:
                new[term] = positions[first]
        calls = self._calls(in_range, new)
        if self.suppressing is not None:
            tally = Tally(execution)
            for call in calls:
                if self.suppressing.hook(tally, [self._candidate(new[t], t, execution) for t in call]):
                    return Outcome(tally.created, SUPPRESSION_MAX_SIGNALS_WARNING, tally.suppressed)
            return Outcome(tally.created, None, tally.suppressed)
        created: list[dict[str, Any]] = []
        ordered = chain.from_iterable(calls)
        capped = self.alerts.add(created, (((new[t], t), partial(self._alert, new[t], t, execution)) for t in ordered))
        return Outcome(created, MAX_SIGNALS_WARNING if capped else None)

    def _calls(self, in_range: dict[Term, int], new: dict[Term, int]) -> list[list[Term]]:
        """The new terms in the order Kibana writes their alerts, which decides the survivors
        of max_signals, cut where it calls createAlertsHook: phase-1 pages in composite-key
        order; for one field a call per page, in phase 3's terms aggregation order
        (document count descending, then key ascending); for several fields a call per
        batch of NEW_TERMS_BATCH_SIZE phase-1 terms, in composite order."""
        types = [r.type for r in self.readers]

        def key_order(term: Term) -> tuple[Any, ...]:
            return tuple(sort_key(t, v) for t, v in zip(types, term, strict=False))

        pages = sorted(in_range, key=key_order)
        calls: list[list[Term]] = []
        for i in range(0, len(pages), PAGE_SIZE):
            page = pages[i : i + PAGE_SIZE]
            if len(self.readers) > 1:
                calls += [[t for t in page[j : j + NEW_TERMS_BATCH_SIZE] if t in new] for j in range(0, len(page), NEW_TERMS_BATCH_SIZE)]
            else:
                calls.append(sorted((t for t in page if t in new), key=lambda t: (-in_range[t], key_order(t))))
        return [c for c in calls if c]

    def _alert(self, pos: int, term: Term, execution: Execution) -> dict[str, Any]:
        events = self.events
        return new_terms_alert(self.ctx, events.docs[pos], events.index(pos), events.doc_id(pos), events.ts[pos], term, execution)

    def _candidate(self, pos: int, term: Term, execution: Execution) -> Candidate:
        events = self.events
        doc = events.docs[pos]
        values = [r.values(doc) for r in self.group_readers]
        return new_terms_candidate(self.ctx, doc, events.index(pos), events.doc_id(pos), events.ts[pos], term, execution, values)


def new_terms_candidate(
    ctx: RuleContext, source: dict[str, Any], index: str, doc_id: str, ts: int, term: Term, execution: Execution, values: Sequence[Sequence[Any]]
) -> Candidate:
    """The alert of one new term on its way through suppression, `values` the event's
    group-by fields as its `fields` hold them. wrap_suppressed_new_terms_alerts.ts: the id
    is the unsuppressed alert's, the group the hash of the terms, start and end the
    event's time; with `doNotSuppress` an event lacking a group-by field is a plain alert
    (partitionMissingFieldsEvents, then wrapNewTermsAlerts)."""
    suppression = ctx.rule.alert_suppression
    assert suppression is not None
    alert_id = new_terms_alert_id(index, doc_id, ctx.uuid, term)
    build = partial(new_terms_alert, ctx, source, index, doc_id, ts, term, execution)
    if not suppression.suppress_missing and not all(values):
        return Candidate(alert_id, build)
    terms = field_terms(suppression.group_by, values)
    return Candidate(alert_id, build, instance_id(terms, ctx.uuid), terms, ts, ts, 0)


def new_terms_alert(
    ctx: RuleContext, source: dict[str, Any], index: str, doc_id: str, ts: int, term: Term, execution: Execution
) -> dict[str, Any]:
    """The alert of one new term, built from its oldest event (`_source`, index, `_id`, time)."""
    alert = build_alert(
        ctx,
        source,
        alert_id=new_terms_alert_id(index, doc_id, ctx.uuid, term),
        parent_id=doc_id,
        parent_index=index,
        started_at=execution.started_at,
        original_time=ts,
    )
    alert["kibana.alert.new_terms"] = list(term)
    return alert
