"""Processors for a data stream's failure store: recover_failure_document, which turns a
document the failure store wrote back into the document whose indexing failed.

A failure-store document holds the original request under `document` (`index`, `id` and
`routing` when the request had them, `source` always), what went wrong under `error`, and
an `@timestamp` of its own. Recovering it restores the original `_source` and its `_index`,
`_id` and `_routing`, and keeps everything the failure document held (bar the original
source, which is now the document) in `_ingest.pre_recovery`.
"""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import METADATA_KEYS, IngestDocument, java_type
from wgsiem.ingest.errors import IngestError, invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.painless.errors import java_cast_message
from wgsiem.ingest.pipeline import Processor, Trace

_METADATA = frozenset(METADATA_KEYS)
_UNEXPECTED = "failure store document has unexpected structure, missing required [{}] field"
# Which field of `document` restores which metadata field, in the order Elasticsearch sets them.
_RESTORED = (("index", "_index"), ("routing", "_routing"), ("id", "_id"))


def _cast_error(value: Any, to_class: str) -> IngestError:
    """A Java cast of a JSON value that is not of the class the processor casts it to."""
    return IngestError(java_cast_message(java_type(value), to_class), "class_cast_exception")


class RecoverFailureDocument(Processor):
    """RecoverFailureDocumentProcessor (no options of its own).

    The checks come first and change nothing; after them Elasticsearch mutates the document
    step by step with no rollback, so a failure later on (a metadata value that is not a
    string, a `document.source` that is not an object) leaves what was already done, which
    `ignore_failure` and `on_failure` then see."""

    type = "recover_failure_document"

    def __init__(self, opts: Options, builder: Any) -> None:
        pass

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        # hasField: a key holding null is present; `document.source` needs `document` to be
        # an object (a list, a scalar or null has no `source`).
        for required in ("document", "document.source", "error"):
            if not doc.has(required):
                raise invalid(_UNEXPECTED.format(required))
        ctx = doc.ctx
        failed: dict[str, Any] = ctx["document"]
        pre_recovery = dict(ctx)  # shallow, as a HashMap copy of the ctx map is
        pre_recovery["document"] = {key: value for key, value in failed.items() if key != "source"}
        doc.ingest["pre_recovery"] = pre_recovery
        for field, metadata_key in _RESTORED:
            value = failed.get(field)
            if value is not None:
                if not isinstance(value, str):
                    raise _cast_error(value, "java.lang.String")
                ctx[metadata_key] = value
        original = failed.get("source")
        if original is not None and not isinstance(original, dict):
            raise _cast_error(original, "java.util.Map")
        if original is not None:
            clashes = sorted(key for key in original if key in _METADATA)
            if clashes:
                # Elasticsearch puts these keys in the raw _source map, beside the metadata of
                # the same names; this engine keeps source and metadata in one map and could
                # only overwrite the metadata, so it says so rather than answer differently.
                raise IngestError(
                    f"recovering a source field named [{', '.join(clashes)}] is not supported by the offline engine "
                    "(Elasticsearch keeps it in _source, apart from the metadata field of the same name)",
                    "unsupported_operation_exception",
                )
        for key in [key for key in ctx if key not in _METADATA]:
            del ctx[key]
        if original is None:
            # Map.clear has run; HashMap.putAll(null) throws on the argument's size().
            raise IngestError('Cannot invoke "java.util.Map.size()" because "m" is null', "null_pointer_exception")
        ctx.update(original)
