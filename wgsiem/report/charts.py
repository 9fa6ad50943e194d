"""A panel's data drawn as a static SVG chart with matplotlib, and the world map with
cartopy (its bundled Natural Earth image, so no map tile is fetched).

Charts are SVG with their text kept as text (svg.fonttype none: the viewer's own
sans-serif, no embedded or web fonts), with fixed ids and no creation date, so the same
data draws the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.dates as mdates  # noqa: E402 - after the backend is chosen
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from wgsiem.dashboards.data import PanelData, Point  # noqa: E402

from .units import human_bytes  # noqa: E402

PALETTE = ("#3b6fb6", "#e07b39", "#3c9d5d", "#c2453d", "#8a63b8", "#8c6d46", "#d36fb4", "#6f7782", "#b5b336", "#33a9bd")
MARKER = "#d7263d"  # an endpoint on the map
# The narrowest map, in degrees of longitude.
MIN_SPAN = 120
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "wgsiem",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline in HTML: no XML prolog or doctype


def _scale(values: Iterable[float], fmt: str) -> tuple[float, str]:
    """Bytes drawn in one unit chosen by the largest value (the axis says which), so the
    ticks fall on round numbers of it; other numbers as they are."""
    if fmt != "bytes":
        return 1.0, ""
    top = max(values, default=0.0)
    for unit, factor in (("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10)):
        if top >= factor:
            return factor, unit
    return 1.0, "B"


def _axis(axis: Any, fmt: str) -> None:
    axis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=fmt == "number"))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"))


def time_chart(data: PanelData, fmt: str = "number", size: tuple[float, float] = (7.5, 2.8)) -> str:
    """Bars (stacked), area (stacked) or line over the time axis, a series per breakdown value."""
    series = data.series()
    kind = data.panel.chart
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=size)
        width = data.time_range.interval.ms / 86_400_000 * 0.9
        totals: dict[int, float] = {}
        for points in series.values():
            for t, v in points:
                totals[t] = totals.get(t, 0.0) + (v or 0.0)
        factor, unit = _scale(totals.values(), fmt)
        bottom: list[float] | None = None
        for i, (name, points) in enumerate(series.items()):
            xs = [datetime.fromtimestamp(t / 1000, UTC) for t, _ in points]
            ys = [(v or 0.0) / factor for _, v in points]
            label = str(name) if name is not None else data.panel.metric.title if data.panel.metric else ""
            color = PALETTE[i % len(PALETTE)]
            if kind == "bar":
                ax.bar(xs, ys, width=width, bottom=bottom, label=label, color=color, align="edge")
            elif kind == "area":
                base = bottom or [0.0] * len(ys)
                top = [b + y for b, y in zip(base, ys, strict=True)]
                ax.fill_between(xs, base, top, step="post", alpha=0.85, label=label, color=color)
            else:
                ax.plot(xs, ys, label=label, color=color)
            if kind in ("bar", "area"):
                bottom = [b + y for b, y in zip(bottom or [0.0] * len(ys), ys, strict=True)]
        _axis(ax.yaxis, fmt)
        locator = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_ylabel(_label(data.panel.metric.title if data.panel.metric else "", unit))
        if len(series) > 1 or next(iter(series), None) is not None:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title=data.panel.breakdown.title if data.panel.breakdown else None)
        if not series:
            _no_data(ax)
        return _svg(fig)


def bar_chart(labels: Sequence[str], values: Sequence[float], fmt: str = "number", title: str = "") -> str:
    """Horizontal bars, the largest on top."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 0.35 * max(len(labels), 2) + 0.6))
        factor, unit = _scale(values, fmt)
        ax.barh(list(range(len(labels)))[::-1], [v / factor for v in values], color=PALETTE[0])
        ax.set_yticks(list(range(len(labels)))[::-1], labels=list(labels))
        _axis(ax.xaxis, fmt)
        ax.set_xlabel(_label(title, unit))
        for i, v in enumerate(values):
            ax.text(v / factor, len(labels) - 1 - i, " " + (human_bytes(v) if fmt == "bytes" else f"{v:,.0f}"), va="center", fontsize=8)
        if not labels:
            _no_data(ax)
        return _svg(fig)


def _no_data(ax: Any) -> None:
    ax.text(0.5, 0.5, "no data in the period", ha="center", va="center", transform=ax.transAxes)


def _label(title: str, unit: str) -> str:
    return f"{title} ({unit})" if unit else title


def donut(labels: Sequence[str], values: Sequence[float]) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 2.8))
        if sum(values) > 0:
            ax.pie(list(values), labels=None, colors=PALETTE[: len(values)], wedgeprops={"width": 0.4}, startangle=90, counterclock=False)
            ax.legend([f"{lab} ({v:,.0f})" for lab, v in zip(labels, values, strict=True)], loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        else:
            _no_data(ax)
        ax.set_aspect("equal")
        ax.axis("off")
        return _svg(fig)


def world_map(points: Sequence[Point], size: tuple[float, float] = (9.0, 4.6)) -> bytes:
    """A PNG of the world (cartopy's bundled Natural Earth image) with a dot per point,
    framed around the points; a raster, since the background is one."""
    import cartopy.crs as ccrs  # on demand: it loads PROJ

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=size)
        ax = fig.add_subplot(1, 1, 1, projection=ccrs.PlateCarree())
        ax.stock_img().set_interpolation("bilinear")  # zoomed in, its pixels would show
        ax.set_extent(_extent(points), crs=ccrs.PlateCarree())
        for p in points:
            ax.plot(p.lon, p.lat, marker="o", markersize=9, color=MARKER, markeredgecolor="white", markeredgewidth=1.5, transform=ccrs.PlateCarree())
            label = p.tooltip.get("source.geo.city_name") or p.tooltip.get("source.geo.country_name") or str(p.entity)
            ax.annotate(str(label), (p.lon, p.lat), xytext=(6, 4), textcoords="offset points", fontsize=8, color="#111", transform=ccrs.PlateCarree())
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        return out.getvalue()


def _extent(points: Sequence[Point]) -> list[float]:
    """Longitudes and latitudes around the points with a margin; the world when they span it."""
    if not points:
        return [-180, 180, -60, 80]
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    west, east = min(lons) - 20, max(lons) + 20
    south, north = min(lats) - 15, max(lats) + 15
    # No closer than a continent: the bundled image is coarse (about 0.7 degrees a pixel).
    if east - west < MIN_SPAN:
        middle = (east + west) / 2
        west, east = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
    if north - south < MIN_SPAN / 2:
        middle = (north + south) / 2
        south, north = middle - MIN_SPAN / 4, middle + MIN_SPAN / 4
    # Keep the map at least 2:1 wide, as the picture beside it expects.
    if east - west < 2 * (north - south):
        grow = (2 * (north - south) - (east - west)) / 2
        west, east = west - grow, east + grow
    return [max(west, -180), min(east, 180), max(south, -90), min(north, 90)]
