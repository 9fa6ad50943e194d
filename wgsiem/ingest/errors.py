"""Errors with Elasticsearch's exception types, so responses can carry the same bodies.

Two families: a pipeline that cannot be built (`PipelineConfigError`, a `parse_exception` with the
processor's type, tag and property, answered with HTTP 400), and a document that fails
while running (`IngestError`, reported per document and handled by `on_failure`).
"""

from __future__ import annotations

import re
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
        caused_by: dict[str, Any] | None = None,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        message = f"[{property_name}] {reason}" if property_name else reason
        super().__init__(message)
        self.reason = message
        self.processor_type = processor_type
        self.processor_tag = processor_tag
        self.property_name = property_name
        self.error_type = error_type
        self.caused_by = caused_by
        self.status = status
        # The exception's own fields, printed after the es.* metadata (metadataToXContent: a
        # script_exception's script_stack, script, lang, position).
        self.details = details
        # readProcessorConfigs builds every processor of a list and throws the first failure
        # with the later ones added as suppressed exceptions (printed under "suppressed").
        self.suppressed: list[PipelineConfigError] = []

    @classmethod
    def java(cls, exception: str, message: str, **where: Any) -> PipelineConfigError:
        """A plain Java exception out of a processor factory, as readProcessor wraps it: an
        ElasticsearchException of type `exception` whose reason is the cause's toString."""
        simple = re.split(r"[.$]", exception)[-1]  # getSimpleName: a nested class without its outer one
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", simple).lower()
        property_name = where.pop("property_name", None)
        error = cls(f"{exception}: {message}", error_type="exception", caused_by={"type": name, "reason": message}, **where)
        error.property_name = property_name  # metadata only: the reason is the cause's, unprefixed
        return error

    def where(self) -> str:
        """'processor [set] (tag t)' for messages meant for people, not for the ES body."""
        parts = []
        if self.processor_type:
            parts.append(f"processor [{self.processor_type}]")
        if self.processor_tag:
            parts.append(f"tag [{self.processor_tag}]")
        return " ".join(parts)

    def _render(self, root: bool) -> dict[str, Any]:
        """ElasticsearchException.toXContent: type, reason, the es.* metadata; caused_by except
        in a root cause (REST_EXCEPTION_SKIP_CAUSE), suppressed exceptions always."""
        cause: dict[str, Any] = {"type": self.error_type, "reason": self.reason}
        if self.processor_type is not None:
            cause["processor_type"] = self.processor_type
        if self.processor_tag is not None:
            cause["processor_tag"] = self.processor_tag
        if self.property_name is not None:
            cause["property_name"] = self.property_name
        if self.details:
            cause.update(self.details)
        if self.caused_by is not None and not root:
            cause["caused_by"] = dict(self.caused_by)
        if self.suppressed:
            cause["suppressed"] = [other._render(root) for other in self.suppressed]
        return cause

    def body(self) -> dict[str, Any]:
        """Elasticsearch's error answer for this error (status 400, or 500 for what ES does not
        catch as a bad request)."""
        return {"error": {"root_cause": [self._render(True)], **self._render(False)}, "status": self.status}


class IngestError(WgsiemError):
    """A document failed in a processor; `error_type` is Elasticsearch's exception name."""

    def __init__(
        self,
        reason: str,
        error_type: str = "illegal_argument_exception",
        *,
        caused_by: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type
        self.caused_by = caused_by  # printed in the error, not in its root cause
        self.details = details  # the exception's own fields (a script_exception's script_stack, ...)
        # Where it happened, filled in by the step that ran the processor (innermost wins,
        # as Elasticsearch keeps the first IngestProcessorException it wraps).
        self.processor_type: str | None = None
        self.processor_tag: str | None = None
        self.pipeline: str | None = None

    @property
    def root_message(self) -> str:
        """Throwable.getRootCause's message: the innermost cause's (`_ingest.on_failure_message`)."""
        cause: dict[str, Any] | None = self.caused_by
        reason = self.reason
        while cause is not None:
            reason = cause.get("reason", reason)
            cause = cause.get("caused_by")
        return reason

    def body(self) -> dict[str, Any]:
        """The `error` object of a `_simulate` document (the wrapper unwrapped, as ES does)."""
        cause: dict[str, Any] = {"type": self.error_type, "reason": self.reason}
        if self.details:
            cause.update(self.details)
        if self.caused_by is None:
            return {"root_cause": [dict(cause)], **cause}
        return {"root_cause": [dict(cause)], **cause, "caused_by": dict(self.caused_by)}


class DropDocument(Exception):  # noqa: N818 - a signal, not an error
    """The drop processor ran: the document is discarded, with no error."""


def invalid(reason: str) -> IngestError:
    return IngestError(reason, "illegal_argument_exception")
