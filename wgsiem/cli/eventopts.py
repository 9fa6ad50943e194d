"""What the commands that read NDJSON events share: `--schema` for field types beyond
ecs_mappings/, the fields typed from the events that neither defines, and the report of
lines that were not events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

if TYPE_CHECKING:
    from ..detection.events import LoadedEvents
    from ..kql import FieldInfo, FieldTypes, Node

Schema = Annotated[
    Optional[Path],
    typer.Option(
        "--schema",
        help='JSON file mapping dotted field names to Elasticsearch types ({"source.ip": "ip"}): fields '
        "ecs_mappings/ does not define, and ones it defines otherwise (the file wins). Fields neither "
        "defines are typed from the events as Elasticsearch's dynamic mapping would, with a warning.",
        dir_okay=False,
        exists=True,
    ),
]


def field_types(schema: Path | None) -> FieldTypes:
    """ecs_mappings/ plus the schema file's fields."""
    from ..kql import FieldTypes  # on demand: the KQL engine is a large import for every command

    types = FieldTypes.default()
    return types if schema is None else types.with_schema(schema)


def typed_from_events(
    types: FieldTypes, events: Iterable[Mapping[str, Any]], queries: Iterable[Node], fields: Iterable[str] = ()
) -> tuple[FieldTypes, dict[str, FieldInfo]]:
    """`types` plus the fields of the events they lack, typed as Elasticsearch's default
    dynamic mapping types them (wgsiem.kql.dynamic), and those fields: the ones the queries
    and `fields` name, or every one when a query has a name pattern or free text. The
    events are not read when nothing is missing."""
    from ..kql.dynamic import dynamic_fields

    wanted, every = _missing(types, queries, fields)
    if not every and not wanted:
        return types, {}
    found = dynamic_fields(events, types, None if every else wanted)
    return (types.with_fields(found) if found else types), found


def typed_from_cluster(
    types: FieldTypes, get_mappings: Callable[[list[str]], Mapping[str, Any]], queries: Iterable[Node], fields: Iterable[str] = ()
) -> tuple[FieldTypes, dict[str, FieldInfo], list[str]]:
    """With --es: `types` plus the fields they lack as the cluster maps them
    (`get_mappings(names)` answers `GET <indices>/_mapping/field/<names>`), those fields, and
    the names mapped with different types in different indices."""
    from ..kql.dynamic import fields_from_mappings

    wanted, every = _missing(types, queries, fields)
    if not wanted and not every:
        return types, {}, []
    # A name pattern is expanded over every field the indices map, as over a data view's.
    # Else: a multi-field's mapping is its parent's, and an object's are its leaves'.
    names = ["*"] if every else sorted(wanted | {n.rsplit(".", 1)[0] for n in wanted if "." in n} | {f"{n}.*" for n in wanted})
    found, conflicts = fields_from_mappings(get_mappings(names))
    found = {
        n: info for n, info in found.items()
        if n not in types and (every or n in wanted or any(w.startswith(n + ".") or n.startswith(w + ".") for w in wanted))
    }  # fmt: skip
    conflicts = [n for n in conflicts if n in found]
    return (types.with_fields(found) if found else types), found, conflicts


def _missing(types: FieldTypes, queries: Iterable[Node], fields: Iterable[str]) -> tuple[set[str], bool]:
    """The fields the queries and `fields` read that `types` lacks, and whether a query may
    read any field (a name pattern or free text)."""
    from ..kql.dynamic import fields_beyond

    wanted = {f for f in fields if f not in types}
    for query in queries:
        beyond = fields_beyond(query, types)
        if beyond is None:
            return wanted, True
        wanted |= beyond
    return wanted, False


def warn_cluster(url: str, found: Mapping[str, FieldInfo], conflicts: Iterable[str]) -> None:
    """One line naming what the cluster's mappings typed, and any type conflicts."""
    if found:
        listed = ", ".join(f"{n} ({found[n].type})" for n in sorted(found))
        typer.echo(f"{url}: typed as the cluster maps them, since neither ecs_mappings/ nor --schema defines them: {listed}", err=True)
    for name in conflicts:
        typer.echo(f"{url}: warning: {name} has different types in different indices; the first index's is used", err=True)


def warn_dynamic(source: Path, found: Mapping[str, FieldInfo], read: Iterable[str]) -> None:
    """One warning naming the fields typed from the events that the command reads."""
    used = sorted(set(read) & found.keys())
    if not used:
        return
    listed = ", ".join(f"{n} ({', '.join(filter(None, (found[n].type, found[n].format)))})" for n in used)
    typer.echo(
        f"{source}: warning: typed from the events as Elasticsearch's dynamic mapping would, since neither "
        f"ecs_mappings/ nor --schema defines {'it' if len(used) == 1 else 'them'}: {listed}",
        err=True,
    )


def report_bad_lines(source: Path, loaded: LoadedEvents) -> None:
    """Each line load_events could not use, by number (the first few), and how many more."""
    for error in loaded.errors:
        typer.echo(f"{source}: {error}", err=True)
    if loaded.bad_lines > len(loaded.errors):
        typer.echo(f"{source}: {loaded.bad_lines - len(loaded.errors)} more lines were not JSON objects", err=True)
