"""Threshold rules (threshold/threshold.ts and the files it calls).

Per execution, over the rule range:

* find_threshold_signals.ts / build_threshold_aggregation.ts: a composite aggregation of
  one `terms` source per group-by field. A document lacking any of the fields is in no
  bucket; a multi-valued field puts the document in one bucket per combination of
  values. A bucket qualifies with `_count >= value` and, with a cardinality, a
  `cardinality` of that field `>= cardinality.value` (both `bucket_selector`s say `>=`).
  Buckets come in composite-key order (each source ascending); Kibana keeps paging while
  it holds at most max_signals of them, warns when it found more, and keeps the first
  max_signals. Without group-by fields there is one bucket whose count is
  `hits.total`, which Elasticsearch tracks exactly only up to 10,000.
* get_threshold_bucket_filters.ts: the signal history excludes every document at or
  before (`lte`) the last alert's time whose group-by values contain that alert's
  terms, so a later execution never counts an event an earlier alert covered.
* utils.ts getSignalHistory: history entries are only kept while their time is after
  (`>`) the execution's `from`; older ones are outside the range anyway.
* build_signal_history.ts: the time stored is the alert's `kibana.alert.original_time`,
  which is the bucket's `max_timestamp` (bulk_create_threshold_signals.ts makes it the
  synthetic hit's `@timestamp`).

With `alert_suppression` (a duration only: the groups are the buckets), threshold.ts hands
the buckets to bulk_create_suppressed_threshold_alerts.ts and
wrap_suppressed_threshold_alerts.ts (`write_buckets`): each bucket a suppressible alert of
its own id, grouped by its values, through alertWithSuppression within `now - duration`;
the signal history is still built from every bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from wgsiem.rules.model import Rule, Threshold

from .alerts import MAX_SIGNALS_WARNING, SPACE_ID, NewAlerts, RuleContext, build_alert, object_hash, query_alert_id, threshold_hit_id
from .events import EventSet
from .fields import TermReader, sort_key
from .matching import RuleEvents
from .schedule import Execution, Outcome
from .suppression import AlertsIndex, Candidate, instance_id, sorted_values
from .timestamps import iso, timedelta_ms

# Elasticsearch's default track_total_hits: the exact count stops there.
TOTAL_HITS_TRACKED = 10_000


class _Bucket:
    __slots__ = ("count", "first", "last", "distinct")

    def __init__(self, ts: int) -> None:
        self.count = 0
        self.first = ts
        self.last = ts
        self.distinct: set[Any] = set()


class ThresholdExecutor:
    def __init__(self, ctx: RuleContext, events: EventSet, rule_events: RuleEvents, max_signals: int) -> None:
        threshold = rule_threshold(ctx.rule)
        self.ctx = ctx
        self.events = events
        self.rule_events = rule_events
        self.max_signals = max_signals
        self.threshold = threshold
        self.readers = [TermReader.of(f, rule_events.types) for f in threshold.fields]
        self.card_reader = TermReader.of(threshold.cardinality.field, rule_events.types) if threshold.cardinality else None
        self.history: dict[tuple[Any, ...], int] = {}  # bucket key → last alert's original time
        self.index = AlertsIndex(NewAlerts(max_signals)) if ctx.rule.alert_suppression is not None else None
        self._terms: dict[int, tuple[list[tuple[Any, ...]], list[Any]]] = {}

    def _combos(self, pos: int) -> tuple[list[tuple[Any, ...]], list[Any]]:
        known = self._terms.get(pos)
        if known is None:
            doc = self.events.docs[pos]
            combos: list[tuple[Any, ...]] = [()]
            for reader in self.readers:
                values = reader.terms(doc)
                combos = [c + (v,) for c in combos for v in values]
            cards = self.card_reader.terms(doc) if self.card_reader else []
            known = self._terms[pos] = (combos, cards)
        return known

    def run(self, execution: Execution) -> Outcome:
        history = {key: last for key, last in self.history.items() if last > execution.start}
        buckets: dict[tuple[Any, ...], _Bucket] = {}
        ts_of = self.events.ts
        for pos in self.rule_events.window(execution.started_at, execution.start, execution.end):
            combos, cards = self._combos(pos)
            if not combos:
                continue
            ts = ts_of[pos]
            if history and any(history.get(c, ts - 1) >= ts for c in combos):
                continue
            for combo in combos:
                bucket = buckets.get(combo)
                if bucket is None:
                    bucket = buckets[combo] = _Bucket(ts)
                bucket.count += 1
                bucket.last = ts  # positions come in time order
                bucket.distinct.update(cards)
        qualifying = [(key, b) for key, b in buckets.items() if self._qualifies(b)]
        types = [r.type for r in self.readers]
        qualifying.sort(key=lambda kb: tuple(sort_key(t, v) for t, v in zip(types, kb[0], strict=False)))
        capped = len(qualifying) > self.max_signals
        chosen = [(key, self._count(b), b.first, b.last, len(b.distinct)) for key, b in qualifying[: self.max_signals]]
        created, suppressed = write_buckets(self.ctx, self.index, execution, chosen)
        self.history = history
        for key, bucket in qualifying[: self.max_signals]:
            self.history[key] = bucket.last
        return Outcome(created, MAX_SIGNALS_WARNING if capped else None, suppressed)

    def _count(self, bucket: _Bucket) -> int:
        return bucket.count if self.readers else min(bucket.count, TOTAL_HITS_TRACKED)

    def _qualifies(self, bucket: _Bucket) -> bool:
        return qualifies(self.threshold, self._count(bucket), len(bucket.distinct))


Bucket = tuple[tuple[Any, ...], int, int, int, int | None]  # key, count, min and max @timestamp, cardinality


def write_buckets(ctx: RuleContext, index: AlertsIndex | None, execution: Execution, buckets: Sequence[Bucket]) -> tuple[list[dict[str, Any]], int]:
    """The alerts of the buckets kept (at most max_signals): one each
    (bulk_create_threshold_signals.ts), or with suppression (`index`) through
    alertWithSuppression, no cap, groups updated within `now - duration`; (created,
    suppressed)."""
    if index is None:
        return [threshold_alert(ctx, execution, *bucket) for bucket in buckets], 0
    suppression = ctx.rule.alert_suppression
    assert suppression is not None and suppression.duration is not None
    created: list[dict[str, Any]] = []
    window_start = execution.started_at - timedelta_ms(suppression.duration)
    into = index.suppress(
        created, [_candidate(ctx, execution, *b) for b in buckets], execution, window_start=window_start, per_execution=False, max_alerts=None
    )
    return created, len(into)


def _candidate(ctx: RuleContext, execution: Execution, key: tuple[Any, ...], count: int, first: int, last: int, cardinality: int | None) -> Candidate:
    """wrap_suppressed_threshold_alerts.ts: the id objectHash([hit _index, hit _id,
    space:rule]), the group objectHash([sorted values, rule, space]), terms the bucket's
    key, start and end its min and max `@timestamp` (the execution time when 0)."""
    threshold = ctx.rule.threshold
    assert threshold is not None
    hit_id = threshold_hit_id(ctx.rule, execution.started_at, key)
    alert_id = object_hash([",".join(ctx.indices), hit_id, f"{SPACE_ID}:{ctx.uuid}"])
    build = partial(threshold_alert, ctx, execution, key, count, first, last, cardinality, alert_id)
    terms = [{"field": f, "value": v} for f, v in zip(threshold.fields, key, strict=False)]
    at = execution.started_at
    return Candidate(alert_id, build, instance_id(sorted_values(list(key)), ctx.uuid), terms, first or at, last or at, 0)


def rule_threshold(rule: Rule) -> Threshold:
    if rule.threshold is None:
        raise ValueError(f"rule {rule.rule_id}: a threshold rule needs [rule.threshold]")
    return rule.threshold


def qualifies(threshold: Threshold, count: int, cardinality: int | None) -> bool:
    """The two bucket_selectors of build_threshold_aggregation.ts: `_count >= value` and,
    with a cardinality, `cardinality_count >= cardinality.value`."""
    if count < threshold.value:
        return False
    card = threshold.cardinality
    return card is None or (cardinality or 0) >= card.value


def threshold_alert(
    ctx: RuleContext,
    execution: Execution,
    key: tuple[Any, ...],
    count: int,
    first: int,
    last: int,
    cardinality: int | None,
    alert_id: str | None = None,
) -> dict[str, Any]:
    """The alert of one bucket: `key` its group-by values, `first`/`last` its min and max
    `@timestamp`, `cardinality` its distinct count (used only when the rule has one); its
    id is generateId's of the synthetic hit unless a suppressing wrapper gives its own."""
    threshold = ctx.rule.threshold
    assert threshold is not None
    fields = threshold.fields
    result: dict[str, Any] = {
        "terms": [{"field": f, "value": v} for f, v in zip(fields, key, strict=False)],
        "count": count,
        "from": iso(first),
    }
    card = threshold.cardinality
    if card is not None:
        result["cardinality"] = [{"field": card.field, "value": cardinality}]
    source: dict[str, Any] = {"@timestamp": iso(last)}
    source.update(zip(fields, key, strict=False))
    hit_id = threshold_hit_id(ctx.rule, execution.started_at, key)
    index = ",".join(ctx.indices)
    alert = build_alert(
        ctx,
        source,
        alert_id=alert_id or query_alert_id(index, hit_id, ctx.uuid),
        parent_id=hit_id,
        parent_index=index,
        started_at=execution.started_at,
        original_time=last,
    )
    alert["kibana.alert.threshold_result"] = result
    return alert
