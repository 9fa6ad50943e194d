"""`wgsiem rules validate | test | export | install | run`: the detection rules, checked,
exported for Kibana, installed through its import API, and executed offline or as
searches on an Elasticsearch cluster."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..adapters.kibana import KibanaSettings
from ..content import DETECTION_RULES
from .eventopts import Schema, field_types, report_bad_lines
from .groups import KIBANA, Events, EventSource, with_groups
from .setup import fail

if TYPE_CHECKING:
    from ..detection.engine import RunResult
    from ..rules.model import Rule

app = typer.Typer(
    help="Detection rules (detection_rules/*.toml): validate, test, export for Kibana, install, run offline or on a cluster.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

RulesDir = Annotated[
    Path, typer.Option("--rules-dir", help="Folder of rule files (*.toml).", file_okay=False, exists=True)
]
Only = Annotated[
    Optional[list[str]], typer.Option("--rule", help="Only this rule (name, rule_id or file stem; repeatable).", metavar="RULE")
]


@app.command()
def validate(
    rules_dir: RulesDir = DETECTION_RULES,
    scenarios: Annotated[
        Optional[Path],
        typer.Option("--scenarios", help="Folder of scenarios that must expect each rule's alert. Default: fixtures/scenarios.", file_okay=False),
    ] = None,
    no_scenarios: Annotated[bool, typer.Option("--no-scenarios", help="Do not check that scenarios cover the rules.")] = False,
) -> None:
    """Check every rule file: the detection-rules schema, unique rule_id and name, KQL that parses
    and fits the field types, every field defined in ecs_mappings/, ATT&CK ids, Kibana's import
    schema, test cases (detection_rules/_dev/test) and scenario coverage. Exit 1 on any problem."""
    from ..rules.validate import SCENARIOS
    from ..rules.validate import validate as check

    if scenarios is None and not no_scenarios and not any(SCENARIOS.glob("*/scenario.yaml")):
        # An installed wgsiem has no scenarios (they are test data of the checkout; the
        # wheel carries only the lab story's events, the package's sample events).
        typer.echo("scenario coverage not checked: no scenarios here (--scenarios DIR checks it)", err=True)
        no_scenarios = True
    report = check(rules_dir, scenarios_dir=None if no_scenarios else (scenarios or SCENARIOS))
    problems = list(report.problems)
    if not problems:
        from ..rules.kibana_schema import rule_problems

        for rule, obj in zip(report.rules, _kibana_objects(report.rules), strict=True):
            problems += [f"{rule.path}: Kibana import schema: {p}" for p in rule_problems(obj)]
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(report.rules)} rules valid")


@app.command()
def test(rules_dir: RulesDir = DETECTION_RULES, rule: Only = None) -> None:
    """Run each rule's test cases (detection_rules/_dev/test/<rule>.yaml) through the offline
    engine: the cases that must alert do, the near misses stay quiet. Exit 1 on a failure."""
    from ..detection.testing import run_cases

    results = run_cases(_rules(rules_dir, rule), rules_dir / "_dev" / "test")
    failed = 0
    for r in results:
        typer.echo(f"{'ok  ' if r.ok else 'FAIL'} {r.rule.name} / {r.case.name}: {r.summary}")
        failed += not r.ok
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        raise typer.Exit(1)


@app.command()
def export(
    rules_dir: RulesDir = DETECTION_RULES,
    rule: Only = None,
    enabled: Annotated[bool, typer.Option("--enabled", help="Export the rules enabled (Kibana runs them at once).")] = False,
) -> None:
    """Print the rules as Kibana's rule import NDJSON (one rule per line), ready for
    Security > Rules > Import or `POST /api/detection_engine/rules/_import`."""
    from ..rules.export import ndjson

    rules = _rules(rules_dir, rule)
    sys.stdout.write(ndjson(_kibana_objects(rules, enabled=enabled)))


@app.command()
@with_groups
def install(
    kibana: Annotated[KibanaSettings, KIBANA],
    rules_dir: RulesDir = DETECTION_RULES,
    rule: Only = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace rules with the same rule_id.")] = False,
    enabled: Annotated[bool, typer.Option("--enabled", help="Install the rules enabled.")] = False,
) -> None:
    """Import the rules through Kibana's detection engine API (rules/_import). Without
    --overwrite, rules already installed are reported and left as they are."""
    from ..adapters.kibana import import_rules
    from ..rules.export import ndjson

    rules = _rules(rules_dir, rule)
    result = import_rules(kibana, ndjson(_kibana_objects(rules, enabled=enabled)), overwrite=overwrite)
    for error in result.errors:
        typer.echo(f"rule {error.rule_id}: {error.status_code} {error.message}", err=True)
    typer.echo(f"imported {result.success_count} of {len(rules)} rules" + (f" into space {kibana.space}" if kibana.space else ""))
    if not result.success:
        raise typer.Exit(1)


@app.command()
@with_groups
def run(
    source: Annotated[EventSource, Events(es_help="Run the rules as searches and aggregations on this Elasticsearch cluster (URL) instead of over EVENTS.")],
    start: Annotated[
        Optional[str],
        typer.Option(
            "--start",
            help="Time of the first rule execution, ISO 8601 (2026-11-22T10:00:00Z). Default: the first event's time "
            "(with --es: the earliest @timestamp in the indices searched).",
            metavar="TIME",
        ),
    ] = None,
    end: Annotated[
        Optional[str],
        typer.Option(
            "--end",
            help="Executions continue until one reaches this time. Default: the last event's time "
            "(with --es: the latest @timestamp in the indices searched).",
            metavar="TIME",
        ),
    ] = None,
    rules_dir: RulesDir = DETECTION_RULES,
    rule: Only = None,
    index: Annotated[
        Optional[list[str]],
        typer.Option(
            "--index",
            help="Search these index patterns instead of each rule's own `index` (repeatable; `*` wildcards, `-pattern` "
            "exclusions); alerts name them in kibana.alert.rule.parameters.index. Offline, an event's index is its data stream (or a hit's _index).",
            metavar="PATTERN",
        ),
    ] = None,
    schema: Schema = None,
    every_search: Annotated[
        bool,
        typer.Option(
            "--every-search",
            help="With --es: send every execution's searches, as Kibana does, also for executions whose range holds no "
            "event the rule's query matches (the same alerts, many more requests).",
        ),
    ] = False,
) -> None:
    """Execute the rules with Kibana's semantics, offline over EVENTS or, with --es, as Elasticsearch
    searches: each rule runs every `interval` from --start on, over its `from` lookback; events
    before --start are still seen by lookbacks and new-terms history. Both give the same alerts for
    the same events. Prints the alert documents as NDJSON, a summary on stderr."""
    from ..adapters.elasticsearch import connect
    from ..adapters.rule_searches import es_send
    from ..detection import load_events, run_rules, run_rules_on_cluster
    from ..rules.export import ndjson

    source.require("to run the rules on a cluster")
    rules = _rules(rules_dir, rule)
    first, last = _time(start, "--start"), _time(end, "--end")
    if source.es is not None:
        send = es_send(connect(source.es))
        result = run_rules_on_cluster(rules, send, start=first, end=last, field_types=field_types(schema), indices=index, every_search=every_search)
        where = source.es.url
    else:
        assert source.file is not None
        loaded = load_events(sys.stdin if str(source.file) == "-" else source.file)
        report_bad_lines(source.file, loaded)
        result = run_rules(rules, loaded, start=first, end=last, field_types=field_types(schema), indices=index)
        where = str(source.file)
    sys.stdout.write(ndjson(result.alerts))
    if not _summarize(result, where, on_cluster=source.es is not None):
        raise typer.Exit(1)


def _summarize(result: RunResult, where: str, *, on_cluster: bool) -> bool:
    """Each rule's executions, matches and alerts on stderr; False if a rule could not run."""
    for reason in result.skip_reasons:
        typer.echo(f"{where}: skipped: {reason}", err=True)
    ran = True
    for s in result.stats.values():
        line = f"{s.name}: {s.executions} executions, {s.matched_events} events matched, {s.alerts} alerts"
        if s.max_signals_executions:
            line += f", max_signals reached in {s.max_signals_executions} executions"
        if s.error:
            line, ran = f"{s.name}: not run: {s.error}", False
        typer.echo(line, err=True)
        for warning in s.warnings:
            typer.echo(f"{s.name}: warning: {warning}", err=True)
    typer.echo(
        f"{len(result.alerts)} alerts from {result.events} events"
        + (" in the indices searched" if on_cluster else "")
        + (f" ({result.skipped_events} without a usable @timestamp skipped)" if result.skipped_events else "")
        + (f", executions from {result.start} to {result.end}" if result.start else ""),
        err=True,
    )
    return ran


def _rules(rules_dir: Path, only: list[str] | None) -> list[Rule]:
    from ..rules.model import load_rules

    rules = load_rules(rules_dir)
    if only:
        wanted = set(only)
        rules = [r for r in rules if {r.name, r.rule_id, r.path.stem} & wanted]
        missing = wanted - {k for r in rules for k in (r.name, r.rule_id, r.path.stem)}
        if missing:
            raise fail(f"no rule named {', '.join(sorted(missing))} in {rules_dir}")
    return rules


def _kibana_objects(rules: list[Rule], enabled: bool = False) -> list[dict[str, Any]]:
    from ..kql import FieldTypes, compile_query
    from ..rules.export import kibana_rule

    types = FieldTypes.default()
    return [kibana_rule(r, set(compile_query(r.query, types).fields) | set(r.fields), types, enabled=enabled) for r in rules]


def _time(text: str | None, option: str) -> datetime | None:
    """ISO 8601; a time without a zone is UTC, as Elasticsearch reads it."""
    from datetime import UTC

    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: {text!r} is not an ISO 8601 time like 2026-11-22T10:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
