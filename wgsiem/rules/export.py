"""A rule file in Kibana's rule import form (one line of `_import` NDJSON).

The mapping follows elastic/detection-rules' API format: the `[rule]` table as it is, except
that `[rule.new_terms]` becomes `new_terms_fields` + `history_window_start` and
`threshold.cardinality` is written only when set. `required_fields` lists the fields the
rule reads, with their types from ecs_mappings/, as Kibana shows them on the rule page.
Exception lists attached to a rule become its `exceptions_list`, and the lists themselves
lines of the exception import NDJSON, which the rule import also takes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .exceptions import Entry, ExceptionList
from .model import Rule

# Keys of [rule] that are not Kibana rule attributes.
_NOT_KIBANA = {"new_terms", "threshold"}
# Namespace of the exception lists' stand-in saved-object ids (a fixed, arbitrary UUID of ours).
_LIST_NAMESPACE = uuid.UUID("3d0f5c1e-8a2b-4c6d-9e7f-1a2b3c4d5e6f")


def kibana_rule(
    rule: Rule,
    required_fields: Iterable[str] = (),
    types: Mapping[str, str] | None = None,
    enabled: bool = False,
    exceptions: Sequence[ExceptionList] = (),
) -> dict[str, Any]:
    body = {k: v for k, v in rule.body.items() if k not in _NOT_KIBANA}
    if exceptions:
        body["exceptions_list"] = exceptions_list_refs(exceptions)
    body["query"] = rule.query
    body.setdefault("to", "now")
    body["enabled"] = enabled
    if rule.threshold is not None:
        threshold: dict[str, Any] = {"field": list(rule.threshold.fields), "value": rule.threshold.value}
        if rule.threshold.cardinality is not None:
            threshold["cardinality"] = [{"field": rule.threshold.cardinality.field, "value": rule.threshold.cardinality.value}]
        else:
            threshold["cardinality"] = []
        body["threshold"] = threshold
    if rule.type == "new_terms":
        body["new_terms_fields"] = list(rule.new_terms_fields)
        body["history_window_start"] = rule.body["new_terms"]["history_window_start"][0]["value"]
    types = types or {}
    # Kibana works out `ecs` itself and drops it on import: name and type are what it takes.
    body["required_fields"] = [{"name": name, "type": types.get(name, "unknown")} for name in sorted(set(required_fields))]
    return body


def ndjson(objects: Iterable[Mapping[str, Any]]) -> str:
    """One compact JSON object per line, keys sorted, as Kibana's export writes them."""
    return "".join(json.dumps(o, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects)


def exceptions_list_refs(lists: Iterable[ExceptionList]) -> list[dict[str, Any]]:
    """A rule's `exceptions_list`: each list by list_id, namespace and type. Kibana's import
    keeps a reference whose list exists and writes that list's own saved-object id over
    `id` (checkRuleExceptionReferences), so the id here only has to be well-formed."""
    return [{"id": list_object_id(lst), "list_id": lst.list_id, "namespace_type": lst.namespace_type, "type": lst.type} for lst in lists]


def list_object_id(lst: ExceptionList) -> str:
    return str(uuid.uuid5(_LIST_NAMESPACE, f"{lst.namespace_type}:{lst.list_id}"))


def exception_import_objects(lists: Iterable[ExceptionList]) -> list[dict[str, Any]]:
    """Every list with its items, in order: the exception import's lines."""
    return [o for lst in lists for o in exception_objects(lst)]


def exception_objects(lst: ExceptionList) -> list[dict[str, Any]]:
    """The list and its items as lines of Kibana's exception import NDJSON
    (importExceptionsListSchema / importExceptionListItemSchema: exact, so only their keys)."""
    container = {
        "description": lst.description,
        "list_id": lst.list_id,
        "name": lst.name,
        "namespace_type": lst.namespace_type,
        "tags": list(lst.tags),
        "type": lst.type,
    }
    items = []
    for item in lst.items:
        body: dict[str, Any] = {
            "comments": [{"comment": c} for c in item.comments],
            "description": item.description,
            "entries": [_entry_object(e) for e in item.entries],
            "item_id": item.item_id,
            "list_id": lst.list_id,
            "name": item.name,
            "namespace_type": item.namespace_type,
            "tags": list(item.tags),
            "type": "simple",
        }
        if item.expire_time is not None:
            body["expire_time"] = item.expire_time
        items.append(body)
    return [container, *items]


def _entry_object(entry: Entry) -> dict[str, Any]:
    if entry.type == "nested":
        return {"entries": [_entry_object(e) for e in entry.entries], "field": entry.field, "type": "nested"}
    out: dict[str, Any] = {"field": entry.field, "operator": entry.operator, "type": entry.type}
    if entry.type == "list":
        out["list"] = {"id": entry.list_id, "type": entry.list_type}
    elif entry.type == "match_any":
        out["value"] = list(entry.value or ())
    elif entry.type != "exists":
        out["value"] = entry.value
    return out
