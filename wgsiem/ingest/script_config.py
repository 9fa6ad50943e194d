"""A script's definition, read as Elasticsearch's Script.parse reads it, and its compilation
as ScriptService.compile does: for the `script` processor and for every processor's `if`.

A definition is an object with `source` (or the deprecated `inline`) or `id`, and `lang`,
`params`, `options`; an `if` may also be a bare string (the source). Script.parse walks the
object's keys in the order the JSON it re-serialized has them (Java HashMap order), so
which of two conflicting keys is reported, and the `[line:column]` of XContentParseException
messages, follow that order. Errors have Elasticsearch's bodies: an XContentParseException or
IllegalArgumentException wrapped by readProcessor into an `exception`, a missing stored script
`resource_not_found_exception` (404: there is no script store offline, so every id is
missing), a compile error `script_exception` with `script_stack` and `position`.

Sources: Script.java (Builder, PARSER), ScriptService.compile, ScriptProcessor.Factory,
ConfigurationUtils (extractConditional, normalizeScript, readProcessor) and
ScriptProcessorFactoryTests in elastic/elasticsearch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from wgsiem.ingest.errors import IngestError, PipelineConfigError
from wgsiem.ingest.painless import PainlessCompileError, PainlessRuntimeError, Script, compile_script
from wgsiem.ingest.painless.values import hash_order, jstr

MAX_SIZE_IN_BYTES = 65535  # script.max_size_in_bytes
_TOKEN_TYPES = {str: "VALUE_STRING", bool: "VALUE_BOOLEAN", int: "VALUE_NUMBER", float: "VALUE_NUMBER", list: "START_ARRAY", dict: "START_OBJECT"}
# Elasticsearch bundles two other script engines; neither runs in the ingest contexts.
_OTHER_ENGINES = {
    "mustache": "mustache engine does not know how to handle context [{}]",
    "expression": "expression engine does not know how to handle script context [{}]",
}


@dataclass
class ScriptSpec:
    """What Script.parse keeps: inline source or stored id, lang, params, options."""

    source: str | None = None
    stored_id: str | None = None
    lang: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def _serialized(config: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """The compact JSON XContentBuilder.map writes for the config (HashMap key order) and the
    column of each top-level key's name and value, for XContentParseException locations."""
    parts = ["{"]
    columns: dict[str, int] = {}
    values: dict[str, int] = {}
    for i, key in enumerate(hash_order(list(config))):
        if i:
            parts.append(",")
        columns[key] = len("".join(parts)) + 1
        parts.append(json.dumps(key, ensure_ascii=False) + ":")
        values[key] = len("".join(parts)) + 1
        parts.append(_json(config[key]))
    parts.append("}")
    return "".join(parts), {**{f"name:{k}": v for k, v in columns.items()}, **{f"value:{k}": v for k, v in values.items()}}


def _json(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json(value[k]) for k in hash_order(list(value))) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, float):
        return jstr(value)
    return json.dumps(value, ensure_ascii=False)


def _parse_error(message: str, column: int, cause: dict[str, Any] | None = None) -> PipelineConfigError:
    text = f"[1:{column}] {message}"
    caused_by: dict[str, Any] = {"type": "x_content_parse_exception", "reason": text}
    if cause is not None:
        caused_by["caused_by"] = cause
    return PipelineConfigError(f"org.elasticsearch.xcontent.XContentParseException: {text}", error_type="exception", caused_by=caused_by)


def _iae(message: str) -> PipelineConfigError:
    return PipelineConfigError.java("java.lang.IllegalArgumentException", message)


def parse_script(config: dict[str, Any]) -> ScriptSpec:  # noqa: C901 - one case per field of Script's PARSER
    """Script.parse of an object (the PARSER's fields, then Builder.build)."""
    _, where = _serialized(config)
    spec = ScriptSpec()
    kind: str | None = None
    options: dict[str, Any] = {}
    for key in hash_order(list(config)):
        value = config[key]
        token = _TOKEN_TYPES.get(type(value), "VALUE_NULL" if value is None else "VALUE_EMBEDDED_OBJECT")
        if key in ("source", "inline"):
            if value is None or not isinstance(value, (str, dict)):
                raise _parse_error(f"[script] {key} doesn't support values of type: {token}", where[f"value:{key}"])
            if kind is not None:
                cause = {"type": "illegal_argument_exception", "reason": "must only use one of [source, id] when specifying a script"}
                raise _parse_error(f"[script] failed to parse field [{key}]", where[f"value:{key}"], cause)
            kind = "inline"
            if isinstance(value, dict):
                spec.source = _json(value)
                options["content_type"] = "application/json"
            else:
                spec.source = value
        elif key == "id":
            if not isinstance(value, str):
                raise _parse_error(f"[script] id doesn't support values of type: {token}", where[f"value:{key}"])
            if kind is not None:
                cause = {"type": "illegal_argument_exception", "reason": "must only use one of [source, id] when specifying a script"}
                raise _parse_error(f"[script] failed to parse field [{key}]", where[f"value:{key}"], cause)
            kind = "stored"
            spec.stored_id = value
        elif key == "lang":
            if not isinstance(value, str):
                raise _parse_error(f"[script] lang doesn't support values of type: {token}", where[f"value:{key}"])
            spec.lang = value
        elif key in ("options", "params"):
            if not isinstance(value, dict):
                raise _parse_error(f"[script] {key} doesn't support values of type: {token}", where[f"value:{key}"])
            if key == "options":
                for option, text in value.items():
                    if not isinstance(text, str):
                        raise _parse_error(f"[script] failed to parse field [{key}]", where[f"value:{key}"])
                    options[option] = text
            else:
                spec.params = value
        else:
            raise _parse_error(f"[script] unknown field [{key}]", where[f"name:{key}"])
    if kind is None:
        raise _iae("must specify either [source] for an inline script or [id] for a stored script")
    if kind == "inline":
        if spec.lang is None:
            spec.lang = "painless"
        extra = {k: v for k, v in options.items() if k != "content_type"}
        if extra:
            rendered = "{" + ", ".join(f"{k}={v}" for k, v in ((k, extra[k]) for k in hash_order(list(extra)))) + "}"
            raise _iae(f"illegal compiler options [{rendered}] specified")
    else:
        if spec.lang is not None:
            raise _iae("illegally specified <lang> for a stored script")
        if options:
            raise _iae("field [options] cannot be specified using a stored script")
    spec.options = options
    return spec


def missing_stored_script(stored_id: str) -> str:
    return f"unable to find script [{stored_id}] in cluster state"


def compile_spec(spec: ScriptSpec, context: str) -> Script | None:
    """ScriptService.compile: the engine for the lang, the size limit, then Painless. None for
    a stored script in a condition (compiled per document, where it fails: no script store)."""
    if spec.stored_id is not None:
        if context == "condition":
            return None
        raise PipelineConfigError(missing_stored_script(spec.stored_id), error_type="resource_not_found_exception", status=404)
    assert spec.source is not None and spec.lang is not None
    if spec.lang in _OTHER_ENGINES:
        raise _iae(_OTHER_ENGINES[spec.lang].format("processor_conditional" if context == "condition" else "ingest"))
    if spec.lang != "painless":
        raise _iae(f"script_lang not supported [{spec.lang}]")
    if len(spec.source) > MAX_SIZE_IN_BYTES:
        raise _iae(
            f"exceeded max allowed inline script size in bytes [{MAX_SIZE_IN_BYTES}] with size [{len(spec.source)}] for script [{spec.source}]"
        )
    try:
        return compile_script(spec.source, context)
    except PainlessCompileError as error:
        raise compile_failure(error) from None


def stored_condition(spec: ScriptSpec) -> Any:
    """An `if` naming a stored script: ConditionalProcessor compiles it per document, where it
    is missing."""
    assert spec.stored_id is not None
    message = missing_stored_script(spec.stored_id)

    def condition(ctx: Any) -> bool:
        raise IngestError(message, "resource_not_found_exception")

    return condition


def compile_failure(error: PainlessCompileError) -> PipelineConfigError:
    """The ScriptException of a compile error, as readProcessor passes it on (with the
    processor's type and tag added by the caller); str() names line and column for people."""
    body = error.script_exception()
    caused_by = body.pop("caused_by")
    error_type, reason = body.pop("type"), body.pop("reason")
    failure = PipelineConfigError(reason, error_type=error_type, caused_by=caused_by, details=body)
    failure.message = f"compile error: {error}"  # for people: the line and column
    return failure


def runtime_failure(error: PainlessRuntimeError) -> IngestError:
    """A script's runtime error as the document's failure: a `script_exception` whose root
    cause (what `_ingest.on_failure_message` gets) is the Java exception's message."""
    body = error.script_exception()
    caused_by = body.pop("caused_by")
    error_type, reason = body.pop("type"), body.pop("reason")
    failure = IngestError(reason, error_type, caused_by=caused_by, details=body)
    failure.message = f"runtime error: {error}"
    return failure


def condition_failure(error: PainlessRuntimeError, tag: str | None, pipeline_id: str) -> IngestError:
    """An `if` that throws: the ConditionalProcessor failed, so `conditional` is the failed
    processor's type (what `_ingest.on_failure_processor_type` shows), with the step's tag."""
    failure = runtime_failure(error)
    failure.processor_type, failure.processor_tag, failure.pipeline = "conditional", tag, pipeline_id
    return failure
