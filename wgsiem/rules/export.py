"""A rule file in Kibana's rule import form (one line of `_import` NDJSON).

The mapping follows elastic/detection-rules' API format: the `[rule]` table as it is, except
that `[rule.new_terms]` becomes `new_terms_fields` + `history_window_start` and
`threshold.cardinality` is written only when set. `required_fields` lists the fields the
rule reads, with their types from ecs_mappings/, as Kibana shows them on the rule page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .model import Rule

# Keys of [rule] that are not Kibana rule attributes.
_NOT_KIBANA = {"new_terms", "threshold"}


def kibana_rule(
    rule: Rule, required_fields: Iterable[str] = (), types: Mapping[str, str] | None = None, enabled: bool = False
) -> dict[str, Any]:
    body = {k: v for k, v in rule.body.items() if k not in _NOT_KIBANA}
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
