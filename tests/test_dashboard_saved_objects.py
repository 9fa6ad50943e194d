"""dashboards/*.yml as the Kibana saved objects the package ships (wgsiem.dashboards.saved_objects),
checked by kibana-dashboard.schema.json and the package validator's dashboard rules
(wgsiem.package.kibana_dashboards): the real dashboards pass; each way of breaking one is
reported once, naming the file and the key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wgsiem.dashboards.model import Dashboard, load_dashboards
from wgsiem.dashboards.saved_objects import (
    DATA_VIEW_ID,
    DATA_VIEW_TITLE,
    TYPE_MIGRATION_VERSIONS,
    column_id,
    dashboard_object,
    data_view,
    layer_id,
    object_id,
)
from wgsiem.kql import FieldTypes
from wgsiem.package.build import assemble, write_unpacked, zip_bytes
from wgsiem.package.files import Document
from wgsiem.package.schema_checks import schema_problems
from wgsiem.package.validate import validate_package

DASHBOARD = "kibana/dashboard/wireguard-overview.json"


@pytest.fixture(scope="module")
def dashboards() -> dict[str, Dashboard]:
    return {d.id: d for d in load_dashboards()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_unpacked(assemble(), tmp_path_factory.mktemp("package"))


def panels_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(obj["attributes"]["panelsJSON"])


def lens_layer(obj: dict[str, Any], panel_id: str) -> dict[str, Any]:
    panel = next(p for p in panels_of(obj) if p["panelIndex"] == panel_id)
    layers = panel["embeddableConfig"]["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    (layer,) = layers.values()
    return layer


def metric_column(obj: dict[str, Any], dashboard: Dashboard, panel_id: str) -> dict[str, Any]:
    column: dict[str, Any] = lens_layer(obj, panel_id)["columns"][column_id(dashboard, dashboard.panel(panel_id), "metric")]
    return column


# -- the objects -----------------------------------------------------------------------------


def test_every_dashboard_and_the_data_view_pass_their_schemas(dashboards):
    for dashboard in dashboards.values():
        obj = dashboard_object(dashboard)
        assert obj["id"] == f"wireguard-{dashboard.id}" == object_id(dashboard)
        assert schema_problems("kibana-dashboard", Document(f"kibana/dashboard/{obj['id']}.json", obj)) == []
        assert len(panels_of(obj)) == len(dashboard.panels)
    assert schema_problems("kibana-index-pattern", Document(f"kibana/index_pattern/{DATA_VIEW_ID}.json", data_view())) == []
    assert data_view()["attributes"] == {
        "allowNoIndex": True, "name": "[Logs WireGuard] logs-wireguard.*", "timeFieldName": "@timestamp", "title": DATA_VIEW_TITLE,
    }  # fmt: skip


def test_the_dashboard_carries_title_time_query_grid_and_migration_versions(dashboards):
    overview = dashboards["overview"]
    obj = dashboard_object(overview)
    attributes = obj["attributes"]
    assert (attributes["title"], attributes["description"]) == (overview.title, overview.description)
    assert (attributes["timeRestore"], attributes["timeFrom"], attributes["timeTo"]) == (True, "now-7d", "now")
    assert json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"] == {"language": "kuery", "query": overview.query}
    assert (obj["coreMigrationVersion"], obj["typeMigrationVersion"]) == ("8.8.0", TYPE_MIGRATION_VERSIONS["dashboard"]) == ("8.8.0", "8.9.0")
    for panel, model in zip(panels_of(obj), overview.panels, strict=True):
        g = model.grid
        assert panel["gridData"] == {"x": g.x, "y": g.y, "w": g.w, "h": g.h, "i": model.id}
        assert panel["panelIndex"] == model.id and panel["title"] == model.title
        assert panel["type"] == ("map" if model.chart == "map" else "lens")


def test_a_panels_kql_goes_into_the_lens_state_and_the_map_layer(dashboards):
    overview = dashboards["overview"]
    panels = {p["panelIndex"]: p for p in panels_of(dashboard_object(overview))}
    lens = panels["sessions"]["embeddableConfig"]["attributes"]
    assert lens["state"]["query"] == {"language": "kuery", "query": overview.panel("sessions").query}
    layers = json.loads(panels["endpoint-map"]["embeddableConfig"]["attributes"]["layerListJSON"])
    assert layers[1]["query"] == {"language": "kuery", "query": overview.panel("endpoint-map").query}


def test_every_reference_resolves_to_the_data_view_by_the_names_kibana_gives(dashboards):
    peer = dashboards["peer"]
    obj = dashboard_object(peer)
    names = {r["name"] for r in obj["references"]}
    assert {r["id"] for r in obj["references"]} == {DATA_VIEW_ID}
    assert {r["type"] for r in obj["references"]} == {"index-pattern"}
    expected = set()
    for panel in peer.panels:
        if panel.chart == "map":
            expected.add(f"{panel.id}:layer_1_source_index_pattern")
        else:
            expected.add(f"{panel.id}:indexpattern-datasource-layer-{layer_id(peer, panel)}")
    controls = json.loads(obj["attributes"]["controlGroupInput"]["panelsJSON"])
    assert sorted(c["explicitInput"]["fieldName"] for c in controls.values()) == sorted(peer.controls)
    expected |= {f"controlGroup_{cid}:optionsListDataView" for cid in controls}
    assert names == expected
    assert len(obj["references"]) == len(names)  # no name twice


@pytest.mark.parametrize(
    ("panel_id", "operation", "field", "data_type", "format_id"),
    [
        ("sessions", "count", "___records___", "number", None),
        ("active-peers", "unique_count", "wireguard.peer.public_key", "number", None),
        ("data-moved", "sum", "network.bytes", "number", "bytes"),
        ("recent-changes", "max", "@timestamp", "date", None),
    ],
)
def test_lens_metric_columns_take_kibanas_shape_per_function(dashboards, panel_id, operation, field, data_type, format_id):
    overview = dashboards["overview"]
    column = metric_column(dashboard_object(overview), overview, panel_id)
    assert (column["operationType"], column["sourceField"], column["dataType"]) == (operation, field, data_type)
    assert (column["isBucketed"], column["scale"], column["params"]["emptyAsNull"]) == (False, "ratio", True)
    assert column["params"].get("format", {}).get("id") == format_id


def test_min_average_and_a_numeric_max_are_numbers(dashboards):
    peer = dashboards["peer"]
    obj = dashboard_object(peer)
    first_seen = metric_column(obj, peer, "places")
    assert (first_seen["operationType"], first_seen["dataType"]) == ("min", "date")  # min of @timestamp: a date
    moved = peer.panel("data-moved-over-time")  # sum of network.bytes
    for function in ("max", "average"):
        changed = Dashboard(**{**_fields(peer), "panels": (_with_metric(moved, function),)})
        column = metric_column(dashboard_object(changed), changed, "data-moved-over-time")
        assert (column["operationType"], column["dataType"], column["sourceField"]) == (function, "number", "network.bytes")
    addresses = metric_column(obj, peer, "endpoints-per-peer")
    assert (addresses["operationType"], addresses["dataType"], addresses["sourceField"]) == ("unique_count", "number", "source.ip")


def test_time_and_breakdown_columns(dashboards):
    overview = dashboards["overview"]
    panel = overview.panel("sessions-over-time")
    obj = dashboard_object(overview)
    layer = lens_layer(obj, "sessions-over-time")
    time, group, metric = (column_id(overview, panel, r) for r in ("time", "group-0", "metric"))
    assert layer["columnOrder"] == [group, time, metric]  # the breakdown outside the date histogram, as Lens nests them
    assert layer["columns"][time]["operationType"] == "date_histogram"
    assert layer["columns"][time]["params"]["interval"] == "auto"
    terms = layer["columns"][group]
    assert (terms["operationType"], terms["sourceField"], terms["params"]["size"]) == ("terms", "wireguard.peer.name", 10)
    assert terms["params"]["orderBy"] == {"type": "column", "columnId": metric}
    vis = next(p for p in panels_of(obj) if p["panelIndex"] == "sessions-over-time")["embeddableConfig"]["attributes"]["state"]["visualization"]
    assert vis["layers"][0].items() >= {"xAccessor": time, "splitAccessor": group, "seriesType": "bar_stacked", "accessors": [metric]}.items()
    ip = lens_layer(dashboard_object(dashboards["attacks"]), "top-scanners")
    assert [c["dataType"] for c in ip["columns"].values() if c["operationType"] == "terms"] == ["ip"]


def test_each_chart_is_its_lens_visualization(dashboards):
    kinds = {}
    for dashboard in dashboards.values():
        for panel in panels_of(dashboard_object(dashboard)):
            if panel["type"] == "lens":
                attributes = panel["embeddableConfig"]["attributes"]
                kinds[dashboard.panel(panel["panelIndex"]).chart] = attributes["visualizationType"]
    assert kinds == {
        "metric": "lnsMetric", "bar": "lnsXY", "area": "lnsXY", "bar_horizontal": "lnsXY", "donut": "lnsPie", "table": "lnsDatatable",
    }  # fmt: skip


def test_the_map_layer_keeps_the_latest_document_per_entity(dashboards):
    for dashboard in dashboards.values():
        for panel in (p for p in dashboard.panels if p.chart == "map"):
            built = next(p for p in panels_of(dashboard_object(dashboard)) if p["panelIndex"] == panel.id)
            layers = json.loads(built["embeddableConfig"]["attributes"]["layerListJSON"])
            source = layers[1]["sourceDescriptor"]
            assert source["type"] == "ES_SEARCH" and source["scalingType"] == "TOP_HITS"
            assert source["topHitsSplitField"] == panel.entity
            assert (source["topHitsSize"], source["sortField"], source["sortOrder"]) == (1, "@timestamp", "desc")
            assert source["geoField"] == panel.location
            assert source["tooltipProperties"] == list(panel.tooltip)
            assert source["indexPatternRefName"] == "layer_1_source_index_pattern"


def test_the_output_is_deterministic_and_ids_derive_from_the_dashboard_and_panel(dashboards):
    overview = dashboards["overview"]
    first = json.dumps(dashboard_object(overview))
    assert first == json.dumps(dashboard_object(overview))
    renamed = Dashboard(**{**_fields(overview), "id": "overview2"})
    assert layer_id(renamed, overview.panels[0]) != layer_id(overview, overview.panels[0])
    assert json.loads(first)["attributes"]["panelsJSON"] != dashboard_object(renamed)["attributes"]["panelsJSON"]


def test_the_package_holds_the_dashboards_and_the_data_view_and_validates(dashboards, built):
    names = sorted(p.name for p in (built / "kibana" / "dashboard").iterdir())
    assert names == sorted(f"wireguard-{d}.json" for d in dashboards)
    assert (built / "kibana" / "index_pattern" / f"{DATA_VIEW_ID}.json").is_file()
    assert json.loads((built / DASHBOARD).read_text()) == json.loads(json.dumps(dashboard_object(dashboards["overview"])))
    readme = (built / "docs" / "README.md").read_text()
    assert "## Dashboards" in readme and "[Logs WireGuard] Peer activity" in readme
    assert validate_package(built) == []
    assert zip_bytes(assemble()) == zip_bytes(assemble())


# -- broken objects ---------------------------------------------------------------------------


def _fields(d: Dashboard) -> dict[str, Any]:
    return {name: getattr(d, name) for name in Dashboard.__dataclass_fields__}


def _with_metric(panel: Any, function: str) -> Any:  # noqa: ANN401 - a Panel
    from dataclasses import replace

    assert panel.metric is not None
    return replace(panel, metric=replace(panel.metric, function=function))


def _panels(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        panels = panels_of(obj)
        edit(panels)
        obj["attributes"]["panelsJSON"] = json.dumps(panels)

    return change


def _renamed_panel(index: int, new_id: str) -> Callable[[dict[str, Any]], None]:
    """The panel at `index` given another id, its references following it."""

    def change(obj: dict[str, Any]) -> None:
        panels = panels_of(obj)
        old = panels[index]["panelIndex"]
        panels[index]["panelIndex"] = panels[index]["gridData"]["i"] = new_id
        obj["attributes"]["panelsJSON"] = json.dumps(panels)
        for ref in obj["references"]:
            if ref["name"].startswith(f"{old}:"):
                ref["name"] = new_id + ref["name"][len(old) :]

    return change


def _drop_reference(prefix: str) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        obj["references"] = [r for r in obj["references"] if not r["name"].startswith(prefix)]

    return change


def _lens_column(panel: int, edit: Callable[[dict[str, Any]], None]) -> Callable[[list[dict[str, Any]]], None]:
    def change(panels: list[dict[str, Any]]) -> None:
        layers = panels[panel]["embeddableConfig"]["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        (layer,) = layers.values()
        edit(layer["columns"][layer["columnOrder"][-1]])

    return change


def _map_layer(edit: Callable[[dict[str, Any]], None]) -> Callable[[list[dict[str, Any]]], None]:
    def change(panels: list[dict[str, Any]]) -> None:
        panel = next(p for p in panels if p["type"] == "map")
        layers = json.loads(panel["embeddableConfig"]["attributes"]["layerListJSON"])
        edit(layers[1])
        panel["embeddableConfig"]["attributes"]["layerListJSON"] = json.dumps(layers)

    return change


BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "a missing title": (
        lambda o: o["attributes"].pop("title"), "attributes.title", "missing",
    ),
    "an empty description": (
        lambda o: o["attributes"].update(description=""), "attributes.description", "should be non-empty",
    ),
    "a panel without a title": (
        _panels(lambda ps: ps[2].pop("title")), "attributes.panelsJSON[2].title", "missing",
    ),
    "a missing Lens reference": (
        _drop_reference("sessions:"), "attributes.panelsJSON[1].embeddableConfig.attributes.state.datasourceStates.formBased.layers",
        "missing reference: the dashboard has no reference named 'sessions:indexpattern-datasource-layer-",
    ),
    "a missing map reference": (
        _drop_reference("endpoint-map:"), "attributes.panelsJSON[7].embeddableConfig.attributes.layerListJSON[1].sourceDescriptor.indexPatternRefName",
        "no reference named 'endpoint-map:layer_1_source_index_pattern'",
    ),
    "a reference to a data view the package lacks": (
        lambda o: o["references"][7].update(id="logs-openvpn.*"), "references[7].id",  # the map's (a Lens panel names its own too)
        "data view 'logs-openvpn.*' is neither in kibana/index_pattern/ (wireguard-logs) nor one Fleet creates",
    ),
    "a reference for a panel the dashboard lacks": (
        lambda o: o["references"].append({"id": DATA_VIEW_ID, "name": "gone:indexpattern-datasource-layer-x", "type": "index-pattern"}),
        "references[", "names panel 'gone', which the dashboard does not have",  # the last, appended
    ),
    "two panels with one id": (
        _renamed_panel(1, "active-peers"),
        "attributes.panelsJSON[1].panelIndex", "panel id 'active-peers' is also the id of panel [0]",
    ),
    "an unknown field": (
        _panels(_lens_column(2, lambda c: c.update(sourceField="wireguard.peer.nick"))),
        "attributes.panelsJSON[2].embeddableConfig.attributes.state.datasourceStates.formBased.layers.",
        "the dashboard uses field wireguard.peer.nick, which no data stream of the package defines",
    ),
    "an unknown field in a panel's KQL": (
        _panels(lambda ps: ps[0]["embeddableConfig"]["attributes"]["state"]["query"].update(query="peer.nick : alice")),
        "attributes.panelsJSON[0].embeddableConfig.attributes.state.query", "the query uses field peer.nick",
    ),
    "a map split by an unknown field": (
        _panels(_map_layer(lambda layer: layer["sourceDescriptor"].update(topHitsSplitField="source.nick"))),
        "attributes.panelsJSON[7].embeddableConfig.attributes.layerListJSON[1].sourceDescriptor.topHitsSplitField", "field source.nick",
    ),
    "a top hits layer with no entity": (
        _panels(_map_layer(lambda layer: layer["sourceDescriptor"].pop("topHitsSplitField"))),
        "attributes.panelsJSON[7].embeddableConfig.attributes.layerListJSON[1].sourceDescriptor.topHitsSplitField", "topHitsSplitField",
    ),
    "a count of a field": (
        _panels(_lens_column(1, lambda c: c.update(sourceField="network.bytes"))),
        "attributes.panelsJSON[1].embeddableConfig.attributes.state.datasourceStates.formBased.layers.", "___records___",
    ),
    "panels that are no JSON": (
        lambda o: o["attributes"].update(panelsJSON="[{"), "attributes.panelsJSON", "not valid JSON text",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BREAKS), ids=list(BREAKS))
def test_each_break_fails_validation_naming_file_and_key(built, tmp_path, case):
    change, key, message = BREAKS[case]
    root = shutil.copytree(built, tmp_path / "wireguard")
    obj = json.loads((root / DASHBOARD).read_text())
    change(obj)
    (root / DASHBOARD).write_text(json.dumps(obj, indent=2))
    problems = validate_package(root)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert problem.file == DASHBOARD, str(problem)
    assert (problem.key or "").startswith(key), str(problem)
    assert message in problem.message, str(problem)


def test_two_objects_with_one_id_are_refused(built, tmp_path):
    root = shutil.copytree(built, tmp_path / "wireguard")
    copy = root / "kibana" / "dashboard" / "wireguard-copy.json"
    copy.write_text((root / DASHBOARD).read_text())
    messages = [str(p) for p in validate_package(root)]
    assert any("wireguard-copy.json: id: " in m and "a Kibana object's id is its file name" in m for m in messages), messages
    assert any("'wireguard-overview' is also the id of the dashboard in kibana/dashboard/wireguard-copy.json" in m for m in messages), messages


def test_a_data_view_that_covers_no_data_stream_is_refused(built, tmp_path):
    root = shutil.copytree(built, tmp_path / "wireguard")
    path = root / "kibana" / "index_pattern" / f"{DATA_VIEW_ID}.json"
    view = json.loads(path.read_text())
    view["attributes"]["title"] = "logs-openvpn.*"
    path.write_text(json.dumps(view))
    (problem,) = validate_package(root)
    assert (problem.file, problem.key) == (f"kibana/index_pattern/{DATA_VIEW_ID}.json", "attributes.title")
    assert "covers none of the package's data streams" in problem.message


def test_a_field_the_model_knows_nothing_of_is_still_built_as_a_string_column(dashboards):
    overview = dashboards["overview"]
    obj = dashboard_object(overview, FieldTypes({}))
    terms = [c for c in lens_layer(obj, "top-transfer")["columns"].values() if c["operationType"] == "terms"]
    assert [c["dataType"] for c in terms] == ["string"]
