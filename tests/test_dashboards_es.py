"""Every dashboard panel's data request, run on the real node over scenario events
(`es`): the buckets are the ones the scenario implies, and the same as the offline
aggregation the report uses (wgsiem/dashboards/evaluate.py) computes from the file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from tests.support.es import bulk_create, in_namespace, unique_namespace
from tests.support.flows import gateway_flow_events
from wgsiem.content import FIXTURES
from wgsiem.dashboards.data import PanelData, TimeRange
from wgsiem.dashboards.evaluate import evaluate
from wgsiem.dashboards.model import Dashboard, load_dashboards
from wgsiem.dashboards.searches import panel_data, panel_request
from wgsiem.detection.timestamps import parse_ms

pytestmark = pytest.mark.es

# The inner flows of fixtures/captures/gateway-flows, converted: flows from one peer to
# another, which no recorded scenario has.
FLOWS = "gateway-flows"
SCENARIOS = (
    "stolen-key-abroad", "exfiltration-at-night", "scanner-handshake-flood", "spoofed-inner-source", "lab-story", "config-tampering",
    "lab-lateral-movement", "lab-internal-scan", FLOWS,
)  # fmt: skip
DASHBOARDS = {d.id: d for d in load_dashboards()}


def _events(scenario: str) -> list[dict[str, Any]]:
    if scenario == FLOWS:
        return gateway_flow_events()
    return [json.loads(line) for line in (FIXTURES / "scenarios" / scenario / "events.ndjson").read_text().splitlines() if line]


def _whole(docs: list[dict[str, Any]]) -> TimeRange:
    times = [parse_ms(d["@timestamp"]) for d in docs]
    return TimeRange(min(times), max(times))


@pytest.fixture(scope="module")
def indexed(es_templates: str) -> dict[str, tuple[Elasticsearch, str, list[dict[str, Any]]]]:
    """Each scenario's events in a namespace of its own on the node."""
    client = Elasticsearch(es_templates, request_timeout=60)
    out = {}
    for scenario in SCENARIOS:
        namespace = unique_namespace()
        docs = _events(scenario)
        results = bulk_create(client, in_namespace(docs, namespace))
        assert all(r.get("status") == 201 for r in results), [r for r in results if r.get("status") != 201][:3]
        out[scenario] = (client, namespace, docs)
    return out


def _from_node(client: Elasticsearch, namespace: str, dashboard: Dashboard, panel_id: str, time_range: TimeRange) -> PanelData:
    panel = dashboard.panel(panel_id)
    body = panel_request(dashboard, panel, time_range)
    response = client.perform_request("POST", f"/logs-wireguard.*-{namespace}/_search", headers={"content-type": "application/json", "accept": "application/json"}, body=body).body
    return panel_data(panel, time_range, response)


def _normal(data: PanelData) -> tuple[Any, Any]:
    return [(r.keys, r.value) for r in data.rows], [(p.entity, p.lat, p.lon, p.timestamp_ms, p.tooltip) for p in data.points]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("dashboard_id", sorted(DASHBOARDS))
def test_every_panel_on_the_node_is_the_offline_aggregation(indexed, scenario: str, dashboard_id: str) -> None:
    client, namespace, docs = indexed[scenario]
    dashboard = DASHBOARDS[dashboard_id]
    time_range = _whole(docs)
    offline = evaluate(dashboard, time_range, docs)
    for panel in dashboard.panels:
        node = _from_node(client, namespace, dashboard, panel.id, time_range)
        assert _normal(node) == _normal(offline[panel.id]), f"{dashboard_id}/{panel.id} on {scenario}"


def test_every_panel_shows_something_on_some_scenario(indexed) -> None:
    """No panel asks a question the data never answers (a misspelt value in its KQL would)."""
    empty = []
    for dashboard in DASHBOARDS.values():
        for panel in dashboard.panels:
            found = False
            for scenario in SCENARIOS:
                client, namespace, docs = indexed[scenario]
                data = _from_node(client, namespace, dashboard, panel.id, _whole(docs))
                if data.points or any(r.value for r in data.rows):
                    found = True
                    break
            if not found:
                empty.append(f"{dashboard.id}/{panel.id}")
    assert empty == []


def _answers(indexed, scenario: str, dashboard_id: str, panel_id: str, time_range: TimeRange | None = None) -> PanelData:
    client, namespace, docs = indexed[scenario]
    return _from_node(client, namespace, DASHBOARDS[dashboard_id], panel_id, time_range or _whole(docs))


def test_the_stolen_key_map_shows_both_countries_of_alices_key(indexed) -> None:
    for dashboard_id in ("overview", "peer"):
        points = _answers(indexed, "stolen-key-abroad", dashboard_id, "endpoint-map").points
        alice = {p.tooltip["source.geo.country_name"] for p in points if p.tooltip["wireguard.peer.name"] == "alice"}
        assert alice == {"Netherlands", "China"}
        china = next(p for p in points if p.entity == "175.16.199.20")
        assert (china.lat, china.lon) == (43.8171, 125.3235)


def test_the_stolen_key_places_table_dates_china_after_the_netherlands(indexed) -> None:
    rows = {r.keys: r.value for r in _answers(indexed, "stolen-key-abroad", "peer", "places").rows}
    first_nl = rows[("alice", "Netherlands", "Example Canal Transit B.V.")]
    first_cn = rows[("alice", "China", "Example Northeast Mobile Co.")]
    assert first_nl < first_cn == parse_ms("2026-10-08T10:00:00Z")


def test_the_exfiltration_night_puts_the_laptop_first(indexed) -> None:
    # Over ten days the file server's nightly backups outweigh it; in the night's hours the
    # laptop's 3 GiB come first.
    night = TimeRange(parse_ms("2026-10-11T01:30:00Z"), parse_ms("2026-10-11T03:00:00Z"))
    rows = _answers(indexed, "exfiltration-at-night", "overview", "top-transfer", night).rows
    assert rows[0].keys == ("dev-laptop",)
    assert rows[0].value > 3 * 2**30 > rows[1].value


def test_the_exfiltration_spike_is_in_the_overview(indexed) -> None:
    rows = _answers(indexed, "exfiltration-at-night", "overview", "transfer-spikes").rows
    assert [(r.keys, r.value) for r in rows] == [(("dev-laptop", "tx"), parse_ms("2026-10-11T02:00:30Z"))]


def test_the_scanner_flood_names_its_sources_and_countries(indexed) -> None:
    top = _answers(indexed, "scanner-handshake-flood", "attacks", "top-scanners").rows
    count = _answers(indexed, "scanner-handshake-flood", "attacks", "invalid-handshakes").value
    assert count == 270 == sum(r.value for r in top)
    assert top[0].value >= top[-1].value
    over_time = _answers(indexed, "scanner-handshake-flood", "attacks", "invalid-over-time")
    assert sum(v or 0 for series in over_time.series().values() for _, v in series) == 270


def test_the_spoofed_source_table_names_peer_and_address(indexed) -> None:
    rows = _answers(indexed, "spoofed-inner-source", "attacks", "unallowed-sources").rows
    assert rows and all(len(r.keys) == 2 and r.value >= 1 for r in rows)
    assert sum(r.value for r in rows) == 3


def test_the_flow_panels_count_each_connection_once_and_name_peers_hosts_and_services(indexed) -> None:
    _, _, docs = indexed[FLOWS]
    ended = [d for d in docs if d["event"]["action"] == "flow-ended"]
    assert len(ended) == 18 == _answers(indexed, FLOWS, "flows", "flows").value  # started and ended: one flow
    assert _answers(indexed, FLOWS, "flows", "flow-bytes").value == sum(d["network"]["bytes"] for d in ended)
    received = _answers(indexed, FLOWS, "flows", "top-receivers").rows
    assert [(r.keys, r.value) for r in received] == [(("alice-laptop",), sum(d["destination"]["bytes"] for d in ended))]
    # The port 81 (refused) and 9999 (no listener), a GRE packet and an unknown protocol.
    assert [(r.keys, r.value) for r in _answers(indexed, FLOWS, "flows", "unreplied-by-peer").rows] == [(("alice-laptop", "10.98.0.1"), 4)]
    # nat.log's forwarded connections reach the LAN that branch-lan's allowed IPs hold.
    assert [(r.keys, r.value) for r in _answers(indexed, FLOWS, "flows", "peer-to-peer").rows] == [(("alice-laptop", "branch-lan"), 6)]
    services = {r.keys: r.value for r in _answers(indexed, FLOWS, "flows", "top-services").rows}
    assert services[("tcp", 5432)] == 3 and services[("udp", 9999)] == 1
    reached = {r.keys: r.value for r in _answers(indexed, FLOWS, "peer", "flow-services").rows}
    assert reached[("alice-laptop", "10.98.0.1", 5432)] == 3 and reached[("alice-laptop", "10.98.1.2", 80)] == 3
    hosts = [r.keys[1] for r in _answers(indexed, FLOWS, "flows", "recent-flows").rows]
    assert hosts[0] == "10.98.1.2" and set(hosts) == {"10.98.0.1", "10.98.1.2", "fd98::1", "fd98:1::2"}


def test_the_lateral_movement_puts_the_database_dump_first(indexed) -> None:
    receivers = _answers(indexed, "lab-lateral-movement", "flows", "top-receivers").rows
    assert receivers[0].keys == ("laptop-heidi",) and receivers[0].value > 10**9 > receivers[1].value
    reached = {r.keys for r in _answers(indexed, "lab-lateral-movement", "peer", "flow-services").rows}
    assert ("laptop-heidi", "10.77.100.20", 5432) in reached


def test_the_internal_scan_shows_as_unreplied_flows_to_the_database_host(indexed) -> None:
    rows = _answers(indexed, "lab-internal-scan", "flows", "unreplied-by-peer").rows
    assert rows[0].keys == ("laptop-ivan", "10.77.100.20") and rows[0].value >= 30 > rows[1].value
    assert {r.keys[0] for r in rows} == {"laptop-ivan"}


def _kibana_alerts_index(client: Elasticsearch, alias: str, alerts: list[dict[str, Any]]) -> None:
    """Elastic Security's alerts of a space as Kibana's alerting framework keeps them: a
    hidden concrete index behind a hidden write alias, the fields the report reads mapped as
    Kibana maps them. Kibana cannot run here; this stands in for the index it would write."""
    mappings = {"properties": {
        "@timestamp": {"type": "date"}, "kibana.alert.original_time": {"type": "date"},
        "kibana.alert.rule.tags": {"type": "keyword"}, "kibana.alert.rule.name": {"type": "keyword"},
    }}  # fmt: skip
    client.indices.create(index=f".internal{alias}-000001", settings={"index.hidden": True}, mappings=mappings,
                          aliases={alias: {"is_write_index": True, "is_hidden": True}})  # fmt: skip
    lines = []
    for alert in alerts:
        lines += [json.dumps({"create": {"_index": alias}}), json.dumps(alert)]
    reply = client.perform_request("POST", "/_bulk?refresh=wait_for", headers={"content-type": "application/x-ndjson", "accept": "application/json"}, body="\n".join(lines) + "\n").body
    assert not reply["errors"], reply["items"][:2]


def test_the_report_from_the_node_is_the_report_from_the_file(indexed, tmp_path) -> None:
    """`wgsiem report --es`: each panel's own search, the period's documents and the alerts
    of Security's alerts index make the very page the file and its alerts make (but for the
    line naming the source)."""
    from typer.testing import CliRunner

    from wgsiem.cli import app

    client, namespace, docs = indexed["stolen-key-abroad"]
    url = client.transport.node_pool.get().base_url
    events = FIXTURES / "scenarios" / "stolen-key-abroad" / "events.ndjson"
    runner = CliRunner()
    ran = runner.invoke(app, ["rules", "run", str(events), "--start", "2026-10-08T00:00:00Z"])
    assert ran.exit_code == 0, ran.output
    alerts_file = tmp_path / "alerts.ndjson"
    alerts_file.write_text(ran.stdout)
    alias = f".alerts-security.alerts-{namespace}"
    _kibana_alerts_index(client, alias, [json.loads(line) for line in ran.stdout.splitlines()])
    period = ["--from", "2026-10-01T00:00:00Z", "--to", "2026-10-08T11:00:00Z"]
    from_file = runner.invoke(app, ["report", str(events), "--alerts", str(alerts_file), "-o", str(tmp_path / "file.html"), *period])
    from_node = runner.invoke(app, ["report", "--es", url, "--index", f"logs-wireguard.*-{namespace}", "--alerts-index", alias, "-o", str(tmp_path / "node.html"), *period])
    assert from_file.exit_code == 0, from_file.output
    assert from_node.exit_code == 0, from_node.output
    file_page = (tmp_path / "file.html").read_text().replace(str(events), "SOURCE")
    node_page = (tmp_path / "node.html").read_text().replace(url, "SOURCE")
    assert "alice</b> was used from a new place" in node_page
    assert "Investigating WireGuard Peer Connecting from a New Country" in node_page
    assert node_page == file_page


def test_the_flows_report_from_the_node_is_the_report_from_the_file(indexed, tmp_path) -> None:
    """The peers' inner flows come from the period's documents in time order, as from the
    file: each flow counted once, by host and service."""
    from typer.testing import CliRunner

    from wgsiem.cli import app

    client, namespace, docs = indexed[FLOWS]
    url = client.transport.node_pool.get().base_url
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "alerts.ndjson").write_text("")
    period = ["--from", "2026-12-05T05:31:00Z", "--to", "2026-12-05T05:32:00Z", "--alerts", str(tmp_path / "alerts.ndjson")]
    runner = CliRunner()
    from_file = runner.invoke(app, ["report", str(events), "-o", str(tmp_path / "file.html"), *period])
    from_node = runner.invoke(app, ["report", "--es", url, "--index", f"logs-wireguard.*-{namespace}", "-o", str(tmp_path / "node.html"), *period])
    assert from_file.exit_code == 0, from_file.output
    assert from_node.exit_code == 0, from_node.output
    node_page = (tmp_path / "node.html").read_text().replace(url, "SOURCE")
    assert "Inner flows (18; 112.9 KiB sent, 133.4 KiB received)" in node_page
    assert node_page == (tmp_path / "file.html").read_text().replace(str(events), "SOURCE")


def test_a_missing_alerts_index_is_said_on_the_page(indexed, tmp_path) -> None:
    from typer.testing import CliRunner

    from wgsiem.cli import app

    client, namespace, _ = indexed["exfiltration-at-night"]
    url = client.transport.node_pool.get().base_url
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", "--es", url, "--index", f"logs-wireguard.*-{namespace}", "--from", "2026-10-11T01:30:00Z",
                                      "--to", "2026-10-11T03:00:00Z", "--alerts-index", ".alerts-security.alerts-nosuchspace", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "The alerts in .alerts-security.alerts-nosuchspace could not be read" in page
    assert "Most data moved in the period: <b>dev-laptop</b>" in page
