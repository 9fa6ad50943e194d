"""`wgsiem package build | validate | install`: the `wireguard` Elastic integration package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The `wireguard` Elastic integration package (for Fleet): build it from the content, validate it, install it into Kibana.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the package into.", file_okay=False)] = Path("build/package"),
    unpacked: Annotated[bool, typer.Option("--unpacked", help="Also write the package as a folder, beside the zip.")] = False,
) -> None:
    """Write wireguard-<version>.zip: the integration package (package-spec 3.x) with the data
    streams wireguard.status and wireguard.log (fields from ecs_mappings/, pipelines and their
    tests from ingest_pipelines/, inputs, retention), the detection rules as security_rule
    assets, the docs and the icon. The same source gives the same bytes."""
    from ..package.build import assemble, write_unpacked, write_zip

    package = assemble()
    typer.echo(f"{write_zip(package, out)}: {package.name} {package.version}, {len(package.files)} files")
    if unpacked:
        typer.echo(f"{write_unpacked(package, out)}/")
