"""The package's JSON Schemas (wgsiem/package/schemas/*.schema.json) and their problems in
a person's words.

Each schema names the package-spec file it follows; `common.schema.json` holds what the
manifests share and is reached by its `$id`. A schema says why a value is refused in the
`description` of the part that refuses it: a noun for what a value should be ("a semantic
version"), a sentence for a rule ("only a variable of type select has options").

Kibana keeps parts of a saved object as JSON text (a dashboard's panelsJSON, a map's
layerListJSON). A schema marks such a string with `contentMediaType: application/json` and
gives its content's schema as `contentSchema`; JSON Schema leaves those two as annotations,
and the validator here applies them: the text is parsed and its content checked, each
problem's key running on into the parsed text (`attributes.panelsJSON[2].gridData.i`).
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource

from .files import Document
from .problems import Problem, key_path

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMAS = (
    "common", "manifest", "data-stream-manifest", "lifecycle", "fields", "changelog", "ingest-pipeline", "security-rule", "build",
    "kibana-dashboard", "kibana-index-pattern",
)

_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_UNEXPECTED = re.compile(r"\((.*) (?:was|were) unexpected\)")


def schema_path(name: str) -> Path:
    return SCHEMA_DIR / f"{name}.schema.json"


@cache
def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return schema


@cache
def _registry() -> Registry:
    resources = [(_schema(name)["$id"], Resource.from_contents(_schema(name))) for name in SCHEMAS]
    return Registry().with_resources(resources)


def _json_content(validator: Any, content_schema: Any, instance: Any, schema: dict[str, Any]) -> Any:  # noqa: ANN401 - jsonschema's keyword signature
    """`contentSchema` of a string whose `contentMediaType` is application/json: the string
    parsed and checked against it."""
    if schema.get("contentMediaType") != "application/json" or not isinstance(instance, str):
        return
    try:
        parsed = json.loads(instance)
    except json.JSONDecodeError as error:
        yield ValidationError(f"not valid JSON text: {error}")
        return
    yield from validator.descend(parsed, content_schema)


# Draft 2020-12, with contentSchema applied to JSON text (see the module's docstring).
Validator = validators.extend(Draft202012Validator, {"contentSchema": _json_content})


@cache
def validator(name: str) -> Draft202012Validator:
    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    checker: Draft202012Validator = Validator(schema, registry=_registry())
    return checker


def schema_problems(name: str, doc: Document) -> list[Problem]:
    """What the schema `name` refuses in the document, each with its key and line."""
    problems: list[Problem] = []
    for error in validator(name).iter_errors(doc.data):
        for path, message in _describe(error):
            problems.append(doc.problem(path, key_path(path) or None, message))
    return problems


def _describe(error: ValidationError) -> list[tuple[list[str | int], str]]:
    """(path, message) for one error; an unexpected-keys error gives one per key."""
    path: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    description = schema.get("description")
    kind = error.validator
    if kind == "required" and (match := _REQUIRED.match(error.message)):
        # An object's own description says what it is; only a rule's (an if/then branch,
        # which has no type) says why the key is needed.
        why = f": {description}" if description and "type" not in schema else " (required)"
        return [([*path, match.group(1)], f"missing{why}")]
    if kind == "additionalProperties":
        return [([*path, key], "not a key package-spec allows here (a misspelling?)") for key in _unexpected(error.message)]
    if kind in ("anyOf", "oneOf") and not description and error.context:
        return _describe(max(error.context, key=lambda e: len(e.absolute_path)))
    if kind == "type":
        return [(path, f"expected {_schema_type(error.validator_value)}, found {_value_type(error.instance)}")]
    if description and kind in ("enum", "const", "pattern"):
        return [(path, f"{_show(error.instance)} is not {description}")]
    if description and kind in ("not", "anyOf", "oneOf", "minItems"):
        return [(path, description)]
    return [(path, error.message)]


def _unexpected(message: str) -> list[str]:
    match = _UNEXPECTED.search(message)
    try:
        keys = ast.literal_eval(f"[{match.group(1)}]") if match else []
    except (ValueError, SyntaxError):
        keys = []
    return [str(key) for key in keys] or ["(a key)"]


_KINDS = {
    "object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer", "number": "a number",
    "boolean": "true or false", "null": "null",
}  # fmt: skip


def _schema_type(value: Any) -> str:
    """A schema's `type` (a name or a list of names) as YAML and JSON writers say it."""
    names = [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return " or ".join(_KINDS.get(name, name) for name in names)


def _value_type(value: Any) -> str:
    for kind, python in (("boolean", bool), ("object", dict), ("array", list), ("string", str), ("integer", int), ("number", float)):
        if isinstance(value, python):
            return _KINDS[kind]
    return "null" if value is None else type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
