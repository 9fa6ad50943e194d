"""Processors that turn a field's value into another kind of value: bytes (a size written
with a unit into a number of bytes), sort (a list into order)."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import IngestError
from wgsiem.ingest.formats.byte_size import ByteSizeError, parse_byte_size
from wgsiem.ingest.java.sort import JavaSortError, java_sort
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace
from wgsiem.ingest.processors.strings import _StringProcessor


class Bytes(_StringProcessor):
    """BytesProcessor: an AbstractStringProcessor whose result is a long."""

    type = "bytes"

    def transform(self, value: str) -> int:
        try:
            return parse_byte_size(value)
        except ByteSizeError as error:
            raise IngestError(str(error), "parse_exception") from None


class Sort(Processor):
    type = "sort"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.target = opts.string("target_field", self.field)
        order = opts.string("order", "asc")
        if order not in ("asc", "desc"):
            raise opts.error(f"Sort direction [{order}] not recognized. Valid values are: [asc, desc]", "order")
        self.descending = order == "desc"

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        values = doc.subject(self.field, "cannot sort.", kind=list)
        try:
            doc.set(self.target, java_sort(values, self.descending))
        except JavaSortError as error:
            raise IngestError(error.reason, error.error_type) from None

    def produced_fields(self) -> list[str]:
        return [self.target]
