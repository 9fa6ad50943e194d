"""A panel's data computed from events in hand, as Elasticsearch answers `panel_request`.

Documents stream through `Panels.add` one at a time; what is kept is one
accumulator per bucket (and a set per bucket for a unique count, a latest document per
entity for a map), never the documents, so a month of events costs the memory of its
buckets. The semantics are Elasticsearch's: a document with several values of a grouped
field is in each value's bucket, one without the field in none; terms are ordered by the
metric, largest first, ties by key; empty time buckets are filled across the range; sum
of nothing is 0, max/min/average of nothing is null.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from wgsiem.detection.timestamps import parse_ms_or_none
from wgsiem.kql import FieldTypes, compile_query, values
from wgsiem.kql.documents import getter, scalars

from .data import PanelData, Point, Row, TimeRange, point
from .model import TIME_FIELD, Dashboard, Metric, Panel


class _Acc:
    """A bucket: its count and what the metric needs, and its sub-buckets."""

    __slots__ = ("count", "total", "n", "high", "low", "seen", "children")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.n = 0  # values seen (a document may have none, or several)
        self.high: float | None = None
        self.low: float | None = None
        self.seen: set[Any] | None = None
        self.children: dict[Any, _Acc] | None = None

    def add(self, values: list[Any], unique: bool) -> None:
        self.count += 1
        if unique:
            if self.seen is None:
                self.seen = set()
            self.seen.update(values)
            return
        for v in values:
            self.total += v
            self.n += 1
            self.high = v if self.high is None or v > self.high else self.high
            self.low = v if self.low is None or v < self.low else self.low

    def child(self, key: Any) -> _Acc:
        if self.children is None:
            self.children = {}
        acc = self.children.get(key)
        if acc is None:
            acc = self.children[key] = _Acc()
        return acc

    def value(self, metric: Metric | None) -> float | None:
        fn = "count" if metric is None else metric.function
        if fn == "count":
            return float(self.count)
        if fn == "unique_count":
            return float(len(self.seen or ()))
        if fn == "sum":
            return self.total
        if fn == "average":
            return self.total / self.n if self.n else None
        return self.high if fn == "max" else self.low


class PanelAggregator:
    """One panel's buckets over a period: fed by `Panels`, read with `result()`."""

    def __init__(self, dashboard: Dashboard, panel: Panel, time_range: TimeRange, types: FieldTypes | None = None) -> None:
        self.panel, self.time_range = panel, time_range
        types = types if types is not None else FieldTypes.default()
        self.query = dashboard.panel_query(panel)
        self.matches = compile_query(self.query, types).matches if self.query else None
        self._groups = [(getter(g.field), _key_function(types, g.field)) for g in panel.groups]
        self._orders = [_key_order(types, g.field) for g in panel.groups]
        metric = panel.metric
        self._unique = metric is not None and metric.function == "unique_count"
        self._metric = getter(metric.field) if metric and metric.field else None
        self._metric_date = metric is not None and metric.field is not None and types.get(metric.field) in ("date", "date_nanos")
        self._interval = time_range.interval.ms if panel.time_axis else None
        self._root = _Acc()
        self._latest: dict[Any, tuple[int, Mapping[str, Any]]] = {}
        self._entity = (getter(panel.entity), _key_function(types, panel.entity)) if panel.entity else None
        self._entity_order = _key_order(types, panel.entity) if panel.entity else None

    def add(self, doc: Mapping[str, Any], when: int) -> None:
        """A document already known to be in the period (at `when`) and to match the panel's
        query: `Panels` decides both, once for all panels."""
        if self._entity is not None:
            self._add_point(doc, when)
            return
        values = self._metric_values(doc)
        self._root.add(values, self._unique)
        buckets = [self._root]
        for get, key in self._groups:
            keys = {key(v) for v in scalars(get(doc))} - {None}
            buckets = [b.child(k) for b in buckets for k in keys]
            for b in buckets:
                b.add(values, self._unique)
        if self._interval is not None:
            slot = when - when % self._interval
            for b in buckets:
                b.child(slot).add(values, self._unique)

    def _metric_values(self, doc: Mapping[str, Any]) -> list[Any]:
        if self._metric is None:
            return []
        found = list(scalars(self._metric(doc)))
        if self._unique:
            return [str(v) for v in found]
        if self._metric_date:
            return [float(t) for t in (parse_ms_or_none(v) for v in found) if t is not None]
        return [float(v) for v in found if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def _add_point(self, doc: Mapping[str, Any], when: int) -> None:
        assert self._entity is not None
        get, key = self._entity
        for entity in {key(v) for v in scalars(get(doc))} - {None}:
            held = self._latest.get(entity)
            if held is None or when >= held[0]:  # the later document, as a sort by @timestamp desc
                self._latest[entity] = (when, doc)

    def result(self) -> PanelData:
        panel = self.panel
        if panel.chart == "map":
            return PanelData(panel, self.time_range, points=tuple(self._points()))
        return PanelData(panel, self.time_range, rows=tuple(self._rows(self._root, 0, ())))

    def _rows(self, acc: _Acc, depth: int, keys: tuple[Any, ...]) -> list[Row]:
        groups = self.panel.groups
        if depth < len(groups):
            children = acc.children or {}
            metric = self.panel.metric
            order = self._orders[depth]
            ranked = sorted(children.items(), key=lambda kv: (_descending(kv[1].value(metric)), order(kv[0])))
            return [row for k, child in ranked[: groups[depth].size] for row in self._rows(child, depth + 1, (*keys, k))]
        if self._interval is not None:
            children = acc.children or {}
            return [Row((*keys, slot), children.get(slot, _Acc()).value(self.panel.metric)) for slot in self.time_range.slots()]
        return [Row(keys, acc.value(self.panel.metric))]

    def _points(self) -> list[Point]:
        return [point(self.panel, entity, *self._latest[entity]) for entity in sorted(self._latest, key=self._entity_order)]


class Panels:
    """Every panel of several dashboards fed at once: a document's time is read once, and
    each distinct query (panels share many) is matched once per document."""

    def __init__(self, dashboards: Iterable[Dashboard], time_range: TimeRange, types: FieldTypes | None = None) -> None:
        types = types if types is not None else FieldTypes.default()
        self.time_range = time_range
        self.aggregators = [(d.id, PanelAggregator(d, p, time_range, types)) for d in dashboards for p in d.panels]
        self._time = getter(TIME_FIELD)

    def add(self, doc: Mapping[str, Any]) -> None:
        when = parse_ms_or_none(self._time(doc))
        if when is None or not self.time_range.start_ms <= when <= self.time_range.end_ms:
            return
        matched: dict[str, bool] = {}
        for _, agg in self.aggregators:
            hit = matched.get(agg.query)
            if hit is None:
                hit = matched[agg.query] = agg.matches is None or agg.matches(doc)
            if hit:
                agg.add(doc, when)

    def results(self) -> dict[str, dict[str, PanelData]]:
        """Dashboard id -> panel id -> data."""
        out: dict[str, dict[str, PanelData]] = {}
        for dashboard_id, agg in self.aggregators:
            out.setdefault(dashboard_id, {})[agg.panel.id] = agg.result()
        return out


def evaluate(dashboard: Dashboard, time_range: TimeRange, docs: Iterable[Mapping[str, Any]], types: FieldTypes | None = None) -> dict[str, PanelData]:
    """Every panel of the dashboard over the documents, in one pass: panel id -> data."""
    panels = Panels([dashboard], time_range, types)
    for doc in docs:
        panels.add(doc)
    return panels.results().get(dashboard.id, {})


def _descending(value: float | None) -> float:
    return float("inf") if value is None else -value


def _key_function(types: FieldTypes, field: str) -> Callable[[Any], Any]:
    """A grouped value as Elasticsearch's terms key, None for what the field would not
    index: the query engine's own reading of `_source` (kql/values.py) for keywords,
    integers and IP addresses, an address in the form Elasticsearch prints it."""
    es_type = types.get(field)
    if es_type == "ip":
        return _ip_key
    if es_type in values.INT_RANGES:
        return lambda v: values.doc_integer(v, es_type)
    if es_type == "unsigned_long":
        return values.doc_unsigned
    return values.keyword_of


def _key_order(types: FieldTypes, field: str) -> Callable[[Any], Any]:
    """How terms keys tie-break: IP addresses by their indexed number (IPv4 in the
    IPv4-mapped IPv6 range), everything else by itself."""
    if types.get(field) == "ip":
        return values.doc_ip
    return lambda key: key


@lru_cache(maxsize=65536)  # a period's addresses repeat in every document about them
def _ip_key(value: Any) -> str | None:
    number = values.doc_ip(value)
    if number is None:
        return None
    address = ipaddress.IPv6Address(number)
    return str(address.ipv4_mapped or address)
