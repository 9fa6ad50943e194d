"""Which events a rule searches (its index patterns) and which of them its query matches.

Kibana sends the query with every search, so a document matches or not whatever window
it is looked at through, unless the query itself reads the clock (KQL date math on
`now`). The query therefore runs once per candidate event and windows are bisects over
the matched positions; only a `now`-relative query is evaluated per execution, with
`now` set to that execution's time as Kibana's searches would have it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from heapq import merge
from typing import TYPE_CHECKING, Any, Protocol

from wgsiem.rules.model import Rule

from ..mappings.datastreams import data_stream_of
from .events import EventSet
from .exception_filter import RuleExceptions
from .timestamps import ms_datetime

if TYPE_CHECKING:
    from wgsiem.kql import FieldTypes

# securitySolution:defaultIndex, what a rule without `index` (and without a data view) searches.
DEFAULT_INDEX = (
    "apm-*-transaction*",
    "auditbeat-*",
    "endgame-*",
    "filebeat-*",
    "logs-*",
    "packetbeat-*",
    "traces-apm*",
    "winlogbeat-*",
    "-*elastic-cloud-logs-*",
)

_NOW = re.compile(r"\bnow\b", re.IGNORECASE)


class Query(Protocol):
    def matches(self, doc: dict[str, Any]) -> bool: ...


Compile = Callable[[str, datetime | None], Query]


def kql_compiler(field_types: FieldTypes | None = None) -> Compile:
    """KQL compiled against `field_types` (default: ecs_mappings/)."""
    from wgsiem.kql import compile_query  # on demand: tests run the engine with tiny compilers

    types = field_types if field_types is not None else default_field_types()

    def compile(text: str, now: datetime | None) -> Query:
        return compile_query(text, types, now=now)

    return compile


@cache
def default_field_types() -> FieldTypes:
    from wgsiem.kql import FieldTypes

    return FieldTypes.default()


def index_patterns(rule: Rule) -> tuple[str, ...]:
    patterns = rule.body.get("index")
    return tuple(patterns) if patterns else DEFAULT_INDEX


def index_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Elasticsearch's multi-target syntax: `*` wildcards, and `-pattern` removing what
    the patterns before it added."""
    steps = [(p.startswith("-"), _wildcard(p[1:] if p.startswith("-") else p)) for p in patterns]

    def matches(name: str) -> bool:
        # A data stream's backing index is selected through its data stream's name.
        name = data_stream_of(name)
        selected = False
        for exclude, regex in steps:
            if regex.fullmatch(name):
                selected = not exclude
        return selected

    return matches


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def uses_now(query: str) -> bool:
    """Conservative: any `now` token (even inside a quoted value) re-evaluates per execution."""
    return bool(_NOW.search(query))


class RuleEvents:
    """The events one rule sees: candidates by index and event.action, and its matches."""

    def __init__(
        self,
        events: EventSet,
        rule: Rule,
        compile: Compile,
        types: Mapping[str, str],
        patterns: Sequence[str] | None = None,
        exceptions: RuleExceptions | None = None,
    ) -> None:
        self.events = events
        self.patterns = tuple(patterns) if patterns is not None else index_patterns(rule)
        # The mapping the rule searches: the query is compiled with it, and group-by and
        # new-terms values are read as these types index them.
        self.types = types
        self.text = rule.query
        self.compile = compile
        self.exceptions = exceptions
        self.relative = uses_now(rule.query)  # the query reads the clock
        # Items that expire make the exceptions, like `now`, a matter of the execution time:
        # the query's matches are found once, the exceptions applied per execution.
        self.expiring = exceptions is not None and exceptions.expiring
        self.per_execution = self.relative or self.expiring
        # Compiling up front also surfaces a bad query before any execution runs.
        query = compile(rule.query, None if not self.relative else ms_datetime(events.ts[-1] if len(events) else 0))
        self.candidates = self._candidates(rule, query)
        self.candidate_ts = [events.ts[p] for p in self.candidates]
        if self.relative:
            self.matched: list[int] = []
        else:
            docs = events.docs
            test = query.matches
            excepted = None if self.expiring else self._excepted(0)
            self.matched = [p for p in self.candidates if test(docs[p]) and not (excepted and excepted(docs[p]))]
        self.matched_ts = [events.ts[p] for p in self.matched]
        self._relative_query: tuple[int, Query, Callable[[Mapping[str, Any]], bool] | None] | None = None
        self.relative_matched: set[int] = set()

    def _candidates(self, rule: Rule, query: Query) -> list[int]:
        events = self.events
        allowed_index = index_matcher(self.patterns)
        allowed = [allowed_index(name) for name in events.index_names]
        constant_terms = getattr(query, "constant_terms", None)
        actions = constant_terms("event.action") if constant_terms else None
        if actions is not None:
            by_action = events.by_action()
            lists = [by_action[a] for a in actions if a in by_action]
            positions: Iterable[int] = _distinct(merge(*lists)) if len(lists) > 1 else (lists[0] if lists else [])
        else:
            positions = range(len(events))
        ids = events.index_ids
        if all(allowed):
            return list(positions)
        return [p for p in positions if allowed[ids[p]]]

    def window(self, at: int, lo: int, hi: int) -> Sequence[int]:
        """Positions matching the query with `@timestamp` in [lo, hi] (both inclusive, as
        build_events_query.ts's range filter: gte `from`, lte `to`), in time order; `at`
        is the execution time a `now`-relative query is evaluated at."""
        if not self.relative:
            span = self.matched[bisect_left(self.matched_ts, lo) : bisect_right(self.matched_ts, hi)]
            if not self.expiring:
                return span
            excepted = self._excepted(at)
            docs = self.events.docs
            kept = [p for p in span if not (excepted and excepted(docs[p]))]
            self.relative_matched.update(kept)
            return kept
        if self._relative_query is None or self._relative_query[0] != at:
            self._relative_query = (at, self.compile(self.text, ms_datetime(at)), self._excepted(at))
        _, query, excepted = self._relative_query
        test = query.matches
        docs = self.events.docs
        span = self.candidates[bisect_left(self.candidate_ts, lo) : bisect_right(self.candidate_ts, hi)]
        found = [p for p in span if test(docs[p]) and not (excepted and excepted(docs[p]))]
        self.relative_matched.update(found)
        return found

    def _excepted(self, at: int) -> Callable[[Mapping[str, Any]], bool] | None:
        """Whether the rule's exceptions, as at an execution starting at `at`, take a document out."""
        return self.exceptions.matcher(at) if self.exceptions is not None else None

    @property
    def matched_count(self) -> int:
        return len(self.relative_matched) if self.per_execution else len(self.matched)


def _distinct(positions: Iterable[int]) -> Iterable[int]:
    last = -1
    for p in positions:
        if p != last:
            yield p
            last = p
