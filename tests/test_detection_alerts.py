"""Alert documents: factories/utils/transform_hit_to_alert.ts, build_alert.ts,
traverse_and_mutate_doc.ts and utils/reason_formatters.ts."""

from __future__ import annotations

import json

from tests.support.detection import at, event, make_rule, stamp, tiny_compile
from wgsiem.detection import run_rules
from wgsiem.detection.alerts import reason


def _alert(doc, rule=None):
    (alert,) = run_rules([rule or make_rule()], [doc], start=at(5), end=at(5), compile=tiny_compile).alerts
    return alert


def test_the_event_source_is_kept_as_it_was_written() -> None:
    doc = event(at(1), source__ip="10.0.0.1", wireguard__peer__name="alice")
    doc["event.outcome"] = "success"  # a dotted key stays a dotted key
    alert = _alert(doc)
    assert alert["source"] == {"ip": "10.0.0.1"}
    assert alert["wireguard"] == {"peer": {"name": "alice"}}
    assert alert["event.outcome"] == "success"
    assert alert["host"] == {"name": "gw1"}


def test_event_fields_are_copied_and_event_kind_becomes_signal() -> None:
    doc = event(at(1))
    doc["event.outcome"] = "success"
    alert = _alert(doc)
    assert alert["event.kind"] == "signal"
    assert "kind" not in alert["event"]
    assert alert["kibana.alert.original_event.kind"] == "event"
    assert alert["kibana.alert.original_event.action"] == "handshake"
    assert alert["kibana.alert.original_event.category"] == ["network"]
    assert alert["kibana.alert.original_event.outcome"] == "success"
    assert alert["kibana.alert.original_data_stream.dataset"] == "wireguard.log"


def test_fields_kibana_strips_are_gone() -> None:
    doc = event(at(1), tags=[], labels={}, kibana={"alert": {"uuid": "x"}}, signal={"rule": 1}, threshold_result={"count": 9})
    doc["kibana.alert.severity"] = "critical"
    doc["nested"] = {"empty": [], "kept": [1, [], {}]}
    alert = _alert(doc)
    assert "kibana" not in alert and "signal" not in alert and "threshold_result" not in alert
    assert alert["kibana.alert.severity"] == "medium"  # the rule's, not the source's
    assert "tags" not in alert and "labels" not in alert
    assert alert["nested"] == {"kept": [1]}


def test_kibana_fields_are_dotted_top_level_keys() -> None:
    rule = make_rule(tags=["Domain: Network", "Use Case: Threat Detection"], threat=[{"framework": "MITRE ATT&CK"}], note="Look at the peer.")
    alert = _alert(event(at(1)), rule)
    assert alert["@timestamp"] == stamp(at(5))  # the execution's time, never the wall clock
    assert alert["kibana.alert.original_time"] == stamp(at(1))
    assert alert["kibana.alert.rule.name"] == "Test rule"
    assert alert["kibana.alert.rule.rule_id"] == rule.rule_id
    assert alert["kibana.alert.rule.type"] == "query"
    assert alert["kibana.alert.rule.rule_type_id"] == "siem.queryRule"
    assert alert["kibana.alert.rule.tags"] == ["Domain: Network", "Use Case: Threat Detection"]
    assert alert["kibana.alert.rule.threat"] == [{"framework": "MITRE ATT&CK"}]
    assert alert["kibana.alert.rule.note"] == "Look at the peer."
    assert (alert["kibana.alert.rule.from"], alert["kibana.alert.rule.to"], alert["kibana.alert.rule.interval"]) == ("now-6m", "now", "5m")
    assert (alert["kibana.alert.severity"], alert["kibana.alert.risk_score"]) == ("medium", 47)
    assert (alert["kibana.alert.status"], alert["kibana.alert.workflow_status"]) == ("active", "open")
    assert alert["kibana.alert.depth"] == 1
    assert alert["kibana.space_ids"] == ["default"]
    assert alert["kibana.alert.rule.parameters"]["query"] == 'event.action: "handshake"'
    assert not any(isinstance(v, dict) and k == "kibana" for k, v in alert.items())
    json.dumps(alert)  # plain JSON, ready for NDJSON


def test_alerts_do_not_share_mutable_parts() -> None:
    result = run_rules([make_rule()], [event(at(1)), event(at(2))], start=at(5), end=at(5), compile=tiny_compile)
    first, second = result.alerts
    first["kibana.alert.rule.tags"].append("changed")
    assert second["kibana.alert.rule.tags"] == ["Domain: Network"]


def test_reason_sentence_matches_kibanas_template() -> None:
    source = {"event": {"category": ["network", "authentication"]}, "source": {"ip": "10.0.0.1", "port": ["51820"]}, "host": {"name": "gw1"}, "user": {"name": "bob"}}
    assert reason(source, "Peer roamed", "high") == (
        "network, authentication event with source 10.0.0.1:51820, by bob on gw1 created high alert Peer roamed."
    )
    # A bare number has no .length in getFieldTemplateValue: Kibana leaves the port out.
    assert reason({"source": {"ip": "10.0.0.1", "port": 51820}}, "R", "low") == "event with source 10.0.0.1 created low alert R."
    # `with` appears only for the fields of interest; host and user alone do not bring it.
    assert reason({"host": {"name": "gw1"}}, "R", "low") == "event on gw1 created low alert R."
    assert reason({"destination": {"ip": "192.0.2.1"}, "process": {"name": "wg"}}, "R", "low") == "event with process wg, destination 192.0.2.1 created low alert R."
    assert reason({"host": {"name": ["-"]}}, "R", "low") == "event created low alert R."
    assert reason({}, "R", "low") == "event created low alert R."


def test_alerts_are_ordered_by_execution_rule_name_then_original_time() -> None:
    rules = [make_rule(rule_id="b", name="B rule"), make_rule(rule_id="a", name="A rule")]
    events = [event(at(9)), event(at(2)), event(at(1))]
    result = run_rules(rules, events, start=at(5), end=at(10), compile=tiny_compile)
    assert [(a["@timestamp"], a["kibana.alert.rule.name"], a["kibana.alert.original_time"]) for a in result.alerts] == [
        (stamp(at(5)), "A rule", stamp(at(1))),
        (stamp(at(5)), "A rule", stamp(at(2))),
        (stamp(at(5)), "B rule", stamp(at(1))),
        (stamp(at(5)), "B rule", stamp(at(2))),
        (stamp(at(10)), "A rule", stamp(at(9))),
        (stamp(at(10)), "B rule", stamp(at(9))),
    ]


def test_alert_ids_are_deterministic_and_distinct_per_rule() -> None:
    doc = event(at(1))
    rules = [make_rule(rule_id="a"), make_rule(rule_id="b")]
    once = run_rules(rules, [doc], start=at(5), end=at(5), compile=tiny_compile)
    again = run_rules(rules, [doc], start=at(5), end=at(5), compile=tiny_compile)
    assert [a["kibana.alert.uuid"] for a in once.alerts] == [a["kibana.alert.uuid"] for a in again.alerts]
    assert once.alerts[0]["kibana.alert.uuid"] != once.alerts[1]["kibana.alert.uuid"]
    assert once.alerts[0]["kibana.alert.rule.uuid"] != once.alerts[1]["kibana.alert.rule.uuid"]


def test_new_terms_and_threshold_alerts_carry_their_results() -> None:
    doc = event(at(1), user__name="u1", source__ip="10.0.0.1")
    new_terms = _alert(doc, make_rule(type="new_terms", new_terms=("user.name",)))
    assert new_terms["kibana.alert.new_terms"] == ["u1"]
    assert new_terms["kibana.alert.rule.parameters"]["new_terms_fields"] == ["user.name"]
    assert new_terms["kibana.alert.rule.parameters"]["history_window_start"] == "now-14d"
    threshold = _alert(doc, make_rule(type="threshold", threshold=(("source.ip",), 1, None)))
    assert threshold["kibana.alert.threshold_result"]["count"] == 1
    assert threshold["kibana.alert.rule.parameters"]["threshold"] == {"field": ["source.ip"], "value": 1, "cardinality": []}
