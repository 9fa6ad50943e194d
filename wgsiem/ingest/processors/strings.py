"""Processors that transform values: lowercase, uppercase, trim, gsub, split, join, convert."""

from __future__ import annotations

import re
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import invalid
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


def java_trim(value: str) -> str:
    """String.trim: strips code points up to U+0020, not Unicode whitespace."""
    start, end = 0, len(value)
    while start < end and value[start] <= " ":
        start += 1
    while end > start and value[end - 1] <= " ":
        end -= 1
    return value[start:end]


class Trim(_StringProcessor):
    type = "trim"

    def transform(self, value: str) -> str:
        return java_trim(value)


_JAVA_GROUP = re.compile(r"\\(.)|\$(\d+|\{(\w+)\})")


def java_replacement(replacement: str) -> Any:
    """A Java Matcher replacement string ($1, ${name}, \\$) as a function of a Python match."""

    def render(match: re.Match[str]) -> str:
        out = []
        position = 0
        for token in _JAVA_GROUP.finditer(replacement):
            out.append(replacement[position : token.start()])
            if token.group(1) is not None:
                out.append(token.group(1))
            elif token.group(3) is not None:
                out.append(match.group(token.group(3)) or "")
            else:
                out.append(match.group(int(token.group(2))) or "")
            position = token.end()
        out.append(replacement[position:])
        return "".join(out)

    if not _JAVA_GROUP.search(replacement):
        return lambda match: replacement
    return render


def java_regex(pattern: str) -> str:
    """The Java named-group syntax in Python's spelling; the rest of the subset is shared."""
    return re.sub(r"\(\?<([A-Za-z][A-Za-z0-9]*)>", r"(?P<\1>", pattern)


class Gsub(_StringProcessor):
    type = "gsub"

    def __init__(self, opts: Options, builder: Any) -> None:
        super().__init__(opts, builder)
        pattern = opts.string("pattern")
        try:
            self.pattern = re.compile(java_regex(pattern))
        except re.error as error:
            raise opts.error(f"Invalid regex pattern. {error}", "pattern") from None
        self.replace = java_replacement(opts.string("replacement"))

    def transform(self, value: str) -> str:
        return self.pattern.sub(self.replace, value)


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
        try:
            self.separator = re.compile(java_regex(separator))
        except re.error as error:
            raise opts.error(f"Invalid regex pattern. {error}", "separator") from None
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.preserve_trailing = opts.boolean("preserve_trailing", False)
        self.target = opts.string("target_field", self.field)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.subject(self.field, "cannot split.", ignore_missing=self.ignore_missing, kind=str)
        if value is None:
            return
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
        from wgsiem.ingest.convert import CONVERT_TYPES, convert_value

        self.convert_value = convert_value
        self.field = opts.string("field")
        self.to = opts.string("type").lower()  # ES reads the type case-insensitively
        if self.to not in CONVERT_TYPES:
            raise opts.error(f"type [{self.to}] not supported, cannot convert field.", "type")
        self.target = opts.string("target_field", self.field)
        self.ignore_missing = opts.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.convert import ConvertError

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
