"""Processors that extract structure from text: grok, dissect, kv, json, date."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import IngestError, PipelineConfigError, invalid
from wgsiem.ingest.formats.kv import KvSplitError, KvSplitter
from wgsiem.ingest.mustache import template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace
from wgsiem.ingest.processors.fields import field_template


class Grok(Processor):
    type = "grok"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.grok import Grok as GrokMatcher
        from wgsiem.ingest.formats.grok import GrokError

        self.field = opts.string("field")
        patterns = opts.list("patterns")
        if not patterns:
            raise opts.error("List of patterns must not be empty", "patterns")
        definitions = opts.map("pattern_definitions", None)
        self.trace_match = opts.boolean("trace_match", False)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        ecs = opts.string("ecs_compatibility", "disabled")
        if ecs not in ("disabled", "v1"):
            raise opts.error(f"unsupported mode '{ecs}'", "ecs_compatibility")
        if ecs == "v1":
            raise opts.error("ecs_compatibility [v1] pattern bank is not supported by the offline engine", "ecs_compatibility")
        try:
            self.grok = GrokMatcher(patterns, definitions, trace_match=self.trace_match)
        except GrokError as error:
            listed = "[" + ", ".join(java_str(p) for p in patterns) + "]"
            raise opts.error(f"Invalid regex pattern found in: {listed}. {error}", "patterns") from None
        self.multiple = len(patterns) > 1

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        text = doc.subject(self.field, "cannot process it.", ignore_missing=self.ignore_missing, kind=str)
        if text is None:
            return
        from wgsiem.ingest.formats.grok import GrokConversionError

        try:
            found = self.grok.match(text)
        except GrokConversionError as error:
            raise IngestError(str(error), error.error_type) from None
        if found is None:
            raise invalid(f"Provided Grok expressions do not match field value: [{text}]")
        index, captures = found
        for name, value in captures.items():
            doc.set(name, value)
        if self.trace_match:
            doc.ingest["_grok_match_index"] = str(index) if self.multiple else "0"

    def produced_fields(self) -> list[str]:
        return list(self.grok.field_types)


class Dissect(Processor):
    type = "dissect"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.dissect import Dissect as DissectParser
        from wgsiem.ingest.formats.dissect import DissectError

        self.field = opts.string("field")
        pattern = opts.string("pattern")
        separator = opts.string("append_separator", "")
        self.ignore_missing = opts.boolean("ignore_missing", False)
        try:
            self.parser = DissectParser(pattern, separator)
        except DissectError as error:
            # DissectParser's exception is not caught by the factory: readProcessor wraps it.
            reason = str(error)
            kind = "KeyParse" if reason.startswith("dissect key") else "PatternParse"
            message = f"Unable to parse {'key' if kind == 'KeyParse' else 'pattern'}: {pattern} Reason: {reason}"
            raise PipelineConfigError.java(f"org.elasticsearch.dissect.DissectException${kind}", message) from None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.formats.dissect import DissectMismatch

        text = doc.subject(self.field, "cannot process it.", ignore_missing=self.ignore_missing, kind=str)
        if text is None:
            return
        try:
            fields = self.parser.parse(text)
        except DissectMismatch as error:
            raise IngestError(str(error), "dissect_exception") from None
        for name, value in fields.items():
            doc.set(name, value)


class KeyValue(Processor):
    """KeyValueProcessor. `field` and `target_field` are templates: a field that renders
    empty, or is absent, is missing (`field [x] doesn't exist`, or skipped under
    ignore_missing); an empty target puts the keys at the root."""

    type = "kv"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = field_template(opts)
        self.target = field_template(opts, "target_field", None)
        field_split = opts.string("field_split")
        value_split = opts.string("value_split")
        trim_key = opts.string("trim_key", None)
        trim_value = opts.string("trim_value", None)
        prefix = opts.string("prefix", None)
        strip_brackets = opts.boolean("strip_brackets", False)
        include = opts.list("include_keys", None)
        exclude = opts.list("exclude_keys", None)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        try:
            self.splitter = KvSplitter(
                field_split,
                value_split,
                trim_key=trim_key,
                trim_value=trim_value,
                strip_brackets=strip_brackets,
                include_keys=include,
                exclude_keys=exclude,
                prefix=prefix,
            )
        except ValueError as error:
            raise opts.error(str(error)) from None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        target = self.target.render(doc) if self.target is not None else ""
        path = self.field.source if self.field.static else self.field.render(doc)
        if not path or not doc.has(path, True):
            if self.ignore_missing:
                return
            raise invalid(f"field [{path}] doesn't exist")
        text = doc.get(path, self.ignore_missing)
        if text is None:
            if self.ignore_missing:
                return
            raise invalid(f"field [{path}] is null, cannot extract key-value pairs.")
        if not isinstance(text, str):
            raise invalid(f"field [{path}] of type [{java_type(text)}] cannot be cast to [java.lang.String]")
        base = target + "." if target else ""
        try:
            pairs = self.splitter.split(text, field=path)
        except KvSplitError as error:
            self._put(doc, base, error.pairs)  # Elasticsearch has set the pairs before the bad one
            raise invalid(str(error)) from None
        self._put(doc, base, pairs)

    @staticmethod
    def _put(doc: IngestDocument, base: str, pairs: list[tuple[str, str]]) -> None:
        for key, value in pairs:
            path = base + key
            if doc.has(path):
                doc.append(path, value)
            else:
                doc.set(path, value)


_JSON_SPACE = " \t\n\r"
_JSON_CONSTANTS = {"NaN", "Infinity", "-Infinity"}


class Json(Processor):
    """JsonProcessor: the field's text (String.valueOf of its value) parsed as JSON, into
    `target_field` or merged into the document's root."""

    type = "json"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.field = opts.string("field")
        target = opts.string("target_field", None)
        self.add_to_root = opts.boolean("add_to_root", False)
        self.allow_duplicate_keys = opts.boolean("allow_duplicate_keys", False)
        strategy = opts.string("add_to_root_conflict_strategy", None)
        # ConflictStrategy.valueOf(upper case): "Merge" is merge
        if strategy is not None and strategy.upper() not in ("REPLACE", "MERGE"):
            raise opts.error(f"conflict strategy [{strategy}] not supported, cannot convert field.", "add_to_root_conflict_strategy")
        if self.add_to_root and target is not None:
            raise opts.error("Cannot set a target field while also setting `add_to_root` to true", "target_field")
        if strategy is not None and not self.add_to_root:
            raise opts.error("Cannot set `add_to_root_conflict_strategy` if `add_to_root` is false", "add_to_root_conflict_strategy")
        self.strict = opts.boolean("strict_json_parsing", True)
        self.merge = strategy is not None and strategy.upper() == "MERGE"
        self.target = target if target is not None else self.field

    def _parse(self, raw: Any) -> Any:
        """JsonProcessor.apply: the first JSON value of the text (null for a blank text); under
        strict_json_parsing, anything after it fails. A text that does not start with valid
        JSON fails in the parser itself (x_content_parse_exception; Python's wording)."""
        text = "null" if raw is None else java_str(raw)
        start = len(text) - len(text.lstrip(_JSON_SPACE))
        if start == len(text):
            return None

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in items:
                if key in out and not self.allow_duplicate_keys:
                    raise ValueError(f"Duplicate field '{key}'")
                out[key] = value
            return out

        def constant(name: str) -> Any:
            raise ValueError(f"Non-standard token '{name}'")

        try:
            value, end = json.JSONDecoder(object_pairs_hook=pairs, parse_constant=constant).raw_decode(text, start)
        except ValueError as error:
            raise IngestError(f"[1:{start + 1}] {error}", "x_content_parse_exception") from None
        rest = text[end:]
        if rest and not isinstance(value, (dict, list, str)) and rest[0] not in _JSON_SPACE:
            # Jackson wants a space after a root-level number or literal: 123abc is one bad token
            raise IngestError(f"[1:{end + 1}] Unexpected character ('{rest[0]}'): Expected space separating root-level values", "x_content_parse_exception")
        if self.strict and rest.strip(_JSON_SPACE):
            raise invalid(f"The input {text} is not valid JSON and the strict_json_parsing parameter is true")
        return value

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        if not self.add_to_root:
            doc.set(self.target, self._parse(doc.get(self.field)))
            return
        # add_to_root reads the field as a key of the root map, not as a path
        value = self._parse(doc.ctx.get(self.field))
        if not isinstance(value, dict):
            raise invalid("cannot add non-map fields to root of document")
        if self.merge:
            _merge(doc.ctx, value)
        else:
            doc.ctx.update(value)

    def produced_fields(self) -> list[str]:
        return [] if self.add_to_root else [self.target]


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


class Date(Processor):
    type = "date"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.date_formats import DateFormatError, format_date

        self.field = opts.string("field")
        self.target = opts.string("target_field", "@timestamp")
        self.formats = opts.list("formats")
        zone = template(opts.string("timezone", "UTC"))
        locale = template(opts.string("locale", "ENGLISH"))
        self.output_format = opts.string("output_format", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
        self.format_date = format_date
        self._timezone, self._locale = zone, locale
        self._parsers: dict[tuple[str, str], Any] = {}
        try:
            # Elasticsearch checks only output_format when it builds the pipeline; a bad input
            # format, zone or locale fails each document with "unable to parse date".
            format_date(datetime(2000, 1, 1, tzinfo=UTC), self.output_format)
        except DateFormatError as error:
            raise opts.error(str(error)) from None

    def _parser(self, timezone: str, locale: str) -> Any:
        from wgsiem.ingest.formats.date_formats import DateParser

        key = (timezone, locale)
        parser = self._parsers.get(key)
        if parser is None:
            parser = self._parsers[key] = DateParser(self.formats, timezone, locale)
        return parser

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.formats.date_formats import DateFormatError, DateParseError

        raw = doc.get(self.field)
        text = None if raw is None else java_str(raw)
        try:
            parser = self._parser(self._timezone.render(doc), self._locale.render(doc))
            moment = parser.parse(text)
        except (DateParseError, DateFormatError, TypeError, ValueError):
            raise invalid(f"unable to parse date [{text}]") from None
        doc.set(self.target, self.format_date(moment, self.output_format))

    def produced_fields(self) -> list[str]:
        return [self.target]
