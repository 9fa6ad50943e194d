"""`wgsiem query 'KQL' EVENTS.ndjson`: the events a KQL query matches, with Kibana's semantics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from . import eventopts
from .setup import fail


def query(
    kql: Annotated[str, typer.Argument(help='A KQL query, e.g. \'event.action:"endpoint-changed" and source.geo.country_iso_code:CN\'.', metavar="KQL")],
    events: Annotated[Path, typer.Argument(help="NDJSON file of events ('-' for stdin).", allow_dash=True, metavar="EVENTS.ndjson")],
    schema: eventopts.Schema = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching events.")] = False,
    dsl: Annotated[bool, typer.Option("--dsl", help="Print the Elasticsearch query DSL Kibana would send, and exit.")] = False,
) -> None:
    """Print the events of EVENTS that the KQL query matches, as NDJSON. Field types come from
    ecs_mappings/ (ip fields match CIDR ranges, keyword values match exactly, text is analysed),
    plus --schema for other fields; a field of unknown type is an error."""
    import json

    from ..detection import load_events
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
    loaded = load_events(sys.stdin if str(events) == "-" else events)
    eventopts.report_bad_lines(events, loaded)
    n = 0
    for doc in loaded.events:
        if compiled.matches(doc):
            n += 1
            if not count:
                sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    if count:
        typer.echo(n)
