"""What a panel shows, however it was computed: buckets and values, or a map's points.

The same `PanelData` comes from Elasticsearch (`searches.py`: the aggregation request a
panel stands for, and its response read back) and from a file of events
(`evaluate.py`: the same aggregation done here), so a report drawn from either is the
same report, and the tests compare the two on the real node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from wgsiem.kql.documents import MISSING, Getter, getter

from .model import Panel

# Kibana's auto interval aims at about this many bars (the histogram:barTarget setting).
BAR_TARGET = 50
# The intervals the auto interval rounds to, as Kibana's rounding rules do: each a
# fixed_interval that divides the next one's buckets evenly where it can.
_LADDER = (
    ("1s", 1), ("5s", 5), ("10s", 10), ("30s", 30), ("1m", 60), ("5m", 300), ("10m", 600),
    ("30m", 1800), ("1h", 3600), ("3h", 10800), ("12h", 43200), ("1d", 86400),
    ("7d", 604800), ("30d", 2592000), ("365d", 31536000),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Interval:
    name: str  # Elasticsearch's fixed_interval, e.g. "1h"
    ms: int


def auto_interval(start_ms: int, end_ms: int, target: int = BAR_TARGET) -> Interval:
    """The smallest interval of the ladder that draws the range in at most `target` bars."""
    span = max(end_ms - start_ms, 1)
    for name, seconds in _LADDER:
        if span / (seconds * 1000) <= target:
            return Interval(name, seconds * 1000)
    name, seconds = _LADDER[-1]
    return Interval(name, seconds * 1000)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_ms: int
    end_ms: int  # inclusive, as Kibana's range filter (lte)

    @property
    def interval(self) -> Interval:
        return auto_interval(self.start_ms, self.end_ms)

    def slots(self) -> range:
        """The start of every time bucket of the period, empty ones included (a
        date_histogram's extended_bounds; fixed_interval buckets start at the epoch)."""
        step = self.interval.ms
        return range(self.start_ms - self.start_ms % step, self.end_ms + 1, step)


@dataclass(frozen=True, slots=True)
class Row:
    """One bucket: its keys outermost first (the terms values, then the time bucket's
    start in epoch ms when the panel has a time axis) and the metric's value."""

    keys: tuple[Any, ...]
    value: float | None


@dataclass(frozen=True, slots=True)
class Point:
    """A map point: the latest document of one entity (e.g. one endpoint address)."""

    entity: Any
    lat: float
    lon: float
    timestamp_ms: int
    tooltip: dict[str, Any]


def point(panel: Panel, entity: Any, when_ms: int, doc: Mapping[str, Any]) -> Point:
    """A map panel's point for an entity's latest document (a hit's `_source`, or an event
    in hand): its location and tooltip fields, read from the document as Elasticsearch
    reads `_source`."""
    lat, lon = _lat_lon(_field(panel.location or "")(doc))
    tooltip = {}
    for name in panel.tooltip:
        value = _field(name)(doc)
        tooltip[name] = None if value is MISSING else value
    return Point(entity, lat, lon, when_ms, tooltip)


@cache
def _field(name: str) -> Getter:
    return getter(name)


def _lat_lon(location: Any) -> tuple[float, float]:
    """A geo_point as the shipper writes it ({"lat", "lon"}), or [lon, lat], or "lat,lon"."""
    if isinstance(location, dict):
        return float(location["lat"]), float(location["lon"])
    if isinstance(location, list):
        return float(location[1]), float(location[0])
    lat, lon = str(location).split(",")
    return float(lat), float(lon)


@dataclass(frozen=True, slots=True)
class PanelData:
    panel: Panel
    time_range: TimeRange
    rows: tuple[Row, ...] = ()
    points: tuple[Point, ...] = ()

    @property
    def value(self) -> float | None:
        """A metric panel's number."""
        return self.rows[0].value if self.rows else None

    def series(self) -> dict[Any, list[tuple[int, float | None]]]:
        """A time-axis panel's rows as {breakdown value (None without one): [(time, value)]}."""
        out: dict[Any, list[tuple[int, float | None]]] = {}
        for row in self.rows:
            name = row.keys[0] if len(row.keys) == 2 else None
            out.setdefault(name, []).append((row.keys[-1], row.value))
        return out
