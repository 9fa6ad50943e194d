"""The Elasticsearch requests Kibana's detection engine sends, built without any I/O.

Each builder names the Kibana file whose request it reproduces; paths are under
x-pack/solutions/security/plugins/security_solution/server/lib/detection_engine/rule_types/.
cluster.py sends them (through an injected callable) and reads the answers.

Two things of Kibana's cannot be sent to a node without lang-painless: the
`bucket_selector` pipeline aggregations (threshold's `count_check` / `cardinality_check`,
new terms' `filtering_agg`). The aggregations are sent without them and cluster.py applies
the same comparisons to the buckets it gets back (threshold.qualifies, `first_seen_is_new`).

The requests that are ours, not Kibana's, say so: `execution_activity` (which executions
can be skipped), `time_bounds`, `count`, `matches_in_ranges` and the `wgsiem query` pages.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wgsiem.rules.model import Threshold

from .alerts import js_string
from .schedule import Execution
from .timestamps import iso

TIMESTAMP = "@timestamp"
# utils/search_after_bulk_create_factory.ts: a point in time per query rule execution.
PIT_KEEP_ALIVE = "5m"
# DEFAULT_SEARCH_AFTER_PAGE_SIZE: the page size of query rules (searchAfterSize).
SEARCH_AFTER_PAGE_SIZE = 100
# threshold/build_threshold_aggregation.ts and new_terms/build_new_terms_aggregation.ts PAGE_SIZE.
COMPOSITE_PAGE_SIZE = 10_000
# new_terms/multi_terms_composite.ts BATCH_SIZE: phase-1 buckets checked per phase-2 request.
NEW_TERMS_BATCH_SIZE = 500
# What buildEventsSearchQuery sends as URL parameters beside `index`.
_INDEX_PARAMS = {"allow_no_indices": "true", "ignore_unavailable": "true"}
_DATE_TYPES = frozenset({"date", "date_nanos"})
_RANGE_BOUNDS = ("gt", "gte", "lt", "lte", "from", "to")


@dataclass(frozen=True)
class Request:
    """One call to Elasticsearch. `api` is `search`, `count`, `open_point_in_time` or
    `close_point_in_time`; `index` the targets (empty for a search in a point in time,
    which names its indices itself); `params` the URL parameters."""

    api: str
    index: tuple[str, ...]
    body: dict[str, Any] | None
    params: Mapping[str, str] = field(default_factory=dict)


# --- utils/build_events_query.ts -------------------------------------------------------


def time_range(start: int, end: int) -> dict[str, Any]:
    """buildTimeRangeFilter without a timestamp override: both ends inclusive."""
    return {"range": {TIMESTAMP: {"lte": iso(end), "gte": iso(start), "format": "strict_date_optional_time"}}}


def events_search(  # noqa: PLR0913 - Kibana's request, keyword-only past the range
    index: Sequence[str],
    query_filter: Mapping[str, Any],
    start: int,
    end: int,
    *,
    size: int,
    aggregations: Mapping[str, Any] | None = None,
    sort_order: str = "asc",
    search_after: Sequence[Any] | None = None,
    pit_id: str | None = None,
    additional_filters: Sequence[Mapping[str, Any]] = (),
) -> Request:
    """buildEventsSearchQuery (or buildEventsSearchQueryWithPit when `pit_id` is given):
    the rule's filter, the time range and `additional_filters`, `fields` for every field,
    sorted by `@timestamp`. Keys Kibana leaves undefined (track_total_hits,
    runtime_mappings) are not sent, as the JavaScript client drops them too."""
    filters = [copy.deepcopy(dict(query_filter)), time_range(start, end), *(copy.deepcopy(dict(f)) for f in additional_filters)]
    body: dict[str, Any] = {
        "size": size,
        "query": {"bool": {"filter": filters}},
        "fields": [{"field": "*", "include_unmapped": True}, {"field": TIMESTAMP, "format": "strict_date_optional_time"}],
    }
    if aggregations is not None:
        body["aggregations"] = dict(aggregations)
    body["sort"] = [{TIMESTAMP: {"order": sort_order, "unmapped_type": "date"}}]
    if search_after:
        body["search_after"] = list(search_after)
    if pit_id is not None:
        body["pit"] = {"id": pit_id}
        return Request("search", (), body, {"allow_no_indices": "true"})
    return Request("search", tuple(index), body, dict(_INDEX_PARAMS))


def with_filters(query_filter: Mapping[str, Any], *filters: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's filter with more filters, as getFilter → buildEsQuery adds a rule's
    `filters`: after the query's own clause in the outer bool's `filter`."""
    out = copy.deepcopy(dict(query_filter))
    out["bool"]["filter"] = list(out["bool"]["filter"]) + [copy.deepcopy(dict(f)) for f in filters]
    return out


def anchor_now(query_filter: Mapping[str, Any], at: int, types: Mapping[str, str]) -> dict[str, Any]:
    """The filter with `now` in date ranges replaced by the execution time
    (`<iso>||-1d` for `now-1d`). Kibana sends `now` and Elasticsearch reads its clock,
    which is the execution time when the rule runs live; a replay runs later."""
    anchor = iso(at) + "||"

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "range" and isinstance(value, dict):
                out[key] = {name: _anchored(spec, anchor) if types.get(name) in _DATE_TYPES else walk(spec) for name, spec in value.items()}
            else:
                out[key] = walk(value)
        return out

    return walk(query_filter)


def _anchored(spec: Any, anchor: str) -> Any:
    if not isinstance(spec, dict):
        return spec
    return {k: anchor + v[3:] if k in _RANGE_BOUNDS and isinstance(v, str) and v.startswith("now") else v for k, v in spec.items()}


# --- query rules: utils/search_after_bulk_create_factory.ts ------------------------------


def open_point_in_time(index: Sequence[str]) -> Request:
    return Request("open_point_in_time", tuple(index), None, {"keep_alive": PIT_KEEP_ALIVE, "allow_partial_search_results": "true"})


def close_point_in_time(pit_id: str) -> Request:
    """Kibana lets the point in time expire; a replay opens thousands within its
    keep_alive and would run out of search contexts, so it closes each."""
    return Request("close_point_in_time", (), {"id": pit_id})


def query_rule_page(
    pit_id: str,
    query_filter: Mapping[str, Any],
    execution: Execution,
    max_signals: int,
    search_after: Sequence[Any] | None,
    additional_filters: Sequence[Mapping[str, Any]] = (),
) -> Request:
    """One page of a query rule's events: `size: ceil(min(maxSignals, pageSize))`,
    `@timestamp` ascending, after the previous page's last sort values."""
    size = math.ceil(min(max_signals, SEARCH_AFTER_PAGE_SIZE))
    return events_search(
        (), query_filter, execution.start, execution.end, size=size, search_after=search_after, pit_id=pit_id, additional_filters=additional_filters
    )


# --- query rules with alert suppression: query/alert_suppression/ ------------------------


def suppression_groups(
    index: Sequence[str],
    query_filter: Mapping[str, Any],
    execution: Execution,
    group_by: Sequence[str],
    max_signals: int,
    *,
    missing_bucket: bool,
    history: Sequence[Mapping[str, Any]] = (),
) -> Request:
    """group_and_bulk_create.ts with buildGroupByFieldAggregation: one page of a composite
    over the group-by fields (`missing_bucket`, missing last, with the `suppress`
    strategy), max_signals + 1 buckets, each with its oldest document and its min and max
    `@timestamp`; `history` (suppression_history_filter) after the time range."""
    missing = {"missing_bucket": True, "missing_order": "last"} if missing_bucket else {}
    aggs = {
        "eventGroups": {
            "composite": {"sources": [{name: {"terms": {"field": name, **missing}}} for name in group_by], "size": max_signals + 1},
            "aggs": {
                "topHits": {"top_hits": {"size": 1, "sort": [{TIMESTAMP: {"order": "asc", "unmapped_type": "date"}}]}},
                "max_timestamp": {"max": {"field": TIMESTAMP}},
                "min_timestamp": {"min": {"field": TIMESTAMP}},
            },
        }
    }
    return events_search(index, query_filter, execution.start, execution.end, size=0, aggregations=aggs, additional_filters=history)


def suppression_history_filter(history: Iterable[tuple[Sequence[tuple[str, Any]], int]], start: int) -> list[dict[str, Any]]:
    """buildBucketHistoryFilter: leave out each earlier group's documents from the range's
    `from` to the group's last `@timestamp` (a null key value: the field missing).
    `history` is (key as (field, value), end); no history, no filter."""
    clauses = []
    for key, end in history:
        inner: dict[str, Any] = {"must_not": [{"exists": {"field": name}} for name, value in key if value is None]}
        inner["filter"] = [{"term": {name: value}} for name, value in key if value is not None] + [time_range(start, end)]
        clauses.append({"bool": inner})
    return [{"bool": {"must_not": clauses}}] if clauses else []


def missing_fields_filter(group_by: Sequence[str]) -> dict[str, Any]:
    """bulk_create_unsuppressed_alerts.ts buildMissingFieldsFilter: documents lacking at
    least one group-by field."""
    return {"bool": {"should": [{"bool": {"must_not": [{"exists": {"field": name}}]}} for name in group_by]}}


# --- threshold rules ---------------------------------------------------------------------


def threshold_history_filter(history: Iterable[tuple[Sequence[tuple[str, Any]], int]]) -> dict[str, Any]:
    """threshold/get_threshold_bucket_filters.ts: `must_not` every document at or before an
    earlier alert's time that holds that alert's terms. `history` is (terms, time) with
    terms as (field, value); values are sent as strings (`${term.value}`)."""
    clauses = []
    for terms, last in history:
        inner: list[dict[str, Any]] = [{"range": {TIMESTAMP: {"lte": iso(last)}}}]
        inner += [{"term": {name: js_string(value)}} for name, value in terms]
        clauses.append({"bool": {"filter": inner}})
    return {"bool": {"must_not": clauses}}


def threshold_buckets(
    index: Sequence[str], query_filter: Mapping[str, Any], execution: Execution, threshold: Threshold, after: Mapping[str, Any] | None
) -> Request:
    """threshold/find_threshold_signals.ts with buildThresholdMultiBucketAggregation: a
    composite of one `terms` source per group-by field, max/min `@timestamp` and the
    cardinality per bucket. Kibana's `count_check` / `cardinality_check` bucket_selectors
    need painless and are applied to the answer instead (threshold.qualifies)."""
    composite: dict[str, Any] = {"sources": [{name: {"terms": {"field": name}}} for name in threshold.fields]}
    if after is not None:
        composite["after"] = dict(after)
    composite["size"] = COMPOSITE_PAGE_SIZE
    aggs = {"thresholdTerms": {"composite": composite, "aggs": _bucket_metrics(threshold)}}
    return events_search(index, query_filter, execution.start, execution.end, size=0, aggregations=aggs, sort_order="desc")


def threshold_single_bucket(index: Sequence[str], query_filter: Mapping[str, Any], execution: Execution, threshold: Threshold) -> Request:
    """find_threshold_signals.ts without group-by fields (buildThresholdSingleBucketAggregation):
    the count is the search's `hits.total`."""
    return events_search(index, query_filter, execution.start, execution.end, size=0, aggregations=_bucket_metrics(threshold), sort_order="desc")


def _bucket_metrics(threshold: Threshold) -> dict[str, Any]:
    aggs: dict[str, Any] = {"max_timestamp": {"max": {"field": TIMESTAMP}}, "min_timestamp": {"min": {"field": TIMESTAMP}}}
    if threshold.cardinality is not None:
        aggs["cardinality_count"] = {"cardinality": {"field": threshold.cardinality.field}}
    return aggs


# --- new terms rules: new_terms/execute_new_terms_aggregation_approach.ts -----------------


def new_terms_recent(
    index: Sequence[str], query_filter: Mapping[str, Any], execution: Execution, fields: Sequence[str], after: Mapping[str, Any] | None
) -> Request:
    """Phase 1 (buildRecentTermsAgg): a page of every term of the rule range."""
    aggs = {"new_terms": {"composite": _recent_terms(fields, after, COMPOSITE_PAGE_SIZE)}}
    return events_search(index, query_filter, execution.start, execution.end, size=0, aggregations=aggs)


def _recent_terms(fields: Sequence[str], after: Mapping[str, Any] | None, size: int) -> dict[str, Any]:
    composite: dict[str, Any] = {"sources": [{name: {"terms": {"field": name}}} for name in fields], "size": size}
    if after is not None:
        composite["after"] = dict(after)
    return composite


def new_terms_history(
    index: Sequence[str], query_filter: Mapping[str, Any], execution: Execution, history_start: int, name: str, include: Sequence[Any]
) -> Request:
    """Phase 2 for one field (buildNewTermsAgg) over [history start, to]: each phase-1
    term's `first_seen`. Kibana's `filtering_agg` (`first_seen > from`) is applied to
    the answer (first_seen_is_new)."""
    aggs = {
        "new_terms": {
            "terms": {"field": name, "size": COMPOSITE_PAGE_SIZE, "include": list(include)},
            "aggs": {"first_seen": {"min": {"field": TIMESTAMP}}},
        }
    }
    return events_search(index, query_filter, history_start, execution.end, size=0, aggregations=aggs)


def new_terms_docs(index: Sequence[str], query_filter: Mapping[str, Any], execution: Execution, name: str, include: Sequence[Any]) -> Request:
    """Phase 3 for one field (buildDocFetchAgg) over the rule range: each new term's
    oldest document; buckets come by document count, then term."""
    aggs = {
        "new_terms": {
            "terms": {"field": name, "size": COMPOSITE_PAGE_SIZE, "include": list(include)},
            "aggs": {"docs": {"top_hits": {"size": 1, "sort": [{TIMESTAMP: "asc"}]}}},
        }
    }
    return events_search(index, query_filter, execution.start, execution.end, size=0, aggregations=aggs)


def new_terms_batch_filter(keys: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """new_terms/multi_terms_composite.ts: the batch's combinations, each a `match` per field."""
    return {"bool": {"should": [{"bool": {"must": [{"match": {name: value}} for name, value in key.items()]}} for key in keys]}}


def new_terms_composite_history(
    index: Sequence[str],
    query_filter: Mapping[str, Any],
    execution: Execution,
    history_start: int,
    fields: Sequence[str],
    after: Mapping[str, Any] | None,
    size: int = NEW_TERMS_BATCH_SIZE,
) -> Request:
    """Phase 2 for several fields (buildCompositeNewTermsAgg) over [history start, to],
    under the batch filter: each combination's `first_seen`."""
    aggs = {"new_terms": {"composite": _recent_terms(fields, after, size), "aggs": {"first_seen": {"min": {"field": TIMESTAMP}}}}}
    return events_search(index, query_filter, history_start, execution.end, size=0, aggregations=aggs)


def new_terms_composite_docs(
    index: Sequence[str],
    query_filter: Mapping[str, Any],
    execution: Execution,
    history_start: int,
    fields: Sequence[str],
    after: Mapping[str, Any] | None,
    size: int = NEW_TERMS_BATCH_SIZE,
) -> Request:
    """Phase 3 for several fields (buildCompositeDocFetchAgg): phase 2 again with each
    combination's oldest document, still over [history start, to]."""
    aggs = {
        "new_terms": {
            "composite": _recent_terms(fields, after, size),
            "aggs": {"first_seen": {"min": {"field": TIMESTAMP}}, "docs": {"top_hits": {"size": 1, "sort": [{TIMESTAMP: "asc"}]}}},
        }
    }
    return events_search(index, query_filter, history_start, execution.end, size=0, aggregations=aggs)


def first_seen_is_new(bucket: Mapping[str, Any], start: int) -> bool:
    """Kibana's `filtering_agg`: `params.first_seen_value > params.start_time`, strictly."""
    value = (bucket.get("first_seen") or {}).get("value")
    return value is not None and value > start


# --- ours --------------------------------------------------------------------------------


def execution_activity(index: Sequence[str], query_filter: Mapping[str, Any], executions: Sequence[Execution]) -> Request:
    """Not Kibana's: how many documents the rule's query matches in each execution's range
    (a `range` aggregation, `to` exclusive, hence end + 1 ms). An execution with none
    finds nothing, whatever its searches, so it need not send them."""
    ranges = [{"key": str(i), "from": e.start, "to": e.end + 1} for i, e in enumerate(executions)]
    body = {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [copy.deepcopy(dict(query_filter)), time_range(executions[0].start, executions[-1].end)]}},
        "aggregations": {"executions": {"range": {"field": TIMESTAMP, "keyed": True, "ranges": ranges}}},
    }
    return Request("search", tuple(index), body, dict(_INDEX_PARAMS))


def time_bounds(index: Sequence[str]) -> Request:
    """Not Kibana's: the first and last `@timestamp` of the indices."""
    body = {"size": 0, "track_total_hits": False, "aggregations": {"first": {"min": {"field": TIMESTAMP}}, "last": {"max": {"field": TIMESTAMP}}}}
    return Request("search", tuple(index), body, dict(_INDEX_PARAMS))


def count(index: Sequence[str], query: Mapping[str, Any] | None = None) -> Request:
    """Not Kibana's: the number of documents (matching `query`) in the indices."""
    return Request("count", tuple(index), {"query": copy.deepcopy(dict(query))} if query is not None else None, dict(_INDEX_PARAMS))


def matches_in_ranges(index: Sequence[str], start: int, end: int, clauses: Iterable[tuple[Mapping[str, Any], int, int]]) -> Request:
    """Not Kibana's: how many documents of [start, end] one of the (filter, range start,
    range end) clauses matches: the distinct events a query that reads the clock matched
    over several executions."""
    should = [{"bool": {"filter": [copy.deepcopy(dict(f)), time_range(lo, hi)]}} for f, lo, hi in clauses]
    return count(index, {"bool": {"filter": [time_range(start, end)], "should": should, "minimum_should_match": 1}})


def query_page(pit_id: str, query: Mapping[str, Any], size: int, search_after: Sequence[Any] | None) -> Request:
    """Not Kibana's: one page of `wgsiem query --es`, every matching document by time."""
    body: dict[str, Any] = {
        "size": size,
        "query": copy.deepcopy(dict(query)),
        "sort": [{TIMESTAMP: {"order": "asc", "unmapped_type": "date"}}],
        "pit": {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE},
    }
    if search_after:
        body["search_after"] = list(search_after)
    return Request("search", (), body)
