"""A compiled KQL query: the DSL Kibana would send, and a matcher that gives Elasticsearch's
answer for one document."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import values
from .ast import Node
from .date_math import now_millis
from .documents import getter, scalars
from .field_types import FieldTypes
from .grammar import parse
from .search import Searcher
from .translate import data_view, to_dsl


class Query:
    """A KQL query compiled against field types.

    - `matches(doc)`: whether Elasticsearch would return the document (its `_source`)
      for the DSL of `to_dsl()`.
    - `to_dsl()`: the query Kibana's detection engine builds from the KQL (a fresh copy).
    - `to_query_filter()`: that query as getQueryFilter returns it, inside the bool that
      buildEsQuery wraps around every query (a match_all is dropped there).
    - `fields`: the fields the query reads, wildcards expanded.
    - `constant_terms(field)`: a finite set of keyword values one of which `field` must
      hold in every matching document, or None.
    - `warnings`: queries that match nothing, when compiled with strict=False.
    """

    __slots__ = ("text", "node", "_dsl", "matches", "fields", "warnings", "_types")

    def __init__(self, text: str | None, node: Node, dsl: dict[str, Any], searcher: Searcher) -> None:
        self.text = text
        self.node = node
        self._dsl = dsl
        self._types = searcher.types
        self.matches = searcher.compile(dsl)
        self.fields = frozenset(searcher.fields)
        self.warnings = tuple(searcher.warnings)

    def to_dsl(self) -> dict[str, Any]:
        return copy.deepcopy(self._dsl)

    def to_query_filter(self) -> dict[str, Any]:
        kept = [] if self._dsl == {"match_all": {}} else [self.to_dsl()]
        return {"bool": {"must": [], "filter": kept, "should": [], "must_not": []}}

    def constant_terms(self, field: str) -> frozenset[str] | None:
        return _constant_terms(self._dsl, field, self._types)

    def __repr__(self) -> str:
        return f"Query({self.text!r})" if self.text is not None else f"Query({self.node!r})"


def compile_query(
    query: str | Node,
    types: FieldTypes | None = None,
    *,
    now: datetime | None = None,
    strict: bool = True,
) -> Query:
    """Compile a KQL query (text or tree) against field types (default: ecs_mappings/).

    `now` is what date math's `now` means (default: the current time, taken once here).
    Raises KqlSyntaxError for text that does not parse and KqlFieldError for what
    Elasticsearch or Kibana would refuse; with `strict` (the default) also for a query
    that could never match because of how it is written (an unknown field, `1.5` for an
    integer field, a value for an object); strict=False compiles those to match nothing
    and lists them in `Query.warnings`.
    """
    types = types if types is not None else FieldTypes.default()
    text = query if isinstance(query, str) else None
    node = parse(query) if isinstance(query, str) else query
    dsl = to_dsl(node, data_view(node, types))
    searcher = Searcher(types, now_ms=now_millis(now), strict=strict)
    return Query(text, node, dsl, searcher)


def keyword_values(doc: Mapping[str, Any], field: str) -> frozenset[str]:
    """The strings a keyword field indexes for a document (numbers and booleans as text):
    what constant_terms() sets are to be compared with."""
    found = set()
    for x in scalars(getter(field)(doc)):
        s = values.keyword_of(x)
        if s is not None:
            found.add(s)
    return frozenset(found)


def _constant_terms(dsl: Any, field: str, types: FieldTypes) -> frozenset[str] | None:
    if not isinstance(dsl, Mapping) or len(dsl) != 1:
        return None
    (kind, body), = dsl.items()
    if kind == "bool":
        required = [_constant_terms(q, field, types) for q in _listed(body, "filter") + _listed(body, "must")]
        options = [q for q in required if q is not None]
        should = _listed(body, "should")
        if should and int(body.get("minimum_should_match", 0 if required else 1)) >= 1:
            each = [_constant_terms(q, field, types) for q in should]
            if all(s is not None for s in each):
                options.append(frozenset().union(*each))  # type: ignore[arg-type]
        # With arrays a document may meet several constraints through different values,
        # so an intersection would be wrong; any one of them is a valid necessary condition.
        return min(options, key=len) if options else None
    if kind in ("term", "match", "match_phrase") and isinstance(body, Mapping) and len(body) == 1:
        (name, value), = body.items()
        if name != field or types.get(field) != "keyword":
            return None
        if kind == "term":
            value = value.get("value") if isinstance(value, Mapping) else value
        elif isinstance(value, Mapping):
            value = value.get("query")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str):
            return None
        info = types.info(field)
        if info is not None and info.ignore_above is not None and values.utf16_length(value) > info.ignore_above:
            return frozenset()
        return frozenset((value,))
    return None


def _listed(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key, [])
    return list(value) if isinstance(value, list) else [value]
