"""A rule's exception lists as the query clause Kibana adds to each of its searches.

Kibana's rule wrapper (create_security_rule_type_wrapper.ts) builds one filter per
execution with buildExceptionFilter (lists plugin, services/exception_lists/
build_exception_filter.ts) and getFilter → buildEsQuery puts it, negated, into the rule
query's `must_not`. Query, threshold and new terms rules all search with that filter, so
an excepted event is neither an alert, nor counted toward a threshold, nor new terms
history. The offline engine compiles the very same DSL with wgsiem.kql's searcher, so
both engines leave out the same events.

The clause, item by item (createOrClauses → buildExceptionItemFilter → createInnerAndClauses):

- items OR-ed: `{bool: {should: [item, ...]}}`; items whose `expire_time` is before the
  execution's start are dropped first (removeExpiredExceptions);
- an item's entries AND-ed: the one clause, or `{bool: {filter: [...]}}`;
- `match` (is): `{bool: {minimum_should_match: 1, should: [{match_phrase: {f: v}}]}}`;
- `match_any` (is one of): one value as match; several as a should of those;
- `wildcard` (matches): `{bool: {filter: {wildcard: {f: v}}}}`;
- `exists`: `{bool: {minimum_should_match: 1, should: [{exists: {field: f}}]}}`;
- `list` (is in list): the value list's values fetched and written into the query
  (buildListClause): ip and keyword lists as `terms`; ip_range lists as a `range` per
  `first-last` value and one `terms` for the CIDR blocks, in a should;
- `excluded` (is not ...): `{bool: {must_not: <the included clause>}}`; for an ip_range list
  the should becomes a must_not and `minimum_should_match: 1` stays, which Elasticsearch
  ignores once no should clause is left (tests/test_exceptions.py pins it on the real node);
- `nested`: `{nested: {path, score_mode: none, query}}`, inner fields prefixed with the path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wgsiem.rules.exceptions import Entry, ExceptionItem, ExceptionList, Tuning, ValueList

if TYPE_CHECKING:
    from wgsiem.kql import FieldTypes


class RuleExceptions:
    """One rule's exception lists, as the clause of each execution (None: none applies)."""

    def __init__(self, lists: Sequence[ExceptionList], value_lists: Mapping[str, ValueList], types: FieldTypes) -> None:
        self.lists = tuple(lists)
        self.value_lists = value_lists
        self.types = types
        self.expiring = expiring(self.lists)
        self._matchers: dict[tuple[int, ...], Callable[[Mapping[str, Any]], bool] | None] = {}
        self._clauses: dict[tuple[int, ...], dict[str, Any] | None] = {}

    def _live(self, started_at: int) -> tuple[int, ...]:
        return tuple(id(item) for lst in self.lists for item in lst.items if not _expired(item, started_at))

    @classmethod
    def of(cls, tuning: Tuning | None, rule_id: str, types: FieldTypes) -> RuleExceptions | None:
        lists = tuning.for_rule(rule_id) if tuning else ()
        return cls(lists, tuning.value_lists, types) if lists and tuning else None

    def clause(self, started_at: int) -> dict[str, Any] | None:
        """Built once per set of items in force: an execution only changes it when an item expires."""
        live = self._live(started_at)
        if live not in self._clauses:
            self._clauses[live] = exception_filter(self.lists, self.value_lists, started_at)
        return self._clauses[live]

    def matcher(self, started_at: int) -> Callable[[Mapping[str, Any]], bool] | None:
        """The offline engine's test of the clause: whether a document is excepted."""
        live = self._live(started_at)
        if live not in self._matchers:
            from wgsiem.kql.search import Searcher

            clause = self.clause(started_at)
            # Not strict: a field an exception names but the data lacks matches nothing, as on a cluster.
            self._matchers[live] = None if clause is None else Searcher(self.types, now_ms=started_at, strict=False).compile(clause)
        return self._matchers[live]


def exception_filter(lists: Sequence[ExceptionList], value_lists: Mapping[str, ValueList], started_at: int) -> dict[str, Any] | None:
    """The clause matching what the lists except at an execution starting at `started_at`
    (epoch ms), or None when no item applies (Kibana then adds no filter)."""
    clauses = [item_clause(item, value_lists) for lst in lists for item in lst.items if not _expired(item, started_at)]
    return {"bool": {"should": clauses}} if clauses else None


def expiring(lists: Sequence[ExceptionList]) -> bool:
    """Whether the filter depends on the execution time."""
    return any(item.expire_ms is not None for lst in lists for item in lst.items)


def excluding(query_filter: Mapping[str, Any], exceptions: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's query filter (getQueryFilter's bool) with the exceptions in its must_not,
    where buildQueryFromFilters puts a negated filter."""
    out = {k: v for k, v in query_filter["bool"].items()}
    out["must_not"] = [*out.get("must_not", []), *([exceptions] if exceptions else [])]
    return {"bool": out}


def item_clause(item: ExceptionItem, value_lists: Mapping[str, ValueList]) -> dict[str, Any]:
    clauses = [_entry_clause(e, value_lists, "") for e in item.entries]
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": clauses}}


def _expired(item: ExceptionItem, started_at: int) -> bool:
    return item.expire_ms is not None and item.expire_ms < started_at


def _entry_clause(entry: Entry, value_lists: Mapping[str, ValueList], parent: str) -> dict[str, Any]:
    name = f"{parent}.{entry.field}" if parent else entry.field
    if entry.type == "nested":
        inner = [_entry_clause(e, value_lists, name) for e in entry.entries]
        query = inner[0] if len(inner) == 1 else {"bool": {"filter": inner}}
        return {"nested": {"path": name, "score_mode": "none", "query": query}}
    if entry.type == "list":
        return _list_clause(name, entry, value_lists[entry.list_id or ""])
    included = _included(name, entry)
    return included if entry.operator == "included" else {"bool": {"must_not": included}}


def _included(name: str, entry: Entry) -> dict[str, Any]:
    if entry.type == "match":
        return _match(name, str(entry.value))
    if entry.type == "match_any":
        values = list(entry.value or ())
        if len(values) == 1:
            return _match(name, values[0])
        return {"bool": {"minimum_should_match": 1, "should": [_match(name, v) for v in values]}}
    if entry.type == "wildcard":
        return {"bool": {"filter": {"wildcard": {name: entry.value}}}}
    if entry.type == "exists":
        return {"bool": {"minimum_should_match": 1, "should": [{"exists": {"field": name}}]}}
    raise ValueError(f"exception entry type {entry.type!r}")


def _match(name: str, value: str) -> dict[str, Any]:
    return {"bool": {"minimum_should_match": 1, "should": [{"match_phrase": {name: value}}]}}


def _list_clause(name: str, entry: Entry, value_list: ValueList) -> dict[str, Any]:
    values = list(_as_kibana_reads_them(value_list))
    if value_list.type != "ip_range":
        terms = {"terms": {name: values}}
        return {"bool": {"filter": terms}} if entry.operator == "included" else {"bool": {"must_not": terms}}
    ranges = [v for v in values if "-" in v]
    blocks = [v for v in values if "-" not in v]
    clauses: list[dict[str, Any]] = []
    for value in ranges:
        first, last = (part.strip() for part in value.split("-", 1))
        clauses.append({"range": {name: {"gte": first, "lte": last}}})
    if blocks:
        clauses.append({"terms": {name: blocks}})
    key = "should" if entry.operator == "included" else "must_not"
    return {"bool": {key: clauses, "minimum_should_match": 1}}


def _as_kibana_reads_them(value_list: ValueList) -> list[str]:
    """The values as buildListClause gets them back from the list's items: an ip_range item
    is stored as a CIDR string when written with `/`, else as a range {gte, lte}, which
    the list's deserializer turns into `gte-lte`, so a single address comes back `a-a`."""
    if value_list.type != "ip_range":
        return list(value_list.values)
    return [v if "/" in v or "-" in v else f"{v}-{v}" for v in value_list.values]
