"""The Kibana rule import schema and the checks built on it: what Kibana would take, what
it would refuse, and that every problem says where."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.kibana_rules import MITRE_PERSISTENCE, NEW_TERMS_RULE, QUERY_RULE, THRESHOLD_RULE
from wgsiem.rules.kibana_schema import load_schema, ndjson_problems, rule_problems


def _with(rule: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(rule)
    changed.update(changes)
    return changed


def _without(rule: dict[str, Any], *keys: str) -> dict[str, Any]:
    changed = copy.deepcopy(rule)
    for key in keys:
        del changed[key]
    return changed


def test_the_schema_is_a_valid_draft_2020_12_schema_naming_its_sources() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "rule_to_import.ts @ " in schema["$comment"]
    assert "rule_schemas.schema.yaml @ " in schema["$comment"]
    # A fresh copy each time: changing one must not change what the checks use.
    schema["required"].clear()
    assert "name" in load_schema()["required"]


@pytest.mark.parametrize("rule", [QUERY_RULE, THRESHOLD_RULE, NEW_TERMS_RULE], ids=lambda r: r["type"])
def test_realistic_rules_pass(rule: dict[str, Any]) -> None:
    assert rule_problems(rule) == []
    assert rule_problems(rule, strict=True) == []


def test_the_other_rule_types_pass_with_their_own_fields() -> None:
    eql = _with(QUERY_RULE, type="eql", language="eql", query='sequence by host.name [process where true]')
    esql = _with(_without(QUERY_RULE, "index"), type="esql", language="esql", query="FROM logs-wireguard.* | LIMIT 10")
    ml = _with(
        _without(QUERY_RULE, "query", "language", "index"),
        type="machine_learning",
        anomaly_threshold=75,
        machine_learning_job_id=["wg_rare_endpoint"],
    )
    saved = _with(QUERY_RULE, type="saved_query", saved_id="wg-saved-search")
    match = _with(
        QUERY_RULE,
        type="threat_match",
        threat_query="threat.indicator.type: ipv4-addr",
        threat_index=["logs-ti_*"],
        threat_mapping=[{"entries": [{"field": "source.ip", "type": "mapping", "value": "threat.indicator.ip"}]}],
    )
    for rule in (eql, esql, ml, saved, match):
        assert rule_problems(rule, strict=True) == [], rule["type"]


MISTAKES = [
    pytest.param(_without(QUERY_RULE, "name"), "name: missing (required)", id="no-name"),
    pytest.param(_without(QUERY_RULE, "description"), "description: missing (required)", id="no-description"),
    pytest.param(_without(QUERY_RULE, "risk_score"), "risk_score: missing (required)", id="no-risk-score"),
    pytest.param(_without(QUERY_RULE, "severity"), "severity: missing (required)", id="no-severity"),
    pytest.param(_without(QUERY_RULE, "rule_id"), "rule_id: missing (required)", id="no-rule-id"),
    pytest.param(_with(QUERY_RULE, name=""), "name: '' should be non-empty", id="empty-name"),
    pytest.param(_with(QUERY_RULE, severity="urgent"), "severity: 'urgent' is not one of", id="bad-severity"),
    pytest.param(_with(QUERY_RULE, risk_score=101), "risk_score: 101 is greater than the maximum of 100", id="risk101"),
    pytest.param(_with(QUERY_RULE, risk_score="47"), "risk_score: '47' is not of type 'integer'", id="risk-string"),
    pytest.param(_with(QUERY_RULE, language="eql"), "language: 'eql' is not one of ['kuery', 'lucene']", id="kql-eql"),
    pytest.param(_with(QUERY_RULE, type="sigma"), "type: 'sigma' is not one of", id="unknown-type"),
    pytest.param(_with(QUERY_RULE, max_signals=0), "max_signals: 0 is less than the minimum of 1", id="max-signals-0"),
    pytest.param(_with(QUERY_RULE, tags="WireGuard"), "tags: 'WireGuard' is not of type 'array'", id="tags-string"),
    pytest.param(_with(QUERY_RULE, enabled="yes"), "enabled: 'yes' is not of type 'boolean'", id="enabled-string"),
    pytest.param(_with(QUERY_RULE, interval=5), "interval: 5 is not of type 'string'", id="interval-number"),
    pytest.param(_with(QUERY_RULE, **{"from": "6 minutes ago"}), "from: '6 minutes ago' is not date math", id="from"),
    pytest.param(_with(QUERY_RULE, throttle="0h"), "throttle: '0h' is not an interval such as 1h", id="throttle"),
    pytest.param(
        _with(QUERY_RULE, timeline_id="wg-timeline"),
        "timeline_title: missing (required when timeline_id is set)",
        id="timeline-pair",
    ),
    pytest.param(
        _without(THRESHOLD_RULE, "threshold") | {"threshold": {"field": ["source.ip"]}},
        "threshold.value: missing (required)",
        id="threshold-no-value",
    ),
    pytest.param(
        _with(THRESHOLD_RULE, threshold={"field": "source.ip", "value": 0}),
        "threshold.value: 0 is less than the minimum of 1",
        id="threshold-value-0",
    ),
    pytest.param(
        _with(THRESHOLD_RULE, threshold={"field": "source.ip", "value": 5, "cardinality": {"field": "a", "value": 2}}),
        "threshold.cardinality: {'field': 'a', 'value': 2} is not of type 'array'",
        id="cardinality-object",
    ),
    pytest.param(
        _with(THRESHOLD_RULE, threshold={"field": "source.ip", "value": 5, "cardinality": [{"field": "a"}]}),
        "threshold.cardinality[0].value: missing (required)",
        id="cardinality-no-value",
    ),
    pytest.param(
        _with(THRESHOLD_RULE, threshold={"field": [f"f{i}" for i in range(6)], "value": 5}),
        "threshold.field: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'] is too long",
        id="threshold-six-fields",
    ),
    pytest.param(
        _with(THRESHOLD_RULE, threshold={"field": 7, "value": 5}),
        "threshold.field: 7 is not of type 'string' or 'array'",
        id="threshold-field-number",
    ),
    pytest.param(
        _with(
            THRESHOLD_RULE,
            threshold={"field": ["source.ip"], "value": 5, "cardinality": [{"field": "source.ip", "value": 2}]},
        ),
        "threshold.cardinality[0].field: 'source.ip' is (part of) a field grouped by",
        id="cardinality-of-grouped-field",
    ),
    pytest.param(
        _with(NEW_TERMS_RULE, new_terms_fields=["a", "b", "c", "d"]),
        "new_terms_fields: ['a', 'b', 'c', 'd'] is too long",
        id="new-terms-4",
    ),
    pytest.param(_with(NEW_TERMS_RULE, new_terms_fields=[]), "new_terms_fields: [] should be non-empty", id="nt-0"),
    pytest.param(
        _with(NEW_TERMS_RULE, history_window_start="  "),
        "history_window_start: '  ' is not a non-blank string",
        id="history-blank",
    ),
    pytest.param(_without(NEW_TERMS_RULE, "history_window_start"), "history_window_start: missing (required)", id="nohw"),
    pytest.param(
        _with(QUERY_RULE, threat=[{"framework": "MITRE ATT&CK", "tactic": "Persistence"}]),
        "threat[0].tactic: 'Persistence' is not of type 'object'",
        id="tactic-string",
    ),
    pytest.param(
        _with(QUERY_RULE, threat=[{"tactic": MITRE_PERSISTENCE["tactic"]}]),
        "threat[0].framework: missing (required)",
        id="threat-no-framework",
    ),
    pytest.param(
        _with(QUERY_RULE, threat=[{**MITRE_PERSISTENCE, "technique": MITRE_PERSISTENCE["technique"][0]}]),
        "threat[0].technique: {",
        id="technique-not-a-list",
    ),
    pytest.param(
        _with(
            QUERY_RULE,
            threat=[
                {
                    **MITRE_PERSISTENCE,
                    "technique": [
                        MITRE_PERSISTENCE["technique"][0],
                        {"id": "T1133", "name": "External Remote Services"},
                    ],
                }
            ],
        ),
        "threat[0].technique[1].reference: missing (required)",
        id="technique-no-reference",
    ),
    pytest.param(
        _with(QUERY_RULE, related_integrations=[{"package": "wireguard", "version": " "}]),
        "related_integrations[0].version: ' ' is not a non-blank string",
        id="integration-version-blank",
    ),
    pytest.param(_with(QUERY_RULE, id="not-a-uuid"), "id: 'not-a-uuid' is not a UUID", id="id-not-uuid"),
]


@pytest.mark.parametrize(("rule", "expected"), MISTAKES)
def test_each_mistake_is_named_with_its_path(rule: dict[str, Any], expected: str) -> None:
    problems = rule_problems(rule)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_several_mistakes_are_all_reported() -> None:
    rule = _with(_without(QUERY_RULE, "name", "severity"), risk_score=-1)
    assert rule_problems(rule) == [
        "name: missing (required)",
        "severity: missing (required)",
        "risk_score: -1 is less than the minimum of 0",
    ]


def test_unknown_keys_pass_like_kibana_and_strict_names_them() -> None:
    # Kibana's zod objects strip what they do not know: the import succeeds and the
    # setting is gone. That is the schema's behaviour; strict is ours.
    rule = _with(QUERY_RULE, riskscore=47, threshold={"field": "x", "value": 3})
    rule["threat"][0]["tactic"]["url"] = "https://attack.mitre.org/tactics/TA0003/"
    rule["meta"] = {"from_wgsiem": True}  # meta keeps anything, in Kibana too
    assert rule_problems(rule) == []
    assert rule_problems(rule, strict=True) == [
        "threat[0].tactic.url: not a key Kibana knows; it drops it without a word",
        "riskscore: not a key Kibana knows; it drops it without a word",
        "threshold: not a key Kibana knows; it drops it without a word",
    ]


def test_what_kibana_accepts_from_its_own_exports_passes() -> None:
    exported = _with(
        QUERY_RULE,
        id="0b4ad7e2-6f77-4c31-9d5e-3f0d4b6a8f10",
        immutable=False,
        rule_source={"type": "internal"},
        created_at="2024-05-01T12:00:00.000Z",
        updated_at="2024-05-02T08:30:00.000Z",
        created_by="elastic",
        updated_by="elastic",
        revision=3,
        required_fields=[{"name": "event.action", "type": "keyword", "ecs": True}],
        investigation_fields=["source.ip", "wireguard.peer.public_key"],  # the legacy form
        exceptions_list=[],
        actions=[],
        throttle="no_actions",
    )
    assert rule_problems(exported) == []


def test_ndjson_problems_name_line_and_rule_id() -> None:
    bad_threshold = _with(THRESHOLD_RULE, threshold={"field": "source.ip"})
    lines = [
        json.dumps(QUERY_RULE),
        "",
        json.dumps(bad_threshold),
        "{not json",
        json.dumps(_without(NEW_TERMS_RULE, "rule_id")),
        json.dumps(QUERY_RULE),
        json.dumps({"exported_count": 4, "missing_rules": [], "missing_rules_count": 0}),
        json.dumps({"list_id": "wg-allowlist", "type": "detection", "name": "x", "description": "y"}),
        "[]",
    ]
    problems = ndjson_problems("\n".join(lines) + "\n")
    assert problems == [
        "line 3 (rule_id 'wg-handshake-burst'): threshold.value: missing (required)",
        problems[1],
        "line 5: rule_id: missing (required)",
        "line 6 (rule_id '5f1c2d7e-wg-peer-added'): rule_id also on line 1; "
        "without overwrite Kibana reports the second as a duplicate",
        "line 9: (rule): [] is not of type 'object'",
    ]
    assert problems[1].startswith("line 4: not JSON: ")


def test_ndjson_of_good_rules_has_no_problems_and_accepts_bytes() -> None:
    text = "\n".join(json.dumps(rule) for rule in (QUERY_RULE, THRESHOLD_RULE, NEW_TERMS_RULE)) + "\n"
    assert ndjson_problems(text) == []
    assert ndjson_problems(text.encode()) == []
    assert ndjson_problems(text.replace('"risk_score": 21', '"riskscore": 21'), strict=True) == [
        "line 3 (rule_id 'wg-new-endpoint-country'): risk_score: missing (required)",
        "line 3 (rule_id 'wg-new-endpoint-country'): riskscore: not a key Kibana knows; it drops it without a word",
    ]
