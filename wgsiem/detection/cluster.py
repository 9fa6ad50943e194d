"""Rules executed as Elasticsearch searches: query, threshold and new terms executors that
send Kibana's requests (searches.py) to a cluster and build the alerts from the answers,
on the schedule, statistics and alert order engine.run_schedule shares with the offline
engine, so both give the same alert documents for the same events.

The executors only call an injected `send(Request) -> dict` (a failed call raises
engine.ExecutionError); wgsiem.adapters.rule_searches.es_send binds it to a cluster, and
tests bind it to a fake.

Where Kibana and this module part:

* An alert's index is the hit's data stream, not its `.ds-…` backing index (which real
  Kibana hashes into the alert id), so ids equal the offline engine's.
* Buckets are filtered here with the comparisons of Kibana's painless bucket_selectors.
* `now` in a query is pinned to the execution time (searches.anchor_now).
* Unless `every_search` is set, an execution whose range holds no document the query
  matches (one range aggregation answers that for a thousand executions) sends no
  searches: they would find nothing. Threshold history still ages as usual.
* A shard failure fails the rule's run (Kibana records it and goes on with partial data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from wgsiem.rules.model import Rule

from ..mappings.datastreams import data_stream_of
from .alerts import MAX_SIGNALS_WARNING, NewAlerts, RuleContext, new_terms_alert_id, query_alert_id
from .engine import ExecutionError, Prepared, RunResult, rule_indices, run_schedule
from .events import without_gc
from .exception_filter import RuleExceptions, excluding
from .matching import Compile, default_field_types, kql_compiler, uses_now
from .new_terms import Term, history_window, new_terms_alert, new_terms_candidate
from .query import Group, QueryGroups, query_alert
from .schedule import Execution, Outcome, executions
from .searches import (
    NEW_TERMS_BATCH_SIZE,
    Request,
    anchor_now,
    close_point_in_time,
    count,
    execution_activity,
    first_seen_is_new,
    matches_in_ranges,
    missing_fields_filter,
    new_terms_batch_filter,
    new_terms_composite_docs,
    new_terms_composite_history,
    new_terms_docs,
    new_terms_history,
    new_terms_recent,
    open_point_in_time,
    query_page,
    query_rule_page,
    suppression_groups,
    suppression_history_filter,
    threshold_buckets,
    threshold_history_filter,
    threshold_single_bucket,
    time_bounds,
    with_filters,
)
from .suppression import SUPPRESSION_MAX_SIGNALS_WARNING, AlertsIndex, InMemorySuppression, Tally
from .threshold import TOTAL_HITS_TRACKED, Bucket, qualifies, rule_threshold, write_buckets
from .timestamps import datetime_ms, ms_datetime, parse_ms

if TYPE_CHECKING:
    from wgsiem.kql import FieldTypes
    from wgsiem.rules.exceptions import Tuning

Send = Callable[[Request], dict[str, Any]]

# Executions whose activity one range aggregation asks for.
ACTIVITY_CHUNK = 1000
# Executions per count of a clock-reading query's matches (each a `should` clause).
RELATIVE_CHUNK = 100


def run_rules_on_cluster(  # noqa: PLR0913 - the engine's options, each a keyword
    rules: Iterable[Rule],
    send: Send,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    field_types: FieldTypes | None = None,
    compile: Compile | None = None,
    indices: Sequence[str] | None = None,
    every_search: bool = False,
    tuning: Tuning | None = None,
) -> RunResult:
    """`run_rules` with the searches sent to a cluster: the same schedule, `indices`
    override and alert order. `start`/`end` default to the first and last `@timestamp`
    of the indices the rules search; `RunResult.events` counts those indices' documents.
    `compile(text, now)` must give wgsiem.kql queries (their `to_query_filter()` is sent).
    A request failing outside a rule's executions raises engine.ExecutionError.
    `tuning`'s exception lists go into each search's must_not, as Kibana puts them."""
    rules = list(rules)
    result = RunResult(alerts=[], stats={}, events=0, skipped_events=0, skip_reasons=[], start=None, end=None)
    targets = list(dict.fromkeys(name for rule in rules for name in rule_indices(rule, indices)))
    if not targets:
        return result
    types = field_types if field_types is not None else default_field_types()
    result.events = send(count(targets))["count"]
    first = datetime_ms(start) if start is not None else None
    last = datetime_ms(end) if end is not None else None
    if first is None or last is None:
        bounds = send(time_bounds(targets))["aggregations"]
        if bounds["first"]["value"] is None:
            return result
        first = int(bounds["first"]["value"]) if first is None else first
        last = int(bounds["last"]["value"]) if last is None else last
    with without_gc():
        backend = _ClusterRules(send, compile or kql_compiler(types), types, first, last, every_search, tuning)
        run_schedule(result, rules, first, last, indices, backend.prepare)
    return result


def iterate_hits(send: Send, index: Sequence[str], query: Mapping[str, Any], page_size: int = 1000) -> Iterable[dict[str, Any]]:
    """Every hit of `query` in the indices, by `@timestamp`, paged with search_after in
    a point in time (closed at the end)."""
    pit_id = send(open_point_in_time(index))["id"]
    try:
        after: Sequence[Any] | None = None
        while True:
            response = _search(send, query_page(pit_id, query, page_size, after))
            pit_id = response.get("pit_id", pit_id)
            hits = response["hits"]["hits"]
            yield from hits
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]
    finally:
        send(close_point_in_time(pit_id))


class _ClusterRules:
    def __init__(
        self, send: Send, compile: Compile, types: FieldTypes, first: int, last: int, every_search: bool, tuning: Tuning | None
    ) -> None:
        self.send = send
        self.tuning = tuning
        self.compile = compile
        self.types = types
        self.first = first
        self.last = last
        self.every_search = every_search

    def prepare(self, rule: Rule, ctx: RuleContext, max_signals: int) -> Prepared:
        filters = _RuleFilter(rule, self.compile, self.types, RuleExceptions.of(self.tuning, rule.rule_id, self.types))
        schedule = list(executions(rule, self.first, self.last))
        activity = None
        if not self.every_search and not filters.query_relative and _quiet_means_nothing(rule):
            activity = _Activity(self.send, ctx.indices, filters.unexcepted, schedule)
        executor_type = {"query": _QuerySearches, "threshold": _ThresholdSearches, "new_terms": _NewTermsSearches}[rule.type]
        executor = executor_type(ctx, self.send, filters, max_signals, activity)

        def matched_events() -> int:
            if filters.relative:
                return _relative_matches(self.send, ctx.indices, filters, schedule)
            return _search(self.send, count(ctx.indices, filters.at(self.last)))["count"]

        return Prepared(executor.run, matched_events)


def _relative_matches(send: Send, index: Sequence[str], filters: _RuleFilter, schedule: list[Execution]) -> int:
    """The distinct events a query that reads the clock matched in any execution's range:
    time is cut into slots, one per RELATIVE_CHUNK executions, and each slot's events are
    counted once against every execution whose range reaches into the slot."""
    total = 0
    for i in range(0, len(schedule), RELATIVE_CHUNK):
        lo = schedule[0].start if i == 0 else schedule[i - 1].end + 1
        hi = schedule[min(i + RELATIVE_CHUNK, len(schedule)) - 1].end
        clauses = [(filters.at(e.started_at), e.start, e.end) for e in schedule if e.start <= hi and e.end >= lo]
        total += _search(send, matches_in_ranges(index, lo, hi, clauses))["count"]
    return total


def _quiet_means_nothing(rule: Rule) -> bool:
    """Whether an execution without matching documents surely alerts nothing: not so for
    a threshold rule without group-by fields whose value a count of 0 reaches."""
    threshold = rule.threshold
    return threshold is None or bool(threshold.fields) or threshold.value > 0


def _search(send: Send, call: Request) -> dict[str, Any]:
    return _checked(send(call))


def _checked(response: dict[str, Any]) -> dict[str, Any]:
    failures = (response.get("_shards") or {}).get("failures")
    if failures:
        reasons = {str((f.get("reason") or {}).get("reason") or f.get("reason")) for f in failures}
        raise ExecutionError(f"{len(failures)} shard failure(s): {'; '.join(sorted(reasons))}")
    return response


def _aggregation(response: Mapping[str, Any], name: str | None, what: str) -> dict[str, Any]:
    """The aggregation `name` of a response (None: all of them)."""
    aggregations = response.get("aggregations")
    if not aggregations or (name is not None and name not in aggregations):
        # Kibana fails the execution the same way ("Aggregations were missing on ...").
        raise ExecutionError(f"Aggregations were missing on {what} search result")
    return aggregations if name is None else aggregations[name]


def _hit(hit: Mapping[str, Any]) -> tuple[dict[str, Any], str, str, int]:
    """A hit's `_source`, its index (the data stream of a backing index), `_id` and time."""
    source = hit["_source"]
    return source, data_stream_of(hit["_index"]), hit["_id"], parse_ms(source["@timestamp"])


class _RuleFilter:
    """The rule's query as the filter Kibana sends with every search (getFilter)."""

    def __init__(self, rule: Rule, compile: Compile, types: Mapping[str, str], exceptions: RuleExceptions | None = None) -> None:
        self.text = rule.query
        self.compile = compile
        self.types = types
        self.exceptions = exceptions
        self.query_relative = uses_now(rule.query)
        self.relative = self.query_relative or (exceptions is not None and exceptions.expiring)
        # Compiling up front also surfaces a bad query before any execution runs.
        # Without the exceptions: an execution whose range holds none of these has nothing to
        # find whatever the exceptions (they only take documents out), which _Activity asks.
        self.unexcepted = compile(rule.query, None).to_query_filter()
        self._fixed = self._excluding(self.unexcepted, 0)

    def at(self, at: int) -> dict[str, Any]:
        if not self.relative:
            return self._fixed
        return self._excluding(anchor_now(self.compile(self.text, ms_datetime(at)).to_query_filter(), at, self.types), at)

    def _excluding(self, query_filter: dict[str, Any], at: int) -> dict[str, Any]:
        if self.exceptions is None:
            return query_filter
        return excluding(query_filter, self.exceptions.clause(at))


class _Activity:
    """How many documents the rule's query matches in each execution's range, asked
    ahead for ACTIVITY_CHUNK executions at a time."""

    def __init__(self, send: Send, index: Sequence[str], query_filter: dict[str, Any], schedule: list[Execution]) -> None:
        self.send = send
        self.index = index
        self.filter = query_filter
        self.schedule = schedule
        self.position = {e.started_at: i for i, e in enumerate(schedule)}
        self.counts: dict[int, int] = {}

    def quiet(self, execution: Execution) -> bool:
        known = self.counts.get(execution.started_at)
        if known is None:
            i = self.position[execution.started_at]
            chunk = self.schedule[i : i + ACTIVITY_CHUNK]
            buckets = _aggregation(_search(self.send, execution_activity(self.index, self.filter, chunk)), "executions", "activity")["buckets"]
            for j, e in enumerate(chunk):
                self.counts[e.started_at] = buckets[str(j)]["doc_count"]
            known = self.counts[execution.started_at]
        return known == 0


class _Searches:
    def __init__(self, ctx: RuleContext, send: Send, filters: _RuleFilter, max_signals: int, activity: _Activity | None) -> None:
        self.ctx = ctx
        self.send = send
        self.filters = filters
        self.max_signals = max_signals
        self.alerts = NewAlerts(max_signals)
        self.activity = activity
        self.index = ctx.indices

    def quiet(self, execution: Execution) -> bool:
        return self.activity is not None and self.activity.quiet(execution)

    def search(self, call: Request) -> dict[str, Any]:
        return _search(self.send, call)


class _QuerySearches(_Searches):
    """query/query.ts → search_after_bulk_create_factory.ts: pages of the range in a point
    in time; new alerts (ids the alerts index lacks) up to max_signals, then the warning.
    With alert suppression, group_and_bulk_create.ts: one composite page of the groups
    (query.QueryGroups writes them), and for `doNotSuppress` the events lacking a
    group-by field through the pages above."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.groups = QueryGroups(self.ctx, self.alerts, self.max_signals) if self.ctx.rule.alert_suppression is not None else None

    def run(self, execution: Execution) -> Outcome:
        created: list[dict[str, Any]] = []
        if self.groups is not None:
            return self._grouped(execution, self.groups)
        if self.quiet(execution):
            return Outcome(created)
        capped = self._pages(execution, self.filters.at(execution.started_at), created)
        return Outcome(created, MAX_SIGNALS_WARNING if capped else None)

    def _pages(self, execution: Execution, query_filter: dict[str, Any], created: list[dict[str, Any]], *extra: dict[str, Any]) -> bool:
        """searchAfterAndBulkCreate into `created`; True when max_signals cut it short."""
        pit_id = self.search(open_point_in_time(self.index))["id"]
        try:
            after: Sequence[Any] | None = None
            while len(created) <= self.max_signals:
                response = self.search(query_rule_page(pit_id, query_filter, execution, self.max_signals, after, extra))
                pit_id = response.get("pit_id", pit_id)
                hits = response["hits"]["hits"]
                if not hits or not response["hits"]["total"]["value"]:
                    break
                if self.alerts.add(created, self._candidates(hits, execution)):
                    return True
                last = hits[-1].get("sort") or []
                # Kibana stops at a negative sort value (a missing date sorted desc).
                if not last or any(isinstance(v, (int, float)) and v < 0 for v in last):
                    break
                after = last
        finally:
            self.send(close_point_in_time(pit_id))
        return False

    def _grouped(self, execution: Execution, groups: QueryGroups) -> Outcome:
        history = groups.live_history(execution)
        created: list[dict[str, Any]] = []
        if self.quiet(execution):
            return Outcome(created)
        suppression = groups.suppression
        fields = suppression.group_by
        query_filter = self.filters.at(execution.started_at)
        entries = [(tuple(zip(fields, key, strict=True)), end) for key, end in history.items()]
        request = suppression_groups(
            self.index,
            query_filter,
            execution,
            fields,
            self.max_signals,
            missing_bucket=suppression.suppress_missing,
            history=suppression_history_filter(entries, execution.start),
        )
        buckets = _aggregation(self.search(request), "eventGroups", "alert suppression")["buckets"]
        found = []
        for bucket in buckets:
            source, index, doc_id, _ = _hit(bucket["topHits"]["hits"]["hits"][0])
            first, last = _bucket_times(bucket)
            found.append(Group(tuple(bucket["key"][f] for f in fields), bucket["doc_count"], first, last, source, index, doc_id))
        # bulk_create_unsuppressed_alerts.ts, while fewer groups than max_signals came back.
        unsuppressed = not suppression.suppress_missing and self.max_signals - len(found) > 0
        capped = unsuppressed and self._pages(execution, query_filter, created, missing_fields_filter(fields))
        warning = MAX_SIGNALS_WARNING if capped or len(found) > self.max_signals else None
        return Outcome(created, warning, groups.write(execution, found, created))

    def _candidates(self, hits: list[dict[str, Any]], execution: Execution) -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
        for hit in hits:
            source, index, doc_id, ts = _hit(hit)
            yield query_alert_id(index, doc_id, self.ctx.uuid), partial(query_alert, self.ctx, source, index, doc_id, ts, execution)


class _ThresholdSearches(_Searches):
    """threshold/threshold.ts: the signal history as a must_not filter, the composite
    pages (find_threshold_signals.ts) filtered like Kibana's bucket_selectors, then one
    alert per bucket up to max_signals."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.threshold = rule_threshold(self.ctx.rule)
        self.history: dict[tuple[Any, ...], int] = {}  # bucket key → last alert's original time
        self.suppressing = AlertsIndex(self.alerts) if self.ctx.rule.alert_suppression is not None else None

    def run(self, execution: Execution) -> Outcome:
        # getSignalHistory: entries live while their time is after the range's start.
        history = {key: last for key, last in self.history.items() if last > execution.start}
        self.history = history
        if self.quiet(execution):
            return Outcome([])
        fields = self.threshold.fields
        entries = [(tuple(zip(fields, key, strict=False)), last) for key, last in history.items()]
        query_filter = with_filters(self.filters.at(execution.started_at), threshold_history_filter(entries))
        buckets = self._buckets(query_filter, execution) if fields else self._single_bucket(query_filter, execution)
        capped = len(buckets) > self.max_signals
        kept = buckets[: self.max_signals]
        created, suppressed = write_buckets(self.ctx, self.suppressing, execution, kept)
        for key, _, _, last, _ in kept:
            history[key] = last
        return Outcome(created, MAX_SIGNALS_WARNING if capped else None, suppressed)

    def _buckets(self, query_filter: dict[str, Any], execution: Execution) -> list[Bucket]:
        fields = self.threshold.fields
        found: list[Bucket] = []
        after = None
        while True:
            response = self.search(threshold_buckets(self.index, query_filter, execution, self.threshold, after))
            terms = _aggregation(response, "thresholdTerms", "threshold rule")
            for bucket in terms["buckets"]:
                cardinality = (bucket.get("cardinality_count") or {}).get("value")
                if qualifies(self.threshold, bucket["doc_count"], cardinality):
                    key = tuple(bucket["key"][name] for name in fields)
                    found.append((key, bucket["doc_count"], *_bucket_times(bucket), cardinality))
            after = terms.get("after_key")
            # find_threshold_signals.ts pages while it holds at most max_signals buckets.
            if not after or len(found) > self.max_signals:
                return found

    def _single_bucket(self, query_filter: dict[str, Any], execution: Execution) -> list[Bucket]:
        response = self.search(threshold_single_bucket(self.index, query_filter, execution, self.threshold))
        aggregations = _aggregation(response, None, "threshold rule")
        total = response["hits"]["total"]
        doc_count = min(total["value"] if isinstance(total, dict) else total, TOTAL_HITS_TRACKED)
        cardinality = (aggregations.get("cardinality_count") or {}).get("value")
        if not qualifies(self.threshold, doc_count, cardinality if self.threshold.cardinality else None):
            return []
        return [((), doc_count, *_bucket_times(aggregations), cardinality)]


def _bucket_times(bucket: Mapping[str, Any]) -> tuple[int, int]:
    return int(bucket["min_timestamp"]["value"]), int(bucket["max_timestamp"]["value"])


class _NewTermsSearches(_Searches):
    """new_terms/execute_new_terms_aggregation_approach.ts: phase 1 pages the range's
    terms; for one field phase 2 (terms with `include`) and phase 3 (oldest document per
    term), for several fields multi_terms_composite.ts in batches of 500 combinations;
    `first_seen > from` is Kibana's filtering_agg, applied to the buckets here."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.history = history_window(self.ctx.rule)
        self.fields = self.ctx.rule.new_terms_fields
        suppression = self.ctx.rule.alert_suppression
        self.suppressing = InMemorySuppression(AlertsIndex(self.alerts), suppression, self.max_signals) if suppression is not None else None
        self.warning = SUPPRESSION_MAX_SIGNALS_WARNING if suppression is not None else MAX_SIGNALS_WARNING

    def run(self, execution: Execution) -> Outcome:
        tally = Tally(execution)
        created = tally.created
        if self.quiet(execution):
            return Outcome(created)
        query_filter = self.filters.at(execution.started_at)
        history_start = execution.end - self.history
        after = None
        while len(created) <= self.max_signals:
            response = self.search(new_terms_recent(self.index, query_filter, execution, self.fields, after))
            recent = _aggregation(response, "new_terms", "recent terms")
            # No after_key: the previous page was the last.
            if recent.get("after_key") is None:
                break
            buckets = recent["buckets"]
            if len(self.fields) > 1:
                capped = self._combinations(buckets, after, query_filter, execution, history_start, tally)
            else:
                capped = self._terms(buckets, query_filter, execution, history_start, tally)
            if capped:
                return Outcome(created, self.warning, tally.suppressed)
            after = recent["after_key"]
        return Outcome(created, None, tally.suppressed)

    def _terms(self, buckets: list[dict[str, Any]], query_filter: dict[str, Any], execution: Execution, history_start: int, tally: Tally) -> bool:
        name = self.fields[0]
        include = [b["key"][name] for b in buckets if b["key"].get(name) is not None]
        response = self.search(new_terms_history(self.index, query_filter, execution, history_start, name, include))
        new = [b["key"] for b in _aggregation(response, "new_terms", "new terms")["buckets"] if first_seen_is_new(b, execution.start)]
        if not new:
            return False
        response = self.search(new_terms_docs(self.index, query_filter, execution, name, new))
        found = [(b["docs"]["hits"]["hits"][0], (b["key"],)) for b in _aggregation(response, "new_terms", "document fetch")["buckets"]]
        return self._write(found, execution, tally)

    def _combinations(
        self,
        buckets: list[dict[str, Any]],
        after: Mapping[str, Any] | None,
        query_filter: dict[str, Any],
        execution: Execution,
        history_start: int,
        tally: Tally,
    ) -> bool:
        batch_after = after
        for i in range(0, len(buckets), NEW_TERMS_BATCH_SIZE):
            batch = buckets[i : i + NEW_TERMS_BATCH_SIZE]
            batch_filter = with_filters(query_filter, new_terms_batch_filter(b["key"] for b in batch))
            history = self.search(new_terms_composite_history(self.index, batch_filter, execution, history_start, self.fields, batch_after))
            if any(first_seen_is_new(b, execution.start) for b in _aggregation(history, "new_terms", "new terms")["buckets"]):
                response = self.search(new_terms_composite_docs(self.index, batch_filter, execution, history_start, self.fields, batch_after))
                found = [
                    (b["docs"]["hits"]["hits"][0], tuple(b["key"][f] for f in self.fields))
                    for b in _aggregation(response, "new_terms", "document fetch")["buckets"]
                    if first_seen_is_new(b, execution.start)
                ]
                if self._write(found, execution, tally):
                    return True
            batch_after = batch[-1]["key"]
        return False

    def _write(self, found: list[tuple[dict[str, Any], Term]], execution: Execution, tally: Tally) -> bool:
        """createAlertsHook: the alerts of one phase-3 answer; True when the execution stops."""
        if self.suppressing is None:
            return self.alerts.add(tally.created, self._candidates(found, execution))
        group_by = self.suppressing.suppression.group_by
        candidates = []
        for hit, term in found:
            source, index, doc_id, ts = _hit(hit)
            fields = hit.get("fields") or {}
            candidates.append(new_terms_candidate(self.ctx, source, index, doc_id, ts, term, execution, [fields.get(f) or [] for f in group_by]))
        return self.suppressing.hook(tally, candidates)

    def _candidates(self, found: list[tuple[dict[str, Any], Term]], execution: Execution) -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
        for hit, term in found:
            source, index, doc_id, ts = _hit(hit)
            alert = partial(new_terms_alert, self.ctx, source, index, doc_id, ts, term, execution)
            yield new_terms_alert_id(index, doc_id, self.ctx.uuid, term), alert
