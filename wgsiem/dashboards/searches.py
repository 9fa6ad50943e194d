"""A panel as the Elasticsearch search that fetches its data, and the response read back.

The request is the aggregation Kibana's Lens (and Maps, for a map panel) sends for the
panel's columns: the panel's KQL and the time range as filters; terms groupings outermost
first, each ordered by the panel's metric (largest first, ties by key, as Elasticsearch
breaks them); a date histogram in the auto interval, empty buckets included across the
whole range (Lens's "include empty rows"); the metric at the leaves. A map panel is the
top hits per entity of Maps' documents layer: the latest document of each entity value.
Lens's "other" bucket is not requested; the report shows the top values only.
"""

from __future__ import annotations

from typing import Any

from wgsiem.detection.timestamps import iso, parse_ms
from wgsiem.kql import FieldTypes, compile_query

from .data import PanelData, Point, Row, TimeRange, point
from .model import TIME_FIELD, Dashboard, Metric, Panel

METRIC = "m"
# Maps' top hits layer groups by at most this many entity values.
MAX_ENTITIES = 10_000
_ES_FUNCTION = {"sum": "sum", "max": "max", "min": "min", "average": "avg", "unique_count": "cardinality"}


def panel_filter(dashboard: Dashboard, panel: Panel, time_range: TimeRange, types: FieldTypes | None = None) -> dict[str, Any]:
    """The panel's documents: its KQL (and the dashboard's) within the time range."""
    text = dashboard.panel_query(panel)
    filters = [compile_query(text, types).to_dsl()] if text else []
    filters.append(time_filter(time_range))
    return {"bool": {"filter": filters}}


def time_filter(time_range: TimeRange, field: str = TIME_FIELD) -> dict[str, Any]:
    """The documents whose `field` falls in the period, both ends included (Kibana's range)."""
    return {"range": {field: {"gte": iso(time_range.start_ms), "lte": iso(time_range.end_ms), "format": "strict_date_optional_time"}}}


def panel_request(dashboard: Dashboard, panel: Panel, time_range: TimeRange, types: FieldTypes | None = None) -> dict[str, Any]:
    """The body of `POST logs-wireguard.*/_search` for the panel's data."""
    body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": panel_filter(dashboard, panel, time_range, types)}
    if panel.chart == "map":
        body["aggs"] = _entities(panel)
        return body
    aggs = _metric_aggs(panel.metric)
    if panel.time_axis:
        aggs = {"t": {"date_histogram": _histogram(time_range), **({"aggs": aggs} if aggs else {})}}
    for terms in reversed(panel.groups):
        order = {"_count": "desc"} if panel.metric is None or panel.metric.function == "count" else {METRIC: "desc"}
        spec = {"field": terms.field, "size": terms.size, "order": [order, {"_key": "asc"}]}
        # Ordering by the metric needs the metric beside the inner groupings.
        inner = {**aggs, **_metric_aggs(panel.metric)} if order != {"_count": "desc"} else aggs
        aggs = {"g": {"terms": spec, **({"aggs": inner} if inner else {})}}
    if aggs:
        body["aggs"] = aggs
    return body


def _histogram(time_range: TimeRange) -> dict[str, Any]:
    return {
        "field": TIME_FIELD,
        "fixed_interval": time_range.interval.name,
        "time_zone": "UTC",
        "min_doc_count": 0,
        "extended_bounds": {"min": time_range.start_ms, "max": time_range.end_ms},
    }


def _metric_aggs(metric: Metric | None) -> dict[str, Any]:
    if metric is None or metric.function == "count":
        return {}  # a bucket's doc_count
    return {METRIC: {_ES_FUNCTION[metric.function]: {"field": metric.field}}}


def _entities(panel: Panel) -> dict[str, Any]:
    assert panel.entity and panel.location
    source = [TIME_FIELD, panel.location, *panel.tooltip]
    hit = {"size": 1, "sort": [{TIME_FIELD: {"order": "desc"}}], "_source": {"includes": source}}
    return {"e": {"terms": {"field": panel.entity, "size": MAX_ENTITIES, "order": {"_key": "asc"}}, "aggs": {"latest": {"top_hits": hit}}}}


# --- the response ----------------------------------------------------------------------------


def panel_data(panel: Panel, time_range: TimeRange, response: dict[str, Any]) -> PanelData:
    """The rows (or points) of a response to `panel_request`."""
    aggs = response.get("aggregations") or {}
    if panel.chart == "map":
        return PanelData(panel, time_range, points=tuple(_points(panel, aggs["e"]["buckets"])))
    total = response["hits"]["total"]["value"]
    rows = list(_rows(panel, {"doc_count": total, **aggs}, ()))
    return PanelData(panel, time_range, rows=tuple(rows))


def _rows(panel: Panel, bucket: dict[str, Any], keys: tuple[Any, ...]) -> list[Row]:
    if "g" in bucket:
        return [row for b in bucket["g"]["buckets"] for row in _rows(panel, b, (*keys, b["key"]))]
    if "t" in bucket:
        return [Row((*keys, int(b["key"])), _value(panel.metric, b)) for b in bucket["t"]["buckets"]]
    return [Row(keys, _value(panel.metric, bucket))]


def _value(metric: Metric | None, bucket: dict[str, Any]) -> float | None:
    if metric is None or metric.function == "count":
        return float(bucket["doc_count"])
    value = bucket[METRIC]["value"]
    return None if value is None else float(value)


def _points(panel: Panel, buckets: list[dict[str, Any]]) -> list[Point]:
    hits = [(b["key"], b["latest"]["hits"]["hits"][0]["_source"]) for b in buckets]
    return [point(panel, entity, parse_ms(hit[TIME_FIELD]), hit) for entity, hit in hits]
