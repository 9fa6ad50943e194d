"""Rules run as Elasticsearch searches (wgsiem/detection/searches.py, cluster.py).

Without a cluster: the requests are pinned against Kibana's (the files each builder
names), and the executors are driven by a fake cluster. On a real node (`es`): every
scenario, and a set of edge cases, gives the same alert documents as the offline engine,
and `wgsiem query --es` the same events as `wgsiem query` over the file.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from typer.testing import CliRunner

from tests.support.detection import at, event, make_rule, stamp
from tests.support.es import bulk_create, in_namespace, unique_namespace
from wgsiem.adapters.rule_searches import es_send
from wgsiem.cli import app
from wgsiem.content import FIXTURES
from wgsiem.detection import load_events, run_rules
from wgsiem.detection.cluster import run_rules_on_cluster
from wgsiem.detection.engine import ExecutionError, RunResult
from wgsiem.detection.schedule import Execution
from wgsiem.detection.searches import (
    Request,
    anchor_now,
    missing_fields_filter,
    new_terms_batch_filter,
    new_terms_composite_docs,
    new_terms_composite_history,
    new_terms_docs,
    new_terms_history,
    new_terms_recent,
    open_point_in_time,
    query_rule_page,
    suppression_groups,
    suppression_history_filter,
    threshold_buckets,
    threshold_history_filter,
    with_filters,
)
from wgsiem.detection.timestamps import datetime_ms
from wgsiem.replay.scenario import load_scenario
from wgsiem.rules.model import Threshold, load_rules

SCENARIOS = sorted(p.parent for p in (FIXTURES / "scenarios").glob("*/scenario.yaml"))
RUNNER = CliRunner()
FIELDS = [{"field": "*", "include_unmapped": True}, {"field": "@timestamp", "format": "strict_date_optional_time"}]
KQL_FILTER = {"bool": {"must": [], "filter": [{"term": {"event.action": "x"}}], "should": [], "must_not": []}}
EXECUTION = Execution(started_at=datetime_ms(at(5)), start=datetime_ms(at(-1)), end=datetime_ms(at(5)))


def _range(start: str, end: str) -> dict[str, Any]:
    return {"range": {"@timestamp": {"lte": end, "gte": start, "format": "strict_date_optional_time"}}}


# --- the requests, pinned against Kibana's ------------------------------------------------


def test_a_query_rule_page_is_kibanas_search_in_a_point_in_time() -> None:
    # search_after_bulk_create_factory.ts: openPointInTime(index, keep_alive 5m,
    # allow_partial_search_results), then buildEventsSearchQueryWithPit pages.
    assert open_point_in_time(["logs-wireguard.*"]) == Request(
        "open_point_in_time", ("logs-wireguard.*",), None, {"keep_alive": "5m", "allow_partial_search_results": "true"}
    )
    page = query_rule_page("PIT", KQL_FILTER, EXECUTION, 1000, [1, 2])
    assert page == Request(
        "search",
        (),
        {
            "size": 100,  # ceil(min(maxSignals, searchAfterSize = 100))
            "query": {"bool": {"filter": [KQL_FILTER, _range(stamp(at(-1)), stamp(at(5)))]}},
            "fields": FIELDS,
            "sort": [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}],
            "search_after": [1, 2],
            "pit": {"id": "PIT"},
        },
        {"allow_no_indices": "true"},
    )
    assert query_rule_page("PIT", KQL_FILTER, EXECUTION, 3, None).body["size"] == 3
    assert "search_after" not in query_rule_page("PIT", KQL_FILTER, EXECUTION, 3, None).body


def test_a_threshold_search_is_find_threshold_signals_without_the_painless_selectors() -> None:
    threshold = Threshold(("host.name", "source.ip"), 5, None)
    history = threshold_history_filter([((("host.name", "gw1"), ("source.ip", "10.0.0.1")), datetime_ms(at(2)))])
    request = threshold_buckets(["logs-a", "logs-b"], with_filters(KQL_FILTER, history), EXECUTION, threshold, {"host.name": "gw1", "source.ip": "10.0.0.1"})
    # threshold.ts: getFilter adds get_threshold_bucket_filters.ts's must_not after the query.
    must_not = {
        "bool": {
            "must_not": [
                {"bool": {"filter": [{"range": {"@timestamp": {"lte": stamp(at(2))}}}, {"term": {"host.name": "gw1"}}, {"term": {"source.ip": "10.0.0.1"}}]}}
            ]
        }
    }
    query_filter = {"bool": {"must": [], "filter": [{"term": {"event.action": "x"}}, must_not], "should": [], "must_not": []}}
    assert request == Request(
        "search",
        ("logs-a", "logs-b"),
        {
            "size": 0,
            "query": {"bool": {"filter": [query_filter, _range(stamp(at(-1)), stamp(at(5)))]}},
            "fields": FIELDS,
            "aggregations": {
                "thresholdTerms": {
                    "composite": {
                        "sources": [{"host.name": {"terms": {"field": "host.name"}}}, {"source.ip": {"terms": {"field": "source.ip"}}}],
                        "after": {"host.name": "gw1", "source.ip": "10.0.0.1"},
                        "size": 10000,
                    },
                    # Kibana adds count_check (and cardinality_check) bucket_selectors here.
                    "aggs": {"max_timestamp": {"max": {"field": "@timestamp"}}, "min_timestamp": {"min": {"field": "@timestamp"}}},
                }
            },
            "sort": [{"@timestamp": {"order": "desc", "unmapped_type": "date"}}],
        },
        {"allow_no_indices": "true", "ignore_unavailable": "true"},
    )
    # Term values go as strings (`${term.value}`); a cardinality adds its aggregation.
    assert threshold_history_filter([((("source.as.number", 64500.0),), 0)])["bool"]["must_not"][0]["bool"]["filter"][1] == {"term": {"source.as.number": "64500"}}
    with_card = threshold_buckets(["i"], KQL_FILTER, EXECUTION, Threshold(("host.name",), 5, dataclasses.replace(_card(), field="source.ip")), None)
    aggs = with_card.body["aggregations"]["thresholdTerms"]
    assert aggs["aggs"]["cardinality_count"] == {"cardinality": {"field": "source.ip"}} and "after" not in aggs["composite"]


def _card():
    from wgsiem.rules.model import Cardinality

    return Cardinality("source.ip", 2)


def test_new_terms_phases_are_the_aggregation_approach() -> None:
    recent = new_terms_recent(["i"], KQL_FILTER, EXECUTION, ["source.ip"], None).body
    assert recent["aggregations"] == {"new_terms": {"composite": {"sources": [{"source.ip": {"terms": {"field": "source.ip"}}}], "size": 10000}}}
    assert recent["query"]["bool"]["filter"][1] == _range(stamp(at(-1)), stamp(at(5)))
    assert recent["sort"] == [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}]
    # Phase 2 over [history start, to]; Kibana's filtering_agg (first_seen > from) is applied to the answer.
    history = new_terms_history(["i"], KQL_FILTER, EXECUTION, datetime_ms(at(-60)), "source.ip", ["10.0.0.1"]).body
    assert history["aggregations"] == {
        "new_terms": {"terms": {"field": "source.ip", "size": 10000, "include": ["10.0.0.1"]}, "aggs": {"first_seen": {"min": {"field": "@timestamp"}}}}
    }
    assert history["query"]["bool"]["filter"][1] == _range(stamp(at(-60)), stamp(at(5)))
    # Phase 3 over the rule range: the oldest document per new term.
    docs = new_terms_docs(["i"], KQL_FILTER, EXECUTION, "source.ip", ["10.0.0.1"]).body
    assert docs["aggregations"]["new_terms"]["aggs"] == {"docs": {"top_hits": {"size": 1, "sort": [{"@timestamp": "asc"}]}}}
    assert docs["query"]["bool"]["filter"][1] == _range(stamp(at(-1)), stamp(at(5)))
    # multi_terms_composite.ts: a batch of combinations as `match` clauses, composite pages of 500.
    keys = [{"host.name": "gw1", "source.ip": "10.0.0.1"}]
    batch = with_filters(KQL_FILTER, new_terms_batch_filter(keys))
    assert batch["bool"]["filter"][1] == {"bool": {"should": [{"bool": {"must": [{"match": {"host.name": "gw1"}}, {"match": {"source.ip": "10.0.0.1"}}]}}]}}
    phase2 = new_terms_composite_history(["i"], batch, EXECUTION, datetime_ms(at(-60)), ["host.name", "source.ip"], None).body
    assert phase2["aggregations"]["new_terms"]["composite"]["size"] == 500
    assert phase2["aggregations"]["new_terms"]["aggs"] == {"first_seen": {"min": {"field": "@timestamp"}}}
    phase3 = new_terms_composite_docs(["i"], batch, EXECUTION, datetime_ms(at(-60)), ["host.name", "source.ip"], keys[0]).body
    assert phase3["aggregations"]["new_terms"]["composite"]["after"] == keys[0]
    assert phase3["query"]["bool"]["filter"][1] == _range(stamp(at(-60)), stamp(at(5)))  # still the history range


def test_a_suppressing_query_rule_searches_kibanas_group_aggregation() -> None:
    # group_and_bulk_create.ts with build_group_by_field_aggregation.ts: one composite page of
    # max_signals + 1 groups (missing_bucket, last, for `suppress`), and
    # buildBucketHistoryFilter after the range.
    history = suppression_history_filter([((("host.name", "gw1"), ("source.ip", None)), datetime_ms(at(3)))], datetime_ms(at(-1)))
    request = suppression_groups(["i"], KQL_FILTER, EXECUTION, ["host.name", "source.ip"], 100, missing_bucket=True, history=history)
    assert request == Request(
        "search",
        ("i",),
        {
            "size": 0,
            "query": {
                "bool": {
                    "filter": [
                        KQL_FILTER,
                        _range(stamp(at(-1)), stamp(at(5))),
                        {
                            "bool": {
                                "must_not": [
                                    {
                                        "bool": {
                                            "must_not": [{"exists": {"field": "source.ip"}}],
                                            "filter": [{"term": {"host.name": "gw1"}}, _range(stamp(at(-1)), stamp(at(3)))],
                                        }
                                    }
                                ]
                            }
                        },
                    ]
                }
            },
            "fields": FIELDS,
            "aggregations": {
                "eventGroups": {
                    "composite": {
                        "sources": [
                            {"host.name": {"terms": {"field": "host.name", "missing_bucket": True, "missing_order": "last"}}},
                            {"source.ip": {"terms": {"field": "source.ip", "missing_bucket": True, "missing_order": "last"}}},
                        ],
                        "size": 101,
                    },
                    "aggs": {
                        "topHits": {"top_hits": {"size": 1, "sort": [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}]}},
                        "max_timestamp": {"max": {"field": "@timestamp"}},
                        "min_timestamp": {"min": {"field": "@timestamp"}},
                    },
                }
            },
            "sort": [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}],
        },
        {"allow_no_indices": "true", "ignore_unavailable": "true"},
    )
    assert suppression_history_filter([], 0) == []
    plain = suppression_groups(["i"], KQL_FILTER, EXECUTION, ["host.name"], 3, missing_bucket=False)
    assert plain.body["aggregations"]["eventGroups"]["composite"]["sources"] == [{"host.name": {"terms": {"field": "host.name"}}}]
    assert len(plain.body["query"]["bool"]["filter"]) == 2
    # bulk_create_unsuppressed_alerts.ts: the query rule's pages, for documents lacking a field.
    missing = missing_fields_filter(["host.name", "source.ip"])
    assert missing == {"bool": {"should": [{"bool": {"must_not": [{"exists": {"field": f}}]}} for f in ("host.name", "source.ip")]}}
    page = query_rule_page("PIT", KQL_FILTER, EXECUTION, 100, None, [missing])
    assert page.body["query"]["bool"]["filter"][2] == missing


def test_now_in_a_date_range_is_pinned_to_the_execution_time() -> None:
    dsl = {"bool": {"filter": [{"range": {"@timestamp": {"gte": "now-2m", "time_zone": "Zulu"}}}, {"range": {"user.name": {"gte": "now"}}}]}}
    pinned = anchor_now(dsl, datetime_ms(at(5)), {"@timestamp": "date", "user.name": "keyword"})
    assert pinned["bool"]["filter"][0] == {"range": {"@timestamp": {"gte": f"{stamp(at(5))}||-2m", "time_zone": "Zulu"}}}
    assert pinned["bool"]["filter"][1] == {"range": {"user.name": {"gte": "now"}}}  # a keyword's "now" is a string


# --- the executors against a fake cluster -------------------------------------------------


class FakeCluster:
    """Answers each request with `answer(request)` and records the requests."""

    def __init__(self, answer: Callable[[Request], dict[str, Any]]) -> None:
        self.answer = answer
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> dict[str, Any]:
        self.requests.append(request)
        if request.api == "count":
            return {"count": 0}
        if request.api == "open_point_in_time":
            return {"id": "PIT"}
        if request.api == "close_point_in_time":
            return {"succeeded": True}
        if "executions" in (request.body or {}).get("aggregations", {}):
            ranges = request.body["aggregations"]["executions"]["range"]["ranges"]
            return {"aggregations": {"executions": {"buckets": {r["key"]: {"doc_count": 1} for r in ranges}}}}
        return self.answer(request)

    def searches(self) -> list[Request]:
        return [r for r in self.requests if r.api == "search" and "executions" not in (r.body or {}).get("aggregations", {})]


def _cluster_run(rule, cluster: FakeCluster, **kw: Any) -> RunResult:
    return run_rules_on_cluster([rule], cluster, start=at(5), end=at(5), indices=["logs-test"], **kw)


def _bucket(ip: str, count: int, card: int | None = None) -> dict[str, Any]:
    bucket = {"key": {"source.ip": ip}, "doc_count": count, "max_timestamp": {"value": datetime_ms(at(4))}, "min_timestamp": {"value": datetime_ms(at(1))}}
    if card is not None:
        bucket["cardinality_count"] = {"value": card}
    return bucket


def test_threshold_buckets_are_kept_with_kibanas_comparisons_and_pages_end_without_after_key() -> None:
    pages = [
        {"aggregations": {"thresholdTerms": {"after_key": {"source.ip": "10.0.0.3"}, "buckets": [_bucket("10.0.0.1", 2, 5), _bucket("10.0.0.2", 3, 1), _bucket("10.0.0.3", 3, 2)]}}},
        {"aggregations": {"thresholdTerms": {"buckets": []}}},
    ]
    cluster = FakeCluster(lambda request: pages.pop(0))
    rule = make_rule("event.action:x", type="threshold", threshold=(("source.ip",), 3, ("host.name", 2)))
    result = _cluster_run(rule, cluster)
    # count >= 3 and cardinality >= 2, both inclusive: only 10.0.0.3.
    assert [a["source.ip"] for a in result.alerts] == ["10.0.0.3"]
    assert result.alerts[0]["kibana.alert.threshold_result"] == {
        "terms": [{"field": "source.ip", "value": "10.0.0.3"}],
        "count": 3,
        "from": stamp(at(1)),
        "cardinality": [{"field": "host.name", "value": 2}],
    }
    searches = cluster.searches()
    assert len(searches) == 2 and searches[1].body["aggregations"]["thresholdTerms"]["composite"]["after"] == {"source.ip": "10.0.0.3"}


def test_threshold_paging_stops_once_more_than_max_signals_buckets_qualify() -> None:
    page = {"aggregations": {"thresholdTerms": {"after_key": {"source.ip": "b"}, "buckets": [_bucket("10.0.0.1", 3), _bucket("10.0.0.2", 3)]}}}
    cluster = FakeCluster(lambda request: page)
    result = _cluster_run(make_rule("event.action:x", type="threshold", threshold=(("source.ip",), 3, None), max_signals=1), cluster)
    assert len(cluster.searches()) == 1 and len(result.alerts) == 1
    assert result.stats[make_rule().rule_id].max_signals_executions == 1


def test_a_new_term_first_seen_exactly_at_the_range_start_is_not_new() -> None:
    start = datetime_ms(at(-1))  # the range start of the execution at(5)

    def answer(request: Request) -> dict[str, Any]:
        aggs = request.body["aggregations"]["new_terms"]
        if "composite" in aggs:
            return {"aggregations": {"new_terms": {"after_key": {"source.ip": "b"} if "after" not in aggs["composite"] else None, "buckets": [] if "after" in aggs["composite"] else [{"key": {"source.ip": "10.0.0.1"}}, {"key": {"source.ip": "10.0.0.2"}}]}}}
        if "first_seen" in aggs["aggs"]:
            return {"aggregations": {"new_terms": {"buckets": [{"key": "10.0.0.1", "first_seen": {"value": start}}, {"key": "10.0.0.2", "first_seen": {"value": start + 1}}]}}}
        hit = {"_index": ".ds-logs-wireguard.log-default-2026.11.22-000001", "_id": "e2", "_source": event(at(2), source__ip="10.0.0.2")}
        assert aggs["terms"]["include"] == ["10.0.0.2"]
        return {"aggregations": {"new_terms": {"buckets": [{"key": "10.0.0.2", "docs": {"hits": {"hits": [hit]}}}]}}}

    cluster = FakeCluster(answer)
    (alert,) = _cluster_run(make_rule("event.action:x", type="new_terms", new_terms=("source.ip",)), cluster).alerts
    assert alert["kibana.alert.new_terms"] == ["10.0.0.2"]
    # The backing index stands for its data stream, as the offline engine names it.
    assert alert["kibana.alert.ancestors"][0]["index"] == "logs-wireguard.log-default"


def test_a_query_rule_pages_with_search_after_truncates_at_max_signals_and_closes_its_point_in_time() -> None:
    hits = [{"_index": "logs-x", "_id": f"e{i}", "_source": event(at(1, i)), "sort": [datetime_ms(at(1, i)), i]} for i in range(5)]

    def answer(request: Request) -> dict[str, Any]:
        after = request.body.get("search_after")
        rest = hits if after is None else [h for h in hits if h["sort"] > after]
        page = rest[: request.body["size"]]
        return {"pit_id": "PIT2", "hits": {"total": {"value": len(rest)}, "hits": page}}

    cluster = FakeCluster(answer)
    result = _cluster_run(make_rule("event.action:x", max_signals=2), cluster)
    assert [a["kibana.alert.ancestors"][0]["id"] for a in result.alerts] == ["e0", "e1"]
    assert result.stats[make_rule().rule_id].max_signals_executions == 1
    closes = [r for r in cluster.requests if r.api == "close_point_in_time"]
    assert closes == [Request("close_point_in_time", (), {"id": "PIT2"})]  # the id the last answer named
    searches = cluster.searches()
    assert [s.body.get("search_after") for s in searches] == [None, [datetime_ms(at(1, 1)), 1]]


def test_a_failed_search_fails_the_rule_and_still_closes_the_point_in_time() -> None:
    def answer(request: Request) -> dict[str, Any]:
        raise ExecutionError("POST /_search: HTTP 400: boom")

    cluster = FakeCluster(answer)
    result = _cluster_run(make_rule("event.action:x"), cluster)
    assert result.stats[make_rule().rule_id].error == f"execution at {stamp(at(5))}: POST /_search: HTTP 400: boom"
    assert [r.api for r in cluster.requests][-2:] == ["search", "close_point_in_time"]
    shard_failure = FakeCluster(lambda request: {"_shards": {"failures": [{"reason": {"reason": "no mapping"}}]}, "aggregations": {}})
    result = _cluster_run(make_rule("event.action:x", type="threshold", threshold=(("source.ip",), 3, None)), shard_failure)
    assert "1 shard failure(s): no mapping" in result.stats[make_rule().rule_id].error


def test_executions_whose_range_matches_nothing_send_no_searches_unless_every_search() -> None:
    class Quiet(FakeCluster):
        def __call__(self, request: Request) -> dict[str, Any]:
            if "executions" in (request.body or {}).get("aggregations", {}):
                self.requests.append(request)
                ranges = request.body["aggregations"]["executions"]["range"]["ranges"]
                return {"aggregations": {"executions": {"buckets": {r["key"]: {"doc_count": 0} for r in ranges}}}}
            return super().__call__(request)

    empty = {"aggregations": {"thresholdTerms": {"buckets": []}}}
    rule = make_rule("event.action:x", type="threshold", threshold=(("source.ip",), 3, None))
    quiet = Quiet(lambda request: empty)
    run_rules_on_cluster([rule], quiet, start=at(0), end=at(60), indices=["logs-test"])
    assert quiet.searches() == []
    (activity,) = [r for r in quiet.requests if r.api == "search"]
    assert len(activity.body["aggregations"]["executions"]["range"]["ranges"]) == 13
    every = Quiet(lambda request: empty)
    run_rules_on_cluster([rule], every, start=at(0), end=at(60), indices=["logs-test"], every_search=True)
    assert len(every.searches()) == 13


def test_offline_a_hit_of_a_backing_index_is_named_by_its_data_stream_as_in_cluster_runs() -> None:
    doc = event(at(1))
    hit = {"_index": ".ds-logs-wireguard.log-default-2026.11.22-000001", "_id": doc["event"]["id"], "_source": doc}
    (from_hit,) = run_rules([make_rule('event.action:"handshake"')], [hit], start=at(5), end=at(5)).alerts
    (from_source,) = run_rules([make_rule('event.action:"handshake"')], [doc], start=at(5), end=at(5)).alerts
    assert from_hit == from_source
    assert from_hit["kibana.alert.ancestors"][0]["index"] == "logs-wireguard.log-default"


# --- on a real node ---------------------------------------------------------------------------


class Node(NamedTuple):
    client: Any
    url: str


@pytest.fixture(scope="module")
def es(es_templates: str) -> Iterable[Node]:
    """The test node with wgsiem's index templates installed: a client and its URL."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_templates, request_timeout=60)
    yield Node(client, es_templates)
    client.close()


def _index(node: Node, docs: Iterable[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The documents moved to `namespace`, bulk-created into their data streams; returns
    them as indexed."""
    moved = in_namespace(docs, namespace)
    failed = [r for r in bulk_create(node.client, moved, refresh="true") if r.get("status") != 201]
    assert not failed, failed[:3]
    return moved


def _stats(result: RunResult) -> dict[str, tuple[Any, ...]]:
    return {k: (s.executions, s.matched_events, s.alerts, s.max_signals_executions, s.suppressed, s.warnings, s.error) for k, s in result.stats.items()}


RULES = load_rules()


@pytest.fixture(scope="module")
def scenario_timings() -> Iterable[list[float]]:
    timings: list[float] = []
    yield timings
    if timings:
        print(f"\ncluster runs of {len(timings)} scenarios: {sum(timings):.1f}s")


@pytest.mark.es
@pytest.mark.parametrize("folder", SCENARIOS, ids=lambda p: p.name)
def test_every_scenario_gives_the_offline_alerts(es, folder: Path, scenario_timings: list[float]) -> None:
    scenario = load_scenario(folder)
    namespace = unique_namespace()
    docs = _index(es, load_events(folder / "events.ndjson").events, namespace)
    indices = [f"logs-wireguard.*-{namespace}"]
    offline = run_rules(RULES, docs, start=scenario.rules_start, end=scenario.rules_end, indices=indices)
    began = time.perf_counter()
    cluster = run_rules_on_cluster(RULES, es_send(es.client), start=scenario.rules_start, end=scenario.rules_end, indices=indices)
    scenario_timings.append(time.perf_counter() - began)
    assert cluster.alerts == offline.alerts
    assert _stats(cluster) == _stats(offline)
    assert (cluster.start, cluster.end, cluster.events) == (offline.start, offline.end, offline.events)
    assert len(offline.alerts) == sum(e.count for e in scenario.expectations)
    for alert in cluster.alerts:
        assert alert["kibana.alert.rule.parameters"]["index"] == indices == alert["kibana.alert.rule.indices"]


@pytest.mark.es
@pytest.mark.parametrize("name", ["scanner-handshake-flood", "stolen-key-abroad"])
def test_sending_every_search_gives_the_same_alerts(es, name: str) -> None:
    folder = FIXTURES / "scenarios" / name
    scenario = load_scenario(folder)
    namespace = unique_namespace()
    _index(es, load_events(folder / "events.ndjson").events, namespace)
    indices = [f"logs-wireguard.*-{namespace}"]
    runs = {}
    for every in (False, True):
        sent: list[Request] = []
        send = es_send(es.client)

        def counting(request: Request, send=send, sent=sent) -> dict[str, Any]:
            sent.append(request)
            return send(request)

        runs[every] = (run_rules_on_cluster(RULES, counting, start=scenario.rules_start, indices=indices, every_search=every), len(sent))
    (skipping, few), (every, many) = runs[False], runs[True]
    assert every.alerts == skipping.alerts and every.alerts
    assert many > 3 * few


@pytest.mark.es
def test_a_wrong_threshold_changes_the_cluster_result(es) -> None:
    folder = FIXTURES / "scenarios" / "scanner-handshake-flood"
    scenario = load_scenario(folder)
    namespace = unique_namespace()
    _index(es, load_events(folder / "events.ndjson").events, namespace)
    indices = [f"logs-wireguard.*-{namespace}"]
    (flood,) = [r for r in RULES if r.path.stem == "wireguard_handshake_flood"]
    (alert,) = run_rules_on_cluster([flood], es_send(es.client), start=scenario.rules_start, indices=indices).alerts
    count = alert["kibana.alert.threshold_result"]["count"]
    assert count >= flood.threshold.value
    # The client-side count_check is `>=`: the bucket's own count still alerts, one more does not.
    for value, alerts in ((count, 1), (count + 1, 0), (2 * flood.threshold.value, 0)):
        mutated = dataclasses.replace(flood, threshold=dataclasses.replace(flood.threshold, value=value))
        assert len(run_rules_on_cluster([mutated], es_send(es.client), start=scenario.rules_start, indices=indices).alerts) == alerts, value


def _edge_case_events() -> list[dict[str, Any]]:
    status = "wireguard.status"
    return [
        # query, max_signals 3: ties at one millisecond, paged 3 at a time
        *[event(at(4, 30), "probe", dataset=status, source__ip=f"10.9.0.{i}") for i in range(5)],
        *[event(at(4, 40), "probe", dataset=status, source__ip=f"10.9.1.{i}") for i in range(2)],
        # equal times in two data streams: Elasticsearch orders them by index name
        event(at(3), "tie", dataset=status),
        event(at(3), "tie", dataset="wireguard.log"),
        # threshold on an ip array with a cardinality; the history hides alerted documents
        event(at(1), "flood", dataset=status, source__ip=["10.0.0.1", "10.0.0.2"], host__name="a"),
        event(at(2), "flood", dataset=status, source__ip="10.0.0.1", host__name="b"),
        event(at(3), "flood", dataset=status, source__ip="10.0.0.2", host__name="a"),
        event(at(6), "flood", dataset=status, source__ip=["10.0.0.2", "10.0.0.1"], host__name="c"),
        event(at(7), "flood", dataset=status, source__ip="10.0.0.2", host__name="d"),
        # threshold by ip, max_signals 1: buckets in address order (9.x before 10.x)
        *[event(at(2), "order", dataset=status, source__ip=ip) for ip in ("10.0.0.9", "2001:db8::1", "9.0.0.1")],
        # threshold without group-by fields
        *[event(at(m), "count", dataset=status) for m in (1, 2, 3, 4)],
        # new terms, one field: history, a term first seen exactly at the range start, arrays
        event(at(-30), "nt-one", dataset=status, source__ip="10.1.0.1"),
        event(at(-1), "nt-one", dataset=status, source__ip=["10.1.0.2", "10.1.0.1"]),
        event(at(2), "nt-one", dataset=status, source__ip=["10.1.0.4", "10.1.0.3"]),
        event(at(3), "nt-one", dataset=status, source__ip="10.1.0.3"),
        event(at(8), "nt-one", dataset=status, source__ip="10.1.0.2"),
        # new terms, two fields: combinations of arrays
        event(at(-20), "nt-two", dataset=status, source__ip="10.2.0.1", host__name="h1"),
        event(at(1), "nt-two", dataset=status, source__ip=["10.2.0.1", "10.2.0.2"], host__name=["h1", "h2"]),
        event(at(2), "nt-two", dataset=status, source__ip="10.2.0.2", host__name="h2"),
        # a query reading the clock
        event(at(1), "recent", dataset=status),
        event(at(4), "recent", dataset=status),
        # alert suppression: groups by host.name (arrays, a missing one), across overlapping runs
        event(at(1), "sup-q", dataset=status, host__name="a", source__ip="10.3.0.1"),
        event(at(4, 30), "sup-q", dataset=status, host__name=["b", "a"]),
        event(at(2), "sup-q", dataset=status, host={"name": None}),
        event(at(8), "sup-q", dataset=status, host__name="a"),
        event(at(9), "sup-q", dataset=status, host={"name": None}),
        event(at(-30), "sup-nt", dataset=status, source__ip="10.4.0.1", host__name="h1"),
        *[event(at(m), "sup-nt", dataset=status, source__ip=f"10.4.0.{i}", host__name=h) for i, (m, h) in enumerate(
            [(1, "h1"), (2, "h1"), (4.5, ["h2", "h1", "h2"]), (4.6, "h1"), (6, None), (9, "h2"), (9, "h1")], start=2)],
        *[event(at(m), "sup-th", dataset=status, source__ip="10.5.0.1") for m in (1, 2, 6, 7, 11, 12)],
    ]


def _edge_case_rules() -> list[Any]:
    def rule(n: int, query: str, **kw: Any):
        return make_rule(query, rule_id=f"00000000-0000-4000-8000-{n:012d}", name=f"edge {n}", **kw)

    return [
        rule(1, 'event.action:"probe"', max_signals=3),
        rule(2, 'event.action:"tie"', max_signals=1),
        # 10 minutes back: the history of the 10:05 alert still covers part of the 10:10 range.
        rule(3, 'event.action:"flood"', type="threshold", threshold=(("source.ip",), 2, ("host.name", 2)), lookback="10m"),
        rule(4, 'event.action:"order"', type="threshold", threshold=(("source.ip",), 1, None), max_signals=1),
        rule(5, 'event.action:"count"', type="threshold", threshold=((), 3, None)),
        rule(6, 'event.action:"nt-one"', type="new_terms", new_terms=("source.ip",), history="1h"),
        rule(7, 'event.action:"nt-two"', type="new_terms", new_terms=("host.name", "source.ip"), history="1h"),
        rule(8, 'event.action:"recent" and @timestamp >= now-2m'),
        rule(9, 'event.action:"sup-q"', alert_suppression=_suppressing()),
        rule(10, 'event.action:"sup-q"', alert_suppression=_suppressing(duration=True, missing="doNotSuppress")),
        rule(11, 'event.action:"sup-nt"', type="new_terms", new_terms=("source.ip",), history="1h", alert_suppression=_suppressing()),
        rule(12, 'event.action:"sup-nt"', type="new_terms", new_terms=("host.name", "source.ip"), history="1h",
             alert_suppression=_suppressing(duration=True, missing="doNotSuppress")),
        rule(13, 'event.action:"sup-th"', type="threshold", threshold=(("source.ip",), 2, None), alert_suppression={"duration": {"value": 1, "unit": "h"}}),
    ]


def _suppressing(*, duration: bool = False, missing: str = "suppress") -> dict[str, Any]:
    spec: dict[str, Any] = {"group_by": ["host.name"], "missing_fields_strategy": missing}
    if duration:
        spec["duration"] = {"value": 1, "unit": "h"}
    return spec


@pytest.mark.es
@pytest.mark.parametrize("every_search", [False, True], ids=["skipping", "every-search"])
def test_edge_cases_give_the_offline_alerts(es, every_search: bool) -> None:
    namespace = unique_namespace()
    docs = _index(es, _edge_case_events(), namespace)
    indices = [f"logs-wireguard.*-{namespace}"]
    rules = _edge_case_rules()
    offline = run_rules(rules, docs, start=at(5), end=at(15), indices=indices)
    cluster = run_rules_on_cluster(rules, es_send(es.client), start=at(5), end=at(15), indices=indices, every_search=every_search)
    assert cluster.alerts == offline.alerts
    assert _stats(cluster) == _stats(offline)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for alert in offline.alerts:
        by_rule.setdefault(alert["kibana.alert.rule.name"], []).append(alert)
    probes = [(a["@timestamp"], a["source"]["ip"]) for a in by_rule["edge 1"]]
    assert probes == [(stamp(at(5)), f"10.9.0.{i}") for i in range(3)] + [(stamp(at(10)), ip) for ip in ("10.9.0.3", "10.9.0.4", "10.9.1.0")]
    assert [a["data_stream"]["dataset"] for a in by_rule["edge 2"]] == ["wireguard.log"]
    floods = [(a["@timestamp"], a["source.ip"], a["kibana.alert.threshold_result"]["count"]) for a in by_rule["edge 3"]]
    # 10.0.0.2 has one host at 10:05; at 10:10 the documents holding 10.0.0.1 up to its alert
    # are gone from every bucket, also from 10.0.0.2's (3 events, not 4).
    assert floods == [(stamp(at(5)), "10.0.0.1", 2), (stamp(at(10)), "10.0.0.2", 3)]
    assert [a["source.ip"] for a in by_rule["edge 4"]] == ["9.0.0.1"]
    assert [a["kibana.alert.threshold_result"]["count"] for a in by_rule["edge 5"]] == [4]
    assert [a["kibana.alert.new_terms"] for a in by_rule["edge 6"]] == [["10.1.0.3"], ["10.1.0.4"]]
    assert [a["kibana.alert.new_terms"] for a in by_rule["edge 7"]] == [["h1", "10.2.0.2"], ["h2", "10.2.0.1"], ["h2", "10.2.0.2"]]
    assert [a["kibana.alert.original_time"] for a in by_rule["edge 8"]] == [stamp(at(4))]

    def suppressed(name: str) -> list[tuple[Any, ...]]:
        return [(a["@timestamp"], str(a.get("kibana.alert.suppression.terms")), a.get("kibana.alert.suppression.docs_count")) for a in by_rule[name]]

    # Per execution: 10:05 groups a (2: the array counts in a and b), null, b; at 10:10 the
    # history keeps 10:04:30 out, a and null again; at 10:15 it keeps 10:09 out.
    assert suppressed("edge 9") == [
        (stamp(at(5)), "[{'field': 'host.name', 'value': 'a'}]", 1),
        (stamp(at(5)), "[{'field': 'host.name', 'value': None}]", 0),
        (stamp(at(5)), "[{'field': 'host.name', 'value': 'b'}]", 0),
        (stamp(at(10)), "[{'field': 'host.name', 'value': 'a'}]", 0),
        (stamp(at(10)), "[{'field': 'host.name', 'value': None}]", 0),
    ]
    # For an hour, missing host.name not suppressed: a's alert takes 10:08 in; two plain alerts.
    assert sorted(suppressed("edge 10"), key=str) == sorted([
        (stamp(at(5)), "None", None),
        (stamp(at(5)), "[{'field': 'host.name', 'value': 'a'}]", 2),
        (stamp(at(5)), "[{'field': 'host.name', 'value': 'b'}]", 0),
        (stamp(at(10)), "None", None),
    ], key=str)  # fmt: skip
    # New terms: per execution, an overlap event counted once; for an hour with two fields, the
    # two new terms of one event are one group (its host.name values, sorted, repeats kept).
    assert suppressed("edge 11") == [
        (stamp(at(5)), "[{'field': 'host.name', 'value': ['h1']}]", 2),
        (stamp(at(5)), "[{'field': 'host.name', 'value': ['h1', 'h2', 'h2']}]", 0),
        (stamp(at(10)), "[{'field': 'host.name', 'value': None}]", 0),
        (stamp(at(10)), "[{'field': 'host.name', 'value': ['h2']}]", 0),
        (stamp(at(10)), "[{'field': 'host.name', 'value': ['h1']}]", 0),
    ]
    assert suppressed("edge 12") == [
        (stamp(at(5)), "[{'field': 'host.name', 'value': ['h1']}]", 3),
        (stamp(at(5)), "[{'field': 'host.name', 'value': ['h1', 'h2', 'h2']}]", 1),
        (stamp(at(10)), "[{'field': 'host.name', 'value': ['h2']}]", 0),
    ]
    # Threshold for an hour: the bucket of 10:10 and of 10:15 update the alert of 10:05.
    assert [(a["kibana.alert.suppression.docs_count"], a["kibana.alert.suppression.end"]) for a in by_rule["edge 13"]] == [(2, stamp(at(12)))]


@pytest.mark.es
def test_every_rule_case_gives_the_offline_alerts_with_the_repository_exceptions(es) -> None:
    """detection_rules/_dev/test on the node: each case, the shipped exception lists in play,
    alerts exactly as offline (which test_rules.py judges against the case)."""
    from wgsiem.content import DETECTION_RULES
    from wgsiem.rules.cases import CASES, load_cases
    from wgsiem.rules.exceptions import load_tuning

    tuning = load_tuning(DETECTION_RULES)
    runs = []
    for rule in RULES:
        for case in load_cases(CASES / f"{rule.path.stem}.yaml"):
            namespace = unique_namespace()
            runs.append((rule, case, in_namespace(case.events, namespace), [f"logs-wireguard.*-{namespace}"]))
    # One request for all the cases' namespaces, refreshed at once.
    failed = [r for r in bulk_create(es.client, [d for _, _, docs, _ in runs for d in docs], refresh="true") if r.get("status") != 201]
    assert not failed, failed[:3]
    for rule, case, docs, indices in runs:
        offline = run_rules([rule], docs, start=case.start, end=case.end, indices=indices, tuning=tuning)
        cluster = run_rules_on_cluster([rule], es_send(es.client), start=case.start, end=case.end, indices=indices, tuning=tuning)
        assert cluster.alerts == offline.alerts, f"{rule.name} / {case.name}"
        assert len(offline.alerts) == case.alerts, f"{rule.name} / {case.name}"


# --- wgsiem query --es and wgsiem rules run --es --------------------------------------------


def cli(*args: str):
    return RUNNER.invoke(app, list(args))


@pytest.fixture(scope="module")
def indexed_scenario(es, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """stolen-key-abroad in a namespace of its own: (namespace, the documents as NDJSON, URL)."""
    namespace = unique_namespace()
    docs = _index(es, load_events(FIXTURES / "scenarios" / "stolen-key-abroad" / "events.ndjson").events, namespace)
    path = tmp_path_factory.mktemp("cluster") / "events.ndjson"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return namespace, path, es.url


QUERIES = [
    "source.ip:175.16.0.0/16",  # an ip field matches a CIDR range
    'source.ip:"::ffff:203.0.113.9"',  # and an IPv4-mapped address
    "message:handshake",  # text, analysed
    'event.action:"endpoint-changed"',  # keyword, exact
    'event.dataset:"wireguard.status" and not wireguard.peer.name:alice',  # negation
    "source.port >= 40000 and @timestamp < \"2026-10-08T06:00:00Z\"",  # ranges
]


@pytest.mark.es
@pytest.mark.parametrize("kql", QUERIES)
def test_query_es_returns_the_events_of_the_offline_query(indexed_scenario, kql: str) -> None:
    namespace, path, url = indexed_scenario
    offline = cli("query", kql, str(path))
    cluster = cli("query", kql, "--es", url, "--index", f"logs-wireguard.*-{namespace}")
    assert offline.exit_code == 0 and cluster.exit_code == 0, cluster.output

    def by_id(output: str) -> list[dict[str, Any]]:
        return sorted((json.loads(line) for line in output.splitlines()), key=lambda d: d["event"]["id"])

    assert by_id(cluster.stdout) == by_id(offline.stdout) != []
    times = [json.loads(line)["@timestamp"] for line in cluster.stdout.splitlines()]
    assert times == sorted(times)
    count = cli("query", kql, "--es", url, "--index", f"logs-wireguard.*-{namespace}", "--count")
    assert count.stdout.strip() == str(len(times))


@pytest.mark.es
def test_rules_run_es_prints_the_offline_alerts(indexed_scenario) -> None:
    namespace, path, url = indexed_scenario
    index = f"logs-wireguard.*-{namespace}"
    start = "2026-10-08T00:00:00Z"
    offline = cli("rules", "run", str(path), "--index", index, "--start", start)
    cluster = cli("rules", "run", "--es", url, "--index", index, "--start", start)
    assert offline.exit_code == 0 and cluster.exit_code == 0, cluster.output
    # stolen-key-abroad's 14: several places, impossible travel x7, new country, new network, outside its places x4
    assert cluster.stdout == offline.stdout and len(cluster.stdout.splitlines()) == 14
    assert f"14 alerts from {len(path.read_text().splitlines())} events in the indices searched" in cluster.stderr
    # --end defaults to the last @timestamp in the indices, as offline to the last event.
    assert "to 2026-10-08T11:00:00.000Z" in cluster.stderr and "to 2026-10-08T11:00:00.000Z" in offline.stderr
    assert cli("rules", "run", str(path), "--es", url).exit_code == 2
    missing = cli("rules", "run")
    assert missing.exit_code == 2 and "EVENTS is required" in missing.stderr


def test_rules_run_es_reports_an_unreachable_cluster() -> None:
    result = cli("rules", "run", "--es", "http://127.0.0.1:9", "--rule", "wireguard_handshake_flood")
    assert result.exit_code == 2 and "wgsiem: error:" in result.stderr
