"""A dashboard as its YAML file holds it: panels, each one question put to the
`logs-wireguard.*` data (which documents, grouped how, measured how).

A file is checked against dashboards/schemas/dashboard.schema.json first, then for what a
schema cannot say: each panel's KQL parses and names mapped fields, every field a panel
groups or measures by is aggregatable in ecs_mappings/, ids are unique, panels do not
overlap. Problems name the file, the line of the key and the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from wgsiem.content import DASHBOARDS
from wgsiem.errors import WgsiemError
from wgsiem.kql import FieldTypes, KqlFieldError, KqlSyntaxError, compile_query

SCHEMA = DASHBOARDS / "schemas" / "dashboard.schema.json"
TIME_FIELD = "@timestamp"
NUMERIC = frozenset({"long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float"})
# What Elasticsearch aggregates on (doc values); text fields are not among them.
AGGREGATABLE = NUMERIC | {"keyword", "constant_keyword", "date", "date_nanos", "ip", "boolean"}


class DashboardFileError(WgsiemError):
    """A dashboard file that cannot be used; each line of the message is one problem."""


@dataclass(frozen=True, slots=True)
class Metric:
    function: str  # count, sum, max, min, average, unique_count
    field: str | None = None
    label: str | None = None
    format: str = "number"

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        if self.function == "count":
            return "Count of records"
        names = {"unique_count": "Unique count", "average": "Average"}
        return f"{names.get(self.function, self.function.capitalize())} of {self.field}"


@dataclass(frozen=True, slots=True)
class Terms:
    """Group by the most frequent (or largest by the metric) values of a field."""

    field: str
    size: int = 5
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or f"Top {self.size} values of {self.field}"


@dataclass(frozen=True, slots=True)
class Grid:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True, slots=True)
class Panel:
    id: str
    title: str
    description: str
    chart: str  # metric, bar, line, area, bar_horizontal, donut, table, map
    query: str
    grid: Grid
    metric: Metric | None = None
    time_axis: bool = False
    breakdown: Terms | None = None
    rows: tuple[Terms, ...] = ()
    location: str | None = None
    entity: str | None = None
    tooltip: tuple[str, ...] = ()

    @property
    def groups(self) -> tuple[Terms, ...]:
        """The terms groupings, outermost first (a table's rows, or the breakdown)."""
        return self.rows or ((self.breakdown,) if self.breakdown else ())

    def fields(self) -> list[str]:
        """Every field the panel groups, measures, places or shows by."""
        out = [TIME_FIELD] if self.time_axis else []
        out += [g.field for g in self.groups]
        if self.metric and self.metric.field:
            out.append(self.metric.field)
        out += [f for f in (self.location, self.entity) if f]
        out += self.tooltip
        return out


@dataclass(frozen=True, slots=True)
class Dashboard:
    path: Path
    id: str
    title: str
    description: str
    query: str
    time_from: str
    time_to: str
    controls: tuple[str, ...] = ()
    panels: tuple[Panel, ...] = field(default=())

    def panel(self, panel_id: str) -> Panel:
        for p in self.panels:
            if p.id == panel_id:
                return p
        raise KeyError(panel_id)

    def panel_query(self, panel: Panel) -> str:
        """The KQL of the panel's documents: the dashboard's query and the panel's."""
        parts = [q for q in (self.query.strip(), panel.query.strip()) if q]
        if len(parts) == 2:
            return f"({parts[0]}) and ({parts[1]})"
        return parts[0] if parts else ""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def load_dashboards(directory: Path = DASHBOARDS, types: FieldTypes | None = None) -> list[Dashboard]:
    """Every dashboards/*.yml, checked; all problems of all files in one error."""
    types = types if types is not None else FieldTypes.default()
    dashboards, problems = [], []
    for path in sorted(directory.glob("*.yml")):
        try:
            dashboards.append(load_dashboard(path, types))
        except DashboardFileError as err:
            problems.append(str(err))
    seen: dict[str, Path] = {}
    for d in dashboards:
        if d.id in seen:
            problems.append(f"{d.path}: id: {d.id!r} is also the id of {seen[d.id]}")
        seen[d.id] = d.path
    if problems:
        raise DashboardFileError("\n".join(problems))
    return dashboards


def load_dashboard(path: Path, types: FieldTypes | None = None) -> Dashboard:
    types = types if types is not None else FieldTypes.default()
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DashboardFileError(f"{path}: not valid YAML: {err}") from None
    lines = _Lines(node)
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise DashboardFileError("\n".join(_describe(path, lines, e) for e in errors))
    dashboard = _dashboard(path, raw)
    problems = [f"{path}:{lines.line(keys)}: {'.'.join(map(str, keys))}: {msg}" for keys, msg in _check(dashboard, types)]
    if problems:
        raise DashboardFileError("\n".join(problems))
    return dashboard


def _dashboard(path: Path, raw: dict[str, Any]) -> Dashboard:
    time = raw.get("time") or {}
    return Dashboard(
        path=path,
        id=raw["id"],
        title=raw["title"],
        description=raw["description"].strip(),
        query=raw.get("query", ""),
        time_from=time.get("from", "now-7d"),
        time_to=time.get("to", "now"),
        controls=tuple(raw.get("controls", ())),
        panels=tuple(_panel(p) for p in raw["panels"]),
    )


def _terms(raw: dict[str, Any]) -> Terms:
    return Terms(raw["field"], raw.get("size", 5), raw.get("label"))


def _panel(raw: dict[str, Any]) -> Panel:
    metric = raw.get("metric")
    return Panel(
        id=raw["id"],
        title=raw["title"],
        description=raw["description"].strip(),
        chart=raw["chart"],
        query=raw.get("query", "").strip(),
        grid=Grid(**raw["grid"]),
        metric=Metric(metric["function"], metric.get("field"), metric.get("label"), metric.get("format", "number")) if metric else None,
        time_axis=raw.get("time_axis", False),
        breakdown=_terms(raw["breakdown"]) if "breakdown" in raw else None,
        rows=tuple(_terms(r) for r in raw.get("rows", ())),
        location=raw.get("location"),
        entity=raw.get("entity"),
        tooltip=tuple(raw.get("tooltip", ())),
    )


Problem = tuple[Sequence[str | int], str]


def _check(d: Dashboard, types: FieldTypes) -> Iterator[Problem]:
    if d.query:
        yield from _kql(("query",), d.query, types)
    for i, name in enumerate(d.controls):
        info = types.info(name)
        if info is None or info.type not in AGGREGATABLE:
            yield ("controls", i), f"field {name!r} is not an aggregatable field of ecs_mappings/"
    ids: set[str] = set()
    for i, p in enumerate(d.panels):
        at: tuple[str | int, ...] = ("panels", i)
        if p.id in ids:
            yield (*at, "id"), f"panel id {p.id!r} is used twice"
        ids.add(p.id)
        if p.query:
            yield from _kql((*at, "query"), p.query, types)
        yield from _fields(at, p, types)
        if p.grid.x + p.grid.w > 48:
            yield (*at, "grid"), f"x + w = {p.grid.x + p.grid.w}, past the dashboard's 48 columns"
    for i, a in enumerate(d.panels):
        for b in d.panels[:i]:
            if _overlap(a.grid, b.grid):
                yield ("panels", i, "grid"), f"panel {a.id!r} overlaps panel {b.id!r}"


def _kql(keys: Sequence[str | int], text: str, types: FieldTypes) -> Iterator[Problem]:
    try:
        compile_query(text, types)
    except (KqlSyntaxError, KqlFieldError) as err:
        yield keys, f"KQL: {err}"


def _fields(at: tuple[str | int, ...], p: Panel, types: FieldTypes) -> Iterator[Problem]:
    def need(keys: tuple[str | int, ...], name: str, allowed: frozenset[str], what: str) -> Iterator[Problem]:
        info = types.info(name)
        if info is None:
            yield keys, f"field {name!r} is not defined in ecs_mappings/"
        elif info.type not in allowed or not info.doc_values:
            yield keys, f"field {name!r} is a {info.type} field, which cannot be {what}"

    for key, g in [("breakdown", p.breakdown)] if p.breakdown else [("rows", r) for r in p.rows]:
        keys = (*at, key, "field") if key == "breakdown" else (*at, "rows", p.rows.index(g), "field")
        yield from need(keys, g.field, AGGREGATABLE, "grouped by")
    if p.metric and p.metric.field:
        fn = p.metric.function
        allowed = AGGREGATABLE if fn == "unique_count" else NUMERIC | {"date"} if fn in ("max", "min") else NUMERIC
        yield from need((*at, "metric", "field"), p.metric.field, allowed, f"measured by {fn}")
    if p.location:
        yield from need((*at, "location"), p.location, frozenset({"geo_point"}), "placed on a map")
    if p.entity:
        yield from need((*at, "entity"), p.entity, AGGREGATABLE, "grouped by")
    for i, name in enumerate(p.tooltip):
        if types.info(name) is None:
            yield (*at, "tooltip", i), f"field {name!r} is not defined in ecs_mappings/"


def _overlap(a: Grid, b: Grid) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


class _Lines:
    """The line a path of keys starts on in the YAML text, from the composed node tree."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.node = node

    def line(self, keys: Sequence[str | int]) -> int:
        node, line = self.node, 1
        for key in keys:
            child = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == str(key):
                        child, line = v, k.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                child = node.value[key]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line


def _describe(path: Path, lines: _Lines, err: jsonschema.ValidationError) -> str:
    keys = list(err.absolute_path)
    where = ".".join(map(str, keys)) or "(top level)"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(str(k) for k in err.instance if k not in allowed)
        return f"{path}:{lines.line([*keys, *extra[:1]])}: {'.'.join(map(str, [*keys, *extra[:1]]))}: unknown key"
    if err.validator == "not" or err.validator == "if":
        return f"{path}:{lines.line(keys)}: {where}: a {err.instance.get('chart', '')} panel does not take this combination of keys"
    return f"{path}:{lines.line(keys)}: {where}: {err.message}"
