"""`run_rules`: replay rules over events on Kibana's schedule and collect the alerts.

The schedule, the per-rule statistics and the order of the alerts are the same whether
the searches run over an in-memory EventSet (here) or as real Elasticsearch requests
(cluster.py): both hand `run_schedule` a way to prepare one executor per rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from wgsiem.rules.model import Rule

from ..errors import WgsiemError
from .alerts import RuleContext
from .events import EventSet, LoadedEvents, without_gc
from .exception_filter import RuleExceptions
from .matching import Compile, RuleEvents, default_field_types, index_patterns, kql_compiler
from .new_terms import NewTermsExecutor
from .query import QueryExecutor
from .schedule import Execution, Outcome, executions
from .threshold import ThresholdExecutor
from .timestamps import datetime_ms, iso

if TYPE_CHECKING:
    from wgsiem.kql import FieldTypes
    from wgsiem.rules.exceptions import Tuning

# Kibana's xpack.alerting.rules.run.alerts.max: a rule's max_signals above it is lowered
# to it (getRuleRangeTuples in rule_types/utils/utils.ts).
ALERTING_MAX_ALERTS = 1000
SUPPORTED_TYPES = ("query", "threshold", "new_terms")

_EXECUTORS = {"query": QueryExecutor, "threshold": ThresholdExecutor, "new_terms": NewTermsExecutor}


@dataclass
class RuleStats:
    rule_id: str
    name: str
    type: str
    executions: int = 0
    matched_events: int = 0  # distinct events the query matched in the indices searched
    alerts: int = 0
    max_signals_executions: int = 0  # executions that hit max_signals (Kibana warns)
    suppressed: int = 0  # alerts suppressed into others (alert_suppression; Kibana's suppressedAlertsCount)
    warnings: list[str] = field(default_factory=list)  # "<execution time>: message", first few
    error: str | None = None  # the rule could not run (e.g. its query does not compile)


@dataclass
class RunResult:
    alerts: list[dict[str, Any]]
    stats: dict[str, RuleStats]  # by rule_id
    events: int  # events with a usable @timestamp
    skipped_events: int  # events without one
    skip_reasons: list[str]  # the first few, naming the event's position in the input
    start: str | None  # first execution time, ISO
    end: str | None


class ExecutionError(WgsiemError):
    """An execution failed (e.g. a search the cluster refused): its rule stops there and
    is reported as not run; the other rules still run."""


class Prepared(NamedTuple):
    """One rule ready to run: `run(execution)` gives its Outcome (the new alerts, the
    max-signals warning if any, how many were suppressed); `matched_events()` is asked
    once all executions are done."""

    run: Callable[[Execution], Outcome]
    matched_events: Callable[[], int]


# (rule, its alert context, its effective max_signals) → Prepared; may raise: the rule is
# then reported as not run and the others go on.
Prepare = Callable[[Rule, RuleContext, int], Prepared]


def rule_indices(rule: Rule, indices: Sequence[str] | None) -> tuple[str, ...]:
    """What a rule searches: `indices` when given (both engines restrict every rule the
    same way), else its own `index` patterns."""
    return tuple(indices) if indices else index_patterns(rule)


def run_rules(
    rules: Iterable[Rule],
    events: Iterable[Mapping[str, Any]] | EventSet,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    field_types: FieldTypes | None = None,
    compile: Compile | None = None,
    indices: Sequence[str] | None = None,
    tuning: Tuning | None = None,
) -> RunResult:
    """Every rule executes at start, start + interval, ... until an execution reaches `end`.
    `start` defaults to the first event's time, `end` to the last's; events before `start`
    still count for look-back and history windows. Queries are compiled with `field_types`
    (default: ecs_mappings/), or by `compile` when given.
    `indices` replaces every rule's `index` patterns. `tuning`'s exception lists leave out
    what they except from the rules they are attached to, as Kibana's searches do.

    Alerts come ordered by execution time, rule name, original time, then creation order.
    """
    with without_gc():
        types = field_types if field_types is not None else default_field_types()
        return _run(rules, events, start, end, compile or kql_compiler(types), types, indices, tuning)


def _run(
    rules: Iterable[Rule],
    events: Iterable[Mapping[str, Any]] | EventSet,
    start: datetime | None,
    end: datetime | None,
    compile: Compile,
    types: FieldTypes,
    indices: Sequence[str] | None,
    tuning: Tuning | None,
) -> RunResult:
    event_set = events if isinstance(events, EventSet) else EventSet(events.events if isinstance(events, LoadedEvents) else events)
    result = RunResult(
        alerts=[], stats={}, events=len(event_set), skipped_events=event_set.skipped, skip_reasons=list(event_set.skip_reasons), start=None, end=None
    )
    if not len(event_set) and (start is None or end is None):
        return result
    first = datetime_ms(start) if start is not None else event_set.ts[0]
    last = datetime_ms(end) if end is not None else event_set.ts[-1]

    def prepare(rule: Rule, ctx: RuleContext, max_signals: int) -> Prepared:
        rule_events = RuleEvents(event_set, rule, compile, types, ctx.indices, RuleExceptions.of(tuning, rule.rule_id, types))
        executor = _EXECUTORS[rule.type](ctx, event_set, rule_events, max_signals)
        return Prepared(executor.run, lambda: rule_events.matched_count)

    run_schedule(result, rules, first, last, indices, prepare)
    return result


def run_schedule(result: RunResult, rules: Iterable[Rule], first: int, last: int, indices: Sequence[str] | None, prepare: Prepare) -> None:
    """Runs every rule's executions from `first` to `last` (epoch ms) and fills `result`'s
    start, end, stats and alerts."""
    result.start, result.end = iso(first), iso(last)
    keyed: list[tuple[int, str, str, int, dict[str, Any]]] = []
    for rule in rules:
        stats = result.stats[rule.rule_id] = RuleStats(rule.rule_id, rule.name, rule.type)
        if rule.type not in SUPPORTED_TYPES:
            stats.error = f"rule type {rule.type!r} is not supported"
            continue
        try:
            prepared = prepare(rule, RuleContext.of(rule, rule_indices(rule, indices), first), min(rule.max_signals, ALERTING_MAX_ALERTS))
        except Exception as err:  # noqa: BLE001 - a rule that cannot run is reported, the others still run
            stats.error = f"{type(err).__name__}: {err}"
            continue
        if rule.max_signals > ALERTING_MAX_ALERTS:
            stats.warnings.append(
                f"The rule's max alerts per run setting ({rule.max_signals}) is greater than the Kibana alerting limit "
                f"({ALERTING_MAX_ALERTS}). The rule will only write a maximum of {ALERTING_MAX_ALERTS} alerts per rule run."
            )
        for execution in executions(rule, first, last):
            stats.executions += 1
            try:
                created, warning, suppressed = prepared.run(execution)
            except ExecutionError as err:
                stats.error = f"execution at {iso(execution.started_at)}: {err}"
                break
            stats.suppressed += suppressed
            if warning:
                stats.max_signals_executions += 1
                if len(stats.warnings) < 10:
                    stats.warnings.append(f"{iso(execution.started_at)}: {warning}")
            # original_time strings all have iso()'s fixed width, so they sort as times do. An
            # alert a later execution suppresses into is updated in place, where it stands.
            keyed.extend((execution.started_at, rule.name, a["kibana.alert.original_time"], len(keyed) + i, a) for i, a in enumerate(created))
            stats.alerts += len(created)
        if stats.error is None:
            try:
                stats.matched_events = prepared.matched_events()
            except ExecutionError as err:
                stats.error = str(err)
    keyed.sort(key=lambda k: k[:4])
    result.alerts = [k[4] for k in keyed]
