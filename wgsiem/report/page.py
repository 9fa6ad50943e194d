"""The report as one HTML file: inline CSS, inline SVG charts, the map as an inline PNG.

Nothing on the page refers outside it (no script, font, stylesheet or image by URL), so it
reads the same offline, attached to a ticket, years later. Every text from the events is
escaped. The sections answer an admin's questions in order: the summary; who moved the
most data; each peer's last session, places (a place first used after the peer's first
one is marked new), inner flows and activity log; the inner flows of all peers (when the
events have any); the attacks; the alerts with their guides.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from wgsiem import __version__
from wgsiem.dashboards.data import PanelData, Row
from wgsiem.dashboards.model import Dashboard, Panel

from . import charts
from .activity import FlowTarget, PeerActivity, Place, Session
from .build import ReportData
from .guide import guide_html
from .units import human_bytes, human_duration, time_text

# Peers shown in full (timeline, places, activity log); the others are a row of the table.
PEERS_IN_FULL = 20
# A peer's hosts and services listed, the most data first (then the most flows): what it
# used comes before what a scan touched once; the others are counted.
FLOW_ROWS = 20
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
header{background:#1d2433;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c8cdd6}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}h4,h5,h6{font-size:13px;margin:10px 0 4px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:22px}.card span{color:#5b6475;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:18px}.panel{flex:1 1 560px;min-width:420px}.panel p.d{color:#5b6475;font-size:12px;margin:0 0 6px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}th,td{border-bottom:1px solid #e6e9ee;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.new{background:#fde2e1;color:#8f1d1a;font-weight:600;padding:0 4px;border-radius:3px}
.answer{font-size:14px;margin:4px 0}.sev-high,.sev-critical{color:#a61b1b;font-weight:600}.sev-medium{color:#9a5b00;font-weight:600}
.panel svg,.peer svg{max-width:100%;height:auto}
code{background:#f0f2f5;padding:0 3px;border-radius:3px}img.map{max-width:100%;border:1px solid #dde1e7}
.peer{border-top:2px solid #dde1e7;padding-top:6px;margin-top:14px}.muted{color:#5b6475}
"""


def render(report: ReportData) -> str:
    tr = report.time_range
    title = "WireGuard report" + (f": {report.peer}" if report.peer else "")
    body = [
        f"<header><h1>{_e(title)}</h1><p>{_e(time_text(tr.start_ms))} to {_e(time_text(tr.end_ms))} · "
        f"from {_e(report.source)} · wgsiem {_e(__version__)}</p></header>",
        "<main>",
        _summary(report),
        _answers(report),
    ]
    by_id = {d.id: d for d in report.dashboards}
    if "overview" in by_id:
        body.append(_dashboard(by_id["overview"], report, skip_metrics=True))
    body.append(_peers(report))
    if "flows" in by_id and report.activity.totals.flows:  # only where the gateway follows flows
        body.append(_dashboard(by_id["flows"], report, skip_metrics=False))
    if "attacks" in by_id:
        body.append(_dashboard(by_id["attacks"], report, skip_metrics=False))
    body.append(_alerts(report))
    body.append("</main>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        # No request may leave the page: the policy says so to the browser as well.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _e(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


def _summary(report: ReportData) -> str:
    t, a = report.activity.totals, report.alerts
    cards = [
        ("Hosts", len(t.hosts)),
        ("Peers", len(report.activity.peers)),
        ("Sessions", f"{t.sessions:,}"),
        ("Data moved", human_bytes(t.bytes)),
        ("Alerts", f"{a.total:,}"),
    ]
    invalid = report.panels.get("overview", {}).get("invalid-handshakes")
    if invalid is not None:
        cards.append((invalid.panel.title, _number(invalid.value, invalid.panel)))
    if t.flows:
        cards.append(("Inner flows", f"{t.flows:,}"))
    return f"<section id=\"summary\"><h2>Summary</h2>{_cards(cards)}</section>"


def _answers(report: ReportData) -> str:
    peers = sorted(report.activity.peers.values(), key=lambda p: -p.bytes)
    lines = []
    if peers and peers[0].bytes:
        top = peers[0]
        lines.append(f"<p class=\"answer\">Most data moved in the period: <b>{_e(top.label)}</b>, {_e(human_bytes(top.bytes))}.</p>")
    for peer in sorted(report.activity.peers.values(), key=lambda p: p.label):
        for place in _new_places(peer):
            lines.append(
                f"<p class=\"answer\"><b>{_e(peer.label)}</b> was used from a new place: <span class=\"new\">{_e(place.country)}</span> "
                f"({_e(place.network)}), first at {_e(time_text(place.first_ms))} from {_e(place.first_address)}.</p>"
            )
    if report.alerts.total:
        rules = ", ".join(f"{_e(r)} ({n})" for r, n in report.alerts.by_rule.most_common())
        lines.append(f"<p class=\"answer\">Alerts: {rules}.</p>")
    if not lines:
        lines.append("<p class=\"answer muted\">Nothing stands out in the period.</p>")
    return "<section id=\"answers\"><h2>At a glance</h2>" + "".join(lines) + "</section>"


def _new_places(peer: PeerActivity) -> list[Place]:
    """Places in another country than the peer's first one in the period: where a stolen
    key shows. (A new network in the same country is in the peer's table, not here.)"""
    places = sorted(peer.places.values(), key=lambda p: p.first_ms)
    if len(places) < 2:
        return []
    usual = {places[0].country}
    return [p for p in places[1:] if p.country not in usual]


def _dashboard(dashboard: Dashboard, report: ReportData, *, skip_metrics: bool) -> str:
    data = report.panels.get(dashboard.id, {})
    title = dashboard.title.replace("[Logs WireGuard] ", "")
    parts = [f"<section id=\"{_e(dashboard.id)}\"><h2>{_e(title)}</h2><p class=\"muted\">{_e(dashboard.description)}</p>"]
    metrics = [p for p in dashboard.panels if p.chart == "metric"]
    if metrics and not skip_metrics:
        parts.append(_cards([(p.title, _number(data[p.id].value, p)) for p in metrics]))
    parts.append("<div class=\"grid\">")
    for panel in dashboard.panels:
        if panel.chart != "metric":
            head = f"<h3>{_e(panel.title)}</h3><p class=\"d\">{_e(panel.description)}</p>"
            parts.append(f"<div class=\"panel\" id=\"{_e(dashboard.id)}-{_e(panel.id)}\">{head}{_panel(data[panel.id])}</div>")
    parts.append("</div></section>")
    return "".join(parts)


def _panel(data: PanelData) -> str:
    panel = data.panel
    fmt = _format(panel)
    if panel.chart in ("bar", "line", "area"):
        return charts.time_chart(data, fmt)
    if panel.chart in ("bar_horizontal", "donut"):
        labels = [str(r.keys[0]) for r in data.rows]
        values = [r.value or 0.0 for r in data.rows]
        if panel.chart == "donut":
            return charts.donut(labels, values)
        return charts.bar_chart(labels, values, fmt, panel.metric.title if panel.metric else "")
    if panel.chart == "table":
        heads = [g.title for g in panel.groups] + [panel.metric.title if panel.metric else "Count"]
        rows = [[*map(str, r.keys), _number(r.value, panel)] for r in data.rows]
        return _table(heads, rows, numeric_last=fmt != "date") if rows else "<p class=\"muted\">No data in the period.</p>"
    if panel.chart == "map":
        return _map(data)
    return ""


def _map(data: PanelData) -> str:
    png = charts.world_map(data.points)
    image = f"<img class=\"map\" alt=\"{_e(data.panel.title)}\" src=\"data:image/png;base64,{base64.b64encode(png).decode()}\">"
    shown = [f for f in data.panel.tooltip if f != data.panel.entity]
    heads = [_heading(data.panel.entity or ""), *map(_heading, shown), "Last seen"]
    rows = [[str(p.entity), *(_e_plain(p.tooltip.get(f)) for f in shown), time_text(p.timestamp_ms)] for p in data.points]
    return image + (_table(heads, rows) if rows else "<p class=\"muted\">No endpoints in the period.</p>")


# Column headings for the fields the map panels show.
_HEADINGS = {
    "source.ip": "Address", "wireguard.peer.name": "Peer", "source.geo.country_name": "Country",
    "source.geo.city_name": "City", "source.as.organization.name": "Network",
}  # fmt: skip


def _heading(field: str) -> str:
    return _HEADINGS.get(field, field)


def _e_plain(value: Any) -> str:
    return "–" if value is None else str(value)


def _format(panel: Panel) -> str:
    """How the panel's values read: number, bytes or date."""
    return panel.metric.format if panel.metric else "number"


def _number(value: float | None, panel: Panel) -> str:
    fmt = _format(panel)
    if value is None:
        return "–"
    if fmt == "bytes":
        return human_bytes(value)
    if fmt == "date":
        return time_text(int(value))
    return f"{value:,.0f}"


def _cards(cards: Iterable[tuple[str, Any]]) -> str:
    """Big numbers with their names under them."""
    return "<div class=\"cards\">" + "".join(f"<div class=\"card\"><b>{_e(v)}</b><span>{_e(k)}</span></div>" for k, v in cards) + "</div>"


def _table(heads: Sequence[str], rows: Iterable[Sequence[str]], numeric_last: bool = False) -> str:
    """A table of plain texts, escaped here."""
    return _html_table(heads, ([_e(c) for c in row] for row in rows), numeric_last)


def _html_table(heads: Sequence[str], rows: Iterable[Sequence[str]], numeric_last: bool = False) -> str:
    """A table whose cells are HTML already (links, marks); the last one right-aligned when numeric."""
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = []
    for row in rows:
        cells = [f"<td>{c}</td>" for c in row]
        if numeric_last:
            cells[-1] = f"<td class=\"n\">{row[-1]}</td>"
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _peers(report: ReportData) -> str:
    """Every peer in one table; the ones worth a look first (alerts, new places, then the
    most data) in full, up to PEERS_IN_FULL, so a fleet's report stays readable."""
    peers = sorted(report.activity.peers.values(), key=lambda p: (not (p.alerts or _new_places(p)), -p.bytes, p.label))
    parts = ["<section id=\"peers\"><h2>Peers</h2>"]
    if not peers:
        parts.append("<p class=\"muted\">No peer in the period.</p>")
    full = peers[:PEERS_IN_FULL]
    flows = report.activity.totals.flows > 0  # a column only where the gateway follows flows
    if len(peers) > 1:
        rows = []
        for i, p in enumerate(peers):
            name = f"<a href=\"#peer-{_e(p.label)}\">{_e(p.label)}</a>" if i < len(full) else _e(p.label)
            countries = ", ".join(sorted({str(place.country) for place in p.places.values()}))
            row = [name, _e(p.user), f"{p.session_count:,}", _e(human_bytes(p.bytes)), _e(time_text(p.last_ms)), _e(countries)]
            rows.append([*row, *([f"{p.flow_count:,}"] if flows else []), f"{p.alerts:,}"])
        heads = ("Peer", "User", "Sessions", "Data moved", "Last seen", "Countries", *(("Inner flows",) if flows else ()), "Alerts")
        parts.append(_html_table(heads, rows))
        if len(peers) > len(full):
            parts.append(f"<p class=\"muted\">The first {len(full)} of {len(peers):,} peers in full below; --peer NAME reports on any one.</p>")
    for peer in full:
        parts.append(_peer(peer, report))
    parts.append("</section>")
    return "".join(parts)


def _peer(peer: PeerActivity, report: ReportData) -> str:
    who = peer.label + (f" (user {peer.user})" if peer.user and peer.user != peer.name else "")
    last = peer.last_session
    lines = [
        f"<div class=\"peer\" id=\"peer-{_e(peer.label)}\"><h3>{_e(who)}</h3>",
        f"<p class=\"muted\">key <code>{_e(peer.public_key)}</code> · {_e(peer.interface)} on {_e(peer.host)} · "
        f"{peer.session_count:,} sessions · {_e(human_bytes(peer.bytes))} moved · "
        + (f"{peer.flow_count:,} inner flows · " if peer.flow_count else "")
        + f"{peer.alerts:,} alerts</p>",
    ]
    if last is not None:
        where = last.endpoint
        lines.append(
            f"<p class=\"answer\">Last session: started {_e(time_text(last.start_ms))}, {_e(human_duration(last.duration_ms))}, "
            f"{_e(human_bytes(last.bytes))}, from {_e(where.address)} ({_e(where.city)}, {_e(where.country)}; {_e(where.network)}).</p>"
        )
    if peer.last_handshake_ms is not None and peer.last_endpoint is not None:
        lines.append(f"<p class=\"answer\">Last handshake: {_e(time_text(peer.last_handshake_ms))} from {_e(peer.last_endpoint.address)}.</p>")
    if peer.timeline:
        lines.append(_timeline(peer, report))
    new = {id(p) for p in _new_places(peer)}
    place_rows = []
    for place in sorted(peer.places.values(), key=lambda p: p.first_ms):
        mark = " <span class=\"new\">new</span>" if id(place) in new else ""
        place_rows.append([_e(place.country) + mark, _e(place.network), _e(place.first_address), _e(time_text(place.first_ms)), _e(time_text(place.last_ms))])
    if place_rows:
        lines.append("<h4>Countries and networks</h4>" + _html_table(("Country", "Network", "First endpoint", "First seen", "Last seen"), place_rows))
    if peer.flow_targets:
        lines.append(_flows(peer))
    if peer.sessions:
        lines.append(f"<h4>Activity log (latest {len(peer.sessions)} of {peer.session_count:,} sessions)</h4>" + _sessions(peer.sessions))
    lines.append("</div>")
    return "".join(lines)


def _timeline(peer: PeerActivity, report: ReportData) -> str:
    peer_dashboard = next((d for d in report.dashboards if d.id == "peer"), None)
    panel = peer_dashboard.panel("data-moved-over-time") if peer_dashboard else None
    if panel is None:
        return ""
    tr = report.time_range
    rows = tuple(Row((peer.label, slot), float(peer.timeline.get(slot, 0))) for slot in tr.slots())
    return charts.time_chart(PanelData(panel, tr, rows=rows), "bytes", size=(7.5, 1.9))


def _flows(peer: PeerActivity) -> str:
    """The hosts and services of the peer's inner flows, the most data first, and the
    unanswered ones summed up by host (where a scan shows)."""
    targets = sorted(peer.flow_targets.values(), key=_flow_order)
    heads = ["Direction", "Host", "Service", "First", "Last", "Flows", "Unreplied", "Sent", "Received"]
    rows = []
    for t in targets[:FLOW_ROWS]:
        host = _e_plain(t.address) + (f" (peer {t.peer})" if t.peer else "")
        direction = "peer → host" if t.direction == "inbound" else "host → peer" if t.direction == "outbound" else "–"
        service = _e_plain(t.transport) + (f"/{t.port}" if t.port is not None else "")
        rows.append([direction, host, service, time_text(t.first_ms), time_text(t.last_ms), f"{t.flows:,}", f"{t.unreplied:,}",
                     human_bytes(t.sent), human_bytes(t.received)])  # fmt: skip
    head = (
        f"<h4>Inner flows ({peer.flow_count:,}; {_e(human_bytes(peer.flow_sent))} sent, "
        f"{_e(human_bytes(peer.flow_received))} received)</h4>"
    )
    if peer.flow_unreplied:
        by_host: dict[str, int] = {}
        for t in targets:
            if t.unreplied:
                by_host[_e_plain(t.address)] = by_host.get(_e_plain(t.address), 0) + t.unreplied
        most = max(by_host.items(), key=lambda item: (item[1], item[0]), default=None)
        at = f", the most to {_e(most[0])} ({most[1]:,})" if most else ""
        hosts = f"{len(by_host):,} host" + ("s" if len(by_host) != 1 else "")
        head += f"<p class=\"answer\">{peer.flow_unreplied:,} flows were not answered, to {hosts}{at}.</p>"
    note = []
    if len(targets) > FLOW_ROWS:
        note.append(f"the first {FLOW_ROWS} of {len(targets):,} hosts and services")
    if peer.flows_not_itemized:
        note.append(f"{peer.flows_not_itemized:,} flows to further hosts and services counted only")
    more = f"<p class=\"muted\">{_e('; '.join(note).capitalize())}.</p>" if note else ""
    return head + _table(heads, rows) + more


def _flow_order(t: FlowTarget) -> tuple[Any, ...]:
    return (-(t.sent + t.received), -t.flows, str(t.direction), str(t.address), t.port or 0, str(t.transport))


def _sessions(sessions: Iterable[Session]) -> str:
    heads = ["Start", "Duration", "Bytes", "Endpoint", "City", "Country", "Network"]
    rows = []
    for s in sorted(sessions, key=lambda s: -s.start_ms):
        e = s.endpoint
        where = [_e_plain(e.address), _e_plain(e.city), _e_plain(e.country), _e_plain(e.network)]
        rows.append([time_text(s.start_ms), human_duration(s.duration_ms), human_bytes(s.bytes), *where])
    return _table(heads, rows)


def _alerts(report: ReportData) -> str:
    alerts = report.alerts
    parts = ["<section id=\"alerts\"><h2>Alerts</h2>", *(f"<p class=\"answer\">{_e(note)}</p>" for note in report.notes)]
    if not alerts.total:
        given = f" in {report.alerts_from}" if report.alerts_from else " (none were given: --alerts FILE, or --es with its alerts index)"
        parts.append(f"<p class=\"muted\">No alerts in the period{_e(given)}.</p></section>")
        return "".join(parts)
    rows = []
    for a in alerts.newest():
        sev = f"<span class=\"sev-{_e(a.severity)}\">{_e(a.severity)}</span>"
        rows.append([_e(time_text(a.time_ms)), _e(a.rule), sev, _e(a.peer), _e(a.reason)])
    shown = f" (the latest {len(rows)} of {alerts.total:,})" if len(rows) < alerts.total else ""
    parts.append(f"<h3>Alerts{shown}</h3>" + _html_table(("Time", "Rule", "Severity", "Peer", "Reason"), rows))
    parts.append("<h3>Investigation guides</h3>")
    for rule, count in sorted(alerts.by_rule.items()):
        guide = report.guides.get(rule)
        body = guide_html(guide) if guide else "<p class=\"muted\">This rule is not one of wgsiem's; its guide is in Kibana.</p>"
        parts.append(f"<div class=\"guide\" id=\"guide-{_e(alerts.rule_ids.get(rule, rule))}\"><h3>{_e(rule)} ({count:,})</h3>{body}</div>")
    parts.append("</section>")
    return "".join(parts)
