"""`wgsiem package build | validate | install`: the `wireguard` Elastic integration package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.kibana import KibanaSettings
from .groups import KIBANA, with_groups
from .setup import fail

app = typer.Typer(
    help="The `wireguard` Elastic integration package (for Fleet): build it from the content, validate it, install it into Kibana.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the package into.", file_okay=False)] = Path("build/package"),
    unpacked: Annotated[bool, typer.Option("--unpacked", help="Also write the package as a folder, beside the zip.")] = False,
    source: Annotated[
        bool,
        typer.Option(
            "--source",
            help="Write the package's source tree instead, as the elastic/integrations repository holds packages "
            "(<out>/wireguard/: ECS fields as `external: ecs`, resolved by `elastic-package build`). No zip.",
        ),
    ] = False,
) -> None:
    """Write wireguard-<version>.zip: the integration package (package-spec 3.x) with the data
    streams wireguard.status and wireguard.log (fields from ecs_mappings/, pipelines and their
    tests from ingest_pipelines/, inputs, retention), the detection rules as security_rule
    assets, the docs and the icon. The same source gives the same bytes."""
    from ..package.build import NAME, assemble, write_unpacked, write_zip

    if source and unpacked:
        raise typer.BadParameter("--source writes a source tree and no zip; --unpacked unpacks the zip: give one of them", param_hint="--source / --unpacked")
    package = assemble(source=source)
    if source:
        typer.echo(f"{write_unpacked(package, out, folder=NAME)}/: {package.name} {package.version} source tree, {len(package.files)} files")
        return
    typer.echo(f"{write_zip(package, out)}: {package.name} {package.version}, {len(package.files)} files")
    if unpacked:
        typer.echo(f"{write_unpacked(package, out)}/")


@app.command()
def validate(
    path: Annotated[
        Optional[Path],
        typer.Argument(help="A package zip or folder [default: the package of this wgsiem, built now].", exists=True),
    ] = None,
) -> None:
    """Check a package against the package-spec 3.x rules Fleet and elastic-package hold it to:
    layout, manifests, changelog, icons, field definitions, ingest pipelines, stream
    templates, rule assets, and that every field its sample events, pipeline tests and rules
    use is defined. Each problem names the file inside the package, the key and the line."""
    import tempfile

    from ..package.build import assemble, write_zip
    from ..package.validate import validate_package

    with tempfile.TemporaryDirectory(prefix="wgsiem-package-") as scratch:
        target = path if path is not None else write_zip(assemble(), Path(scratch))
        problems = validate_package(target)
        shown = path if path is not None else target.name
    for problem in problems:
        typer.echo(f"{shown}: {problem}", err=True)
    if problems:
        raise fail(f"{len(problems)} problem(s) in {shown}", 1)
    typer.echo(f"{shown}: valid")


@app.command()
@with_groups
def install(
    kibana: Annotated[KibanaSettings, KIBANA],
    zip_file: Annotated[
        Optional[Path],
        typer.Option("--package", help="A package zip to upload [default: the package of this wgsiem, built now].", dir_okay=False, exists=True),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Install even where a data stream refuses the new mappings (it keeps its old ones). Fleet replaces an installed "
            "version of the package either way.",
        ),
    ] = False,
) -> None:
    """Install the package into Kibana through Fleet's upload API (POST /api/fleet/epm/packages):
    the data streams' templates, pipelines and retention in Elasticsearch, and the rules in
    Kibana (Security > Rules > Add Elastic rules). Agents then collect with it once it
    is added to their policy (Fleet > Agent policies > Add integration > WireGuard)."""
    from ..adapters.fleet import upload_package
    from ..package.build import assemble, zip_bytes

    data = zip_file.read_bytes() if zip_file is not None else zip_bytes(assemble())
    result = upload_package(kibana, data, force=force)
    where = f" (space {kibana.space})" if kibana.space else ""
    typer.echo(f"installed {result.name} {result.version} into {kibana.url}{where}: {result.asset_count} assets")
