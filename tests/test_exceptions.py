"""Exception lists and value lists: the files, the clause Kibana builds from them, the offline
engine and the real node leaving out the same events, and `wgsiem rules run / export /
install` with them.

Kibana's sources these follow (lists plugin, services/exception_lists/build_exception_filter.ts
unless named): buildExceptionFilter, createOrClauses, buildExceptionItemFilter,
createInnerAndClauses, buildMatchClause, getBaseMatchAnyClause, buildMatchWildcardClause,
buildExistsClause, buildListClause, buildNestedClause, buildExclusionClause,
removeExpiredExceptions; the rule wrapper (security_solution create_security_rule_type_wrapper.ts)
and get_filter.ts / @kbn/es-query buildQueryFromFilters for where the clause goes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.es import bulk_create, in_namespace, unique_namespace
from tests.support.kibana_stub import IMPORT_PATH
from wgsiem.cli import app
from wgsiem.content import DETECTION_RULES, FIXTURES
from wgsiem.detection import load_events, run_rules
from wgsiem.detection.cluster import run_rules_on_cluster
from wgsiem.detection.exception_filter import exception_filter, excluding, item_clause
from wgsiem.kql import FieldTypes
from wgsiem.kql.search import Searcher
from wgsiem.rules.cases import CASES, Case, load_cases
from wgsiem.rules.exceptions import Entry, ExceptionFileError, ExceptionItem, ExceptionList, Tuning, ValueList, load_tuning
from wgsiem.rules.model import load_rules

RUNNER = CliRunner()
STOLEN = FIXTURES / "scenarios" / "stolen-key-abroad"
IMPOSSIBLE_TRAVEL = "WireGuard Peer Impossible Travel"
SEVERAL_PLACES = "WireGuard Peer Key Used from Several Places at Once"
RULES = load_rules()
BY_NAME = {r.name: r for r in RULES}


def _item(*entries: Entry, expire_ms: int | None = None, item_id: str = "i1") -> ExceptionItem:
    return ExceptionItem(item_id, item_id, "", "single", tuple(entries), None if expire_ms is None else "x", expire_ms, (), ())


def _list(*items: ExceptionItem, rule_ids: tuple[str, ...] = ()) -> ExceptionList:
    return ExceptionList(Path("t.toml"), "l1", "l1", "", "detection", "single", (), rule_ids, tuple(items))


def _value_list(list_id: str, list_type: str, *values: str) -> ValueList:
    return ValueList(Path(f"{list_id}.toml"), list_id, list_id, "d", list_type, values)


def _phrase(field: str, value: str) -> dict[str, Any]:
    return {"bool": {"minimum_should_match": 1, "should": [{"match_phrase": {field: value}}]}}


# --- the clause, as Kibana builds it --------------------------------------------------------------


def test_each_operator_becomes_kibanas_clause():
    lists = {"nets": _value_list("nets", "ip_range", "10.0.0.0/8", "192.0.2.1-192.0.2.9", "198.51.100.7"), "names": _value_list("names", "keyword", "a", "b")}
    clause = item_clause(
        _item(
            Entry("k", "match", "included", "v"),  # is
            Entry("k", "match", "excluded", "v"),  # is not
            Entry("k", "match_any", "included", ("a", "b")),  # is one of
            Entry("k", "match_any", "included", ("a",)),  # one value: as `is`
            Entry("k", "wildcard", "included", "ab*"),  # matches
            Entry("k", "exists", "excluded"),  # does not exist
            Entry("k", "list", "included", list_id="names", list_type="keyword"),  # is in list
            Entry("ip", "list", "excluded", list_id="nets", list_type="ip_range"),  # is not in list
            Entry("n", "nested", entries=(Entry("a", "match", "included", "x"), Entry("b", "exists"))),
        ),
        lists,
    )
    assert clause == {"bool": {"filter": [
        _phrase("k", "v"),
        {"bool": {"must_not": _phrase("k", "v")}},
        {"bool": {"minimum_should_match": 1, "should": [_phrase("k", "a"), _phrase("k", "b")]}},
        _phrase("k", "a"),
        {"bool": {"filter": {"wildcard": {"k": "ab*"}}}},
        {"bool": {"must_not": {"bool": {"minimum_should_match": 1, "should": [{"exists": {"field": "k"}}]}}}},
        {"bool": {"filter": {"terms": {"k": ["a", "b"]}}}},
        # a single address of an ip_range list comes back from Kibana as `a-a`: a range.
        {"bool": {"must_not": [
            {"range": {"ip": {"gte": "192.0.2.1", "lte": "192.0.2.9"}}},
            {"range": {"ip": {"gte": "198.51.100.7", "lte": "198.51.100.7"}}},
            {"terms": {"ip": ["10.0.0.0/8"]}},
        ], "minimum_should_match": 1}},
        {"nested": {"path": "n", "score_mode": "none", "query": {"bool": {"filter": [
            _phrase("n.a", "x"),
            {"bool": {"minimum_should_match": 1, "should": [{"exists": {"field": "n.b"}}]}},
        ]}}}},
    ]}}  # fmt: skip


def test_items_are_ored_expired_ones_dropped_and_the_clause_goes_into_must_not():
    one, two = _item(Entry("k", "match", "included", "a")), _item(Entry("k", "match", "included", "b"), expire_ms=1000, item_id="i2")
    assert exception_filter([_list(one, two)], {}, 1000) == {"bool": {"should": [_phrase("k", "a"), _phrase("k", "b")]}}
    # removeExpiredExceptions: an item whose expire_time is before the execution's start goes.
    assert exception_filter([_list(one, two)], {}, 1001) == {"bool": {"should": [_phrase("k", "a")]}}
    assert exception_filter([_list(two)], {}, 1001) is None
    query = {"bool": {"must": [], "filter": [{"match_all": {}}], "should": [], "must_not": []}}
    clause = exception_filter([_list(one)], {}, 0)
    assert excluding(query, clause) == {"bool": {"must": [], "filter": [{"match_all": {}}], "should": [], "must_not": [clause]}}


# --- each operator, offline and on the real node ----------------------------------------------

PROBE_MAPPING = {
    "k": {"type": "keyword"},
    "ip": {"type": "ip"},
    "n": {"type": "nested", "properties": {"a": {"type": "keyword"}, "b": {"type": "keyword"}}},
}
PROBE_TYPES = FieldTypes({"k": "keyword", "ip": "ip", "n": "nested", "n.a": "keyword", "n.b": "keyword"})
PROBE_DOCS = [
    {"id": "1", "k": "alpha", "ip": "10.1.2.3", "n": [{"a": "x", "b": "y"}]},
    {"id": "2", "k": ["beta", "Alpha"], "ip": "192.0.2.5", "n": [{"a": "x"}, {"b": "y"}]},
    {"id": "3", "k": "", "ip": ["198.51.100.7", "2001:db8::1"]},
    {"id": "4", "ip": "203.0.113.1"},
    {"id": "5", "k": ["gamma"], "n": []},
]
PROBE_LISTS = {
    "nets": _value_list("nets", "ip_range", "10.0.0.0/8", "192.0.2.1-192.0.2.9", "198.51.100.7"),
    "hosts": _value_list("hosts", "ip", "203.0.113.1", "2001:db8::1"),
    "names": _value_list("names", "keyword", "alpha", "gamma"),
}
PROBE_ENTRIES = {
    "is": Entry("k", "match", "included", "alpha"),  # buildMatchClause
    "is not": Entry("k", "match", "excluded", "alpha"),  # buildExclusionClause around it
    "is one of": Entry("k", "match_any", "included", ("beta", "gamma")),  # getBaseMatchAnyClause
    "is not one of": Entry("k", "match_any", "excluded", ("beta", "gamma")),
    "exists": Entry("k", "exists", "included"),  # buildExistsClause
    "does not exist": Entry("k", "exists", "excluded"),
    "matches": Entry("k", "wildcard", "included", "?lph*"),  # buildMatchWildcardClause
    "does not match": Entry("k", "wildcard", "excluded", "?lph*"),
    "is in an ip_range list": Entry("ip", "list", "included", list_id="nets", list_type="ip_range"),  # buildListClause, buildIpRangeClauses
    "is not in an ip_range list": Entry("ip", "list", "excluded", list_id="nets", list_type="ip_range"),
    "is in an ip list": Entry("ip", "list", "included", list_id="hosts", list_type="ip"),  # buildListClause
    "is not in an ip list": Entry("ip", "list", "excluded", list_id="hosts", list_type="ip"),
    "is in a keyword list": Entry("k", "list", "included", list_id="names", list_type="keyword"),
    "is not in a keyword list": Entry("k", "list", "excluded", list_id="names", list_type="keyword"),
    "nested, both in one object": Entry("n", "nested", entries=(Entry("a", "match", "included", "x"), Entry("b", "exists"))),  # buildNestedClause
    "nested, is not": Entry("n", "nested", entries=(Entry("a", "match", "excluded", "x"),)),
}
# What Elasticsearch answers (checked against the node by the test below).
PROBE_EXPECTED = {
    "is": {"1"},  # case-sensitive on keyword, any value of an array
    "is not": {"2", "3", "4", "5"},
    "is one of": {"2", "5"},
    "is not one of": {"1", "3", "4"},
    "exists": {"1", "2", "3", "5"},  # "" is a value
    "does not exist": {"4"},
    "matches": {"1", "2"},  # ? is any one character: "Alpha" too
    "does not match": {"3", "4", "5"},
    "is in an ip_range list": {"1", "2", "3"},
    "is not in an ip_range list": {"4", "5"},
    "is in an ip list": {"3", "4"},
    "is not in an ip list": {"1", "2", "5"},
    "is in a keyword list": {"1", "5"},
    "is not in a keyword list": {"2", "3", "4"},
    "nested, both in one object": {"1"},  # doc 2 has both, but in two objects
    "nested, is not": {"2"},
}


def _offline_ids(clause: dict[str, Any]) -> set[str]:
    test = Searcher(PROBE_TYPES, now_ms=0, strict=False).compile(clause)
    return {d["id"] for d in PROBE_DOCS if test(d)}


@pytest.mark.parametrize("operator", list(PROBE_ENTRIES))
def test_each_operator_offline(operator):
    assert _offline_ids(item_clause(_item(PROBE_ENTRIES[operator]), PROBE_LISTS)) == PROBE_EXPECTED[operator]


@pytest.mark.es
def test_each_operator_on_the_real_node_matches_what_offline_answers(es_url):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    index = f"wgsiem-exceptions-{unique_namespace()}"
    client.indices.create(index=index, mappings={"properties": PROBE_MAPPING})
    for doc in PROBE_DOCS:
        client.index(index=index, id=doc["id"], document=doc)
    client.indices.refresh(index=index)
    try:
        for operator, entry in PROBE_ENTRIES.items():
            clause = item_clause(_item(entry), PROBE_LISTS)
            hits = client.search(index=index, query=clause, size=20)["hits"]["hits"]
            assert {h["_id"] for h in hits} == _offline_ids(clause) == PROBE_EXPECTED[operator], operator
        # Elasticsearch caps minimum_should_match at the should clauses there are: an
        # excluded ip_range list keeps its `minimum_should_match: 1` beside a must_not only.
        for clause, expected in (({"bool": {"must_not": [{"terms": {"ip": ["10.0.0.0/8"]}}], "minimum_should_match": 1}}, 4), ({"bool": {}}, 5)):
            assert client.count(index=index, query=clause)["count"] == expected == len(_offline_ids(clause))
    finally:
        client.indices.delete(index=index)
        client.close()


# --- an exception that removes one peer from one rule -----------------------------------------


def _tuning_for(rule_name: str, peer: str) -> Tuning:
    lst = _list(_item(Entry("wireguard.peer.name", "match", "included", peer)), rule_ids=(BY_NAME[rule_name].rule_id,))
    return Tuning((lst,), {})


def _by_rule(alerts: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in alerts:
        out.setdefault(a["kibana.alert.rule.name"], []).append(a["kibana.alert.uuid"])
    return out


@pytest.mark.parametrize("rule_name", [IMPOSSIBLE_TRAVEL, SEVERAL_PLACES], ids=["query", "threshold"])
def test_an_exception_removes_exactly_that_peers_alerts_of_that_rule(rule_name):
    events = load_events(STOLEN / "events.ndjson").events
    plain = _by_rule(run_rules(RULES, events).alerts)
    tuned = _by_rule(run_rules(RULES, events, tuning=_tuning_for(rule_name, "alice")).alerts)
    assert plain[rule_name]
    assert rule_name not in tuned
    assert {k: v for k, v in plain.items() if k != rule_name} == tuned
    # Another peer's exception changes nothing.
    assert _by_rule(run_rules(RULES, events, tuning=_tuning_for(rule_name, "bob")).alerts) == plain


def _expiring_for(rule_name: str, peer: str, expires: str) -> Tuning:
    from datetime import datetime

    ms = int(datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() * 1000)
    lst = _list(_item(Entry("wireguard.peer.name", "match", "included", peer), expire_ms=ms), rule_ids=(BY_NAME[rule_name].rule_id,))
    return Tuning((lst,), {})


def test_an_item_that_expires_mid_run_stops_applying_from_the_next_execution():
    """Impossible travel executes at 10:00, 10:05 and 10:10 with a 6-minute look-back. An item
    expiring at 10:03 still holds at 10:00 and no longer at 10:05, whose look-back then finds
    the 10:00 event the first execution left out: the same alerts, one of them later."""
    events = load_events(STOLEN / "events.ndjson").events
    rule = BY_NAME[IMPOSSIBLE_TRAVEL]
    plain = run_rules([rule], events).alerts
    tuned = run_rules([rule], events, tuning=_expiring_for(IMPOSSIBLE_TRAVEL, "alice", "2026-10-08T10:03:00Z")).alerts
    assert [a["kibana.alert.original_time"] for a in tuned] == [a["kibana.alert.original_time"] for a in plain]
    assert [a["kibana.alert.start"] for a in plain][0] == "2026-10-08T10:00:00.000Z"
    assert [a["kibana.alert.start"] for a in tuned][0] == "2026-10-08T10:05:00.000Z"
    # Expired before the first execution: no effect; expiring after the last: all gone.
    assert run_rules([rule], events, tuning=_expiring_for(IMPOSSIBLE_TRAVEL, "alice", "2026-10-08T09:00:00Z")).alerts == plain
    assert run_rules([rule], events, tuning=_expiring_for(IMPOSSIBLE_TRAVEL, "alice", "2026-10-09T00:00:00Z")).alerts == []


@pytest.mark.es
def test_on_the_cluster_the_exception_removes_the_same_alerts(es_templates):
    from elasticsearch import Elasticsearch

    from wgsiem.adapters.rule_searches import es_send

    client = Elasticsearch(es_templates, request_timeout=60)
    namespace = unique_namespace()
    docs = in_namespace(load_events(STOLEN / "events.ndjson").events, namespace)
    assert all(r.get("status") == 201 for r in bulk_create(client, docs, refresh="true"))
    indices = [f"logs-wireguard.*-{namespace}"]
    # Every operator in play at once, none of which matches alice's China events but one.
    lists = {"nets": _value_list("nets", "ip_range", "198.51.100.0/24", "175.16.0.0-175.16.255.255"), "who": _value_list("who", "keyword", "alice")}
    item = _item(
        Entry("wireguard.peer.name", "list", "included", list_id="who", list_type="keyword"),
        Entry("source.ip", "list", "included", list_id="nets", list_type="ip_range"),
        Entry("source.geo.country_iso_code", "match_any", "included", ("CN", "RU")),
        Entry("host.name", "wildcard", "included", "vpn*"),
        Entry("user.email", "exists", "included"),
        Entry("wireguard.peer.name", "match", "excluded", "bob"),
    )
    tuning = Tuning((_list(item, rule_ids=tuple(r.rule_id for r in RULES)),), lists)
    try:
        answers = {}
        travel = [BY_NAME[IMPOSSIBLE_TRAVEL]]
        tunings = (
            ("none", RULES, None),
            ("every operator", RULES, tuning),
            # Lists on one rule change no other rule's searches: that rule alone.
            ("alice off impossible travel", travel, _tuning_for(IMPOSSIBLE_TRAVEL, "alice")),
            ("expiring mid-run", travel, _expiring_for(IMPOSSIBLE_TRAVEL, "alice", "2026-10-08T10:03:00Z")),
        )
        for label, rules, tun in tunings:
            offline = run_rules(rules, docs, indices=indices, tuning=tun)
            cluster = run_rules_on_cluster(rules, es_send(client), indices=indices, tuning=tun)
            assert cluster.alerts == offline.alerts, label
            answers[label] = cluster.alerts
        # One peer off one rule on the cluster: exactly that rule's alerts go.
        assert _by_rule(answers["none"])[IMPOSSIBLE_TRAVEL] and answers["alice off impossible travel"] == []
        assert len(answers["expiring mid-run"]) == len(_by_rule(answers["none"])[IMPOSSIBLE_TRAVEL])
        plain_alerts, every = answers["none"], answers["every operator"]
        china = lambda a: (a.get("source") or {}).get("geo", {}).get("country_iso_code") == "CN"  # noqa: E731
        # The query rules lose exactly their alerts on alice's events from China; nothing else moves.
        query_rules = {r.name for r in RULES if r.type == "query"}
        assert any(china(a) for a in plain_alerts)
        assert [a["kibana.alert.uuid"] for a in every if a["kibana.alert.rule.name"] in query_rules] == [
            a["kibana.alert.uuid"] for a in plain_alerts if a["kibana.alert.rule.name"] in query_rules and not china(a)
        ]
    finally:
        client.close()


# --- the files ----------------------------------------------------------------------------------

EXCEPTION_FILE = """\
[metadata]
creation_date = "2026/12/05"
list_name = "alice travels"
rule_ids = ["{rule_id}"]
updated_date = "2026/12/05"

[[exceptions]]

[exceptions.container]
description = "Alice is in China for a conference this week."
list_id = "alice-travels"
name = "alice travels"
namespace_type = "single"
type = "detection"

[[exceptions.items]]
description = "alice from China, until the trip ends"
item_id = "alice-in-china"
list_id = "alice-travels"
name = "alice in China"
namespace_type = "single"
type = "simple"
{expire}
[[exceptions.items.entries]]
field = "wireguard.peer.name"
type = "match"
operator = "included"
value = "alice"

[[exceptions.items.entries]]
field = "source.ip"
type = "list"
operator = "included"
list = {{id = "conference-networks", type = "ip_range"}}
"""
VALUE_LIST_FILE = """\
[metadata]
creation_date = "2026/12/05"
updated_date = "2026/12/05"

[list]
id = "conference-networks"
name = "Conference networks"
description = "Where the conference's Wi-Fi comes from."
type = "ip_range"
values = ["175.16.0.0/16", "{extra}"]
"""


def _files(tmp_path: Path, rule: str = IMPOSSIBLE_TRAVEL, expire: str = "", extra: str = "198.51.100.100-198.51.100.120") -> tuple[Path, Path]:
    exceptions = tmp_path / "alice.toml"
    exceptions.write_text(EXCEPTION_FILE.format(rule_id=BY_NAME[rule].rule_id, expire=expire))
    value_list = tmp_path / "conference-networks.toml"
    value_list.write_text(VALUE_LIST_FILE.format(extra=extra))
    return exceptions, value_list


def test_rules_run_with_exceptions_leaves_out_what_they_except(tmp_path):
    exceptions, value_list = _files(tmp_path)
    events = str(STOLEN / "events.ndjson")
    plain = RUNNER.invoke(app, ["rules", "run", events])
    tuned = RUNNER.invoke(app, ["rules", "run", events, "--exceptions", str(exceptions), "--value-list", str(value_list)])
    assert plain.exit_code == 0 and tuned.exit_code == 0, tuned.output
    names = lambda out: [json.loads(line)["kibana.alert.rule.name"] for line in out.splitlines() if line.startswith("{")]  # noqa: E731
    assert names(plain.stdout).count(IMPOSSIBLE_TRAVEL) == 7
    # Impossible travel alerts on the event of each move: those in China are excepted.
    left = names(tuned.stdout)
    assert left.count(IMPOSSIBLE_TRAVEL) == 3  # the moves back to the Netherlands
    assert [n for n in left if n != IMPOSSIBLE_TRAVEL] == [n for n in names(plain.stdout) if n != IMPOSSIBLE_TRAVEL]
    # An item that expired before the executions is not applied.
    expired, _ = _files(tmp_path, expire='expire_time = "2026-10-01T00:00:00Z"')
    again = RUNNER.invoke(app, ["rules", "run", events, "--exceptions", str(expired), "--value-list", str(value_list)])
    assert names(again.stdout) == names(plain.stdout)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e, v: (e.replace('type = "match"', 'type = "equals"'), v), ":26: exceptions.0.items.0.entries.0.type: 'equals' is not one of"),
        (lambda e, v: (e.replace('list_id = "alice-travels"\nname = "alice in China"', 'list_id = "other"\nname = "alice in China"'), v), "alice.toml:19: exceptions.items.list_id: 'other' is not the container's"),
        (lambda e, v: (e, v.replace("175.16.0.0/16", "175.16.0.0/33")), "conference-networks.toml:10: list.values: '175.16.0.0/33' is not an address, a CIDR block"),
        (lambda e, v: (e, v.replace('type = "ip_range"', 'type = "keyword"')), "value list 'conference-networks' is of type keyword, not ip_range"),
        (lambda e, v: (e.replace("conference-networks", "nowhere"), v), "no value list 'nowhere'"),
    ],
    ids=["entry type", "item list_id", "value", "list type", "missing list"],
)
def test_bad_files_name_the_file_line_and_key(tmp_path, change, message):
    exceptions, value_list = _files(tmp_path)
    e, v = change(exceptions.read_text(), value_list.read_text())
    exceptions.write_text(e)
    value_list.write_text(v)
    with pytest.raises(ExceptionFileError) as caught:
        load_tuning(tmp_path / "none", [exceptions], [value_list])
    assert message in str(caught.value)
    result = RUNNER.invoke(app, ["rules", "run", str(STOLEN / "events.ndjson"), "--exceptions", str(exceptions), "--value-list", str(value_list)])
    assert result.exit_code == 2 and message in result.output


def test_the_repository_lists_load_and_validate():
    tuning = load_tuning(DETECTION_RULES)
    assert tuning.lists and all(lst.rule_ids for lst in tuning.lists)
    result = RUNNER.invoke(app, ["rules", "validate", "--no-scenarios"])
    assert result.exit_code == 0, result.output


def test_validate_names_an_exception_on_an_unknown_field(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(DETECTION_RULES, rules)
    path = rules / "exceptions" / "wireguard_large_transfer_volume_backups.toml"
    path.write_text(path.read_text().replace('field = "wireguard.peer.tags"', 'field = "wireguard.peer.tagz"'))
    result = RUNNER.invoke(app, ["rules", "validate", "--rules-dir", str(rules), "--no-scenarios"])
    assert result.exit_code == 1
    assert "field 'wireguard.peer.tagz' is not defined in ecs_mappings/" in result.output


# --- export and install -------------------------------------------------------------------------


def test_export_writes_the_lists_then_rules_that_name_them(tmp_path):
    exceptions, value_list = _files(tmp_path)
    out = tmp_path / "lists"
    result = RUNNER.invoke(
        app, ["rules", "export", "--exceptions", str(exceptions), "--value-list", str(value_list), "--value-lists-dir", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    lists = [o for o in lines if "list_id" in o and "item_id" not in o and "rule_id" not in o]
    items = [o for o in lines if "item_id" in o]
    rules = [o for o in lines if "rule_id" in o]
    shipped = load_tuning(DETECTION_RULES)
    assert {lst["list_id"] for lst in lists} == {"alice-travels", *(lst.list_id for lst in shipped.lists)}
    assert {i["item_id"] for i in items} == {"alice-in-china", *(i.item_id for lst in shipped.lists for i in lst.items)}
    assert "wgsiem-large-transfer-volume-exceptions" in {lst["list_id"] for lst in lists}
    travel = next(r for r in rules if r["name"] == IMPOSSIBLE_TRAVEL)
    assert [ref["list_id"] for ref in travel["exceptions_list"]] == ["alice-travels"]
    assert [ref["type"] for ref in travel["exceptions_list"]] == ["detection"]
    with_lists = {rid for lst in shipped.lists for rid in lst.rule_ids} | {BY_NAME[IMPOSSIBLE_TRAVEL].rule_id}
    assert {r["rule_id"] for r in rules if "exceptions_list" in r} == with_lists
    assert (out / "conference-networks.txt").read_text() == "175.16.0.0/16\n198.51.100.100-198.51.100.120\n"
    from wgsiem.rules.kibana_schema import exception_object_problems

    assert all(not exception_object_problems(o) for o in lists + items)


def test_install_creates_value_lists_exception_lists_and_rules_through_kibanas_apis(tmp_path):
    from tests.support.kibana_stub import KibanaStub

    exceptions, value_list = _files(tmp_path)
    key = tmp_path / "key"
    key.write_text("secret-key")
    with KibanaStub(api_key="secret-key") as kibana:
        args = ["rules", "install", "--kibana", kibana.url, "--api-key-file", str(key), "--exceptions", str(exceptions), "--value-list", str(value_list)]
        first = RUNNER.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "value list conference-networks (ip_range, 2 values): created" in first.stdout
        shipped = load_tuning(DETECTION_RULES)
        n_lists, n_items = len(shipped.lists) + 1, sum(len(lst.items) for lst in shipped.lists) + 1
        assert f"imported {n_lists} exception lists and {n_items} items" in first.stdout
        assert kibana.value_lists["default"]["conference-networks"] == {"type": "ip_range", "values": ["175.16.0.0/16", "198.51.100.100-198.51.100.120"]}
        assert set(kibana.exception_lists["default"]) == {"alice-travels", *(lst.list_id for lst in shipped.lists)}
        assert kibana.value_lists["default"]["wgsiem-sensitive-networks"]["values"] == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
        travel = kibana.installed["default"][BY_NAME[IMPOSSIBLE_TRAVEL].rule_id]
        assert [ref["list_id"] for ref in travel["exceptions_list"]] == ["alice-travels"]
        # Again without --overwrite: everything is there and stays; again with it, replaced.
        second = RUNNER.invoke(app, args)
        assert "value list conference-networks (ip_range, 2 values): kept" in second.stdout
        assert "409" in second.output and second.exit_code == 1  # lists and rules exist: reported, kept
        third = RUNNER.invoke(app, [*args, "--overwrite"])
        assert third.exit_code == 0, third.output
        assert "values imported into the existing list" in third.stdout
        # Value lists before the exceptions that name them, exceptions before the rules.
        paths = [r.path.split("?")[0] for r in kibana.requests]
        value_lists = ["/api/lists", "/api/lists/items/_import"] * (len(shipped.value_lists) + 1)
        assert paths[: len(value_lists) + 3] == ["/api/lists/index", *value_lists, "/api/exception_lists/_import", IMPORT_PATH]
        # A space that does not exist: refused before anything is written into it.
        before = len(kibana.requests)
        nowhere = RUNNER.invoke(app, [*args, "--space", "nosuch"])
        assert nowhere.exit_code == 2 and "nosuch" in nowhere.output
        assert [r.path for r in kibana.requests[before:]] == ["/api/spaces/space/nosuch"]
        assert "nosuch" not in kibana.value_lists and "nosuch" not in kibana.exception_lists


def test_an_ip_range_list_kibana_would_not_search_is_refused(tmp_path):
    """buildListClause leaves out an ip_range list of more than 200 `first-last` values, and
    a single address is one (Kibana reads it back as `a-a`)."""
    _, value_list = _files(tmp_path)
    addresses = ", ".join(f'"192.0.2.{i % 250}"' if i < 250 else f'"198.51.100.{i - 250}"' for i in range(201))
    value_list.write_text(value_list.read_text().replace('values = ["175.16.0.0/16", "198.51.100.100-198.51.100.120"]', f"values = [{addresses}]"))
    with pytest.raises(ExceptionFileError, match="201 'first-last' ranges"):
        load_tuning(tmp_path / "none", [], [value_list])


def test_a_file_that_is_not_utf8_is_an_error_not_a_traceback(tmp_path):
    exceptions, value_list = _files(tmp_path)
    exceptions.write_bytes(exceptions.read_bytes().replace(b"Alice is", b"Alice \xe9tait"))
    result = RUNNER.invoke(app, ["rules", "run", str(STOLEN / "events.ndjson"), "--exceptions", str(exceptions), "--value-list", str(value_list)])
    assert result.exit_code == 2 and "not UTF-8" in result.output and "Traceback" not in result.output


def test_a_value_list_on_a_field_of_another_kind_names_the_file_and_item(tmp_path):
    exceptions, value_list = _files(tmp_path)
    value_list.write_text(value_list.read_text().replace('type = "ip_range"', 'type = "keyword"').replace("175.16.0.0/16", "alice"))
    exceptions.write_text(exceptions.read_text().replace('type = "ip_range"}', 'type = "keyword"}'))
    for command in (["rules", "export"], ["rules", "run", str(STOLEN / "events.ndjson")]):
        result = RUNNER.invoke(app, [*command, "--exceptions", str(exceptions), "--value-list", str(value_list)])
        assert result.exit_code == 2, result.output
        assert f"{exceptions}: item alice-in-china: a keyword list on source.ip, whose type is ip" in result.output


# --- the networks the flow rules judge ------------------------------------------------------------

NEW_HOST = "WireGuard Peer Reaching a New Internal Host"
SENSITIVE = "wgsiem-sensitive-networks"
# The rules whose queries keep to the private ranges, so that installed from the integration
# package (no exception lists) they still leave a full-tunnel peer's internet alone.
INTERNAL_FLOW_RULES = (
    "wireguard_flow_internal_host_sweep", "wireguard_flow_internal_port_scan", "wireguard_flow_large_pull_from_internal_host",
    "wireguard_flow_new_internal_destination",
)  # fmt: skip


def _sensitive_networks(*values: str) -> Tuning:
    """The shipped lists, with wgsiem-sensitive-networks holding `values` instead."""
    shipped = load_tuning(DETECTION_RULES)
    return Tuning(shipped.lists, {**shipped.value_lists, SENSITIVE: _value_list(SENSITIVE, "ip_range", *values)})


def _new_host_case(name: str = "fires") -> Case:
    return next(c for c in load_cases(CASES / "wireguard_flow_new_internal_destination.yaml") if c.name == name)


def test_narrowing_the_sensitive_networks_narrows_the_new_host_rule_and_no_other() -> None:
    """docs/tuning.md: the value list chooses which first visits alert; the other flow rules
    have no exception list, so a narrowed list leaves their alerts as they were."""
    rule, case = BY_NAME[NEW_HOST], _new_host_case()

    def alerts(tuning: Tuning) -> list[Any]:
        return [a["kibana.alert.new_terms"] for a in run_rules([rule], case.events, start=case.start, end=case.end, tuning=tuning).alerts]

    database = ["K9gGyX8OAK8aH8Myj6djqSaXI8jbj6xPk69x2xhtbpA=", "10.30.5.20"]
    assert alerts(load_tuning(DETECTION_RULES)) == alerts(_sensitive_networks("10.30.0.0/16", "fd10:30::/48")) == [database]
    assert alerts(_sensitive_networks("10.9.0.0/24", "10.9.1.10-10.9.1.40")) == []
    narrowed = _sensitive_networks("10.9.0.0/24")
    for stem in INTERNAL_FLOW_RULES[:3]:
        other = next(r for r in RULES if r.path.stem == stem)
        for c in load_cases(CASES / f"{stem}.yaml"):
            assert len(run_rules([other], c.events, start=c.start, end=c.end, tuning=narrowed).alerts) == c.alerts, (stem, c.name)


def test_an_internal_range_that_is_not_private_needs_the_query_as_well_as_the_value_list() -> None:
    """docs/tuning.md: the value list only narrows what the query judges. 100.64.0.0/10 in the
    list alone alerts on nothing; added to a copy of the rule's query, it alerts."""
    rule, case = BY_NAME[NEW_HOST], _new_host_case()
    events = json.loads(json.dumps(case.events).replace('"10.30.5.20"', '"100.64.5.20"'))
    tuning = _sensitive_networks("10.0.0.0/8", "100.64.0.0/10")
    assert run_rules([rule], events, start=case.start, end=case.end, tuning=tuning).alerts == []
    widened = dataclasses.replace(rule, query=rule.query.replace('"fc00::/7")', '"fc00::/7" or "100.64.0.0/10")'))
    assert widened.query != rule.query
    found = run_rules([widened], events, start=case.start, end=case.end, tuning=tuning).alerts
    assert [a["kibana.alert.new_terms"] for a in found] == [["K9gGyX8OAK8aH8Myj6djqSaXI8jbj6xPk69x2xhtbpA=", "100.64.5.20"]]


@pytest.mark.es
def test_on_the_node_the_flow_rules_keep_to_internal_destinations_without_exception_lists(es_templates: str) -> None:
    """The integration package's install path: no exception lists. Each case of the rules that
    judge internal destinations gives the expected alerts on the real node, as offline (their
    queries' CIDR values on destination.ip are match_phrase queries Elasticsearch answers by
    address range); and a narrowed sensitive-networks list on the node as offline."""
    from elasticsearch import Elasticsearch

    from wgsiem.adapters.rule_searches import es_send

    client = Elasticsearch(es_templates, request_timeout=60)
    runs = []
    for stem in INTERNAL_FLOW_RULES:
        rule = next(r for r in RULES if r.path.stem == stem)
        for case in load_cases(CASES / f"{stem}.yaml"):
            namespace = unique_namespace()
            runs.append((rule, case, in_namespace(case.events, namespace), [f"logs-wireguard.*-{namespace}"]))
    try:
        failed = [r for r in bulk_create(client, [d for _, _, docs, _ in runs for d in docs], refresh="true") if r.get("status") != 201]
        assert not failed, failed[:3]
        for rule, case, docs, indices in runs:
            offline = run_rules([rule], docs, start=case.start, end=case.end, indices=indices, tuning=Tuning())
            cluster = run_rules_on_cluster([rule], es_send(client), start=case.start, end=case.end, indices=indices, tuning=Tuning())
            assert cluster.alerts == offline.alerts, f"{rule.name} / {case.name}"
            assert len(cluster.alerts) == case.alerts, f"{rule.name} / {case.name}"
        rule, case, docs, indices = next(r for r in runs if r[0].name == NEW_HOST and r[1].name == "fires")
        for values, expected in ((("10.30.0.0/16",), 1), (("10.9.0.0/24",), 0)):
            tuning = _sensitive_networks(*values)
            offline = run_rules([rule], docs, start=case.start, end=case.end, indices=indices, tuning=tuning)
            cluster = run_rules_on_cluster([rule], es_send(client), start=case.start, end=case.end, indices=indices, tuning=tuning)
            assert cluster.alerts == offline.alerts and len(cluster.alerts) == expected, values
    finally:
        client.close()
