"""Checking rules in Kibana's import form (the NDJSON `POST .../rules/_import` takes)
against detection_rules/schemas/kibana-rule-import.schema.json, without a Kibana.

Problems name the JSON path (`threat[0].technique[1].reference: ...`), and in NDJSON the
line and rule_id, so a broken export is fixed in the TOML it came from, not found out
about from an import that half failed. The schema is as lenient as Kibana: keys Kibana
does not know pass, because Kibana drops them without a word; `strict=True` reports them,
since a dropped key is nearly always a typo that silently loses a setting.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from wgsiem.content import DETECTION_RULES

SCHEMA_PATH = DETECTION_RULES / "schemas" / "kibana-rule-import.schema.json"

# NDJSON lines Kibana's import sorts out before validating rules (create_rules_stream_
# from_ndjson.ts): the export's summary line, exception lists and their items, connectors.
_EXCEPTION_KEYS = ("list_id", "item_id", "entries")
_CONNECTOR_KEY = "attributes"
_SUMMARY_KEY = "exported_count"

# $defs that are only a part of a rule (the type-specific fields, applied next to the
# common ones); marking them closed would call every common field unknown.
_FRAGMENTS = re.compile(r".*RuleFields$")
_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_DEPENDENCY = re.compile(r"^'(.+)' is a dependency of '(.+)'$")
_UNEVALUATED = re.compile(r"\((.*) (?:was|were) unexpected\)")


def load_schema() -> dict[str, Any]:
    """The schema as a fresh dict (callers may change it without touching the cache)."""
    return copy.deepcopy(_schema())


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator(strict: bool) -> Draft202012Validator:
    schema = _schema()
    if strict:
        schema = _closed(copy.deepcopy(schema))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _closed(node: Any, name: str = "") -> Any:
    """Mark every whole object schema closed with unevaluatedProperties (not
    additionalProperties, which would not see the fields the per-type `then` adds)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$defs":
                for def_name, sub in value.items():
                    _closed(sub, def_name)
            elif key not in ("additionalProperties", "const", "enum", "if"):
                _closed(value)
        if "properties" in node and "additionalProperties" not in node and not _FRAGMENTS.match(name):
            node["unevaluatedProperties"] = False
    elif isinstance(node, list):
        for item in node:
            _closed(item)
    return node


def json_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def rule_problems(rule: Any, *, strict: bool = False) -> list[str]:
    """What Kibana's import would refuse in one rule, each as `path: problem`; with
    `strict`, also the keys it would accept and silently drop."""
    # `$ref`, allOf and if/then hand on the inner errors themselves; only anyOf wraps them.
    problems: list[str] = []
    for error in _validator(strict).iter_errors(rule):
        if error.validator == "unevaluatedProperties":
            where = list(error.absolute_path)
            problems += [
                f"{json_path([*where, key])}: not a key Kibana knows; it drops it without a word"
                for key in _unexpected_keys(error.message)
            ]
        else:
            problems.append(_describe(error))
    if not problems and isinstance(rule, dict):
        problems += _import_checks(rule)
    return list(dict.fromkeys(problems))


def _describe(error: ValidationError) -> str:
    path = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and (match := _REQUIRED.match(message)):
        return f"{json_path([*path, match.group(1)]) or '(rule)'}: missing (required)"
    if error.validator == "dependentRequired" and (match := _DEPENDENCY.match(message)):
        needed, given = match.groups()
        return f"{json_path([*path, needed])}: missing (required when {given} is set)"
    if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
        message = f"{error.instance!r} is not {error.schema['description']}"
    elif error.validator == "anyOf" and error.context:
        return _any_of_problem(error)
    return f"{json_path(path) or '(rule)'}: {message}"


def _unexpected_keys(message: str) -> list[str]:
    match = _UNEVALUATED.search(message)
    try:
        keys = ast.literal_eval(f"[{match.group(1)}]") if match else []
    except (ValueError, SyntaxError):
        keys = []
    return [str(key) for key in keys] or ["(some key)"]


def _any_of_problem(error: ValidationError) -> str:
    """Say what the value came closest to, not just 'not valid under any of the given
    schemas': a branch it failed beyond its type, else the types it could have had."""
    here = len(error.absolute_path)
    beyond_type = [e for e in error.context if not (e.validator == "type" and len(e.absolute_path) == here)]
    if beyond_type:
        described = [e for e in beyond_type if isinstance(e.schema, dict) and e.schema.get("description")]
        return _describe((described or beyond_type)[0])
    kinds = " or ".join(repr(e.validator_value) for e in error.context if e.validator == "type")
    return f"{json_path(error.absolute_path) or '(rule)'}: {error.instance!r} is not of type {kinds}"


def _import_checks(rule: dict[str, Any]) -> list[str]:
    """rule_to_import_validation.ts's checks that a schema cannot say."""
    threshold = rule.get("threshold")
    if rule.get("type") != "threshold" or not isinstance(threshold, dict):
        return []
    cardinality = threshold.get("cardinality") or []
    field = threshold.get("field")
    if cardinality and isinstance(cardinality[0], dict):
        counted = cardinality[0].get("field")
        # Kibana tests `threshold.field.includes(...)`: list membership for a list, but a
        # substring test for a string, so "source.ip" clashes with a cardinality on "ip".
        if isinstance(counted, str) and counted in field:
            return [
                f"threshold.cardinality[0].field: {counted!r} is (part of) a field grouped by "
                "in threshold.field; Kibana refuses it (the cardinality would always be 1)"
            ]
    return []


def ndjson_problems(text: str | bytes, *, strict: bool = False) -> list[str]:
    """Every problem in an import file, each naming its line and rule_id. Lines are split
    and skipped the way Kibana's import does: blank lines, the export summary, exception
    lists and connectors are not rules."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            problems.append(f"line {number}: not JSON: {error}")
            continue
        if isinstance(item, dict) and (
            _SUMMARY_KEY in item or _CONNECTOR_KEY in item or any(k in item for k in _EXCEPTION_KEYS)
        ):
            continue
        if item is None:
            continue
        rule_id = item.get("rule_id") if isinstance(item, dict) else None
        label = f"line {number} (rule_id {rule_id!r})" if isinstance(rule_id, str) else f"line {number}"
        problems += [f"{label}: {problem}" for problem in rule_problems(item, strict=strict)]
        if isinstance(rule_id, str):
            if rule_id in seen:
                problems.append(
                    f"{label}: rule_id also on line {seen[rule_id]}; without overwrite Kibana "
                    "reports the second as a duplicate"
                )
            else:
                seen[rule_id] = number
    return problems


LISTS_SCHEMA_PATH = DETECTION_RULES / "schemas" / "kibana-lists-api.schema.json"


@cache
def _lists_validator(definition: str) -> Draft202012Validator:
    schema = json.loads(LISTS_SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator({**schema, "$ref": f"#/$defs/{definition}"}, format_checker=Draft202012Validator.FORMAT_CHECKER)


def lists_api_problems(body: Any, definition: str) -> list[str]:
    """`path: message` for each way `body` breaks one of kibana-lists-api.schema.json's
    definitions (ExceptionListImport, ExceptionListItemImport, CreateListRequestBody)."""
    errors = sorted(_lists_validator(definition).iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(object)'}: {e.message}" for e in errors]


def exception_object_problems(obj: Any) -> list[str]:
    """A line of the exception import NDJSON, as an item (it has entries or item_id) or a list."""
    is_item = isinstance(obj, dict) and ("entries" in obj or "item_id" in obj)
    return lists_api_problems(obj, "ExceptionListItemImport" if is_item else "ExceptionListImport")
