"""A detection rule as the package carries it: `kibana/security_rule/<rule_id>.json`, in the
form of Kibana's prebuilt rules package (`{"attributes": rule, "id": rule_id, "type":
"security-rule"}`). Fleet installs these as `security-rule` saved objects, which Security
offers under "Add Elastic rules", installed disabled like every prebuilt rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..kql import FieldTypes, compile_query
from ..mappings.fields import Field
from ..rules.export import kibana_rule
from ..rules.model import Rule
from .field_files import is_ecs


def security_rule(rule: Rule, package_version: str, fields: Mapping[str, Field], types: FieldTypes) -> dict[str, Any]:
    """The asset of one rule; `fields` are ecs_mappings/'s (which of the fields the rule
    needs are ECS's), `types` the field types its query is compiled with."""
    used = set(compile_query(rule.query, types).fields) | set(rule.fields)
    attributes = kibana_rule(rule, used, types)
    attributes.pop("enabled")  # a prebuilt rule is installed disabled; the asset has no say
    for required in attributes["required_fields"]:
        defined = fields.get(required["name"])
        required["ecs"] = defined is not None and is_ecs(defined)
    attributes["related_integrations"] = [{"package": "wireguard", "version": f"^{package_version}"}]
    return {"attributes": dict(sorted(attributes.items())), "id": rule.rule_id, "type": "security-rule"}
