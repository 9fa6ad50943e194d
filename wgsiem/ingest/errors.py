"""Errors with Elasticsearch's exception types, so responses can carry the same bodies.

Two families: a pipeline that cannot be built (`PipelineConfigError`, a `parse_exception` with the
processor's type, tag and property, answered with HTTP 400), and a document that fails
while running (`IngestError`, reported per document and handled by `on_failure`).
"""

from __future__ import annotations

from typing import Any

from ..errors import WgsiemError


class PipelineConfigError(WgsiemError):
    """A pipeline or processor definition Elasticsearch would refuse to create."""

    def __init__(
        self,
        reason: str,
        *,
        processor_type: str | None = None,
        processor_tag: str | None = None,
        property_name: str | None = None,
        error_type: str = "parse_exception",
    ) -> None:
        message = f"[{property_name}] {reason}" if property_name else reason
        super().__init__(message)
        self.reason = message
        self.processor_type = processor_type
        self.processor_tag = processor_tag
        self.property_name = property_name
        self.error_type = error_type

    def where(self) -> str:
        """'processor [set] (tag t)' for messages meant for people, not for the ES body."""
        parts = []
        if self.processor_type:
            parts.append(f"processor [{self.processor_type}]")
        if self.processor_tag:
            parts.append(f"tag [{self.processor_tag}]")
        return " ".join(parts)

    def body(self) -> dict[str, Any]:
        """Elasticsearch's 400 answer for this error."""
        cause: dict[str, Any] = {"type": self.error_type, "reason": self.reason}
        if self.processor_type is not None:
            cause["processor_type"] = self.processor_type
        if self.processor_tag is not None:
            cause["processor_tag"] = self.processor_tag
        if self.property_name is not None:
            cause["property_name"] = self.property_name
        return {"error": {"root_cause": [dict(cause)], **cause}, "status": 400}


class IngestError(WgsiemError):
    """A document failed in a processor; `error_type` is Elasticsearch's exception name."""

    def __init__(self, reason: str, error_type: str = "illegal_argument_exception") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type
        # Where it happened, filled in by the step that ran the processor (innermost wins,
        # as Elasticsearch keeps the first IngestProcessorException it wraps).
        self.processor_type: str | None = None
        self.processor_tag: str | None = None
        self.pipeline: str | None = None

    def body(self) -> dict[str, Any]:
        """The `error` object of a `_simulate` document (the wrapper unwrapped, as ES does)."""
        cause = {"type": self.error_type, "reason": self.reason}
        return {"root_cause": [dict(cause)], **cause}


class DropDocument(Exception):  # noqa: N818 - a signal, not an error
    """The drop processor ran: the document is discarded, with no error."""


def invalid(reason: str) -> IngestError:
    return IngestError(reason, "illegal_argument_exception")
