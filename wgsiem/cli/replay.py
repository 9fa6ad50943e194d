"""`wgsiem replay SCENARIO_DIR...`: scenarios end to end, checked against what they must give."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..content import DETECTION_RULES, INGEST_PIPELINES
from .setup import fail


def replay(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Scenario folders (fixtures/scenarios/<name>), or a folder of them.", exists=True, file_okay=False, metavar="SCENARIO_DIR..."),
    ],
    update: Annotated[
        bool, typer.Option("--update", help="Rewrite each scenario's golden events.ndjson after an intended change (review the diff).")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the alerts of passing scenarios too.")] = False,
    rules_dir: Annotated[Path, typer.Option("--rules-dir", help="Folder of rule files (*.toml).", file_okay=False, exists=True)] = DETECTION_RULES,
    pipeline_dir: Annotated[
        Path, typer.Option("--pipeline-dir", help="Folder of ingest pipeline files.", file_okay=False, exists=True)
    ] = INGEST_PIPELINES,
) -> None:
    """Replay each scenario: its captures (and kernel.log) through the shipper's code path,
    the logs-wireguard ingest pipeline and every rule from the scenario's rules_start, then
    check the alerts against its `expect:`. Strict: an alert no expectation covers fails.
    The events must equal the golden events.ndjson (--update rewrites it). Exit 1 if any
    scenario fails, with what failed, the alerts and the events behind them."""
    from ..pipelines.files import load_pipelines
    from ..replay.run import PIPELINE, report
    from ..replay.run import replay as run_one
    from ..replay.scenario import load_scenario
    from ..rules.exceptions import ExceptionFileError, load_tuning
    from ..rules.model import load_rules
    from .pipelines import geoip_dirs

    loaded = [load_scenario(p) for p in _folders(scenarios)]
    rules = load_rules(rules_dir)
    try:
        tuning = load_tuning(rules_dir)
    except ExceptionFileError as err:
        raise fail(str(err)) from None
    failed = 0
    with geoip_dirs(None) as geo:
        pipeline = load_pipelines(pipeline_dir, geo)[PIPELINE]
        for scenario in loaded:
            result = run_one(scenario, rules, pipeline, geo[0], update=update, tuning=tuning)
            typer.echo(report(result, verbose))
            failed += not result.ok
    typer.echo(f"{len(loaded) - failed} of {len(loaded)} scenarios passed" + (" (golden events rewritten)" if update else ""))
    if failed:
        raise typer.Exit(1)


def _folders(paths: list[Path]) -> list[Path]:
    """A scenario folder as it is; any other folder stands for the scenarios inside it."""
    out: list[Path] = []
    for path in paths:
        if (path / "scenario.yaml").exists():
            out.append(path)
        else:
            inner = sorted(p.parent for p in path.glob("*/scenario.yaml"))
            if not inner:
                raise fail(f"{path}: neither a scenario (no scenario.yaml) nor a folder of scenarios")
            out += inner
    return out
