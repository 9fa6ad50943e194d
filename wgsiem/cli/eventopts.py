"""What the commands that read NDJSON events share: `--schema` for field types beyond
ecs_mappings/, and the report of lines that were not events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from ..detection.events import LoadedEvents
    from ..kql import FieldTypes

Schema = Annotated[
    Optional[Path],
    typer.Option(
        "--schema",
        help='JSON file mapping dotted field names to Elasticsearch types ({"source.ip": "ip"}) for fields '
        "ecs_mappings/ does not define.",
        dir_okay=False,
        exists=True,
    ),
]


def field_types(schema: Path | None) -> FieldTypes:
    """ecs_mappings/ plus the schema file's fields."""
    from ..kql import FieldTypes  # on demand: the KQL engine is a large import for every command

    types = FieldTypes.default()
    return types if schema is None else types.with_schema(schema)


def report_bad_lines(source: Path, loaded: LoadedEvents) -> None:
    """Each line load_events could not use, by number (the first few), and how many more."""
    for error in loaded.errors:
        typer.echo(f"{source}: {error}", err=True)
    if loaded.bad_lines > len(loaded.errors):
        typer.echo(f"{source}: {loaded.bad_lines - len(loaded.errors)} more lines were not JSON objects", err=True)
