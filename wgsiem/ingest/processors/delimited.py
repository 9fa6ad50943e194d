"""The processor that splits a delimited line into named fields: csv."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument, java_type
from wgsiem.ingest.errors import invalid
from wgsiem.ingest.formats.csv_line import CsvLine, CsvLineError
from wgsiem.ingest.java.strings import utf16_len
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


class Csv(Processor):
    type = "csv"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        quote = opts.string("quote", '"')
        if utf16_len(quote) != 1:
            raise opts.error("quote has to be single character like \" or '", "quote")
        separator = opts.string("separator", ",")
        if utf16_len(separator) != 1:
            raise opts.error("separator has to be single character like , or ;", "separator")
        trim = opts.boolean("trim", False)
        options: dict[str, Any] = {}
        if "empty_value" in opts.config:
            options["empty_value"] = opts.raw("empty_value")  # given as null: "required property is missing"
        self.ignore_missing = opts.boolean("ignore_missing", False)
        headers = opts.list("target_fields")
        if not headers:
            raise opts.error("target fields list can't be empty", "target_fields")
        for header in headers:
            if not isinstance(header, str):
                raise opts.error(f"every target field must be a string, not [{java_type(header)}]", "target_fields")
        self.headers = headers
        self.line = CsvLine(quote, separator, trim, headers, **options)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        text = doc.subject(self.field, "cannot process it.", ignore_missing=self.ignore_missing, kind=str)
        if text is None:
            return
        try:
            self.line.parse(text, doc.set)
        except CsvLineError as error:
            raise invalid(str(error)) from None

    def produced_fields(self) -> list[str]:
        return list(self.headers)
