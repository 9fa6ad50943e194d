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
    dsl: Annotated[
        bool,
        typer.Option(
            "--dsl",
            help="Print the Elasticsearch query DSL Kibana would send, and exit (with EVENTS: for the types they give fields no mapping defines).",
        ),
    ] = False,
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
    match exactly, text is analysed) and --schema, which wins where they disagree; a field neither
    defines is typed from EVENTS as Elasticsearch's dynamic mapping would (strings as text with a
    .keyword, numbers as long or float, booleans, dates detected), with a warning; with --es, as the
    cluster maps it. A field no event has a value for (or the cluster does not map) is an error, as
    is one --dsl without EVENTS cannot type."""
    import json

    from ..kql import KqlSyntaxError, compile_query, parse

    try:
        node = parse(kql)
    except KqlSyntaxError as err:
        raise fail(f"KQL syntax error: {err}\n{err.render()}") from None
    types = eventopts.field_types(schema)
    events: list[dict[str, Any]] = []
    if source.file is not None:
        events = _events(source.file, index)
        types, found = eventopts.typed_from_events(types, events, [node])
    elif source.es is not None:
        from ..adapters.elasticsearch import connect, field_mappings

        client = connect(source.es)
        indices = index or [DEFAULT_INDEX]
        types, typed, conflicts = eventopts.typed_from_cluster(types, lambda names: field_mappings(client, indices, names), [node])
        eventopts.warn_cluster(source.es.url, typed, conflicts)
    compiled = compile_query(node, types)
    if source.file is not None:
        eventopts.warn_dynamic(source.file, found, compiled.fields)
    if dsl:
        typer.echo(json.dumps(compiled.to_dsl(), indent=2))
        return
    source.require("to search a cluster")
    if source.es is not None:
        _search_cluster(compiled.to_dsl(), source.es, index or [DEFAULT_INDEX], count)
        return
    _search_file(compiled, events, count)


def _events(events: Path, index: list[str] | None) -> list[dict[str, Any]]:
    """The events of the file (`-`: stdin) in the indices searched, bad lines reported."""
    from ..detection import load_events
    from ..detection.matching import index_matcher
    from ..mappings.datastreams import data_stream_index

    loaded = load_events(sys.stdin if str(events) == "-" else events)
    eventopts.report_bad_lines(events, loaded)
    if not index:
        return loaded.events
    selected = index_matcher(index)
    return [doc for doc in loaded.events if selected(data_stream_index(doc))]


def _search_file(compiled: Query, events: list[dict[str, Any]], count: bool) -> None:
    import json

    n = 0
    for doc in events:
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
