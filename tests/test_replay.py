"""Scenario replay end to end: every scenario gives exactly its alerts, the generator is
deterministic, and a rule mutated to miss its attack or to alert on normal life fails CI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wgsiem.cli import app
from wgsiem.content import DETECTION_RULES, FIXTURES
from wgsiem.replay.expect import check
from wgsiem.replay.scenario import Expectation, ScenarioError, load_scenario
from wgsiem.replay.story import generate
from wgsiem.rules.validate import scenario_expectations

SCENARIOS = FIXTURES / "scenarios"
ALL = sorted(p.parent for p in SCENARIOS.glob("*/scenario.yaml"))
GENERATED = [p for p in ALL if (p / "story.yaml").exists()]
RUNNER = CliRunner()


def replay(*args: str):
    return RUNNER.invoke(app, ["replay", *args])


def test_every_scenario_replays_to_exactly_its_alerts():
    result = replay(str(SCENARIOS))
    assert result.exit_code == 0, result.output
    assert f"{len(ALL)} of {len(ALL)} scenarios passed" in result.output


def test_the_library_covers_attacks_and_normal_life():
    scenarios = [load_scenario(p) for p in ALL]
    kinds = [s.kind for s in scenarios]
    assert len(scenarios) >= 12 and kinds.count("attack") >= 7 and kinds.count("normal") >= 4
    assert all(s.expectations == [] for s in scenarios if s.kind == "normal")
    assert all(s.expectations for s in scenarios if s.kind == "attack")
    recorded = [s for s in scenarios if not (s.path / "story.yaml").exists()]
    assert len(recorded) >= 2, "at least two scenarios recorded from real tunnels"


def test_every_rule_is_expected_by_some_scenario():
    from wgsiem.rules.model import load_rules

    expected = scenario_expectations(SCENARIOS)
    missing = [r.name for r in load_rules() if r.name not in expected and r.rule_id not in expected]
    assert missing == []


@pytest.mark.parametrize("folder", GENERATED, ids=lambda p: p.name)
def test_the_generator_rewrites_the_committed_captures_byte_for_byte(folder, tmp_path):
    polls, _ = generate(folder / "story.yaml", tmp_path)
    committed = sorted((folder / "captures").glob("*.dump"))
    assert polls == len(committed)
    for path in committed:
        assert (tmp_path / "captures" / path.name).read_bytes() == path.read_bytes(), path.name
    exits = sorted(p.name for p in (folder / "captures").glob("*.exit.json"))
    assert sorted(p.name for p in (tmp_path / "captures").glob("*.exit.json")) == exits
    for name in exits:
        assert (tmp_path / "captures" / name).read_bytes() == (folder / "captures" / name).read_bytes(), name
    for extra in ("kernel.log", "peers.yaml"):
        if (folder / extra).exists():
            assert (tmp_path / extra).read_bytes() == (folder / extra).read_bytes()


# -- a rule mutated the wrong way fails the replay -------------------------------------------


def _mutated_rules(tmp_path: Path, file: str, old: str, new: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(DETECTION_RULES, rules)
    path = rules / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    return rules


def test_a_rule_mutated_to_miss_its_attack_fails(tmp_path):
    rules = _mutated_rules(tmp_path, "wireguard_handshake_flood.toml", "value = 100", "value = 200")
    result = replay(str(SCENARIOS / "scanner-handshake-flood"), "--rules-dir", str(rules))
    assert result.exit_code == 1
    assert "expected 1 alert(s) of 'WireGuard Handshake Flood from One Source'" in result.output and "got 0" in result.output


def test_a_rule_mutated_to_alert_on_normal_life_fails(tmp_path):
    # Following the key instead of the registered name makes a key rotation look new.
    rules = _mutated_rules(
        tmp_path, "wireguard_peer_new_country.toml",
        'value = ["wireguard.peer.name", "source.geo.country_iso_code"]',
        'value = ["wireguard.peer.public_key", "source.geo.country_iso_code"]',
    )  # fmt: skip
    result = replay(str(SCENARIOS / "key-rotation"), "--rules-dir", str(rules))
    assert result.exit_code == 1
    assert "unexpected alert: WireGuard Peer Connecting from a New Country" in result.output
    assert "event: handshake: peer alice completed a handshake" in result.output  # the event behind it


# -- golden events ---------------------------------------------------------------------------


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(SCENARIOS / name, target, symlinks=False)
    return target


def test_changed_events_fail_against_the_golden_file_and_update_rewrites_it(tmp_path):
    folder = _copy(tmp_path, "spoofed-inner-source")
    golden = folder / "events.ndjson"
    lines = golden.read_text().splitlines()
    doc = json.loads(lines[3])
    doc["message"] = "edited"
    lines[3] = json.dumps(doc, sort_keys=True)
    golden.write_text("\n".join(lines[:-1]) + "\n")  # one changed, the last one gone
    result = replay(str(folder))
    assert result.exit_code == 1
    assert f"event {doc['event']['id']} changed: message: 'edited'" in result.output
    assert "is new:" in result.output
    assert replay(str(folder), "--update").exit_code == 0
    assert replay(str(folder)).exit_code == 0


def test_a_missing_golden_file_is_a_failure_that_says_what_to_do(tmp_path):
    folder = _copy(tmp_path, "spoofed-inner-source")
    (folder / "events.ndjson").unlink()
    result = replay(str(folder))
    assert result.exit_code == 1 and "--update" in result.output


# -- a shipper whose wg fails ------------------------------------------------------------------


def test_failed_polls_are_a_problem_unless_the_scenario_counts_them(tmp_path):
    folder = _copy(tmp_path, "shipper-failing")
    file = folder / "scenario.yaml"
    text = file.read_text()
    scenario = load_scenario(folder)
    assert (scenario.health_interval, scenario.poll_failures) == (300, 28)
    file.write_text(text.replace("poll_failures: 28", "poll_failures: 27"))
    result = replay(str(folder))
    assert result.exit_code == 1
    assert f"{file}: expect.poll_failures: 27, but 28 polls failed" in result.output
    assert "poll at 1796630520: 'wg show all dump' exited with status 1: Unable to access interface wg0: Operation not permitted" in result.output
    file.write_text(text.replace("  poll_failures: 28\n", ""))
    result = replay(str(folder))
    assert result.exit_code == 1 and "expect.poll_failures" not in result.output
    assert result.output.count("exited with status 1") == 28


def test_health_events_are_replayed_only_where_the_scenario_sets_the_interval():
    scenarios = [load_scenario(p) for p in ALL]
    with_health = [s.name for s in scenarios if s.health_interval is not None]
    assert with_health == ["shipper-failing"]
    for s in scenarios:
        assert ('"action": "shipper-health"' in s.golden.read_text()) == (s.name in with_health), s.name


# -- expectations are strict -----------------------------------------------------------------


ALERT = {"kibana.alert.rule.name": "R", "kibana.alert.rule.rule_id": "id-r", "source": {"ip": "1.2.3.4"}}


def test_expectations_cover_by_rule_and_where_and_report_the_rest():
    other = {**ALERT, "source": {"ip": "5.6.7.8"}}
    cov = check([Expectation("R", 1, {"source.ip": "1.2.3.4"})], [ALERT, other])
    assert cov.failures == ["unexpected alert: R at None, source.ip='5.6.7.8'"]
    cov = check([Expectation("id-r", 3)], [ALERT, other])
    assert cov.failures == ["expected 3 alert(s) of 'id-r', got 2"]
    assert check([], []).failures == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("kind: attack", "kind: drill"), "kind: 'drill' is not one of attack, normal"),
        (("name: spoofed-inner-source", "name: other"), "differs from the folder's name"),
        (("rules_start: 2026-10-03T00:00:00Z", "rules_start: soon"), "rules_start: 'soon' is not an ISO 8601 time"),
        (("host_name: vpn1", "host_name: vpn1\nshipper: {interval: 5}"), "shipper: interval: not a setting a replay takes"),
        (("      count: 3", "      count: 0"), "expect.alerts[0]: count: must be a positive number"),
        (("host_name: vpn1", "host_name: vpn1\nexpected: 1"), "unknown key 'expected'"),
        (("expect:\n", "expect:\n  poll_failures: -1\n"), "expect.poll_failures: -1 is not a number of polls"),
        (("host_name: vpn1", "host_name: vpn1\nshipper: {health_interval: -5}"), "shipper: health_interval must be 0"),
    ],
)
def test_scenario_file_errors_name_the_file_and_key(tmp_path, edit, message):
    folder = _copy(tmp_path, "spoofed-inner-source")
    file = folder / "scenario.yaml"
    assert edit[0] in file.read_text()
    file.write_text(file.read_text().replace(edit[0], edit[1], 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(folder)
    assert str(file) in str(err.value) and message in str(err.value)
    assert replay(str(folder)).exit_code == 2
