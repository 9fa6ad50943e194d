"""`wgsiem report EVENTS.ndjson | --es URL`: one self-contained HTML page of the period."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..content import DASHBOARDS, DETECTION_RULES
from ..mappings.datastreams import WIREGUARD_INDICES
from .groups import Events, EventSource, with_groups
from .setup import fail

# Elastic Security's alerts in Kibana's default space.
ALERTS_INDEX = ".alerts-security.alerts-default"
# The screenshot's size: the integration package's manifest declares it (integration/img/).
SCREENSHOT = (1400, 1000)
_SINCE = re.compile(r"([1-9][0-9]*)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@with_groups
def report(  # noqa: PLR0913 - a command's options are its arguments
    source: Annotated[
        EventSource, Events(es_help="Report on this Elasticsearch cluster (URL) instead of EVENTS: each panel's own search, over --since or --from/--to.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.", dir_okay=False)] = Path("report.html"),
    alerts: Annotated[
        Optional[Path],
        typer.Option("--alerts", help="NDJSON alert documents (what `wgsiem rules run` prints, or an export of Kibana's alerts).", dir_okay=False, exists=True),
    ] = None,
    peer: Annotated[
        Optional[str], typer.Option("--peer", help="Only this peer (wireguard.peer.name), as the peer dashboard's control filters.", metavar="NAME")
    ] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", help="The period: the last 30m, 12h, 7d or 2w up to now (default with --es: 7d).", metavar="AGE")
    ] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="The period's start, ISO 8601 (default: the first event's time).", metavar="TIME")] = None,
    end: Annotated[
        Optional[str], typer.Option("--to", help="The period's end, ISO 8601 (default: the last event's time; with --es or --since, now).", metavar="TIME")
    ] = None,
    dashboards_dir: Annotated[
        Path, typer.Option("--dashboards-dir", help="Folder of dashboard files (*.yml).", file_okay=False, exists=True)
    ] = DASHBOARDS,
    rules_dir: Annotated[
        Path, typer.Option("--rules-dir", help="Folder of rule files, for the alerts' investigation guides.", file_okay=False, exists=True)
    ] = DETECTION_RULES,
    index: Annotated[
        str, typer.Option("--index", help="With --es: the index pattern the dashboards' data view reads.", metavar="PATTERN")
    ] = WIREGUARD_INDICES,
    alerts_index: Annotated[
        str,
        typer.Option(
            "--alerts-index",
            help="With --es and no --alerts: read the alerts of wgsiem's rules from this index (Elastic Security's alerts of a "
            "Kibana space are .alerts-security.alerts-<space>); '' reads none.",
            metavar="INDEX",
        ),
    ] = ALERTS_INDEX,
    screenshot: Annotated[
        Optional[Path],
        typer.Option(
            "--screenshot",
            help=f"Also write a PNG of the page's top {SCREENSHOT[0]}x{SCREENSHOT[1]} pixels, rendered by headless Chromium with the network "
            "blocked (Debian package chromium, or $WGSIEM_CHROMIUM).",
            dir_okay=False,
            metavar="PNG",
        ),
    ] = None,
) -> None:
    """Write an HTML report of the period that needs no network to read: a summary (hosts,
    peers, sessions, data moved, alerts), the peer that moved the most data and every key
    used from a new country, the dashboards' charts and endpoint map, each peer's last
    session, places first seen and activity log, the attacks, and the alerts with their
    investigation guides. From EVENTS the dashboards' panels are evaluated here; with --es
    each panel runs its own search, as Kibana would."""
    from ..dashboards.model import load_dashboards
    from ..report.build import from_cluster, from_events, period
    from ..report.page import render
    from ..rules.model import load_rules

    source.require("to report on a cluster")
    dashboards = load_dashboards(dashboards_dir)
    guides = {r.name: str(r.body.get("note", "")) for r in load_rules(rules_dir)}
    events = source.file
    if events is not None and str(events) == "-":
        raise fail("EVENTS is read twice (the period, then the report): give a file, not stdin")
    if events is not None and not events.is_file():
        raise fail(f"{events}: no such file")
    last_event = None if events is None else (lambda: period(_ndjson(events, quiet=True)).end_ms)
    time_range = _period(since, start, end, last_event=last_event)
    if time_range is None and events is not None:
        time_range = period(_ndjson(events, quiet=True))  # the file's own first and last times
    alert_docs = _ndjson(alerts) if alerts else ()  # read once, one alert at a time
    if source.es is not None:
        from ..adapters.elasticsearch import connect
        from ..adapters.rule_searches import es_send

        assert time_range is not None
        data = from_cluster(
            es_send(connect(source.es)), index, dashboards, time_range,
            alerts=alert_docs, alerts_index=None if alerts or not alerts_index else alerts_index, peer=peer, source=source.es.url, guides=guides,
        )  # fmt: skip
    else:
        assert events is not None
        data = from_events(lambda: _ndjson(events), dashboards, time_range=time_range, alerts=alert_docs, peer=peer, source=str(events), guides=guides)
    if alerts is not None:
        data.alerts_from = str(alerts)
    output.write_text(render(data), encoding="utf-8")
    if screenshot is not None:
        from ..adapters.browser import screenshot as take

        take(output, screenshot, width=SCREENSHOT[0], height=SCREENSHOT[1], full_page=False)
    t = data.activity.totals
    typer.echo(f"{output}: {len(data.activity.peers)} peers, {t.sessions} sessions, {data.alerts.total} alerts, {t.events} events", err=True)


def _ndjson(path: Path, *, quiet: bool = False) -> Iterator[dict[str, Any]]:
    """The JSON objects of an NDJSON file, one at a time; each line that is not one is named
    on stderr (unless `quiet`: a pass that only looks for the period)."""
    from ..detection.events import json_objects

    def bad(number: int, problem: str) -> None:
        if not quiet:
            typer.echo(f"{path}:{number}: {problem}; line skipped", err=True)

    with path.open("rb") as lines:
        yield from json_objects(lines, bad)


def _period(since: str | None, start: str | None, end: str | None, *, last_event: Callable[[], int] | None) -> Any:
    """The report's period from the options; None for the events' own first and last times.
    `last_event` gives the file's last event time (None when reading a cluster)."""
    from ..dashboards.data import TimeRange
    from ..detection.timestamps import TimestampError, datetime_ms, parse_ms

    if since is not None and start is not None:
        raise fail("give --since or --from, not both")
    try:
        end_ms = parse_ms(end) if end else None
        start_ms = parse_ms(start) if start else None
    except TimestampError as err:
        raise fail(f"--from/--to: {err}") from None
    if since is None and start is None and last_event is not None:
        if end_ms is None:
            return None  # the events' own first and last times
        raise fail("--to needs --from or --since when reading EVENTS")
    if end_ms is None:
        end_ms = last_event() if since is None and last_event is not None else datetime_ms(datetime.now(UTC))
    if start_ms is None:
        match = _SINCE.fullmatch(since or "7d")
        if not match:
            raise fail(f"--since {since!r}: expected an age like 30m, 12h, 7d or 2w")
        start_ms = end_ms - int(timedelta(**{_UNITS[match[2]]: int(match[1])}).total_seconds() * 1000)
    if start_ms > end_ms:
        raise fail("the period ends before it starts (--from after --to)")
    return TimeRange(start_ms, end_ms)
