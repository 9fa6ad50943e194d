"""A `Dashboard` as the Kibana saved objects an integration package ships: one `dashboard`
object per dashboard, every panel by value (Lens, or a Maps layer for map panels), and the
`index-pattern` (data view) object they all read.

Pure functions of the model: the same dashboards give the same objects, byte for byte once
serialised. Every id Kibana would make a random UUID of (a Lens layer, a column, a map layer,
a control) is a name-based UUID of the dashboard id, the panel id and the part's role.

The shapes follow what Kibana writes and elastic/integrations packages ship (read, not copied):

- the dashboard saved object: elastic/kibana
  src/platform/plugins/shared/dashboard/server/dashboard_saved_object/dashboard_saved_object.ts
  (attributes and their mappings; panelsJSON, optionsJSON and searchSourceJSON are JSON text),
  schema/v1 and v2 (controlGroupInput); elastic/integrations
  packages/nginx/kibana/dashboard/nginx-a7c82d80-b109-11ee-bd6c-87a07d68b415.json (by-value
  Lens panels, an options-list control group and the references a dashboard holds for them);
- Lens by value: the panel's `embeddableConfig.attributes` is a Lens saved object's attributes
  (visualizationType, state.datasourceStates.formBased.layers, state.visualization,
  state.query) with its own `references`; the dashboard holds the same references prefixed
  `<panelIndex>:`, and Lens's inject step matches them by name;
- Maps by value: x-pack/platform/plugins/shared/maps/common/migrations/references.ts names a
  layer's data view `layer_<index in layerListJSON>_source_index_pattern`, and
  common/embeddable/inject.ts resolves it from the dashboard's `<panelIndex>:` references;
  the ES_SEARCH source with scalingType TOP_HITS and topHitsSplitField is Kibana Maps'
  "top hits per entity" (source_descriptor_types.ts, ESSearchSourceDescriptor).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from wgsiem.kql import FieldTypes
from wgsiem.mappings.datastreams import WIREGUARD_INDICES

from .model import NUMERIC, TIME_FIELD, Dashboard, Metric, Panel, Terms

PACKAGE = "wireguard"
# The data view every panel and control reads, shipped as kibana/index_pattern/<id>.json.
# Fleet also creates a `logs-*` data view (id `logs-*`; fleet/server/services/epm/kibana/
# index_pattern/install.ts) and many packages point their panels at it, but that one spans
# every logs data stream of the cluster: controls would offer other integrations' values and
# every panel would need its own data_stream filter. A package's own data view is installed
# by Fleet like any Kibana asset (KibanaAssetType.indexPattern in epm/kibana/assets/install.ts;
# only the reserved `logs-*` and `metrics-*` ids are dropped from a package), and package-spec
# allows kibana/index_pattern/*.json (spec/integration/kibana/spec.yml).
DATA_VIEW_ID = "wireguard-logs"
DATA_VIEW_TITLE = WIREGUARD_INDICES
DATA_VIEW_NAME = f"[Logs WireGuard] {WIREGUARD_INDICES}"
INDEX_PATTERN = "index-pattern"
# The migration versions of the oldest Kibana the package supports (manifest: ^8.14.0).
# The dashboard type's last legacy migration is 8.9.0; later changes are model versions
# (dashboard_saved_object.ts: `schemas: {'8.9.0': ...}`, then modelVersions 1, 2, ...), and a
# document marked 8.9.0 is brought up to date by any Kibana from 8.9 on, while one marked
# with a newer model version is refused by a Kibana that does not know it. coreMigrationVersion
# 8.8.0 is the one Kibana writes since (nginx-a7c82d80-...json above carries both).
# The data view: Fleet writes its own with typeMigrationVersion 8.0.0 (index_pattern/install.ts).
CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {"dashboard": "8.9.0", INDEX_PATTERN: "8.0.0"}
# The namespace of every generated id: the same names give the same UUIDs on every build.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/wgsiem/wgsiem/dashboards")
# Lens's record-count pseudo field (formBased datasource, operations/definitions/count.tsx).
RECORDS = "___records___"
# A chart of the model -> Lens visualization type.
LENS_TYPES = {
    "metric": "lnsMetric", "bar": "lnsXY", "line": "lnsXY", "area": "lnsXY", "bar_horizontal": "lnsXY",
    "donut": "lnsPie", "table": "lnsDatatable",
}  # fmt: skip
# Elasticsearch field type -> Lens column dataType.
_DATA_TYPES = {"keyword": "string", "constant_keyword": "string", "text": "string", "ip": "ip", "boolean": "boolean", "date": "date", "date_nanos": "date"}
_FORMATS = {"bytes": {"id": "bytes", "params": {"decimals": 1}}, "percent": {"id": "percent", "params": {"decimals": 1}}}
# The map's first layer: Elastic Maps Service's road map, as Maps adds it to a new map.
_BASEMAP_STYLE = "road_map_desaturated"


def object_id(dashboard: Dashboard) -> str:
    """The dashboard's saved-object id, and its file name without .json."""
    return f"{PACKAGE}-{dashboard.id}"


def stable_id(*names: str) -> str:
    """A UUID made from names: the same names, the same UUID."""
    return str(uuid.uuid5(NAMESPACE, "/".join(names)))


def layer_id(dashboard: Dashboard, panel: Panel) -> str:
    return stable_id(dashboard.id, panel.id, "layer")


def column_id(dashboard: Dashboard, panel: Panel, role: str) -> str:
    """role: `time`, `group-<n>` (outermost first) or `metric`."""
    return stable_id(dashboard.id, panel.id, "column", role)


def control_id(dashboard: Dashboard, field_name: str) -> str:
    return stable_id(dashboard.id, "control", field_name)


def json_text(data: Any) -> str:  # noqa: ANN401 - any JSON value
    """A JSON attribute as Kibana stores it (text), with sorted keys so builds repeat."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def data_view() -> dict[str, Any]:
    """The `logs-wireguard.*` data view (index-pattern saved object)."""
    return {
        "attributes": {
            "allowNoIndex": True,  # the dashboards open before the first document arrives
            "name": DATA_VIEW_NAME,
            "timeFieldName": TIME_FIELD,
            "title": DATA_VIEW_TITLE,
        },
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": DATA_VIEW_ID,
        "references": [],
        "type": INDEX_PATTERN,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[INDEX_PATTERN],
    }


def dashboard_object(dashboard: Dashboard, types: FieldTypes | None = None) -> dict[str, Any]:
    """The dashboard saved object. `types` are the field types (default ecs_mappings/'s);
    Lens records a grouping column's data type."""
    types = types if types is not None else FieldTypes.default()
    panels, references = [], []
    for panel in dashboard.panels:
        built, refs = _panel(dashboard, panel, types)
        panels.append(built)
        references += refs
    attributes: dict[str, Any] = {
        "description": dashboard.description,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json_text({"filter": [], "query": _query(dashboard.query)})},
        "optionsJSON": json_text({"hidePanelTitles": False, "syncColors": False, "syncCursor": True, "syncTooltips": False, "useMargins": True}),
        "panelsJSON": json_text(panels),
        "refreshInterval": {"pause": True, "value": 0},
        "timeFrom": dashboard.time_from,
        "timeRestore": True,
        "timeTo": dashboard.time_to,
        "title": dashboard.title,
        "version": 1,
    }
    if dashboard.controls:
        group, refs = _control_group(dashboard)
        attributes["controlGroupInput"] = group
        references += refs
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": object_id(dashboard),
        "references": references,
        "type": "dashboard",
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS["dashboard"],
    }


def _query(text: str) -> dict[str, str]:
    return {"language": "kuery", "query": text}


def _reference(name: str) -> dict[str, str]:
    return {"id": DATA_VIEW_ID, "name": name, "type": INDEX_PATTERN}


def _panel(dashboard: Dashboard, panel: Panel, types: FieldTypes) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if panel.chart == "map":
        attributes, names = _map(dashboard, panel)
        config: dict[str, Any] = {
            "attributes": attributes,
            "description": panel.description,
            "enhancements": {},
            "hiddenLayers": [],
            "isLayerTOCOpen": False,
            "openTOCDetails": [],
        }
        kind = "map"
    else:
        attributes = _lens(dashboard, panel, types)
        names = [ref["name"] for ref in attributes["references"]]
        config = {"attributes": attributes, "description": panel.description, "enhancements": {}}
        kind = "lens"
    grid = panel.grid
    built = {
        "embeddableConfig": config,
        "gridData": {"h": grid.h, "i": panel.id, "w": grid.w, "x": grid.x, "y": grid.y},
        "panelIndex": panel.id,
        "title": panel.title,
        "type": kind,
    }
    return built, [_reference(f"{panel.id}:{name}") for name in names]


# -- Lens ------------------------------------------------------------------------------------


def _lens(dashboard: Dashboard, panel: Panel, types: FieldTypes) -> dict[str, Any]:
    layer = layer_id(dashboard, panel)
    metric = panel.metric or Metric("count")
    metric_col = column_id(dashboard, panel, "metric")
    columns: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    group_cols = []
    for n, group in enumerate(panel.groups):
        col = column_id(dashboard, panel, f"group-{n}")
        # A table lists every value it shows; a chart sums the rest into "Other".
        columns[col] = terms_column(group, metric_col, types, other_bucket=panel.chart != "table")
        group_cols.append(col)
        order.append(col)
    # Terms before the date histogram, as Lens orders a breakdown added to a time chart
    # (layer_helpers.ts addBucket): the top values are those of the whole period, and
    # esaggs nests the aggregations in this order (searches.py asks for the same).
    time_col = column_id(dashboard, panel, "time") if panel.time_axis else None
    if time_col:
        columns[time_col] = date_histogram_column()
        order.append(time_col)
    columns[metric_col] = metric_column(metric, types)
    order.append(metric_col)
    return {
        "description": panel.description,
        "references": [_reference(f"indexpattern-datasource-layer-{layer}")],
        "state": {
            "adHocDataViews": {},
            "datasourceStates": {"formBased": {"layers": {layer: {"columnOrder": order, "columns": columns, "incompleteColumns": {}}}}},
            "filters": [],
            "internalReferences": [],
            "query": _query(panel.query),
            "visualization": _visualization(panel, layer, time_col, group_cols, metric_col),
        },
        "title": panel.title,
        "type": "lens",
        "visualizationType": LENS_TYPES[panel.chart],
    }


def date_histogram_column() -> dict[str, Any]:
    """The x axis of a time chart: @timestamp in Kibana's automatic interval."""
    return {
        "dataType": "date",
        "isBucketed": True,
        "label": TIME_FIELD,
        "operationType": "date_histogram",
        "params": {"dropPartials": False, "includeEmptyRows": True, "interval": "auto"},
        "scale": "interval",
        "sourceField": TIME_FIELD,
    }


def terms_column(group: Terms, metric_col: str, types: FieldTypes, *, other_bucket: bool = True) -> dict[str, Any]:
    """Top `size` values of a field, ordered by the panel's metric, largest first."""
    return {
        "customLabel": group.label is not None,
        "dataType": _data_type(group.field, types),
        "isBucketed": True,
        "label": group.title,
        "operationType": "terms",
        "params": {
            "exclude": [],
            "excludeIsRegex": False,
            "include": [],
            "includeIsRegex": False,
            "missingBucket": False,
            "orderBy": {"columnId": metric_col, "type": "column"},
            "orderDirection": "desc",
            "otherBucket": other_bucket,
            "parentFormat": {"id": "terms"},
            "size": group.size,
        },
        "scale": "ordinal",
        "sourceField": group.field,
    }


def metric_column(metric: Metric, types: FieldTypes) -> dict[str, Any]:
    """count, sum, max, min, average or unique_count, as Lens's formBased operations hold
    them: count counts the `___records___` pseudo field; max and min of a date field are
    dates; every other result is a number."""
    is_date = metric.function in ("max", "min") and metric.field is not None and _data_type(metric.field, types) == "date"
    params: dict[str, Any] = {"emptyAsNull": True}
    if metric.format in _FORMATS and not is_date:
        params["format"] = _FORMATS[metric.format]
    return {
        "customLabel": metric.label is not None,
        "dataType": "date" if is_date else "number",
        "isBucketed": False,
        "label": metric.title,
        "operationType": metric.function,
        "params": params,
        "scale": "ratio",
        "sourceField": metric.field if metric.function != "count" else RECORDS,
    }


def _data_type(name: str, types: FieldTypes) -> str:
    info = types.info(name)
    kind = info.type if info is not None else "keyword"
    return "number" if kind in NUMERIC else _DATA_TYPES.get(kind, "string")


def _visualization(panel: Panel, layer: str, time_col: str | None, group_cols: list[str], metric_col: str) -> dict[str, Any]:
    common = {"layerId": layer, "layerType": "data"}
    if panel.chart == "metric":
        return {**common, "metricAccessor": metric_col}
    if panel.chart == "table":
        return {**common, "columns": [{"columnId": c, "isTransposed": False} for c in [*group_cols, metric_col]]}
    if panel.chart == "donut":
        return {
            "layers": [{
                **common, "categoryDisplay": "default", "emptySizeRatio": 0.3, "legendDisplay": "default", "metrics": [metric_col],
                "nestedLegend": False, "numberDisplay": "percent", "primaryGroups": group_cols,
            }],
            "shape": "donut",
        }  # fmt: skip
    x = time_col or (group_cols[0] if group_cols else None)
    split = group_cols[0] if time_col and group_cols else None
    series = {"bar": "bar", "line": "line", "area": "area", "bar_horizontal": "bar_horizontal"}[panel.chart]
    if split and series in ("bar", "area"):
        series += "_stacked"  # the breakdown's values add up to the whole of each interval
    xy_layer: dict[str, Any] = {**common, "accessors": [metric_col], "position": "top", "seriesType": series, "showGridlines": False}
    if x:
        xy_layer["xAccessor"] = x
    if split:
        xy_layer["splitAccessor"] = split
    return {
        "fittingFunction": "None",
        "layers": [xy_layer],
        "legend": {"isVisible": split is not None, "position": "right"},
        "preferredSeriesType": series,
        "valueLabels": "hide",
    }


# -- Maps ------------------------------------------------------------------------------------


def _map(dashboard: Dashboard, panel: Panel) -> tuple[dict[str, Any], list[str]]:
    """A map with a basemap and one documents layer: the latest document (by @timestamp)
    of each value of the panel's entity, placed at its location. Returns the map attributes
    and the reference names its layers use."""
    basemap = {
        "alpha": 1,
        "id": stable_id(dashboard.id, panel.id, "basemap"),
        "includeInFitToBounds": True,
        "label": None,
        "maxZoom": 24,
        "minZoom": 0,
        "sourceDescriptor": {"isAutoSelect": True, "lightModeDefault": _BASEMAP_STYLE, "type": "EMS_TMS"},
        "style": {"type": "EMS_VECTOR_TILE"},
        "type": "EMS_VECTOR_TILE",
        "visible": True,
    }
    ref_name = "layer_1_source_index_pattern"  # the documents layer is the second of layerListJSON
    documents = {
        "alpha": 0.75,
        "id": stable_id(dashboard.id, panel.id, "map-layer"),
        "includeInFitToBounds": True,
        "joins": [],
        "label": panel.title,
        "maxZoom": 24,
        "minZoom": 0,
        "query": _query(panel.query),
        "sourceDescriptor": {
            "applyForceRefresh": True,
            "applyGlobalQuery": True,
            "applyGlobalTime": True,
            "filterByMapBounds": True,
            "geoField": panel.location,
            "id": stable_id(dashboard.id, panel.id, "map-source"),
            "indexPatternRefName": ref_name,
            "scalingType": "TOP_HITS",
            "sortField": TIME_FIELD,
            "sortOrder": "desc",
            "tooltipProperties": list(panel.tooltip),
            "topHitsGroupByTimeseries": False,
            "topHitsSize": 1,
            "topHitsSplitField": panel.entity,
            "type": "ES_SEARCH",
        },
        "style": {
            "isTimeAware": True,
            "properties": {
                "fillColor": {"options": {"color": "#54B399"}, "type": "STATIC"},
                "iconSize": {"options": {"size": 6}, "type": "STATIC"},
                "lineColor": {"options": {"color": "#FFFFFF"}, "type": "STATIC"},
                "lineWidth": {"options": {"size": 1}, "type": "STATIC"},
                "symbolizeAs": {"options": {"value": "circle"}},
            },
            "type": "VECTOR",
        },
        "type": "GEOJSON_VECTOR",
        "visible": True,
    }
    state = {
        "center": {"lat": 20, "lon": 0},
        "filters": [],
        "query": _query(""),
        "refreshConfig": {"interval": 0, "isPaused": True},
        "settings": {"autoFitToDataBounds": False},
        "zoom": 1.2,
    }
    attributes = {
        "description": panel.description,
        "layerListJSON": json_text([basemap, documents]),
        "mapStateJSON": json_text(state),
        "title": panel.title,
        "uiStateJSON": json_text({"isLayerTOCOpen": False, "openTOCDetails": []}),
    }
    return attributes, [ref_name]


# -- controls --------------------------------------------------------------------------------


def _control_group(dashboard: Dashboard) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """An options-list control per field, in one line above the panels; each control's
    data view is a reference named `controlGroup_<control id>:optionsListDataView`."""
    panels, references = {}, []
    for order, name in enumerate(dashboard.controls):
        cid = control_id(dashboard, name)
        panels[cid] = {
            "explicitInput": {"enhancements": {}, "fieldName": name, "id": cid, "selectedOptions": [], "title": name},
            "grow": True,
            "order": order,
            "type": "optionsListControl",
            "width": "medium",
        }
        references.append(_reference(f"controlGroup_{cid}:optionsListDataView"))
    ignore = {"ignoreFilters": False, "ignoreQuery": False, "ignoreTimerange": False, "ignoreValidations": False}
    group = {
        "chainingSystem": "HIERARCHICAL",
        "controlStyle": "oneLine",
        "ignoreParentSettingsJSON": json_text(ignore),
        "panelsJSON": json_text(panels),
    }  # no showApplySelections: dashboard model version 2 added it, after 8.14
    return group, references
