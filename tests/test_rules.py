"""The rule files: their schema and model, ATT&CK, the Kibana import form, the rule test
cases, and the `wgsiem rules` / `wgsiem query` commands a user runs."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.kibana_stub import KibanaStub
from wgsiem.adapters.kibana import API_KEY_ENV
from wgsiem.cli import app
from wgsiem.content import DETECTION_RULES
from wgsiem.detection import run_rules
from wgsiem.detection.testing import run_cases
from wgsiem.rules.attack import threat_problems
from wgsiem.rules.cases import CASES, load_cases
from wgsiem.rules.exceptions import Tuning, load_tuning
from wgsiem.rules.kibana_schema import ndjson_problems, rule_problems
from wgsiem.rules.model import AlertSuppression, RuleFileError, load_rule, load_rules
from wgsiem.rules.validate import validate

RULES = load_rules()
RUNNER = CliRunner()
API_KEY = "V2dzaWVtOnJ1bGVzLXRlc3Qta2V5"
# The flow rules that judge only internal destinations, and the clause of their queries that
# says so.
INTERNAL_FLOW_RULES = (
    "wireguard_flow_internal_host_sweep", "wireguard_flow_internal_port_scan", "wireguard_flow_large_pull_from_internal_host",
    "wireguard_flow_new_internal_destination",
)  # fmt: skip
PRIVATE_RANGES = 'destination.ip:("10.0.0.0/8" or "172.16.0.0/12" or "192.168.0.0/16" or "fc00::/7")'


def cli(*args: str, input: str | None = None):  # noqa: A002
    return RUNNER.invoke(app, list(args), input=input)


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DETECTION_RULES, target)
    return target


# -- the rule set ------------------------------------------------------------------------------


def test_at_least_twelve_rules_of_the_three_types_each_fully_documented():
    assert len(RULES) >= 12
    assert {r.type for r in RULES} == {"query", "threshold", "new_terms"}
    for r in RULES:
        body = r.body
        assert body["description"].strip() and body["note"].strip() and body["false_positives"], r.name
        assert body["threat"] and body["severity"] and isinstance(body["risk_score"], int), r.name
        assert "## Triage and analysis" in body["note"], r.name


def test_the_issue_s_detections_are_all_there():
    wanted = {
        "new_terms": ["wireguard.peer.public_key", "source.geo.country_iso_code", "source.as.number"],
        "threshold": ["endpoint-changed", "handshake-invalid"],
        "query": ["peer-added", "roam.speed_kmh", "transfer-spike", "destination.bytes >=", "packet-unallowed-source",
                  "allowed_ips", "interface-changed", "silence_seconds"],
    }  # fmt: skip
    for rule_type, needles in wanted.items():
        texts = [r.query + " " + " ".join(r.fields) for r in RULES if r.type == rule_type]
        for needle in needles:
            assert any(needle in t for t in texts), (rule_type, needle)
    flood = next(r for r in RULES if "handshake-invalid" in r.query)
    assert flood.threshold.value == 100 and flood.lookback.total_seconds() == 60
    flapping = next(r for r in RULES if "endpoint-changed" in r.query and r.threshold)
    assert flapping.threshold.cardinality.field == "source.ip"


def test_issue_15_flow_detections_judge_what_peers_reach_inside():
    flow = {r.path.stem: r for r in RULES if "wireguard.flow" in r.query}
    assert set(flow) >= {
        "wireguard_flow_new_internal_destination", "wireguard_flow_internal_host_sweep", "wireguard_flow_internal_port_scan",
        "wireguard_flow_large_pull_from_internal_host", "wireguard_flow_peer_to_peer",
    }  # fmt: skip
    assert flow["wireguard_flow_new_internal_destination"].new_terms_fields == ("wireguard.peer.public_key", "destination.ip")
    assert flow["wireguard_flow_peer_to_peer"].new_terms_fields == ("wireguard.peer.public_key", "wireguard.flow.destination_peer.public_key")
    assert flow["wireguard_flow_internal_host_sweep"].threshold.cardinality.field == "destination.ip"
    assert flow["wireguard_flow_internal_port_scan"].threshold.cardinality.field == "destination.port"
    assert "destination.bytes >= 1073741824" in flow["wireguard_flow_large_pull_from_internal_host"].query
    # Each rule but the peer-to-peer one keeps to the private ranges in its query, which every
    # install path keeps; only the new-host rule has an exception list, narrowing them to a
    # value list that ships as the same ranges.
    tuning = load_tuning(DETECTION_RULES)
    for stem in INTERNAL_FLOW_RULES:
        assert PRIVATE_RANGES in flow[stem].query, stem
    assert PRIVATE_RANGES not in flow["wireguard_flow_peer_to_peer"].query
    for stem in ("wireguard_flow_internal_host_sweep", "wireguard_flow_internal_port_scan", "wireguard_flow_large_pull_from_internal_host",
                 "wireguard_flow_peer_to_peer"):  # fmt: skip
        assert tuning.for_rule(flow[stem].rule_id) == (), stem
    scope = tuning.for_rule(flow["wireguard_flow_new_internal_destination"].rule_id)
    entries = [e for lst in scope for item in lst.items for e in item.entries]
    assert [(e.field, e.type, e.operator, e.list_id) for e in entries] == [("destination.ip", "list", "excluded", "wgsiem-sensitive-networks")]
    assert tuning.value_lists["wgsiem-sensitive-networks"].values == ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


def _outside_private_ranges(address: str) -> bool:
    return not any(ipaddress.ip_address(address) in ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


@pytest.mark.parametrize("stem", INTERNAL_FLOW_RULES)
def test_flow_rules_leave_the_internet_alone_without_exception_lists(stem: str) -> None:
    """The integration package installs the rules with no exception lists: each case gives the
    alerts it expects with none, and the near misses on internet destinations are quiet
    because of the query (the same rule without its private ranges alerts on them)."""
    rule = next(r for r in RULES if r.path.stem == stem)
    for r in run_cases([rule], CASES, Tuning()):
        assert r.ok, f"{r.case.name}: {r.summary}"
    internet = [c for c in load_cases(CASES / f"{stem}.yaml") if c.alerts == 0
                and any(_outside_private_ranges(e["destination"]["ip"]) for e in c.events)]  # fmt: skip
    assert internet, "a near miss with internet destinations"
    unscoped = dataclasses.replace(rule, query=rule.query.replace(f" and\n{PRIVATE_RANGES}", ""))
    assert PRIVATE_RANGES not in unscoped.query
    for case in internet:
        assert run_rules([unscoped], case.events, start=case.start, end=case.end).alerts, case.name


def test_the_repository_rules_validate_with_scenario_coverage():
    report = validate()
    assert report.problems == []


# -- schema and model errors name the file, the line and the key -------------------------------


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    source = DETECTION_RULES / "wireguard_handshake_flood.toml"
    path = tmp_path / source.name
    text = source.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('severity = "medium"', 'severity = "urgent"', ":54: rule.severity: 'urgent' is not one of"),
        ("value = 100", "value = 0", ":64: rule.threshold.value: 0 is less than the minimum of 1"),
        ('interval = "1m"', 'interval = "1 minute"', ":19: rule.interval: '1 minute' does not match"),
        ('name = "WireGuard Handshake Flood from One Source"\n', "", "[rule] lacks 'name'"),
        ("risk_score = 47", "risk_score = 47\nriskscore = 47", ":53: rule.riskscore: unknown key"),
        ('id = "TA0043"', 'id = "TA43"', ":80: rule.threat.0.tactic.id: 'TA43' does not match"),
    ],
)
def test_schema_problems_point_at_the_line(tmp_path, old, new, message):
    path = _broken(tmp_path, old, new)
    with pytest.raises(RuleFileError) as err:
        load_rule(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path):
    path = _broken(tmp_path, "value = 100", "value = = 100")
    with pytest.raises(RuleFileError, match=r"wireguard_handshake_flood.toml: not valid TOML: .*line 64"):
        load_rule(path)


_SUPPRESSION = '[rule.alert_suppression]\ngroup_by = ["source.ip"]\n'
_FOR_30M = '\n[rule.alert_suppression.duration]\nunit = "m"\nvalue = 30\n'


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("wireguard_handshake_flood.toml", "value = 100\n", f"value = 100\n\n{_SUPPRESSION}{_FOR_30M}",
         ":67: rule.alert_suppression.group_by: not allowed here: a threshold rule's alert_suppression takes only duration"),
        ("wireguard_handshake_flood.toml", "value = 100\n", "value = 100\n\n[rule.alert_suppression]\n", ":66: [rule.alert_suppression] lacks 'duration'"),
        ("wireguard_flow_new_internal_destination.toml", 'missing_fields_strategy = "doNotSuppress"\n', "",
         ":118: [rule.alert_suppression] lacks 'missing_fields_strategy'"),
        ("wireguard_flow_new_internal_destination.toml", 'unit = "h"', 'unit = "d"', ":123: rule.alert_suppression.duration.unit: 'd' is not one of"),
        ("wireguard_flow_new_internal_destination.toml", 'group_by = ["wireguard.peer.public_key", "source.ip"]', "group_by = []",
         ":119: rule.alert_suppression.group_by: [] should be non-empty"),
    ],
)  # fmt: skip
def test_alert_suppression_is_kibanas_shape_for_the_rule_type(tmp_path, file, old, new, message):
    source = DETECTION_RULES / file
    path = tmp_path / file
    assert old in source.read_text()
    path.write_text(source.read_text().replace(old, new, 1))
    with pytest.raises(RuleFileError) as err:
        load_rule(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_alert_suppression_is_read_and_its_fields_are_the_rules():
    (rule,) = [r for r in RULES if r.path.stem == "wireguard_flow_new_internal_destination"]
    assert rule.alert_suppression == AlertSuppression(("wireguard.peer.public_key", "source.ip"), timedelta(hours=1), "doNotSuppress")
    assert not rule.alert_suppression.suppress_missing
    assert "source.ip" in rule.fields  # validate checks it is defined and aggregatable; export lists it


def test_a_threshold_rule_without_threshold_is_refused(tmp_path):
    path = _broken(tmp_path, "[rule.threshold]\nfield = [\"source.ip\"]\nvalue = 100\n", "")
    with pytest.raises(RuleFileError, match="threshold"):
        load_rule(path)


# -- ATT&CK ------------------------------------------------------------------------------------


def _threat(tactic=("TA0010", "Exfiltration"), technique=("T1048", "Exfiltration Over Alternative Protocol"), sub=None):
    tech = {"id": technique[0], "name": technique[1], "reference": f"https://attack.mitre.org/techniques/{technique[0]}/"}
    if sub:
        tech["subtechnique"] = [{"id": sub[0], "name": sub[1], "reference": f"https://attack.mitre.org/techniques/{sub[0].replace('.', '/')}/"}]
    return [{"framework": "MITRE ATT&CK", "tactic": {"id": tactic[0], "name": tactic[1], "reference": f"https://attack.mitre.org/tactics/{tactic[0]}/"}, "technique": [tech]}]


def test_attack_entries_are_checked_against_the_catalogue():
    assert list(threat_problems(_threat(sub=("T1048.001", "Exfiltration Over Symmetric Encrypted Non-C2 Protocol")))) == []
    assert list(threat_problems(_threat(technique=("T9999", "Nothing")))) == [
        "rule.threat[0].technique[0]: T9999 is not a known ATT&CK technique (detection_rules/etc/attack.yaml)"
    ]
    assert "is named 'Exfiltration'" in next(threat_problems(_threat(tactic=("TA0010", "Exfil"))))
    assert "is not a technique of tactic TA0001" in next(threat_problems(_threat(tactic=("TA0001", "Initial Access"))))
    assert "is not a subtechnique of T1048" in next(threat_problems(_threat(sub=("T1552.004", "Private Keys"))))


# -- the Kibana import form --------------------------------------------------------------------


def test_export_is_kibana_import_ndjson_that_passes_kibana_s_schema():
    result = cli("rules", "export")
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    rules = [o for o in objects if "rule_id" in o]
    # The shipped exception lists (detection_rules/exceptions/) come first: the list, its items.
    lists = objects[: len(objects) - len(rules)]
    assert len(rules) == len(RULES) and objects[len(lists):] == rules
    assert [o["list_id"] for o in lists if "item_id" not in o] == [lst.list_id for lst in load_tuning(DETECTION_RULES).lists]
    assert ndjson_problems(result.stdout, strict=True) == []
    exported = {o["rule_id"]: o for o in rules}
    for r in RULES:
        o = exported[r.rule_id]
        assert (o["name"], o["type"], o["severity"], o["risk_score"], o["enabled"]) == (r.name, r.type, r.severity, r.risk_score, False)
        assert o["query"] == r.query and o["language"] == "kuery" and o["index"] == ["logs-wireguard.*"]
        assert "new_terms" not in o and {f["name"] for f in o["required_fields"]} >= set(r.fields)
        if r.type == "new_terms":
            assert o["new_terms_fields"] == list(r.new_terms_fields) and o["history_window_start"].startswith("now-")
        if r.type == "threshold":
            assert o["threshold"]["value"] == r.threshold.value and o["threshold"]["field"] == list(r.threshold.fields)
        assert o.get("alert_suppression") == r.body.get("alert_suppression")
    # Kibana's AlertSuppression, as its API takes it (the strict check above closes it).
    assert exported["55154d80-fd5e-45dc-a23a-2b1a7852ebdc"]["alert_suppression"] == {
        "group_by": ["wireguard.peer.public_key", "source.ip"],
        "missing_fields_strategy": "doNotSuppress",
        "duration": {"unit": "h", "value": 1},
    }
    types = {f["name"]: f["type"] for o in exported.values() for f in o["required_fields"]}
    assert types["source.ip"] == "ip" and types["event.action"] == "keyword" and types["destination.bytes"] == "long"


def test_the_schema_catches_an_export_kibana_would_refuse():
    rule = json.loads(cli("rules", "export").stdout.splitlines()[0])
    rule["severity"] = "urgent"
    del rule["description"]
    problems = rule_problems(rule)
    assert any("severity" in p for p in problems) and any("description" in p for p in problems)


def test_kibanas_schema_takes_alert_suppression_in_its_shape_per_rule_type():
    lines = {json.loads(line)["rule_id"]: json.loads(line) for line in cli("rules", "export").stdout.splitlines() if "rule_id" in line}
    new_terms = lines["55154d80-fd5e-45dc-a23a-2b1a7852ebdc"]
    threshold = next(o for o in lines.values() if o["type"] == "threshold")
    assert rule_problems({**threshold, "alert_suppression": {"duration": {"value": 30, "unit": "m"}}}, strict=True) == []
    # ThresholdAlertSuppression: duration only, and required.
    assert rule_problems({**threshold, "alert_suppression": {"group_by": ["source.ip"]}}) == ["alert_suppression.duration: missing (required)"]
    dropped = rule_problems({**threshold, "alert_suppression": {"group_by": ["source.ip"], "duration": {"value": 1, "unit": "h"}}}, strict=True)
    assert dropped[0] == "alert_suppression.group_by: not a key Kibana knows; it drops it without a word"
    wrong = {**new_terms, "alert_suppression": {**new_terms["alert_suppression"], "duration": {"value": 1, "unit": "d"}}}
    assert any(p.startswith("alert_suppression.duration.unit: 'd'") for p in rule_problems(wrong))
    assert rule_problems({**new_terms, "alert_suppression": {"missing_fields_strategy": "suppress"}}) == ["alert_suppression.group_by: missing (required)"]


def test_the_package_asset_carries_alert_suppression():
    from wgsiem.kql import FieldTypes
    from wgsiem.mappings.fields import load_fields
    from wgsiem.package.rules import security_rule

    (rule,) = [r for r in RULES if r.alert_suppression is not None]
    asset = security_rule(rule, "1.2.3", load_fields(), FieldTypes.default())
    assert asset["attributes"]["alert_suppression"] == rule.body["alert_suppression"]
    # The asset is the package's form (required_fields carry `ecs`), not the import's.
    assert not [p for p in rule_problems({**asset["attributes"], "rule_id": rule.rule_id}, strict=True) if "alert_suppression" in p]


def test_export_enabled_and_a_single_rule():
    result = cli("rules", "export", "--enabled", "--rule", "wireguard_handshake_flood")
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["enabled"] is True
    assert cli("rules", "export", "--rule", "no such rule").exit_code == 2


def test_install_imports_through_kibana_s_api(monkeypatch, tmp_path):
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    with KibanaStub(api_key=API_KEY, spaces=("soc",)) as kibana:
        first = cli("rules", "install", "--kibana", kibana.url, "--space", "soc")
        assert first.exit_code == 0, first.output
        assert f"imported {len(RULES)} of {len(RULES)} rules into space soc" in first.stdout
        assert set(kibana.installed["soc"]) == {r.rule_id for r in RULES}
        suppressing = [r for r in RULES if r.alert_suppression is not None]
        assert suppressing and all(kibana.installed["soc"][r.rule_id]["alert_suppression"] == r.body["alert_suppression"] for r in suppressing)
        again = cli("rules", "install", "--kibana", kibana.url, "--space", "soc")
        assert again.exit_code == 1 and "409" in again.output  # installed rules are kept without --overwrite
        forced = cli("rules", "install", "--kibana", kibana.url, "--space", "soc", "--overwrite", "--enabled")
        assert forced.exit_code == 0, forced.output
        assert all(rule["enabled"] for rule in kibana.installed["soc"].values())
        post = [r for r in kibana.requests if r.method == "POST"][-1]
        assert post.path == "/s/soc/api/detection_engine/rules/_import" and post.query["overwrite"] == ["true"]
    wrong = tmp_path / "key"
    wrong.write_text("d3Jvbmc6a2V5")
    with KibanaStub(api_key=API_KEY) as kibana:
        result = cli("rules", "install", "--kibana", kibana.url, "--api-key-file", str(wrong))
        assert result.exit_code == 2 and "401" in result.output and "d3Jvbmc6a2V5" not in result.output


# -- each rule's own cases ---------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.path.stem)
def test_each_rule_fires_on_its_case_and_stays_quiet_on_its_near_miss(rule):
    results = run_cases([rule], CASES, load_tuning(DETECTION_RULES))
    assert {r.case.alerts > 0 for r in results} == {True, False}, "a case that fires and a near miss"
    for r in results:
        assert r.ok, f"{r.case.name}: {r.summary}"


def test_every_rule_has_cases_and_no_case_file_is_orphaned():
    stems = {r.path.stem for r in RULES}
    assert {p.stem for p in CASES.glob("*.yaml")} == stems
    for path in CASES.glob("*.yaml"):
        assert load_cases(path)


def test_rules_test_command_reports_each_case():
    result = cli("rules", "test", "--rule", "wireguard_handshake_flood")
    assert result.exit_code == 0, result.output
    assert "ok   WireGuard Handshake Flood from One Source / fires: 1 alert(s), expected 1" in result.stdout


def test_a_rule_mutated_to_miss_its_case_fails_the_cases(tmp_path):
    rules = copy_rules(tmp_path)
    path = rules / "wireguard_handshake_flood.toml"
    path.write_text(path.read_text().replace("value = 100", "value = 101"))
    result = cli("rules", "test", "--rules-dir", str(rules), "--rule", "wireguard_handshake_flood")
    assert result.exit_code == 1 and "FAIL WireGuard Handshake Flood from One Source / fires: 0 alert(s), expected 1" in result.stdout


# -- validate ------------------------------------------------------------------------------------


def test_validate_command_passes_on_the_repository():
    result = cli("rules", "validate")
    assert result.exit_code == 0, result.output
    assert f"{len(RULES)} rules valid" in result.stdout


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("wireguard_handshake_flood.toml", 'event.action:("handshake-invalid"', 'event.action:(("handshake-invalid"', "rule.query: "),
        ("wireguard_handshake_flood.toml", "source.ip:*", "source.nope:*", "'source.nope'"),
        ("wireguard_handshake_flood.toml", 'field = ["source.ip"]', 'field = ["message"]', "'message' is match_only_text"),
        ("wireguard_handshake_flood.toml", 'id = "T1110"', 'id = "T1111"', "T1111 is not a known ATT&CK technique"),
        ("wireguard_impossible_travel.toml", "name = \"WireGuard Peer Impossible Travel\"", "name = \"WireGuard Interface Key Changed\"",
         "name 'WireGuard Interface Key Changed' is used by"),
        ("wireguard_flow_new_internal_destination.toml", '"source.ip"]\nmissing', '"source.nope"]\nmissing',
         "field 'source.nope' (alert_suppression.group_by) is not defined in ecs_mappings/"),
        ("wireguard_flow_new_internal_destination.toml", '"source.ip"]\nmissing', '"message"]\nmissing',
         "field 'message' (alert_suppression.group_by) is match_only_text, which new_terms rules cannot aggregate"),
    ],
)  # fmt: skip
def test_validate_names_what_is_wrong(tmp_path, file, old, new, problem):
    rules = copy_rules(tmp_path)
    path = rules / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    result = cli("rules", "validate", "--rules-dir", str(rules), "--no-scenarios")
    assert result.exit_code == 1
    assert problem in result.output and file in result.output


def test_validate_wants_test_cases_and_scenario_coverage(tmp_path):
    rules = copy_rules(tmp_path)
    (rules / "_dev" / "test" / "wireguard_handshake_flood.yaml").unlink()
    scenarios = tmp_path / "scenarios"
    (scenarios / "flood").mkdir(parents=True)
    (scenarios / "flood" / "scenario.yaml").write_text("expect:\n  alerts:\n    - rule: WireGuard Peer Impossible Travel\n      count: 1\n")
    result = cli("rules", "validate", "--rules-dir", str(rules), "--scenarios", str(scenarios))
    assert result.exit_code == 1
    assert "wireguard_handshake_flood.toml: no test cases" in result.output
    assert "no scenario under" in result.output and "'WireGuard Handshake Flood from One Source'" in result.output
    assert "'WireGuard Peer Impossible Travel'" not in result.output


# -- rules run and query, as a user runs them --------------------------------------------------


def _events_file(tmp_path: Path, stem: str, case: str) -> Path:
    (chosen,) = [c for c in load_cases(CASES / f"{stem}.yaml") if c.name == case]
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" for e in chosen.events))
    return path


def test_rules_run_prints_kibana_shaped_alerts(tmp_path):
    path = _events_file(tmp_path, "wireguard_peer_new_country", "fires")
    result = cli("rules", "run", str(path), "--start", "2026-11-08T00:00:00Z", "--rule", "wireguard_peer_new_country")
    assert result.exit_code == 0, result.output
    (alert,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert alert["kibana.alert.rule.name"] == "WireGuard Peer Connecting from a New Country"
    assert alert["kibana.alert.rule.rule_id"] == "97c2a661-3366-417a-84d6-f12c16c476d8"
    assert alert["kibana.alert.original_time"] == "2026-11-08T02:00:00.000Z"
    assert (alert["kibana.alert.severity"], alert["kibana.alert.risk_score"]) == ("medium", 47)
    assert alert["kibana.alert.new_terms"] == ["alice", "CN"]
    assert alert["source"]["geo"]["country_iso_code"] == "CN" and alert["event.kind"] == "signal"
    assert alert["kibana.alert.original_event.action"] == "endpoint-changed"
    assert "1 alerts from 5 events" in result.stderr


def test_rules_run_start_decides_what_is_history(tmp_path):
    path = _events_file(tmp_path, "wireguard_peer_new_country", "fires")
    # Run from the first event: NL is new then too (nothing earlier), as it would be in Kibana.
    result = cli("rules", "run", str(path), "--rule", "wireguard_peer_new_country")
    terms = [json.loads(line)["kibana.alert.new_terms"][1] for line in result.stdout.splitlines()]
    assert terms == ["NL", "CN"]
    assert cli("rules", "run", str(path), "--start", "yesterday").exit_code == 2


def test_rules_run_reports_bad_lines_and_keeps_going(tmp_path):
    path = _events_file(tmp_path, "wireguard_large_transfer_volume", "fires")
    path.write_text("not json\n" + path.read_text() + '{"event": {"action": "transfer"}}\n')
    result = cli("rules", "run", str(path), "--rule", "wireguard_large_transfer_volume")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 1
    assert "line 1: not valid JSON" in result.stderr and "without a usable @timestamp skipped" in result.stderr


def test_query_matches_counts_and_translates(tmp_path):
    path = _events_file(tmp_path, "wireguard_handshake_flood", "near-miss")
    both = cli("query", 'event.action:"handshake-mac-invalid" or source.ip:67.43.156.0/24', str(path), "--count")
    assert both.stdout.strip() == "111"
    scanner = cli("query", "source.ip:67.43.156.0/24 and not source.port < 40000", str(path))
    assert len(scanner.stdout.splitlines()) == 99
    assert json.loads(scanner.stdout.splitlines()[0])["source"]["ip"] == "67.43.156.7"
    dsl = json.loads(cli("query", "source.ip:67.43.156.0/24", str(path), "--dsl").stdout)
    assert "67.43.156.0/24" in json.dumps(dsl)


def test_query_errors_name_the_position_and_the_field(tmp_path):
    path = _events_file(tmp_path, "wireguard_handshake_flood", "fires")
    syntax = cli("query", "source.ip:(1.2.3.4 or", str(path))
    assert syntax.exit_code == 2 and "KQL syntax error" in syntax.output and "^" in syntax.output
    unknown = cli("query", "lab.site:ams", str(path))
    assert unknown.exit_code == 2 and "lab.site" in unknown.output
    schema = tmp_path / "fields.json"
    schema.write_text('{"lab.site": "keyword"}')
    assert cli("query", "lab.site:ams", str(path), "--schema", str(schema), "--count").stdout.strip() == "0"
