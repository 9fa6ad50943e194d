"""`wgsiem query 'KQL' EVENTS.ndjson | --es URL`: the events a KQL query matches, with
Kibana's semantics, from a file or as a real search on a cluster."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import eventopts, esopts
from .setup import fail

DEFAULT_INDEX = "logs-wireguard.*"


def query(
    kql: Annotated[str, typer.Argument(help='A KQL query, e.g. \'event.action:"endpoint-changed" and source.geo.country_iso_code:CN\'.', metavar="KQL")],
    events: Annotated[
        Optional[Path],
        typer.Argument(help="NDJSON file of events ('-' for stdin). Not with --es.", allow_dash=True, metavar="EVENTS.ndjson", show_default=False),
    ] = None,
    schema: eventopts.Schema = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching events (with --es: a _count request).")] = False,
    dsl: Annotated[bool, typer.Option("--dsl", help="Print the Elasticsearch query DSL Kibana would send, and exit.")] = False,
    es: Annotated[
        Optional[str],
        typer.Option("--es", help="Search this Elasticsearch cluster (URL) instead of EVENTS: the query DSL as a real search.", metavar="URL"),
    ] = None,
    index: Annotated[
        Optional[list[str]],
        typer.Option(
            "--index",
            help=f"Index patterns to search (repeatable). With --es the default is {DEFAULT_INDEX}; with EVENTS only "
            "events whose data stream matches are searched (default: all).",
            metavar="PATTERN",
        ),
    ] = None,
    ca_file: esopts.CaFile = None,
    api_key_file: esopts.ApiKeyFile = None,
    user: esopts.User = None,
    password_file: esopts.PasswordFile = None,
    insecure: esopts.Insecure = False,
) -> None:
    """Print the events the KQL query matches, as NDJSON (`_source` of each hit with --es, by
    @timestamp). Field types come from ecs_mappings/ (ip fields match CIDR ranges, keyword values
    match exactly, text is analysed), plus --schema for other fields; a field of unknown type is an error."""
    import json

    from ..kql import KqlFieldError, KqlSyntaxError, compile_query

    try:
        compiled = compile_query(kql, eventopts.field_types(schema))
    except KqlSyntaxError as err:
        raise fail(f"KQL syntax error: {err}\n{err.render()}") from None
    except (KqlFieldError, ValueError) as err:
        raise fail(str(err)) from None
    if dsl:
        typer.echo(json.dumps(compiled.to_dsl(), indent=2))
        return
    if es is not None and events is not None:
        raise fail("give EVENTS or --es, not both")
    if es is not None:
        settings = esopts.settings(es, ca_file, api_key_file, user, password_file, insecure)
        _search_cluster(compiled.to_dsl(), settings, index or [DEFAULT_INDEX], count)
        return
    if events is None:
        raise fail("EVENTS is required (or --es URL to search a cluster)")
    _search_file(compiled, events, index, count)


def _search_file(compiled, events: Path, index: list[str] | None, count: bool) -> None:  # noqa: ANN001
    import json

    from ..detection import load_events
    from ..mappings.datastreams import data_stream_index
    from ..detection.matching import index_matcher

    loaded = load_events(sys.stdin if str(events) == "-" else events)
    eventopts.report_bad_lines(events, loaded)
    selected = index_matcher(index) if index else None
    n = 0
    for doc in loaded.events:
        if selected is not None and not selected(data_stream_index(doc)):
            continue
        if compiled.matches(doc):
            n += 1
            if not count:
                sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    if count:
        typer.echo(n)


def _search_cluster(dsl: dict, settings, index: list[str], count: bool) -> None:  # noqa: ANN001
    import json

    from ..adapters.elasticsearch import EsError, connect
    from ..detection import searches
    from ..detection.cluster import es_send, iterate_hits
    from ..detection.engine import ExecutionError

    try:
        send = es_send(connect(settings))
        if count:
            typer.echo(send(searches.count(index, dsl))["count"])
            return
        for hit in iterate_hits(send, index, dsl):
            sys.stdout.write(json.dumps(hit["_source"], ensure_ascii=False, separators=(",", ":")) + "\n")
    except (EsError, ExecutionError) as err:
        raise fail(str(err)) from None
