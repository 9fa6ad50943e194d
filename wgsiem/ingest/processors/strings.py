"""Processors that transform values: lowercase, uppercase, trim, gsub, split, join, convert,
html_strip, urldecode."""

from __future__ import annotations

import re
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import IngestError, invalid
from wgsiem.ingest.java.regex import JavaRegexError, compile_java, java_replacement
from wgsiem.ingest.java.strings import java_trim
from wgsiem.ingest.java.types import es_exception_name
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


class _StringProcessor(Processor):
    """Elasticsearch's AbstractStringProcessor: a string, or a list of strings, in place or to a target."""

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.target = opts.string("target_field", self.field)

    def transform(self, value: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.subject(self.field, "cannot process it.", ignore_missing=self.ignore_missing)
        if value is None:
            return
        if isinstance(value, list):
            out = []
            for item in value:
                if not isinstance(item, str):
                    if item is None:  # the message's value.getClass() meets the null first
                        raise IngestError('Cannot invoke "Object.getClass()" because "value" is null', "null_pointer_exception")
                    raise invalid(
                        f"value [{java_str(item)}] of type [{java_type(item)}] in list field [{self.field}] "
                        "cannot be cast to [java.lang.String]"
                    )
                out.append(self.transform(item))
            doc.set(self.target, out)
            return
        if not isinstance(value, str):
            raise invalid(f"field [{self.field}] of type [{java_type(value)}] cannot be cast to [java.lang.String]")
        doc.set(self.target, self.transform(value))

    def produced_fields(self) -> list[str]:
        return [self.target]


class Lowercase(_StringProcessor):
    type = "lowercase"

    def transform(self, value: str) -> str:
        return value.lower()


class Uppercase(_StringProcessor):
    type = "uppercase"

    def transform(self, value: str) -> str:
        return value.upper()


class HtmlStrip(_StringProcessor):
    type = "html_strip"

    def transform(self, value: str) -> str:
        # HtmlStripProcessor's shortcut: without both '<' and '>' the value is left as it
        # is, character references included.
        if "<" not in value or ">" not in value:
            return value
        from wgsiem.ingest.formats.html_strip import strip_html

        return strip_html(value)


class UrlDecode(_StringProcessor):
    type = "urldecode"

    def transform(self, value: str) -> str:
        from wgsiem.ingest.formats.url_decode import UrlDecodeError, java_url_decode

        try:
            return java_url_decode(value)
        except UrlDecodeError as error:
            raise invalid(str(error)) from None


class Trim(_StringProcessor):
    type = "trim"

    def transform(self, value: str) -> str:
        return java_trim(value)


class Gsub(_StringProcessor):
    type = "gsub"

    def __init__(self, opts: Options, builder: Any) -> None:
        super().__init__(opts, builder)
        pattern = opts.string("pattern")
        try:
            self.pattern = compile_java(pattern)
        except JavaRegexError as error:
            raise opts.error(f"Invalid regex pattern. {error}", "pattern") from None
        replacement = opts.string("replacement")
        # Matcher.replaceAll reads the replacement per document: a bad one fails each document.
        self.replace: Any = None
        self.replace_error: JavaRegexError | None = None
        try:
            self.replace = java_replacement(replacement)
        except JavaRegexError as error:
            self.replace_error = error

    def transform(self, value: str) -> str:
        if self.replace_error is not None:
            raise _replacement_failed(self.replace_error)
        try:
            return self.pattern.sub(self.replace, value)
        except JavaRegexError as error:  # a group the pattern does not have
            raise _replacement_failed(error) from None


def _replacement_failed(error: JavaRegexError) -> IngestError:
    """Matcher's replacement errors, as the Java exceptions they are."""
    return IngestError(error.message, es_exception_name(error.java_exception))


def java_split(pattern: re.Pattern[str], text: str, keep_trailing: bool) -> list[str]:
    """String.split(regex, limit 0 or -1): trailing empties dropped unless kept; a zero-width
    match at the start gives no leading empty string."""
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        if match.end() == 0:
            continue
        if match.start() == match.end() and match.start() >= len(text):
            break
        parts.append(text[position : match.start()])
        position = match.end()
    parts.append(text[position:])
    if not keep_trailing:
        while parts and parts[-1] == "":
            parts.pop()
        if not parts:
            parts = [] if text else [""]
    return parts


class Split(Processor):
    type = "split"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        separator = opts.string("separator")
        # String.split compiles the separator per document: a bad one fails each document,
        # not the pipeline.
        self.separator: re.Pattern[str] | None = None
        self.separator_error: str | None = None
        try:
            self.separator = compile_java(separator)
        except JavaRegexError as error:
            self.separator_error = str(error)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.preserve_trailing = opts.boolean("preserve_trailing", False)
        self.target = opts.string("target_field", self.field)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.subject(self.field, "cannot split.", ignore_missing=self.ignore_missing, kind=str)
        if value is None:
            return
        if self.separator is None:
            raise IngestError(self.separator_error or "", "pattern_syntax_exception")
        doc.set(self.target, java_split(self.separator, value, self.preserve_trailing))

    def produced_fields(self) -> list[str]:
        return [self.target]


class Join(Processor):
    type = "join"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        self.separator = opts.string("separator")
        self.target = opts.string("target_field", self.field)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.subject(self.field, "cannot join.", kind=list)
        doc.set(self.target, self.separator.join(java_str(item) for item in value))

    def produced_fields(self) -> list[str]:
        return [self.target]


class Convert(Processor):
    type = "convert"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.convert import CONVERT_TYPES, convert_value

        self.convert_value = convert_value
        self.field = opts.string("field")
        given = opts.string("type")
        self.to = given.lower()  # ES reads the type case-insensitively
        if self.to not in CONVERT_TYPES:
            raise opts.error(f"type [{given}] not supported, cannot convert field.", "type")
        self.target = opts.string("target_field", self.field)
        self.ignore_missing = opts.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.formats.convert import ConvertError

        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise invalid(f"Field [{self.field}] is null, cannot be converted to type [{self.to}]")
        try:
            if isinstance(value, list):
                converted: Any = [self.convert_value(item, self.to) for item in value]
            else:
                converted = self.convert_value(value, self.to)
        except ConvertError as error:
            raise invalid(str(error)) from None
        doc.set(self.target, converted)

    def produced_fields(self) -> list[str]:
        return [self.target]
