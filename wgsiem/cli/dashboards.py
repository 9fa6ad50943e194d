"""`wgsiem dashboards validate | export`: the dashboards of dashboards/*.yml, checked, and
as the saved objects Kibana imports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..content import DASHBOARDS

app = typer.Typer(help="The Kibana dashboards (dashboards/*.yml): check them, export them as Kibana saved objects.", no_args_is_help=True)

DashboardsDir = Annotated[Path, typer.Option("--dashboards-dir", help="Folder of dashboard files (*.yml).", file_okay=False, exists=True)]


def _objects(directory: Path) -> list[dict]:
    from ..dashboards.model import load_dashboards
    from ..dashboards.saved_objects import dashboard_object, data_view

    return [data_view(), *(dashboard_object(d) for d in load_dashboards(directory))]


@app.command()
def validate(dashboards_dir: DashboardsDir = DASHBOARDS) -> None:
    """Check every dashboard file (its schema; each panel's KQL; every field it groups,
    measures or maps by defined and aggregatable in ecs_mappings/; unique ids; panels that do
    not overlap) and the saved objects made of them against Kibana's dashboard and data view
    definitions. A file that cannot be used is an error naming its line and key (exit 2); a
    saved object Kibana would refuse, exit 1."""
    from ..package.schema_checks import validator

    objects = _objects(dashboards_dir)
    problems = []
    for obj in objects:
        schema = "kibana-index-pattern" if obj["type"] == "index-pattern" else "kibana-dashboard"
        for error in validator(schema).iter_errors(obj):
            where = ".".join(map(str, error.absolute_path)) or "(top level)"
            problems.append(f"{obj['id']}: {where}: {error.message}")
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    panels = sum(len(json.loads(o["attributes"]["panelsJSON"])) for o in objects if o["type"] == "dashboard")
    typer.echo(f"{len(objects) - 1} dashboards valid ({panels} panels)")


@app.command()
def export(
    dashboards_dir: DashboardsDir = DASHBOARDS,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.", dir_okay=False)] = None,
) -> None:
    """Print the dashboards and their `logs-wireguard.*` data view as NDJSON saved objects,
    the file Kibana's Stack Management > Saved objects > Import (or POST
    /api/saved_objects/_import) takes: the dashboards without Fleet. With Fleet, `wgsiem
    package install` ships the same objects in the integration package."""
    text = "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in _objects(dashboards_dir))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{output}: {text.count(chr(10))} saved objects", err=True)
