"""`wgsiem templates install`: the index templates built from ecs_mappings/ to a cluster."""

from __future__ import annotations

from typing import Annotated

import typer

from ..adapters.elasticsearch import EsSettings
from .groups import ES, with_groups

app = typer.Typer(help="Index templates (from ecs_mappings/): install them on a cluster.", no_args_is_help=True, rich_markup_mode=None)


@app.command()
@with_groups
def install(
    es: Annotated[EsSettings, ES],
    force: Annotated[bool, typer.Option("--force", help="Replace templates even where the cluster holds a newer version.")] = False,
) -> None:
    """PUT the component templates, then the index templates of the data streams
    logs-wireguard.status-* and logs-wireguard.log-*. Idempotent: unchanged templates are
    left alone. On a cluster without some modules (the integ-test distribution) field types
    it lacks get stand-ins and the default pipeline is left out; each adaptation is printed."""
    from ..adapters.elasticsearch import connect, node_modules
    from ..adapters.elasticsearch import install as put
    from ..mappings.templates import component_templates, fit_to_modules, index_templates

    client = connect(es)
    fit = fit_to_modules(node_modules(client))
    for note in fit.notes:
        typer.echo(f"warning: {note}", err=True)
    for name, body in component_templates(substitutes=fit.substitutes, default_pipeline=fit.default_pipeline).items():
        typer.echo(f"component template {name}: {put(client, 'component_template', name, body, force=force)}")
    for name, body in index_templates().items():
        typer.echo(f"index template {name}: {put(client, 'index_template', name, body, force=force)}")
