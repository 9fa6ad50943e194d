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
from .eventopts import Schema, field_types, report_bad_lines, typed_from_cluster, typed_from_events, warn_cluster, warn_dynamic
from .groups import KIBANA, Events, EventSource, with_groups
from .setup import fail

if TYPE_CHECKING:
    from ..detection.engine import RunResult
    from ..kql import FieldTypes, Node
    from ..rules.exceptions import ExceptionList, Tuning, ValueList
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
ExceptionFiles = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--exceptions",
        help="An exception list file of your own (the layout of detection_rules/exceptions/*.toml; repeatable), applied "
        "with the folder's own lists to the rules its metadata.rule_ids names.",
        metavar="FILE",
        exists=True,
        dir_okay=False,
    ),
]
ValueListFiles = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--value-list",
        help="A value list file of your own (the layout of detection_rules/value_lists/*.toml; repeatable), for "
        "exception entries of type list.",
        metavar="FILE",
        exists=True,
        dir_okay=False,
    ),
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
    schema, test cases (detection_rules/_dev/test) and scenario coverage; and the exception and
    value lists (exceptions/, value_lists/): their schemas, rules and fields, Kibana's exception
    import schema. Exit 1 on any problem."""
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
        from ..rules.export import exception_objects
        from ..rules.kibana_schema import exception_object_problems, rule_problems

        tuning = report.tuning
        for rule, obj in zip(report.rules, _kibana_objects(report.rules, tuning=tuning), strict=True):
            problems += [f"{rule.path}: Kibana import schema: {p}" for p in rule_problems(obj)]
        for lst in tuning.lists:
            for obj in exception_objects(lst):
                problems += [f"{lst.path}: Kibana exception import schema: {p}" for p in exception_object_problems(obj)]
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(report.rules)} rules valid")


@app.command()
def test(rules_dir: RulesDir = DETECTION_RULES, rule: Only = None) -> None:
    """Run each rule's test cases (detection_rules/_dev/test/<rule>.yaml) through the offline
    engine, with the folder's exception lists: the cases that must alert do, the near misses stay
    quiet. Exit 1 on a failure."""
    from ..detection.testing import run_cases

    rules, tuning = _rules_and_tuning(rules_dir, rule, None, None)
    results = run_cases(rules, rules_dir / "_dev" / "test", tuning)
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
    exceptions: ExceptionFiles = None,
    value_list: ValueListFiles = None,
    value_lists_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--value-lists-dir",
            help="Also write each value list the exported exceptions use as <id>.txt here (one value per line), for "
            "Kibana's value list upload; the rule import cannot carry them.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Print the rules as Kibana's rule import NDJSON (one rule per line), ready for
    Security > Rules > Import or `POST /api/detection_engine/rules/_import`. The exception lists
    attached to them (detection_rules/exceptions/ and --exceptions) come first, list then items,
    and each rule names its lists in `exceptions_list`; import with "overwrite exceptions" to
    replace lists already there."""
    from ..rules.exceptions import value_list_text
    from ..rules.export import exception_import_objects, ndjson

    rules, tuning = _rules_and_tuning(rules_dir, rule, exceptions, value_list, defined=True)
    lists = _lists_of(rules, tuning)
    sys.stdout.write(ndjson(exception_import_objects(lists) + _kibana_objects(rules, enabled=enabled, tuning=tuning)))
    used = _value_lists_of(lists, tuning)
    if used and value_lists_dir is None:
        typer.echo(f"the exceptions use value lists ({', '.join(v.id for v in used)}): upload them in Kibana before the rules "
                   "(--value-lists-dir writes them as files) or use `wgsiem rules install`", err=True)  # fmt: skip
    if value_lists_dir is not None:
        value_lists_dir.mkdir(parents=True, exist_ok=True)
        for vl in used:
            (value_lists_dir / f"{vl.id}.txt").write_text(value_list_text(vl))
            typer.echo(f"{value_lists_dir / f'{vl.id}.txt'}: value list {vl.id} of type {vl.type}", err=True)


@app.command()
@with_groups
def install(
    kibana: Annotated[KibanaSettings, KIBANA],
    rules_dir: RulesDir = DETECTION_RULES,
    rule: Only = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace rules and exception lists with the same ids; import value lists' values into existing lists."),
    ] = False,
    enabled: Annotated[bool, typer.Option("--enabled", help="Install the rules enabled.")] = False,
    exceptions: ExceptionFiles = None,
    value_list: ValueListFiles = None,
) -> None:
    """Install the rules with their exception lists through Kibana's APIs: the value lists the
    exceptions use (lists API), the exception lists and items (exception list import), then the
    rules (rules/_import), each naming its lists. Without --overwrite, what is already installed
    is reported and left as it is; an exception list or rule Kibana refused, one that exists
    included, makes the exit status 1 (an existing value list does not)."""
    from ..adapters.kibana import check_space, import_rules
    from ..adapters.kibana_lists import ensure_list_index, import_exceptions, install_value_list
    from ..rules.export import exception_import_objects, ndjson

    rules, tuning = _rules_and_tuning(rules_dir, rule, exceptions, value_list, defined=True)
    lists = _lists_of(rules, tuning)
    used = _value_lists_of(lists, tuning)
    # Kibana takes /s/<space>/ on the lists' routes without checking the space exists.
    check_space(kibana)
    if used:
        ensure_list_index(kibana)
        for vl in used:
            typer.echo(f"value list {vl.id} ({vl.type}, {len(vl.values)} values): {install_value_list(kibana, vl, overwrite=overwrite)}")
    failed = False
    if lists:
        answer = import_exceptions(kibana, ndjson(exception_import_objects(lists)), overwrite=overwrite)
        for refused in answer.errors:
            typer.echo(f"exception list object {refused.id}: {refused.status_code} {refused.message}", err=True)
        typer.echo(f"imported {answer.lists} exception lists and {answer.items} items")
        failed = not answer.success
    result = import_rules(kibana, ndjson(_kibana_objects(rules, enabled=enabled, tuning=tuning)), overwrite=overwrite, verify_space=False)
    for error in result.errors:
        typer.echo(f"rule {error.rule_id}: {error.status_code} {error.message}", err=True)
    typer.echo(f"imported {result.success_count} of {len(rules)} rules" + (f" into space {kibana.space}" if kibana.space else ""))
    if not result.success or failed:
        raise typer.Exit(1)


@app.command()
@with_groups
def run(  # noqa: PLR0913 - a command's options are its arguments
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
    exceptions: ExceptionFiles = None,
    value_list: ValueListFiles = None,
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
    the same events. Exception lists (the rules folder's exceptions/ and --exceptions files) leave
    out what they except, as Kibana's searches do. Prints the alert documents as NDJSON, a summary
    on stderr. Offline, fields that
    neither ecs_mappings/ nor --schema defines are typed from EVENTS as Elasticsearch's dynamic
    mapping would, with a warning."""
    from ..adapters.elasticsearch import connect
    from ..adapters.rule_searches import es_send
    from ..detection import load_events, run_rules, run_rules_on_cluster
    from ..rules.export import ndjson

    source.require("to run the rules on a cluster")
    rules, tuning = _rules_and_tuning(rules_dir, rule, exceptions, value_list, field_types(schema))
    first, last = _time(start, "--start"), _time(end, "--end")
    if source.es is not None:
        from ..adapters.elasticsearch import field_mappings
        from ..detection.engine import rule_indices

        client = connect(source.es)
        searched = list(dict.fromkeys(p for r in rules for p in rule_indices(r, index)))
        types, typed, conflicts = typed_from_cluster(
            field_types(schema), lambda names: field_mappings(client, searched, names), _parsed(rules), _tuning_fields(rules, tuning)
        )
        warn_cluster(source.es.url, typed, conflicts)
        result = run_rules_on_cluster(
            rules, es_send(client), start=first, end=last, field_types=types, indices=index, every_search=every_search, tuning=tuning
        )
        where = source.es.url
    else:
        assert source.file is not None
        loaded = load_events(sys.stdin if str(source.file) == "-" else source.file)
        report_bad_lines(source.file, loaded)
        types, found = typed_from_events(field_types(schema), loaded.events, _parsed(rules), _tuning_fields(rules, tuning))
        if found:
            warn_dynamic(source.file, found, _fields_read(rules, types) | set(_tuning_fields(rules, tuning)))
        result = run_rules(rules, loaded, start=first, end=last, field_types=types, indices=index, tuning=tuning)
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
        if s.suppressed:
            line += f" ({s.suppressed} more suppressed into them)"
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


def _named(rules: list[Rule], only: list[str] | None, rules_dir: Path) -> list[Rule]:
    """The rules `only` names (all without it); a name no rule has is an error."""
    if only:
        wanted = set(only)
        rules = [r for r in rules if {r.name, r.rule_id, r.path.stem} & wanted]
        missing = wanted - {k for r in rules for k in (r.name, r.rule_id, r.path.stem)}
        if missing:
            raise fail(f"no rule named {', '.join(sorted(missing))} in {rules_dir}")
    return rules


def _parsed(rules: list[Rule]) -> list[Node]:
    """The rules' queries that parse (the engine reports the others)."""
    from ..kql import KqlSyntaxError, parse

    nodes = []
    for r in rules:
        try:
            nodes.append(parse(r.query))
        except KqlSyntaxError:
            continue
    return nodes


def _tuning_fields(rules: list[Rule], tuning: Tuning) -> list[str]:
    """The fields the rules read beyond their queries: group-by, new terms, and those their
    exception lists name."""
    return list(dict.fromkeys([f for r in rules for f in r.fields] + tuning.fields(r.rule_id for r in rules)))


def _fields_read(rules: list[Rule], types: FieldTypes) -> set[str]:
    """The fields the rules read: their queries' (those that compile) and group-by, new terms."""
    from ..errors import WgsiemError
    from ..kql import compile_query

    fields = {f for r in rules for f in r.fields}
    for r in rules:
        try:
            fields |= compile_query(r.query, types).fields
        except WgsiemError:
            continue
    return fields


def _rules_and_tuning(
    rules_dir: Path,
    only: list[str] | None,
    exception_files: list[Path] | None,
    value_list_files: list[Path] | None,
    types: FieldTypes | None = None,
    *,
    defined: bool = False,
) -> tuple[list[Rule], Tuning]:
    """The rules (`only` those named), and the exception and value lists of the folder and
    the files given, checked as `rules validate` checks the folder's: the rules they name
    exist there (any of them, named or not), value lists sit on fields of their kind, and
    with `defined` (what goes into Kibana) every field is in ecs_mappings/."""
    from ..kql import FieldTypes
    from ..rules.exceptions import ExceptionFileError, load_tuning
    from ..rules.model import load_rules
    from ..rules.validate import tuning_problems

    every = load_rules(rules_dir)
    rules = _named(every, only, rules_dir)
    try:
        tuning = load_tuning(rules_dir, exception_files or (), value_list_files or ())
    except ExceptionFileError as err:
        raise fail(str(err)) from None
    problems = tuning_problems(tuning, (r.rule_id for r in every), types if types is not None else FieldTypes.default(), rules_dir, defined=defined)
    if problems:
        raise fail("\n".join(problems))
    return rules, tuning


def _lists_of(rules: list[Rule], tuning: Tuning) -> list[ExceptionList]:
    """The exception lists attached to any of `rules`, in the order they were loaded."""
    ids = {r.rule_id for r in rules}
    return [lst for lst in tuning.lists if ids & set(lst.rule_ids)]


def _value_lists_of(lists: list[ExceptionList], tuning: Tuning) -> list[ValueList]:
    wanted = dict.fromkeys(e.list_id for lst in lists for item in lst.items for e in item.entries if e.type == "list")
    return [tuning.value_lists[i] for i in wanted if i is not None]


def _kibana_objects(rules: list[Rule], enabled: bool = False, tuning: Tuning | None = None) -> list[dict[str, Any]]:
    from ..kql import FieldTypes, compile_query
    from ..rules.export import kibana_rule

    types = FieldTypes.default()
    return [
        kibana_rule(
            r, set(compile_query(r.query, types).fields) | set(r.fields), types, enabled=enabled, exceptions=tuning.for_rule(r.rule_id) if tuning else ()
        )
        for r in rules
    ]


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
