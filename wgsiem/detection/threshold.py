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
"""

from __future__ import annotations

from typing import Any

from wgsiem.rules.model import Rule, Threshold

from .alerts import RuleContext, build_alert, query_alert_id, threshold_hit_id
from .events import EventSet
from .fields import TermReader, sort_key
from .matching import RuleEvents
from .schedule import Execution
from .timestamps import iso

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

    def run(self, execution: Execution) -> tuple[list[dict[str, Any]], bool]:
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
        created = [self._alert(key, bucket, execution) for key, bucket in qualifying[: self.max_signals]]
        self.history = history
        for key, bucket in qualifying[: self.max_signals]:
            self.history[key] = bucket.last
        return created, capped

    def _count(self, bucket: _Bucket) -> int:
        return bucket.count if self.readers else min(bucket.count, TOTAL_HITS_TRACKED)

    def _qualifies(self, bucket: _Bucket) -> bool:
        return qualifies(self.threshold, self._count(bucket), len(bucket.distinct))

    def _alert(self, key: tuple[Any, ...], bucket: _Bucket, execution: Execution) -> dict[str, Any]:
        return threshold_alert(self.ctx, execution, key, self._count(bucket), bucket.first, bucket.last, len(bucket.distinct))


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
    ctx: RuleContext, execution: Execution, key: tuple[Any, ...], count: int, first: int, last: int, cardinality: int | None
) -> dict[str, Any]:
    """The alert of one bucket: `key` its group-by values, `first`/`last` its min and max
    `@timestamp`, `cardinality` its distinct count (used only when the rule has one)."""
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
        alert_id=query_alert_id(index, hit_id, ctx.uuid),
        parent_id=hit_id,
        parent_index=index,
        started_at=execution.started_at,
        original_time=last,
    )
    alert["kibana.alert.threshold_result"] = result
    return alert
