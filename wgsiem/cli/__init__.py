"""`wgsiem`: the command line (typer). Each command lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperGroup
from typer.models import Context

from .. import __version__
from ..errors import WgsiemError
from . import convert, dashboards, package, pipelines, query, record, replay, report, rules, ship, templates
from .setup import fail


class _Commands(TyperGroup):
    """The `wgsiem` command group: every command's WgsiemError (bad input, a refused
    request, a missing tool) is reported here, once, as "wgsiem: error: ..." with exit
    status 2. Any other exception is a bug and keeps its traceback."""

    def invoke(self, ctx: Context) -> object:
        try:
            return super().invoke(ctx)
        except WgsiemError as err:
            raise fail(str(err)) from None


app = typer.Typer(
    cls=_Commands,
    name="wgsiem",
    help=(
        "WireGuard security monitoring for the Elastic stack: turn `wg show all dump` polls "
        "into ECS events (an audit trail of peers, endpoints, handshakes, sessions and "
        "traffic) for Elasticsearch and Elastic Security."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: "[default: 30]" must print as written, not be read as markup.
    rich_markup_mode=None,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"wgsiem {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


app.command("ship")(ship.ship)
app.command("record")(record.record)
app.command("convert")(convert.convert)
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(templates.app, name="templates")
app.add_typer(rules.app, name="rules")
app.add_typer(package.app, name="package")
app.add_typer(dashboards.app, name="dashboards")
app.command("query")(query.query)
app.command("replay")(replay.replay)
app.command("report")(report.report)


def main() -> None:
    """The `wgsiem` entry point (errors are reported by _Commands.invoke)."""
    app()
