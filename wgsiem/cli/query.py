"""`wgsiem query 'KQL' EVENTS.ndjson | --es URL`: the events a KQL query matches, with
Kibana's semantics, from a file or as a real search on a cluster."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..adapters.elasticsearch import EsSettings
from ..mappings.datastreams import WIREGUARD_INDICES
from . import eventopts
from .groups import Events, EventSource, with_groups
from .setup import fail

if TYPE_CHECKING:
    from ..kql.query import Query

DEFAULT_INDEX = WIREGUARD_INDICES


@with_groups
def query(
    kql: Annotated[str, typer.Argument(help='A KQL query, e.g. \'event.action:"endpoint-changed" and source.geo.country_iso_code:CN\'.', metavar="KQL")],
    source: Annotated[EventSource, Events(es_help="Search this Elasticsearch cluster (URL) instead of EVENTS: the query DSL as a real search.")],
    schema: eventopts.Schema = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching events (with --es: a _count request).")] = False,
    dsl: Annotated[bool, typer.Option("--dsl", help="Print the Elasticsearch query DSL Kibana would send, and exit.")] = False,
    index: Annotated[
        Optional[list[str]],
        typer.Option(
            "--index",
            help=f"Index patterns to search (repeatable). With --es the default is {DEFAULT_INDEX}; with EVENTS only "
            "events whose data stream matches are searched (default: all).",
            metavar="PATTERN",
        ),
    ] = None,
) -> None:
    """Print the events the KQL query matches, as NDJSON (`_source` of each hit with --es, by
    @timestamp). Field types come from ecs_mappings/ (ip fields match CIDR ranges, keyword values
    match exactly, text is analysed), plus --schema for other fields; a field of unknown type is an error."""
    import json

    from ..kql import KqlSyntaxError, compile_query

    try:
        compiled = compile_query(kql, eventopts.field_types(schema))
    except KqlSyntaxError as err:
        raise fail(f"KQL syntax error: {err}\n{err.render()}") from None
    if dsl:
        typer.echo(json.dumps(compiled.to_dsl(), indent=2))
        return
    source.require("to search a cluster")
    if source.es is not None:
        _search_cluster(compiled.to_dsl(), source.es, index or [DEFAULT_INDEX], count)
        return
    assert source.file is not None
    _search_file(compiled, source.file, index, count)


def _search_file(compiled: Query, events: Path, index: list[str] | None, count: bool) -> None:
    import json

    from ..detection import load_events
    from ..detection.matching import index_matcher
    from ..mappings.datastreams import data_stream_index

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


def _search_cluster(dsl: dict[str, Any], settings: EsSettings, index: list[str], count: bool) -> None:
    import json

    from ..adapters.elasticsearch import connect
    from ..adapters.rule_searches import es_send
    from ..detection import searches
    from ..detection.cluster import iterate_hits

    send = es_send(connect(settings))
    if count:
        typer.echo(send(searches.count(index, dsl))["count"])
        return
    for hit in iterate_hits(send, index, dsl):
        sys.stdout.write(json.dumps(hit["_source"], ensure_ascii=False, separators=(",", ":")) + "\n")
