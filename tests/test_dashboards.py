"""Dashboards as data (wgsiem/dashboards): the files are checked with their line and key,
and the offline aggregation gives Elasticsearch's buckets (the `es` tests compare the two
on the real node; here the semantics are pinned one by one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wgsiem.cli import app
from wgsiem.content import DASHBOARDS
from wgsiem.dashboards.data import TimeRange, auto_interval
from wgsiem.dashboards.evaluate import evaluate
from wgsiem.dashboards.model import DashboardFileError, load_dashboard, load_dashboards
from wgsiem.dashboards.searches import panel_request
from wgsiem.detection.timestamps import parse_ms

GOOD = """\
id: test
title: A test dashboard
description: Panels for a test.
panels:
  - id: bytes
    title: Bytes by peer
    description: Data moved per peer.
    chart: bar_horizontal
    query: 'event.action : "transfer"'
    metric: {function: sum, field: network.bytes}
    breakdown: {field: wireguard.peer.name, size: 2}
    grid: {x: 0, y: 0, w: 24, h: 10}
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test.yml"
    path.write_text(text)
    return path


def test_the_shipped_dashboards_load() -> None:
    dashboards = {d.id: d for d in load_dashboards()}
    assert set(dashboards) == {"overview", "peer", "attacks", "flows"}
    assert dashboards["peer"].controls == ("wireguard.peer.name", "user.name")
    assert {p.chart for d in dashboards.values() for p in d.panels} >= {"metric", "bar", "area", "bar_horizontal", "donut", "table", "map"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("field: network.bytes", "field: network.bytez"), ":10: panels.0.metric.field: field 'network.bytez' is not defined in ecs_mappings/"),
        (("field: wireguard.peer.name", "field: message"), ":11: panels.0.breakdown.field: field 'message' is a match_only_text field, which cannot be grouped by"),
        (("function: sum, field: network.bytes", "function: sum, field: source.ip"), "field 'source.ip' is a ip field, which cannot be measured by sum"),
        (("'event.action : \"transfer\"'", "'event.action : (transfer'"), ":9: panels.0.query: KQL:"),
        (("'event.action : \"transfer\"'", "'no.such.field : 1'"), ":9: panels.0.query: KQL:"),
        (("chart: bar_horizontal", "chart: pie"), ":8: panels.0.chart: 'pie' is not one of"),
        (("    grid: {x: 0", "    colour: red\n    grid: {x: 0"), ":12: panels.0.colour: unknown key"),
        (("w: 24", "w: 60"), "panels.0.grid.w: 60 is greater than the maximum of 48"),
        (("chart: bar_horizontal", "chart: bar"), "panels.0: 'time_axis' is a required property"),
    ],
)
def test_a_bad_file_is_named_with_its_line_and_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = _file(tmp_path, GOOD.replace(*change))
    with pytest.raises(DashboardFileError) as caught:
        load_dashboard(path)
    assert f"{path}" in str(caught.value)
    assert message in str(caught.value)


def test_overlapping_panels_and_twice_used_ids(tmp_path: Path) -> None:
    second = GOOD[GOOD.index("  - id: bytes") :].replace("grid: {x: 0, y: 0", "grid: {x: 12, y: 5")
    path = _file(tmp_path, GOOD + second)
    with pytest.raises(DashboardFileError) as caught:
        load_dashboard(path)
    assert "panel id 'bytes' is used twice" in str(caught.value)
    assert "panel 'bytes' overlaps panel 'bytes'" in str(caught.value)


def test_two_files_with_one_id(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD)
    with pytest.raises(DashboardFileError, match="id: 'test' is also the id of"):
        load_dashboards(tmp_path)


def test_the_auto_interval_keeps_about_fifty_bars() -> None:
    day = 86_400_000
    assert auto_interval(0, day).name == "30m"  # 48 bars
    assert auto_interval(0, 7 * day).name == "12h"  # 14 bars; 3h would be 56
    assert auto_interval(0, 30 * day).name == "1d"
    assert auto_interval(0, 90 * 60_000).name == "5m"


def _doc(at: str, name: object, moved: object = None, **more: object) -> dict:
    doc: dict = {"@timestamp": at, "event": {"action": "transfer"}, "wireguard": {"peer": {"name": name}}}
    if moved is not None:
        doc["network"] = {"bytes": moved}
    doc.update(more)
    return doc


def _panel_rows(tmp_path: Path, text: str, docs: list[dict], start: str = "2026-10-01T00:00:00Z", end: str = "2026-10-01T05:00:00Z") -> list:
    dashboard = load_dashboard(_file(tmp_path, text))
    data = evaluate(dashboard, TimeRange(parse_ms(start), parse_ms(end)), docs)
    return [(r.keys, r.value) for r in data[dashboard.panels[0].id].rows]


def test_terms_ordered_by_the_metric_ties_by_key_and_cut_at_size(tmp_path: Path) -> None:
    docs = [
        _doc("2026-10-01T01:00:00Z", "carol", 5),
        _doc("2026-10-01T01:00:00Z", "bob", 5),
        _doc("2026-10-01T01:00:00Z", "alice", 1),
        _doc("2026-10-01T01:00:00Z", ["alice", "dave"], 10),  # in both buckets, as Elasticsearch puts it
        _doc("2026-10-01T01:00:00Z", None, 99),  # no peer: in no bucket
        _doc("2026-10-01T09:00:00Z", "erin", 1000),  # outside the period
    ]
    assert _panel_rows(tmp_path, GOOD.replace("size: 2", "size: 3"), docs) == [(("alice",), 11.0), (("dave",), 10.0), (("bob",), 5.0)]


def test_empty_time_buckets_are_filled_and_empty_metrics_are_zero_or_null(tmp_path: Path) -> None:
    text = GOOD.replace("chart: bar_horizontal", "chart: bar\n    time_axis: true").replace("function: sum", "function: max")
    rows = _panel_rows(tmp_path, text, [_doc("2026-10-01T00:10:00Z", "bob", 7), _doc("2026-10-01T04:50:00Z", "bob")], end="2026-10-01T01:00:00Z")
    # 5-minute bars from the period's start to its end; max of nothing is null.
    assert [keys[1] for keys, _ in rows] == list(range(parse_ms("2026-10-01T00:00:00Z"), parse_ms("2026-10-01T01:00:01Z"), 300_000))
    assert [value for _, value in rows] == [None, None, 7.0] + [None] * 10
    summed = _panel_rows(tmp_path, text.replace("function: max", "function: sum"), [_doc("2026-10-01T00:10:00Z", "bob", 7)], end="2026-10-01T01:00:00Z")
    assert [v for _, v in summed] == [0.0, 0.0, 7.0] + [0.0] * 10


def test_ip_terms_tie_break_as_elasticsearch_orders_addresses(tmp_path: Path) -> None:
    text = GOOD.replace("field: wireguard.peer.name, size: 2", "field: source.ip, size: 5").replace("function: sum, field: network.bytes", "function: count")
    docs = [_doc("2026-10-01T01:00:00Z", "x", source={"ip": ip}) for ip in ("2001:db8::1", "10.0.0.9", "9.9.9.9")]
    assert [keys for keys, _ in _panel_rows(tmp_path, text, docs)] == [("9.9.9.9",), ("10.0.0.9",), ("2001:db8::1",)]


def test_the_request_asks_for_what_the_offline_aggregation_computes(tmp_path: Path) -> None:
    dashboard = load_dashboard(_file(tmp_path, GOOD))
    body = panel_request(dashboard, dashboard.panels[0], TimeRange(0, 3_600_000))
    terms = body["aggs"]["g"]
    assert terms["terms"] == {"field": "wireguard.peer.name", "size": 2, "order": [{"m": "desc"}, {"_key": "asc"}]}
    assert terms["aggs"] == {"m": {"sum": {"field": "network.bytes"}}}
    assert body["query"]["bool"]["filter"][-1] == {"range": {"@timestamp": {"gte": "1970-01-01T00:00:00.000Z", "lte": "1970-01-01T01:00:00.000Z", "format": "strict_date_optional_time"}}}
    assert DASHBOARDS.is_dir()


def test_the_cli_validates_and_exports(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["dashboards", "validate"])
    assert ok.exit_code == 0 and "4 dashboards valid (39 panels)" in ok.stdout
    (tmp_path / "bad.yml").write_text(GOOD.replace("network.bytes", "network.bytez"))
    bad = runner.invoke(app, ["dashboards", "validate", "--dashboards-dir", str(tmp_path)])
    assert bad.exit_code == 2 and f"{tmp_path / 'bad.yml'}:10: panels.0.metric.field" in bad.output
    exported = runner.invoke(app, ["dashboards", "export"])
    objects = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [o["type"] for o in objects] == ["index-pattern", "dashboard", "dashboard", "dashboard", "dashboard"]
    view = objects[0]["id"]
    assert all(r["id"] == view for o in objects[1:] for r in o["references"] if r["type"] == "index-pattern")
