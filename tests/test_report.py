"""`wgsiem report`: the page answers the admin's questions, stands alone, and reads the same
in a real browser with the network blocked (`browser`: headless Chromium)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import pixels
from tests.support.flows import gateway_flow_events
from wgsiem.cli import app
from wgsiem.content import DETECTION_RULES, FIXTURES
from wgsiem.replay.scenario import load_scenario
from wgsiem.report.charts import PALETTE
from wgsiem.rules.model import load_rules

RUNNER = CliRunner()
SCENARIOS = FIXTURES / "scenarios"
RULES = {r.name: r for r in load_rules(DETECTION_RULES)}
# The exfiltration night, zoomed in as an admin would: the laptop's 3 GiB at 02:00.
NIGHT = ["--from", "2026-10-11T01:30:00Z", "--to", "2026-10-11T03:00:00Z"]
MAP_MARKER = "#d7263d"


def _alerts(scenario: str, out: Path) -> Path:
    start = load_scenario(SCENARIOS / scenario).rules_start.isoformat()  # as `wgsiem replay` runs the rules
    result = RUNNER.invoke(app, ["rules", "run", str(SCENARIOS / scenario / "events.ndjson"), "--start", start])
    assert result.exit_code == 0, result.output
    path = out / f"{scenario}-alerts.ndjson"
    path.write_text(result.stdout)
    return path


def _report(tmp_path: Path, scenario: str, *args: str, alerts: bool = True) -> tuple[Path, str]:
    out = tmp_path / f"{scenario}.html"
    extra = ["--alerts", str(_alerts(scenario, tmp_path))] if alerts else []
    result = RUNNER.invoke(app, ["report", str(SCENARIOS / scenario / "events.ndjson"), "-o", str(out), *extra, *args])
    assert result.exit_code == 0, result.output
    return out, out.read_text()


@pytest.fixture(scope="module")
def stolen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return _report(tmp_path_factory.mktemp("stolen"), "stolen-key-abroad")


@pytest.fixture(scope="module")
def exfiltration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return _report(tmp_path_factory.mktemp("exfil"), "exfiltration-at-night", *NIGHT)


def _text(page: str) -> str:
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return re.sub(r" ([,.;:)])", r"\1", text)  # as a browser lays out "<b>x</b>, y"


def test_the_stolen_key_report_names_the_new_country_and_the_last_endpoint(stolen) -> None:
    text = _text(stolen[1])
    assert "alice was used from a new place: China (Example Northeast Mobile Co.), first at 2026-10-08 10:00:00 UTC from 175.16.199.20:40404" in text
    assert "Last handshake: 2026-10-08 10:59:45 UTC from 175.16.199.20:40404" in text
    assert re.search(r"Last session: started 2026-10-08 08:59:52 UTC, open, –, from 198\.51\.100\.10:51000 \(Amsterdam, Netherlands", text)
    # Bob never left Spain: no new place for him.
    assert "bob was used from a new place" not in text


def test_the_report_lists_each_alert_with_its_rules_guide(stolen) -> None:
    path, page = stolen
    alerts = [json.loads(line) for line in (path.parent / "stolen-key-abroad-alerts.ndjson").read_text().splitlines()]
    names = {a["kibana.alert.rule.name"] for a in alerts}
    assert len(names) == 5  # the scenario's five rules (scenario.yaml expect:)
    text = _text(page)
    for name in names:
        assert f"Investigating {name}" in text, name  # the guide's own heading
        steps = re.search(r"### Possible investigation steps\s+- ([^\n]+)", RULES[name].body["note"])
        assert steps and re.sub(r"[`\s]", "", steps[1])[:40] in re.sub(r"\s", "", text)
    assert f"{len(alerts)} Alerts" in text  # the summary card


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of the gateway-flows capture: a peer's inner flows, one of them to another peer."""
    folder = tmp_path_factory.mktemp("flows")
    events = folder / "events.ndjson"
    events.write_text("".join(json.dumps(doc) + "\n" for doc in gateway_flow_events()))
    out = folder / "flows.html"
    result = RUNNER.invoke(app, ["report", str(events), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, out.read_text()


def test_a_peers_inner_flows_by_host_and_service_with_times_and_bytes_each_way(flows) -> None:
    text = _text(flows[1])
    assert "18 Inner flows" in text  # the summary card: started and ended, each flow once
    assert "alice-laptop key 2jWJiAhH1s9INxwrv9NEXtoeZIan0eAPfbPSDyHjAUY= · wg0 on gw1 · 0 sessions · 234.4 KiB moved · 18 inner flows" in text
    assert "Inner flows (18; 112.9 KiB sent, 133.4 KiB received)" in text
    # 100,000 bytes up and 50,000 down, plus the short connection and the one held open.
    assert "peer → host 10.98.0.1 tcp/5432 2026-12-05 05:31:25 UTC 2026-12-05 05:31:29 UTC 3 0 99.8 KiB 50.7 KiB" in text
    assert "peer → host 10.98.1.2 (peer branch-lan) tcp/80 2026-12-05 05:31:37 UTC 2026-12-05 05:31:39 UTC 3 0 5.9 KiB 40.8 KiB" in text
    assert "peer → host 10.98.0.1 udp/9999 2026-12-05 05:31:25 UTC 2026-12-05 05:31:27 UTC 1 1 78 B 0 B" in text
    assert "peer → host 10.98.0.1 protocol 253" in text  # conntrack's "unknown": the protocol number
    assert "4 flows were not answered, to 1 host, the most to 10.98.0.1 (4)." in text
    # The flows dashboard, and the peers table's column: only where there are flows.
    assert 'id="flows-peer-to-peer"' in flows[1] and "Unreplied flows by peer and host" in text
    assert "Inner flows" in re.search(r"<thead><tr><th>Peer</th>.*?</thead>", flows[1])[0]


def test_a_scanning_peers_flows_lead_with_what_it_used_and_sum_up_the_unanswered(tmp_path: Path) -> None:
    """laptop-ivan sweeps the LAN and tries the database host's ports: his table starts with
    the file and web servers he uses every day, and the scan is one sentence."""
    text = _text(_report(tmp_path, "lab-internal-scan", alerts=False)[1])
    ivan = text[text.index("laptop-ivan key") :]
    assert re.search(r"Inner flows \(\d+; [^)]+\) (\d+) flows were not answered, to (\d+) hosts, the most to 10\.77\.100\.20 \((\d+)\)\.", ivan)
    first = re.search(r"Received peer → host (\S+) (\S+) ", ivan)
    assert first and first.groups() in {("10.77.100.30", "tcp/445"), ("10.77.100.10", "tcp/80")}
    assert re.search(r"The first 20 of \d+ hosts and services\.", ivan)


def test_a_report_without_flows_says_nothing_of_them(stolen) -> None:
    assert "Inner flows" not in stolen[1] and 'id="flows"' not in stolen[1]


def test_a_flow_is_counted_once_whichever_of_its_events_the_period_holds() -> None:
    from wgsiem.report.activity import Activity

    docs = [d for d in gateway_flow_events() if d["event"]["dataset"] == "wireguard.flow"]
    started = [d for d in docs if d["event"]["action"] == "flow-started"]
    ended = [d for d in docs if d["event"]["action"] == "flow-ended"]
    for events in (docs, started, ended, started[:5] + ended[3:]):  # both; started only; ended only (`--flow-events ended`); a mix
        activity = Activity()
        for doc in events:
            activity.add(doc)
        expected = len({(d["wireguard"]["flow"]["conntrack_id"], d["network"]["community_id"]) for d in events})
        assert activity.totals.flows == expected
        (peer,) = [p for p in activity.peers.values() if p.flow_count]
        assert peer.flow_count == expected == sum(t.flows for t in peer.flow_targets.values())


def test_a_peer_scanning_a_network_costs_a_bounded_list(monkeypatch: pytest.MonkeyPatch) -> None:
    from wgsiem.report import activity as module

    monkeypatch.setattr(module, "FLOW_TARGETS_KEPT", 10)
    (template,) = [d for d in gateway_flow_events() if d["event"]["action"] == "flow-ended" and d["destination"].get("port") == 9999]
    activity = module.Activity()
    for port in range(1, 31):
        doc = json.loads(json.dumps(template))
        doc["destination"]["port"] = port
        doc["network"]["community_id"] = f"1:{port}"
        activity.add(doc)
    (peer,) = activity.peers.values()
    assert len(peer.flow_targets) == 10 and peer.flows_not_itemized == 20 and peer.flow_count == activity.totals.flows == 30
    assert peer.flow_sent == 30 * template["source"]["bytes"]  # bytes are counted, itemized or not


def test_the_exfiltration_night_names_the_laptop(exfiltration) -> None:
    text = _text(exfiltration[1])
    assert "Most data moved in the period: dev-laptop, 3.0 GiB" in text
    assert "WireGuard Exfiltration Spike to a Peer" in text


def test_the_page_needs_nothing_from_outside(stolen) -> None:
    page = stolen[1]
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", page)
    assert "@import" not in page and "@font-face" not in page
    assert not re.search(r"url\((?!#)", page)
    assert "default-src 'none'" in page  # and the browser is told so


def test_one_peer_only(tmp_path: Path) -> None:
    _, page = _report(tmp_path, "stolen-key-abroad", "--peer", "bob")
    text = _text(page)
    assert "WireGuard report: bob" in text and 'id="peer-bob"' in page
    assert 'id="peer-alice"' not in page and "Changchun" not in text
    assert "No alerts in the period in" in text  # every alert of the scenario is about alice


def test_a_period_from_a_time_ends_at_the_last_event(tmp_path: Path) -> None:
    _, page = _report(tmp_path, "stolen-key-abroad", "--from", "2026-10-08T00:00:00Z", alerts=False)
    assert "2026-10-08 00:00:00 UTC to 2026-10-08 11:00:00 UTC" in page


def test_bad_lines_are_named_and_skipped(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    good = (SCENARIOS / "stolen-key-abroad" / "events.ndjson").read_text().splitlines()[:40]
    events.write_text("\n".join([good[0], "{not json", "[1, 2]", *good[1:]]) + "\n")
    result = RUNNER.invoke(app, ["report", str(events), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert f"{events}:2: not valid JSON" in result.stderr and f"{events}:3: a JSON list, not an object" in result.stderr
    assert result.stderr.count(f"{events}:2:") == 1  # named once, though the period is read in a pass of its own
    assert "2 peers" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-"], "give a file, not stdin"),
        (["EVENTS", "--since", "3 days"], "expected an age like 30m"),
        (["EVENTS", "--to", "2026-10-01T00:00:00Z"], "--to needs --from or --since"),
        (["EVENTS", "--from", "2026-10-02T00:00:00Z", "--to", "2026-10-01T00:00:00Z"], "ends before it starts"),
        (["EVENTS", "--from", "yesterday"], "--from/--to"),
        ([], "EVENTS is required"),
        (["/no/such/events.ndjson"], "no such file"),
    ],
)
def test_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    events = str(SCENARIOS / "stolen-key-abroad" / "events.ndjson")
    result = RUNNER.invoke(app, ["report", *[events if a == "EVENTS" else a for a in args], "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "r.html").exists()


def test_the_demo_ends_with_the_alerts_and_the_report() -> None:
    """`bash scripts/run` on a machine without WireGuard (WGSIEM_DEMO=capture takes that
    path even as root): the events, the alerts the rules raised on them, the report's path."""
    import os
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run(["bash", "scripts/run"], cwd=repo, env={**os.environ, "WGSIEM_DEMO": "capture"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = repo / "var" / "report.html"
    alerts = (repo / "var" / "alerts.ndjson").read_text().splitlines()
    assert alerts and f"The rules raised {len(alerts)} alerts on these events" in proc.stderr
    assert "WireGuard Peer Connecting from a New Country" in proc.stdout
    assert proc.stderr.rstrip().endswith(f"The report (one HTML file, readable offline): {report}\x1b[0m")
    assert "alice" in report.read_text()


# --- in a real browser, with the network blocked ------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("which", ["stolen", "exfiltration", "flows"])
def test_the_report_in_headless_chromium(request: pytest.FixtureRequest, which: str) -> None:
    from wgsiem.adapters.browser import render

    path, _ = request.getfixturevalue(which)
    page = render(path, width=1400, height=1000, full_page=True)
    assert page.requests == [] and page.resources == [] and page.errors == []
    text = re.sub(r"\s+", " ", page.text)
    if which == "stolen":
        assert "alice was used from a new place: China" in text
        assert "Last handshake: 2026-10-08 10:59:45 UTC from 175.16.199.20:40404" in text
        assert "Investigating WireGuard Peer Connecting from a New Country" in text
        assert "Changchun" in text and "Amsterdam" in text  # the map's labels and table
    elif which == "exfiltration":
        assert "Most data moved in the period: dev-laptop, 3.0 GiB" in text
    else:
        assert "Inner flows (18; 112.9 KiB sent, 133.4 KiB received)" in text and "10.98.1.2 (peer branch-lan)" in text
    img = pixels.image(page.png)
    pixels.assert_drawn(img, what="the report")
    # The charts: bars in the first and second series colours, drawn in quantity.
    assert pixels.fraction_near(img, PALETTE[0]) > 0.002
    if which == "flows":  # inner addresses only: no endpoint has a place, the map has no marker
        assert pixels.bounding_box(img, MAP_MARKER) is None
        return
    # The map: its markers, on a picture of the world (many colours around them).
    marker = pixels.bounding_box(img, MAP_MARKER)
    assert marker is not None, "no map marker drawn"
    left, top, right, bottom = marker
    around = (max(left - 150, 0), max(top - 80, 0), min(right + 150, img.width), min(bottom + 80, img.height))
    pixels.assert_drawn(img, around, min_colours=200, min_ink=0.5, what="the map")
