"""Queries on any data: `wgsiem query` and `wgsiem rules run` type the fields neither
ecs_mappings/ nor --schema defines from the events, as Elasticsearch's default dynamic
mapping would (wgsiem/kql/dynamic.py), with one warning; --schema wins over ecs_mappings/
where they disagree. The `es` test checks the types and the answers against a real
index created without mappings."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wgsiem.cli import app
from wgsiem.content import DETECTION_RULES
from wgsiem.kql import FieldTypes, KqlFieldError, compile_query
from wgsiem.kql.dynamic import dynamic_fields, fields_beyond
from wgsiem.kql.grammar import parse

RUNNER = CliRunner()

EVENTS = [
    {"@timestamp": "2026-03-01T10:00:00Z", "event": {"action": "login"},
     "custom": {"name": "Alice Smith", "count": 5, "ratio": 0.5, "active": True, "seen": "2026-02-27T08:00:00Z",
                "day": "2026/02/27", "code": "12345", "mixed": "abc", "geo": {"city": "Lyon", "zip": "69001"}}},
    {"@timestamp": "2026-03-01T11:00:00Z", "event": {"action": "login"},
     "custom": {"name": "Bob Alice", "count": 50, "ratio": 2, "active": False, "seen": "2026-03-02T08:00:00Z",
                "day": "2026/03/02 10:00:00", "code": "777", "mixed": 5, "geo": {"city": "Paris"}, "empty": None}},
    {"@timestamp": "2026-03-01T12:00:00Z", "event": {"action": "logout"}, "custom.name": "alice smith jr",
     "custom": {"count": "7", "seen": None, "tags": [None, "blue sky"], "empty": []}},
]  # fmt: skip

# KQL -> the events Elasticsearch returns for it from an index that mapped EVENTS dynamically.
EXPECTED = {
    'custom.name:"Alice Smith"': 2,  # text: a phrase, analysed (the third has it lowercased)
    "custom.name:alice": 3,  # text: any token
    'custom.name.keyword:"Alice Smith"': 1,  # the keyword multi-field: exact
    "custom.name.keyword:alice*": 1,
    "custom.count >= 7": 2,  # long (the string "7" is coerced)
    "custom.count:5": 1,
    "custom.ratio > 1": 1,  # float, though the second event's value is whole
    "custom.active:true": 1,  # boolean
    'custom.seen >= "2026-03-01"': 1,  # detected date, strict_date_optional_time
    'custom.seen:"2026-02-27"': 1,  # a date's day
    'custom.day < "2026/03/01"': 1,  # detected date, yyyy/MM/dd
    "custom.day >= 1772445600000": 1,  # ... and epoch_millis
    "custom.code:12345": 1,  # a numeric string stays text (numeric_detection is off)
    "custom.code > 2000": 1,  # ... so its range compares terms: "777" > "2000" > "12345"
    "custom.mixed:5": 1,  # the first value ("abc") made it text; 5 is indexed as "5"
    "custom.geo.city:lyon": 1,  # an object's leaves are typed too
    "custom.tags:sky": 1,  # an array: its first non-null value decides
    "custom.geo:*": 2,
    "custom:*": 3,
    "lyon": 1,  # free text expands over every field, the dynamic ones too
    "custom.geo.*:paris": 1,  # a name pattern too
}


def cli(*args: str, input: str | None = None):  # noqa: A002
    return RUNNER.invoke(app, list(args), input=input)


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return path


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning:" in line]


# -- the types -------------------------------------------------------------------------------


def test_fields_are_typed_as_elasticsearch_s_dynamic_mapping_types_them():
    found = dynamic_fields(EVENTS, FieldTypes.default())
    types = {name: (info.type, info.source, info.ignore_above, info.format) for name, info in found.items()}
    assert types == {
        "custom.name": ("text", "custom.name", None, None),
        "custom.name.keyword": ("keyword", "custom.name", 256, None),
        "custom.count": ("long", "custom.count", None, None),
        "custom.ratio": ("float", "custom.ratio", None, None),
        "custom.active": ("boolean", "custom.active", None, None),
        "custom.seen": ("date", "custom.seen", None, None),
        "custom.day": ("date", "custom.day", None, "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"),
        "custom.code": ("text", "custom.code", None, None),
        "custom.code.keyword": ("keyword", "custom.code", 256, None),
        "custom.mixed": ("text", "custom.mixed", None, None),
        "custom.mixed.keyword": ("keyword", "custom.mixed", 256, None),
        "custom.geo.city": ("text", "custom.geo.city", None, None),
        "custom.geo.city.keyword": ("keyword", "custom.geo.city", 256, None),
        "custom.geo.zip": ("text", "custom.geo.zip", None, None),
        "custom.geo.zip.keyword": ("keyword", "custom.geo.zip", 256, None),
        "custom.tags": ("text", "custom.tags", None, None),
        "custom.tags.keyword": ("keyword", "custom.tags", 256, None),
    }
    # Known fields are not retyped; only null and [] seen: no field (custom.empty).
    assert "@timestamp" not in found and "event.action" not in found and "custom.empty" not in found


@pytest.mark.parametrize(
    ("value", "es_type"),
    [
        ("2026-03", "date"), ("2026-03-05T10:15:30.5+01:00", "date"), ("2015/09/02", "date"),
        ("2015/09/02 23:59:59", "date"), ("2015/02/30", "text"), ("2015-9-2", "text"), ("2015/09/02 10:00", "text"),
        ("2026", "text"), ("1e3", "text"), ("-12", "text"), ("NaN", "text"), ("yesterday", "text"),
    ],
)  # fmt: skip
def test_date_detection_skips_numbers_and_takes_the_default_dynamic_date_formats(value: str, es_type: str):
    assert dynamic_fields([{"x": value}], FieldTypes.default())["x"].type == es_type


def test_a_named_field_is_typed_from_its_outermost_unknown_object_only():
    known = FieldTypes.default()
    only = dynamic_fields(EVENTS, known, ["custom.name.keyword"])
    assert set(only) == set(dynamic_fields(EVENTS, known))  # all of `custom`, as a walk would find it
    assert dynamic_fields([{"host": {"name": {"x": 1}}, "other": 1}], known, ["host.name.x"]) == {}  # under a keyword
    assert fields_beyond(parse("custom.a:1 and event.action:x and host:*"), known) == {"custom.a"}
    assert fields_beyond(parse("custom.*:1"), known) is None and fields_beyond(parse("alice"), known) is None
    assert fields_beyond(parse("*:*"), known) == set()


def test_a_later_value_that_does_not_fit_is_not_indexed():
    docs = [{"n": 1}, {"n": "many"}, {"n": "12"}]
    types = FieldTypes.default().with_fields(dynamic_fields(docs, FieldTypes.default()))
    assert [compile_query("n:*", types).matches(d) for d in docs] == [True, False, True]


def test_a_slash_date_field_refuses_an_iso_value_as_elasticsearch_does():
    types = FieldTypes.default().with_fields(dynamic_fields(EVENTS, FieldTypes.default()))
    with pytest.raises(KqlFieldError, match=re.escape("with format [yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis]")):
        compile_query('custom.day < "2026-03-01"', types)


# -- wgsiem query ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kql", "count"), EXPECTED.items())
def test_query_matches_unknown_fields_as_elasticsearch_would(events: Path, kql: str, count: int):
    result = cli("query", kql, str(events), "--count")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(count)


def test_query_warns_once_naming_the_fields_typed_from_the_events(events: Path):
    result = cli("query", "custom.name:alice and custom.count >= 5 and custom.day:* and event.action:login", str(events))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["custom"]["count"] for line in result.stdout.splitlines()] == [5, 50]
    (warning,) = _warnings(result.stderr)
    assert str(events) in warning and "Elasticsearch's dynamic mapping" in warning
    assert "custom.name (text)" in warning and "custom.count (long)" in warning
    assert "custom.day (date, yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis)" in warning
    assert "event.action" not in warning and "custom.ratio" not in warning  # known, or not read


def test_query_on_known_fields_only_gives_no_warning(events: Path):
    result = cli("query", "event.action:login", str(events), "--count")
    assert result.stdout.strip() == "2" and _warnings(result.stderr) == []


def test_a_field_no_event_has_a_value_for_stays_an_error(events: Path):
    for kql in ("custom.empty:1", "nowhere:1"):
        result = cli("query", kql, str(events))
        assert result.exit_code == 2 and f"unknown field '{kql[:-2]}'" in result.stderr


def test_dsl_with_events_is_the_query_kibana_sends_on_the_dynamic_types(events: Path):
    def dsl(kql: str) -> dict[str, Any]:
        result = cli("query", kql, str(events), "--dsl")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["bool"]["should"][0]

    assert dsl('custom.name:"Alice Smith"') == {"match_phrase": {"custom.name": "Alice Smith"}}
    assert dsl('custom.name.keyword:"Alice Smith"') == {"term": {"custom.name.keyword": {"value": "Alice Smith"}}}
    assert dsl("custom.seen < 2026-03-01") == {"range": {"custom.seen": {"lt": "2026-03-01", "time_zone": "Zulu"}}}
    # Without events nothing types the field: as before, an error.
    assert cli("query", "custom.name:alice", "--dsl").exit_code == 2


def test_the_index_option_types_from_the_events_it_searches(tmp_path: Path):
    path = tmp_path / "events.ndjson"
    docs = [{"@timestamp": "2026-03-01T10:00:00Z", "data_stream": {"type": "logs", "dataset": "a", "namespace": "x"}, "v": "text"},
            {"@timestamp": "2026-03-01T10:00:00Z", "data_stream": {"type": "logs", "dataset": "b", "namespace": "x"}, "v": 3}]  # fmt: skip
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    result = cli("query", "v >= 2", str(path), "--index", "logs-b-*")
    assert result.exit_code == 0 and "v (long)" in result.stderr and len(result.stdout.splitlines()) == 1


# -- --schema wins -----------------------------------------------------------------------------


def test_a_schema_disagreeing_with_ecs_mappings_is_used(tmp_path: Path):
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps({"@timestamp": "2026-03-01T10:00:00Z", "wireguard": {"interface": "wg0"}}) + "\n")
    schema = tmp_path / "fields.json"
    schema.write_text('{"wireguard.interface": "keyword"}')
    result = cli("query", "wireguard.interface:wg0", str(path), "--schema", str(schema), "--count")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1" and _warnings(result.stderr) == []
    # Without the schema ecs_mappings/ has wireguard.interface as an object.
    assert cli("query", "wireguard.interface:wg0", str(path)).exit_code == 2


def test_a_schema_types_what_would_be_typed_dynamically(events: Path, tmp_path: Path):
    schema = tmp_path / "fields.json"
    schema.write_text('{"custom.name": "keyword", "host.name": "text"}')
    result = cli("query", 'custom.name:"Alice Smith" or custom.name:alice', str(events), "--schema", str(schema), "--count")
    assert result.stdout.strip() == "1" and _warnings(result.stderr) == []


# -- wgsiem rules run --------------------------------------------------------------------------


def _rules_dir(tmp_path: Path, queries: dict[str, str]) -> Path:
    """A folder of query rules made from a repository rule: name -> KQL, over logs-*."""
    template = (DETECTION_RULES / "wireguard_change_outside_window.toml").read_text()
    folder = tmp_path / "rules"
    folder.mkdir()
    for i, (name, kql) in enumerate(queries.items()):
        text = re.sub(r"query = '''.*?'''", lambda _, kql=kql: f"query = '''\n{kql}\n'''", template, flags=re.S)
        text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
        text = re.sub(r'(?m)^rule_id = ".*"$', f'rule_id = "00000000-0000-4000-8000-00000000000{i}"', text)
        text = text.replace('index = ["logs-wireguard.*"]', 'index = ["logs-*"]')
        (folder / f"custom_{i}.toml").write_text(text)
    return folder


def test_rules_run_types_unknown_fields_from_the_events_with_one_warning(events: Path, tmp_path: Path):
    folder = _rules_dir(tmp_path, {
        "Alice Smith": 'custom.name:"alice smith" and custom.count >= 5',
        "Recently seen": 'custom.seen >= "2026-03-01" and custom.active:false',
    })  # fmt: skip
    result = cli("rules", "run", str(events), "--rules-dir", str(folder), "--start", "2026-03-01T10:00:00Z")
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((a["kibana.alert.rule.name"], a["kibana.alert.original_time"]) for a in alerts) == [
        ("Alice Smith", "2026-03-01T10:00:00.000Z"),  # the third's count "7" is long 7, but its name "alice smith jr" ...
        ("Alice Smith", "2026-03-01T12:00:00.000Z"),  # ... matches the phrase too
        ("Recently seen", "2026-03-01T11:00:00.000Z"),
    ]
    (warning,) = _warnings(result.stderr)
    for field in ("custom.name (text)", "custom.count (long)", "custom.seen (date)", "custom.active (boolean)"):
        assert field in warning


def test_a_threshold_rule_groups_by_a_dynamic_keyword_multi_field(tmp_path: Path):
    template = (DETECTION_RULES / "wireguard_handshake_flood.toml").read_text()
    text = re.sub(r"query = '''.*?'''", "query = '''\nevent.action:login\n'''", template, flags=re.S)
    text = re.sub(r'(?m)^field = \["source.ip"\]$', 'field = ["custom.user.keyword"]', text)
    text = re.sub(r"(?m)^value = 100$", "value = 2", text).replace('index = ["logs-wireguard.*"]', 'index = ["logs-*"]')
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "logins.toml").write_text(text)
    path = tmp_path / "events.ndjson"
    users = ["Alice Smith", "Bob", "Alice Smith", "x" * 300, "x" * 300]  # longer than ignore_above 256: no term
    path.write_text("".join(
        json.dumps({"@timestamp": f"2026-03-01T10:00:{i:02d}Z", "event": {"action": "login"}, "custom": {"user": u}}) + "\n"
        for i, u in enumerate(users)
    ))  # fmt: skip
    result = cli("rules", "run", str(path), "--rules-dir", str(folder))
    assert result.exit_code == 0, result.output
    (alert,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert alert["kibana.alert.threshold_result"]["terms"] == [{"field": "custom.user.keyword", "value": "Alice Smith"}]
    (warning,) = _warnings(result.stderr)
    assert "custom.user.keyword (keyword)" in warning


# -- Elasticsearch: the same types and answers from an index without mappings ----------------


def _es_types(properties: dict[str, Any], prefix: str = "") -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for name, spec in properties.items():
        full = prefix + name
        if "properties" in spec:
            out.update(_es_types(spec["properties"], full + "."))
            continue
        out[full] = (spec["type"], spec.get("format"))
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{full}.{sub}"] = (sub_spec["type"], None)
    return out


@pytest.mark.es
def test_an_index_without_mappings_types_and_answers_as_offline(es_url: str, events: Path):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    index = "wgsiem-dynamic-" + secrets.token_hex(6)  # no template matches it
    try:
        lines = [line for e in EVENTS for line in (json.dumps({"create": {"_index": index}}), json.dumps(e))]
        headers = {"content-type": "application/x-ndjson", "accept": "application/json"}
        reply = client.perform_request("POST", "/_bulk?refresh=wait_for", headers=headers, body="\n".join(lines) + "\n").body
        assert not reply["errors"], reply["items"]
        mapping = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        ours = dynamic_fields(EVENTS, FieldTypes.default())
        offline = {n: (i.type, i.format) for n, i in ours.items()}
        theirs = {n: (t, None if f == "strict_date_optional_time||epoch_millis" else f) for n, (t, f) in _es_types(mapping).items()}
        assert {n: t for n, t in theirs.items() if n.startswith("custom.")} == offline
        for kql, count in EXPECTED.items():
            dsl = json.loads(cli("query", kql, str(events), "--dsl").stdout)
            assert client.count(index=index, query=dsl)["count"] == count, kql
            # With --es the cluster's own mapping types the fields: the same answers.
            answer = cli("query", kql, "--es", es_url, "--index", index, "--count")
            assert answer.exit_code == 0, answer.output
            assert answer.stdout.strip() == str(count), kql
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()
