"""The package's dashboards (kibana/dashboard/) and data views (kibana/index_pattern/), checked
as Kibana would load them and as `wgsiem rules export` checks rules: each object against its
schema (kibana-dashboard.schema.json, kibana-index-pattern.schema.json; the JSON text inside
parsed and checked too), then what a schema cannot say:

- ids: a saved object's id is its file name (kibana.py); no two objects of a type share one;
  no two panels of a dashboard share a panelIndex, and a panel's gridData.i is its panelIndex;
- references: every data view a panel or control uses has its reference in the dashboard
  (`<panelIndex>:indexpattern-datasource-layer-<layer>` for a Lens layer, kept in the Lens
  attributes too without the prefix; `<panelIndex>:layer_<n>_source_index_pattern` for a map
  layer, n its place in layerListJSON; `controlGroup_<id>:optionsListDataView` for a
  control), no reference names a panel or control the dashboard lacks, and each names a data
  view of kibana/index_pattern/ or one Fleet creates (`logs-*`, `metrics-*`);
- a Lens visualization names only columns and layers its datasource has;
- fields: every field a panel or control groups, measures, places or shows by, and every field
  of the dashboard's, a panel's and a map layer's KQL, is defined by a data stream of the
  package; a data view's time field too, and its title covers a data stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from wgsiem.kql import KqlSyntaxError, parse

from .fields import FieldSet
from .files import Document, PackageFolder
from .kibana import Stream, id_problems, query_field_names
from .problems import Problem, key_path
from .schema_checks import schema_problems

# The data views Fleet creates for every installed package (fleet/server/services/epm/kibana/
# index_pattern/install.ts): a dashboard may reference them without shipping them.
FLEET_DATA_VIEWS = frozenset({"logs-*", "metrics-*"})
RECORDS = "___records___"
_MAP_REF = re.compile(r"^layer_(\d+)_source_index_pattern$")
_CONTROL_REF = re.compile(r"^controlGroup_(.+):optionsListDataView$")

Path = tuple[str | int, ...]


def dashboard_problems(package: PackageFolder, streams: Sequence[Stream]) -> list[Problem]:
    """Every problem of kibana/dashboard/ and kibana/index_pattern/ (each file read once)."""
    loaded = {folder: [(rel, *package.load(rel)) for rel in package.files(f"kibana/{folder}", (".json",))] for folder in ("dashboard", "index_pattern")}
    problems = duplicate_id_problems([doc for entries in loaded.values() for _, doc, _ in entries if doc is not None])
    views = data_view_ids(doc for _, doc, _ in loaded["index_pattern"] if doc is not None)
    for _, doc, load_problems in loaded["index_pattern"]:
        problems += load_problems if doc is None else id_problems(doc) + data_view_problems(doc, streams)
    for rel, doc, load_problems in loaded["dashboard"]:
        if doc is None:
            problems += load_problems
            continue
        problems += id_problems(doc)  # the file name beginning with <package>- is a layout rule
        if isinstance(doc.data, dict) and doc.data.get("type") != "dashboard":
            problems.append(Problem(rel, "type", f"is {doc.data.get('type')!r}; a file in kibana/dashboard/ holds a saved object of type dashboard"))
            continue
        problems += dashboard_content_problems(doc, streams, views)
    return problems


def data_view_ids(docs: Iterable[Document]) -> dict[str, str]:
    """id -> file of every data view."""
    out: dict[str, str] = {}
    for doc in docs:
        if isinstance(doc.data, dict) and isinstance(doc.data.get("id"), str):
            out.setdefault(doc.data["id"], doc.file)
    return out


def duplicate_id_problems(docs: Iterable[Document]) -> list[Problem]:
    """No two Kibana objects of one type share an id (Kibana would keep one of them)."""
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        kind, object_id = data.get("type"), data.get("id")
        if not isinstance(kind, str) or not isinstance(object_id, str):
            continue
        if (kind, object_id) in seen:
            problems.append(Problem(doc.file, "id", f"{object_id!r} is also the id of the {kind} in {seen[kind, object_id]}"))
        seen.setdefault((kind, object_id), doc.file)
    return problems


def data_view_problems(doc: Document, streams: Sequence[Stream]) -> list[Problem]:
    problems = schema_problems("kibana-index-pattern", doc)
    if problems or not isinstance(doc.data, dict):
        return problems
    attributes = doc.data["attributes"]
    title = attributes["title"]
    if not any(s.covered_by(p.strip()) for s in streams for p in title.split(",")):
        names = ", ".join(f"{s.type}-{s.dataset}-*" for s in streams) or "none"
        problems.append(Problem(doc.file, "attributes.title", f"{title!r} covers none of the package's data streams ({names})"))
    time_field = attributes["timeFieldName"]
    if streams and not any(s.fields.lookup(time_field) for s in streams):
        problems.append(Problem(doc.file, "attributes.timeFieldName", f"field {time_field} is not defined by any data stream of the package"))
    return problems


def dashboard_content_problems(doc: Document, streams: Sequence[Stream], data_views: dict[str, str]) -> list[Problem]:
    """The schema, then references, ids and fields (see the module's docstring)."""
    problems = schema_problems("kibana-dashboard", doc)
    if problems or not isinstance(doc.data, dict):
        return problems
    dashboard = _Parsed(doc.data)
    problems += _panel_id_problems(doc.file, dashboard)
    problems += _reference_problems(doc.file, dashboard, data_views)
    problems += _lens_problems(doc.file, dashboard)
    fields = _fields_of(streams)
    if fields is not None:
        problems += [
            Problem(doc.file, key, f"the dashboard uses field {name}, which no data stream of the package defines ({fields.where})")
            for key, name in dashboard_fields(doc.data)
            if name != RECORDS and fields.lookup(name, multi=True) is None
        ]
        problems += _query_problems(doc.file, dashboard, fields)
    return problems


class _Parsed:
    """A schema-valid dashboard with its JSON text parsed."""

    def __init__(self, data: dict[str, Any]) -> None:
        attributes = data["attributes"]
        self.references: list[dict[str, str]] = data["references"]
        self.panels: list[dict[str, Any]] = json.loads(attributes["panelsJSON"])
        self.query: dict[str, str] = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]
        group = attributes.get("controlGroupInput")
        self.controls: dict[str, dict[str, Any]] = json.loads(group["panelsJSON"]) if group else {}

    def maps(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        """(panel index, panel, its layers) of each map panel."""
        for i, panel in enumerate(self.panels):
            if panel["type"] == "map":
                yield i, panel, json.loads(panel["embeddableConfig"]["attributes"]["layerListJSON"])

    def lenses(self) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(panel index, panel, its Lens attributes) of each Lens panel."""
        for i, panel in enumerate(self.panels):
            if panel["type"] == "lens":
                yield i, panel, panel["embeddableConfig"]["attributes"]


def _panels_key(i: int, *rest: str | int) -> str:
    return key_path(("attributes", "panelsJSON", i, *rest))


# Where a Lens panel keeps its datasource layers, under the panel.
_LAYERS: Path = ("embeddableConfig", "attributes", "state", "datasourceStates", "formBased", "layers")


def _panel_id_problems(file: str, dashboard: _Parsed) -> list[Problem]:
    problems, seen = [], {}
    for i, panel in enumerate(dashboard.panels):
        index = panel["panelIndex"]
        if index in seen:
            message = f"panel id {index!r} is also the id of panel [{seen[index]}]; a dashboard's panel ids are unique"
            problems.append(Problem(file, _panels_key(i, "panelIndex"), message))
        seen.setdefault(index, i)
        if panel["gridData"]["i"] != index:
            problems.append(Problem(file, _panels_key(i, "gridData", "i"), f"is {panel['gridData']['i']!r}; a panel's gridData.i is its panelIndex {index!r}"))
    return problems


def _reference_problems(file: str, dashboard: _Parsed, data_views: dict[str, str]) -> list[Problem]:
    by_name: dict[str, dict[str, str]] = {}
    problems = []
    for j, ref in enumerate(dashboard.references):
        if ref["name"] in by_name:
            problems.append(Problem(file, f"references[{j}].name", f"{ref['name']!r} names another reference too"))
        by_name.setdefault(ref["name"], ref)
        problems += _target_problems(file, f"references[{j}]", ref, data_views)
    needed, needed_problems = _needed_references(file, dashboard)
    problems += needed_problems
    for key, name, panel_view in needed:
        ref = by_name.get(name)
        if ref is None:
            message = f"missing reference: the dashboard has no reference named {name!r}, so Kibana cannot tell which data view it reads"
            problems.append(Problem(file, key, message))
        elif panel_view is not None and panel_view != ref["id"]:
            problems.append(Problem(file, key, f"the panel's own reference names data view {panel_view!r}, the dashboard's {ref['id']!r}"))
    return problems + _unused_reference_problems(file, dashboard, {name for _, name, _ in needed})


def _target_problems(file: str, where: str, ref: dict[str, str], data_views: dict[str, str]) -> list[Problem]:
    if ref["type"] != "index-pattern":
        return [Problem(file, f"{where}.type", f"is {ref['type']!r}; the package's dashboards hold their panels by value and reference data views only")]
    if ref["id"] in data_views or ref["id"] in FLEET_DATA_VIEWS:
        return []
    shipped = ", ".join(sorted(data_views)) or "none there"
    return [Problem(file, f"{where}.id", f"data view {ref['id']!r} is neither in kibana/index_pattern/ ({shipped}) nor one Fleet creates (logs-*, metrics-*)")]


def _needed_references(file: str, dashboard: _Parsed) -> tuple[list[tuple[str, str, str | None]], list[Problem]]:
    """(key, name, data view the panel itself names) of each reference a panel or control
    needs in the dashboard, and the problems of the panels' own references."""
    needed: list[tuple[str, str, str | None]] = []
    problems = []
    for i, panel, lens in dashboard.lenses():
        own = {r["name"]: r["id"] for r in lens["references"]}
        for layer in lens["state"]["datasourceStates"]["formBased"]["layers"]:
            name = f"indexpattern-datasource-layer-{layer}"
            if name not in own:
                key = _panels_key(i, "embeddableConfig", "attributes", "references")
                problems.append(Problem(file, key, f"missing the reference {name!r} of its layer {layer}"))
            needed.append((_panels_key(i, *_LAYERS, layer), f"{panel['panelIndex']}:{name}", own.get(name)))
    for i, panel, layers in dashboard.maps():
        for n, layer in enumerate(layers):
            ref_name = layer["sourceDescriptor"].get("indexPatternRefName")
            if ref_name is None:
                continue
            key = _panels_key(i, "embeddableConfig", "attributes", "layerListJSON", n, "sourceDescriptor", "indexPatternRefName")
            match = _MAP_REF.match(ref_name)
            if match and int(match.group(1)) != n:
                problems.append(Problem(file, key, f"is {ref_name!r}, but the layer is layer {n} of the map: Maps names it layer_{n}_source_index_pattern"))
            needed.append((key, f"{panel['panelIndex']}:{ref_name}", None))
    for cid, control in dashboard.controls.items():
        key = f"attributes.controlGroupInput.panelsJSON.{cid}"
        if control["explicitInput"]["id"] != cid:
            problems.append(Problem(file, f"{key}.explicitInput.id", f"is {control['explicitInput']['id']!r}; a control's id is its key {cid!r}"))
        needed.append((key, f"controlGroup_{cid}:optionsListDataView", None))
    return needed, problems


def _unused_reference_problems(file: str, dashboard: _Parsed, wanted: set[str]) -> list[Problem]:
    """A reference for a panel or control the dashboard lacks, or one no layer uses."""
    panel_ids = {p["panelIndex"] for p in dashboard.panels}
    problems = []
    for j, ref in enumerate(dashboard.references):
        control = _CONTROL_REF.match(ref["name"])
        owner = ref["name"].split(":", 1)[0]
        if control and control.group(1) not in dashboard.controls:
            problems.append(Problem(file, f"references[{j}].name", f"{ref['name']!r} names control {control.group(1)!r}, which the dashboard does not have"))
        elif not control and ":" in ref["name"] and owner not in panel_ids:
            problems.append(Problem(file, f"references[{j}].name", f"{ref['name']!r} names panel {owner!r}, which the dashboard does not have"))
        elif ref["name"] not in wanted and (control or owner in panel_ids):
            problems.append(Problem(file, f"references[{j}].name", f"{ref['name']!r} is used by no layer of its panel"))
    return problems


def _lens_problems(file: str, dashboard: _Parsed) -> list[Problem]:
    """A Lens visualization's layer and column ids exist in its datasource, and a terms
    column is ordered by a column that exists."""
    problems = []
    for i, _, lens in dashboard.lenses():
        layers = lens["state"]["datasourceStates"]["formBased"]["layers"]
        for layer_id, layer in layers.items():
            columns = layer["columns"]
            if sorted(layer["columnOrder"]) != sorted(columns):
                problems.append(Problem(file, _panels_key(i, *_LAYERS, layer_id, "columnOrder"), "lists other columns than the layer's columns"))
            for cid, column in columns.items():
                order = column.get("params", {}).get("orderBy", {})
                if order.get("type") == "column" and order.get("columnId") not in columns:
                    key = _panels_key(i, *_LAYERS, layer_id, "columns", cid, "params", "orderBy")
                    problems.append(Problem(file, key, f"orders by column {order.get('columnId')!r}, which the layer lacks"))
        for path, layer_id, column_ids in _visualization_ids(lens["visualizationType"], lens["state"]["visualization"]):
            key = _panels_key(i, "embeddableConfig", "attributes", "state", "visualization", *path)
            if layer_id not in layers:
                problems.append(Problem(file, key, f"names layer {layer_id!r}, which the Lens datasource lacks"))
                continue
            missing = [cid for cid in column_ids if cid not in layers[layer_id]["columns"]]
            problems += [Problem(file, key, f"names column {cid!r}, which layer {layer_id} lacks") for cid in missing]
    return problems


def _visualization_ids(kind: str, vis: dict[str, Any]) -> Iterator[tuple[Path, str, list[str]]]:
    """(path, layer id, column ids) of what a Lens visualization state points at."""
    if kind == "lnsMetric":
        yield (), vis["layerId"], [vis["metricAccessor"]]
    elif kind == "lnsDatatable":
        yield (), vis["layerId"], [c["columnId"] for c in vis["columns"]]
    elif kind == "lnsPie":
        for n, layer in enumerate(vis["layers"]):
            yield ("layers", n), layer["layerId"], [*layer["primaryGroups"], *layer["metrics"]]
    elif kind == "lnsXY":
        for n, layer in enumerate(vis["layers"]):
            ids = [*layer["accessors"], *(layer[k] for k in ("xAccessor", "splitAccessor") if k in layer)]
            yield ("layers", n), layer["layerId"], ids


def dashboard_fields(data: Any) -> list[tuple[str, str]]:  # noqa: ANN401 - a parsed dashboard file
    """(key, field name) of every field a dashboard's panels and controls group, measure,
    place or show by (Lens columns' sourceField, a map layer's geoField, topHitsSplitField,
    sortField and tooltip fields, a control's fieldName); empty for a dashboard the schema
    refuses (its problems are reported there)."""
    try:
        dashboard = _Parsed(data)
        out: list[tuple[str, str]] = []
        for i, _, lens in dashboard.lenses():
            for layer_id, layer in lens["state"]["datasourceStates"]["formBased"]["layers"].items():
                for cid, column in layer["columns"].items():
                    out.append((_panels_key(i, *_LAYERS, layer_id, "columns", cid, "sourceField"), column["sourceField"]))
        for i, _, layers in dashboard.maps():
            for n, layer in enumerate(layers):
                source = layer["sourceDescriptor"]
                at = ("embeddableConfig", "attributes", "layerListJSON", n, "sourceDescriptor")
                for name in ("geoField", "topHitsSplitField", "sortField"):
                    if source.get(name):
                        out.append((_panels_key(i, *at, name), source[name]))
                out += [(_panels_key(i, *at, "tooltipProperties", t), f) for t, f in enumerate(source.get("tooltipProperties", []))]
        for cid, control in dashboard.controls.items():
            out.append((f"attributes.controlGroupInput.panelsJSON.{cid}.explicitInput.fieldName", control["explicitInput"]["fieldName"]))
        return out
    except (KeyError, TypeError, ValueError, AttributeError):
        return []


def _query_problems(file: str, dashboard: _Parsed, fields: FieldSet) -> list[Problem]:
    queries = [("attributes.kibanaSavedObjectMeta.searchSourceJSON.query", dashboard.query)]
    for i, _, lens in dashboard.lenses():
        queries.append((_panels_key(i, "embeddableConfig", "attributes", "state", "query"), lens["state"]["query"]))
    for i, _, layers in dashboard.maps():
        at = ("embeddableConfig", "attributes", "layerListJSON")
        queries += [(_panels_key(i, *at, n, "query"), layer["query"]) for n, layer in enumerate(layers) if "query" in layer]
    problems = []
    for key, query in queries:
        if not query["query"].strip():
            continue
        try:
            node = parse(query["query"])
        except KqlSyntaxError as error:
            problems.append(Problem(file, key, f"not valid KQL: {error}"))
            continue
        for name in sorted(set(query_field_names(node))):
            known = fields.matching(name) if "*" in name else fields.lookup(name, multi=True)
            if not known:
                problems.append(Problem(file, key, f"the query uses field {name}, which no data stream of the package defines ({fields.where})"))
    return problems


def _fields_of(streams: Sequence[Stream]) -> FieldSet | None:
    if not streams:
        return None
    fields = streams[0].fields
    for s in streams[1:]:
        fields = fields | s.fields
    return fields
