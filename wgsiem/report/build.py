"""What the report shows, gathered from a file of events or from a cluster.

Either way the same `ReportData` comes out: every dashboard panel's data (evaluated over
the file's events, or fetched with the panel's own search), each peer's activity, and the
alerts. From a file, events are read twice (once for the period when none is given,
once for everything else), so nothing grows with the file but the buckets and peers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wgsiem.dashboards.data import PanelData, TimeRange
from wgsiem.dashboards.evaluate import Panels
from wgsiem.dashboards.model import Dashboard
from wgsiem.dashboards.searches import panel_data, panel_request, time_filter
from wgsiem.detection.cluster import iterate_hits
from wgsiem.detection.engine import ExecutionError
from wgsiem.detection.searches import Request
from wgsiem.detection.timestamps import parse_ms_or_none
from wgsiem.errors import WgsiemError
from wgsiem.kql import to_kql
from wgsiem.kql.ast import Is, Literal

from .activity import Activity
from .alerts import Alerts

Docs = Iterable[Mapping[str, Any]]
# Every wgsiem rule carries this tag; Elastic Security's alerts of other rules are not ours.
RULE_TAG = "Data Source: WireGuard"
Send = Callable[[Request], dict[str, Any]]


class ReportError(WgsiemError):
    """Nothing to report on, or a period that cannot be read."""


@dataclass
class ReportData:
    source: str  # what the report was made from, for its header
    time_range: TimeRange
    dashboards: list[Dashboard]
    panels: dict[str, dict[str, PanelData]]  # dashboard id -> panel id -> data
    activity: Activity
    alerts: Alerts
    guides: dict[str, str] = field(default_factory=dict)  # rule name -> investigation guide
    peer: str | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, said on the page
    alerts_from: str | None = None  # where the alerts came from; None: none were given


def for_peer(dashboards: list[Dashboard], peer: str | None) -> list[Dashboard]:
    """The dashboards as the peer control filters them: one peer's documents only."""
    if peer is None:
        return dashboards
    clause = to_kql(Is(Literal("wireguard.peer.name"), Literal(peer, quoted=True)))
    return [dataclasses.replace(d, query=f"({d.query}) and {clause}" if d.query else clause) for d in dashboards]


def period(docs: Docs) -> TimeRange:
    """The first and last @timestamp of the events."""
    first = last = None
    for doc in docs:
        when = parse_ms_or_none(doc.get("@timestamp"))
        if when is None:
            continue
        first = when if first is None or when < first else first
        last = when if last is None or when > last else last
    if first is None or last is None:
        raise ReportError("no event with a @timestamp to report on")
    return TimeRange(first, last)


def from_events(
    read: Callable[[], Docs],
    dashboards: list[Dashboard],
    *,
    time_range: TimeRange | None = None,
    alerts: Docs = (),
    peer: str | None = None,
    source: str = "events",
    guides: Mapping[str, str] | None = None,
) -> ReportData:
    """`read()` gives the events afresh each time it is called (a file opened again)."""
    time_range = time_range or period(read())
    dashboards = for_peer(dashboards, peer)
    panels = Panels(dashboards, time_range)
    activity = Activity(time_range.start_ms, time_range.end_ms, time_range.interval.ms)
    for doc in read():
        panels.add(doc)  # the panels filter by peer themselves
        if peer is None or ((doc.get("wireguard") or {}).get("peer") or {}).get("name") == peer:
            activity.add(doc)
    return ReportData(source, time_range, dashboards, panels.results(), activity, _alerts(alerts, activity, time_range, peer), dict(guides or {}), peer)


def from_cluster(  # noqa: PLR0913 - the report's options, each a keyword
    send: Send,
    index: str,
    dashboards: list[Dashboard],
    time_range: TimeRange,
    *,
    alerts: Docs = (),
    alerts_index: str | None = None,
    peer: str | None = None,
    source: str = "Elasticsearch",
    guides: Mapping[str, str] | None = None,
) -> ReportData:
    """Each panel's data from its own search; the activity from the period's documents; the
    alerts given, or those of wgsiem's rules in `alerts_index` (Elastic Security's alerts of
    a space, `.alerts-security.alerts-<space>`) when it is named."""
    dashboards = for_peer(dashboards, peer)
    panels = {d.id: {p.id: panel_data(p, time_range, send(Request("search", (index,), panel_request(d, p, time_range)))) for p in d.panels} for d in dashboards}
    activity = Activity(time_range.start_ms, time_range.end_ms, time_range.interval.ms)
    filters: list[dict[str, Any]] = [time_filter(time_range)]
    if peer is not None:
        filters.append({"term": {"wireguard.peer.name": peer}})
    for hit in iterate_hits(send, (index,), {"bool": {"filter": filters}}):
        activity.add(hit["_source"])
    notes: list[str] = []
    if alerts_index is not None:
        alerts = _cluster_alerts(send, alerts_index, time_range, notes)
    data = ReportData(source, time_range, dashboards, panels, activity, _alerts(alerts, activity, time_range, peer), dict(guides or {}), peer, notes)
    if alerts_index is not None:
        data.alerts_from = alerts_index
    return data


def _cluster_alerts(send: Send, index: str, time_range: TimeRange, notes: list[str]) -> Docs:
    """The alerts of wgsiem's rules (their tag) about events of the period, as a stream;
    an index that cannot be read is a note on the page, not a failed report."""
    query = {"bool": {"filter": [time_filter(time_range, "kibana.alert.original_time"), {"term": {"kibana.alert.rule.tags": RULE_TAG}}]}}
    try:
        return [hit["_source"] for hit in iterate_hits(send, (index,), query)]
    except ExecutionError as err:
        notes.append(f"The alerts in {index} could not be read: {err}")
        return []


def _alerts(docs: Docs, activity: Activity, time_range: TimeRange, peer: str | None) -> Alerts:
    alerts = Alerts(time_range.start_ms, time_range.end_ms, peer)
    for doc in docs:
        alert = alerts.add(doc)
        if alert is not None:
            activity.add_alert(alert)
    return alerts
