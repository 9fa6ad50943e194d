"""KQL tree -> Elasticsearch query DSL, as Kibana's detection engine builds it.

Query, threshold and new_terms rules go through getQueryFilterLoadFields
(security_solution .../rule_types/utils/get_query_filter_load_fields.ts): Kibana loads,
with field caps, a data view holding just the fields the query names (getKqlFieldNames:
each `is`/`range`/`nested` node's field, so for a nested group only the path, not the
fields inside it), then runs buildEsQuery with allowLeadingWildcards: true,
dateFormatTZ: 'Zulu' and no caseInsensitive. So the DSL depends on the field types:

- `f: v` on a keyword field is a `term`; on a date field a `range` from v to v with
  `time_zone: Zulu` (none for an epoch value); on any other field a `match`, or a
  `match_phrase` when v was quoted.
- `f: v*` on a keyword field is a `wildcard` query, elsewhere a `query_string`.
- `f: *` is `exists`; `f > v` is a `range` (with the time zone on date fields).
- A field name with a wildcard expands over the data view's fields (sorted by name), a
  query per field; a field of a nested field found that way gets a `nested` wrapper.
- A name the data view does not hold (an object, a field inside a `{}` group, an
  unknown field) is sent as written, with the type-agnostic query (match/match_phrase/
  query_string/range without a time zone).
- and/or/not: bool filter / bool should + minimum_should_match 1 / bool must_not;
  every is/range is a bool should of its per-field queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .ast import And, Is, Literal, Nested, Node, Not, Or, Range, Term, Wildcard, js_string
from .errors import KqlFieldError
from .field_types import CONTAINER_TYPES, FieldTypes

DATE_FORMAT_TZ = "Zulu"
_EPOCH = re.compile(r"\d+", re.ASCII)


@dataclass(frozen=True, slots=True)
class DataViewField:
    """A field as a Kibana data view holds it (the parts the DSL depends on)."""

    name: str
    es_type: str
    nested_path: str | None

    @property
    def is_keyword(self) -> bool:
        return self.es_type == "keyword"

    @property
    def is_date(self) -> bool:
        return self.es_type in ("date", "date_nanos")


def kql_field_names(node: Node) -> list[str]:
    """getKqlFieldNames: the names the query's nodes are about, wildcards as `*`."""
    if isinstance(node, (And, Or)):
        return [name for child in node.children for name in kql_field_names(child)]
    if isinstance(node, Not):
        return kql_field_names(node.child)
    first = node.path if isinstance(node, Nested) else node.field
    if isinstance(first, Literal):
        return [] if first.value is None else [first.text()]
    return [first.text()]


def data_view(node: Node, types: FieldTypes) -> dict[str, DataViewField]:
    """The fields field caps returns for the query's names, less objects and nested fields
    (Kibana drops those), sorted by name."""
    wanted = kql_field_names(node)
    result: dict[str, DataViewField] = {}
    for name in types.names():
        es_type = types[name]
        if es_type in CONTAINER_TYPES:
            continue
        if any(_field_caps_match(pattern, name) for pattern in wanted):
            result[name] = DataViewField(name, es_type, types.nested_path(name))
    return result


def _field_caps_match(pattern: str, name: str) -> bool:
    if "*" not in pattern:
        return pattern == name
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), name, re.DOTALL) is not None


def to_dsl(node: Node, view: dict[str, DataViewField], nested: str | None = None) -> dict[str, Any]:
    """Kibana's ast.toElasticsearchQuery(node, dataView, {dateFormatTZ: 'Zulu'})."""
    if isinstance(node, And):
        return {"bool": {"filter": [to_dsl(c, view, nested) for c in node.children]}}
    if isinstance(node, Or):
        return {"bool": {"should": [to_dsl(c, view, nested) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": to_dsl(node.child, view, nested)}}
    if isinstance(node, Nested):
        path = _es_value(node.path)
        full_path = f"{nested}.{js_string(path)}" if nested else path
        return {"nested": {"path": full_path, "query": to_dsl(node.query, view, full_path), "score_mode": "none"}}
    if isinstance(node, Is):
        return _is(node, view, nested)
    if isinstance(node, Range):
        return _range(node, view, nested)
    raise TypeError(f"not a KQL node: {node!r}")


def _is(node: Is, view: dict[str, DataViewField], nested: str | None) -> dict[str, Any]:
    field, value = node.field, node.value
    exists = isinstance(value, Wildcard) and value.is_lone()
    if exists and isinstance(field, Wildcard) and field.is_lone():
        return {"match_all": {}}
    full = _full_name(field, view, nested)
    if isinstance(full, Literal) and full.value is None:
        if isinstance(value, Wildcard):
            return {"query_string": {"query": value.to_query_string()}}
        return {"multi_match": {"type": "phrase" if value.quoted else "best_fields", "query": value.value, "lenient": True}}
    es_value = _es_value(value)
    queries = []
    for f in _fields(full, view):
        if exists:
            query: dict[str, Any] = {"exists": {"field": f.name}}
        elif isinstance(value, Wildcard):
            if f.is_keyword:
                query = {"wildcard": {f.name: {"value": value.to_query_string()}}}
            else:
                query = {"query_string": {"fields": [f.name], "query": value.to_query_string()}}
        elif f.is_date:
            bounds: dict[str, Any] = {"gte": es_value, "lte": es_value}
            if not _is_epoch(es_value):
                bounds["time_zone"] = DATE_FORMAT_TZ
            query = {"range": {f.name: bounds}}
        elif f.is_keyword:
            query = {"term": {f.name: {"value": es_value}}}
        else:
            query = {"match_phrase" if value.quoted else "match": {f.name: es_value}}
        queries.append(_wrap_nested(query, f, full, nested))
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _range(node: Range, view: dict[str, DataViewField], nested: str | None) -> dict[str, Any]:
    full = _full_name(node.field, view, nested)
    es_value = _es_value(node.value)
    queries = []
    for f in _fields(full, view):
        bounds: dict[str, Any] = {node.op: es_value}
        if f.is_date and not _is_epoch(es_value):
            bounds["time_zone"] = DATE_FORMAT_TZ
        queries.append(_wrap_nested({"range": {f.name: bounds}}, f, full, nested))
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _full_name(field: Term, view: dict[str, DataViewField], nested: str | None) -> Term:
    """getFullFieldNameNode: the name within its nested group, and Kibana's nested checks."""
    if nested:
        text = f"{nested}.{js_string(field.value)}"
        full: Term = Wildcard(text) if isinstance(field, Wildcard) else Literal(text, field.quoted)
    else:
        full = field
    if isinstance(full, Wildcard) and not nested:
        return full
    errors = []
    for f in _matching(full, view):
        if nested and not f.nested_path:
            errors.append(f'{f.name} is not a nested field but is in nested group "{nested}" in the KQL expression.')
        elif f.nested_path and not nested:
            errors.append(f"{f.name} is a nested field, but is not in a nested group in the KQL expression.")
        elif f.nested_path != nested:
            errors.append(
                f"Nested field {f.name} is being queried with the incorrect nested path. The correct path is {f.nested_path}."
            )
    if errors:
        raise KqlFieldError("\n".join(errors), field=js_string(full.value))
    return full


def _matching(full: Term, view: dict[str, DataViewField]) -> list[DataViewField]:
    """get_fields.ts getFields: the data view's fields a name or pattern stands for."""
    if isinstance(full, Wildcard):
        return [f for f in view.values() if full.matches(f.name)]
    f = view.get(js_string(full.value))
    return [f] if f is not None else []


def _fields(full: Term, view: dict[str, DataViewField]) -> list[DataViewField]:
    found = _matching(full, view)
    if found:
        return found
    # Not in the data view: the name goes through as written (a pattern keeps its `*`s).
    name = full.text() if isinstance(full, Wildcard) else js_string(full.value)
    return [DataViewField(name, "", None)]


def _wrap_nested(query: dict[str, Any], f: DataViewField, full: Term, nested: str | None) -> dict[str, Any]:
    if not isinstance(full, Wildcard) or not f.nested_path or nested:
        return query
    return {"nested": {"path": f.nested_path, "query": query, "score_mode": "none"}}


def _es_value(term: Term) -> Any:
    """ast.toElasticsearchQuery of a value node: the literal's value as is (string, bool,
    null), a wildcard's pattern with plain `*`s."""
    return term.text() if isinstance(term, Wildcard) else term.value


def _is_epoch(value: Any) -> bool:
    return isinstance(value, str) and _EPOCH.fullmatch(value) is not None
