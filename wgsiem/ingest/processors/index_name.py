"""The processor that names the target index after a date in the document: date_index_name.

It writes `_index` as a date-math expression, `<prefix{date||/rounding{format|zone}}>`, which
Elasticsearch resolves when the document is indexed; `_simulate` (and so this engine) shows
the expression itself.
"""

from __future__ import annotations

import re
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import PipelineConfigError, invalid
from wgsiem.ingest.mustache import template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

DEFAULT_DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXX"
# Locale.Builder.setLanguageTag's well-formed BCP 47 tags: language (with extlangs), script,
# region, variants, extensions, private use; or private use alone.
_LANGUAGE_TAG = re.compile(
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+",
    re.ASCII,
)
_REGION_ID = re.compile(r"[A-Za-z][A-Za-z0-9~/._+-]+", re.ASCII)


def _java_exception(opts: Options, exception: str, message: str) -> PipelineConfigError:
    """A plain Java exception from the factory, as ConfigurationUtils.readProcessor wraps it."""
    return PipelineConfigError(f"{exception}: {message}", processor_type=opts.type, processor_tag=opts.tag, error_type="exception")


def _zone_name(timezone: str | None) -> str:
    """How the expression names the zone: ZoneOffset.UTC as "UTC", any other ZoneId by its id."""
    from wgsiem.ingest.formats.date_formats import zone_id, zone_of

    if timezone is None:
        return "UTC"
    name = zone_id(zone_of(timezone))
    return "UTC" if name == "Z" else name


def _parser_locale(tag: str | None) -> str:
    """The language and region of a language tag, in the form the date parser reads."""
    if not tag:
        return "ENGLISH" if tag is None else "ROOT"
    parts = tag.split("-")
    region = next((p for p in parts[1:] if re.fullmatch(r"[A-Za-z]{2}|[0-9]{3}", p)), "")
    return f"{parts[0]}-{region}" if region else parts[0]


class DateIndexName(Processor):
    type = "date_index_name"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.date_formats import DateFormatError, DateParser, zone_of

        locale = opts.string("locale", None)
        timezone = opts.string("timezone", None)
        if timezone is not None:
            try:
                zone_of(timezone)
            except ValueError:
                if _REGION_ID.fullmatch(timezone):
                    raise _java_exception(opts, "java.time.zone.ZoneRulesException", f"Unknown time-zone ID: {timezone}") from None
                raise _java_exception(
                    opts, "java.time.DateTimeException", f"Invalid ID for region-based ZoneId, invalid format: {timezone}"
                ) from None
        if locale is not None and locale and not _LANGUAGE_TAG.fullmatch(locale):
            raise _java_exception(opts, "java.lang.IllegalArgumentException", f"Invalid language tag specified: {locale}")
        formats = opts.list("date_formats", None)
        if formats is None:
            formats = [DEFAULT_DATE_FORMAT]
        self.parsers = []
        for date_format in formats:
            if not isinstance(date_format, str):
                raise opts.error(f"every date format must be a string, not [{java_type(date_format)}]", "date_formats")
            try:
                self.parsers.append(DateParser([date_format], timezone or "UTC", _parser_locale(locale)))
            except DateFormatError as error:
                raise _java_exception(opts, "java.lang.IllegalArgumentException", str(error)) from None
        self.field = opts.string("field")
        self.prefix = template(opts.string("index_name_prefix", ""))
        self.rounding = template(opts.string("date_rounding"))
        self.index_format = template(opts.string("index_name_format", "yyyy-MM-dd"))
        self.zone = _zone_name(timezone)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        from wgsiem.ingest.formats.date_formats import DateFormatError, DateParseError, format_date

        value = doc.get(self.field)
        moment = None
        # Every format is tried and the last one that parses wins: DateIndexNameProcessor's
        # loop has no break.
        for parser in self.parsers:
            try:
                moment = parser.parse(value)
            except (DateParseError, DateFormatError, TypeError, ValueError, OverflowError):
                continue
        if moment is None:
            raise invalid(f"unable to parse date [{java_str(value)}]")
        prefix, index_format, rounding = self.prefix.render(doc), self.index_format.render(doc), self.rounding.render(doc)
        try:
            date = format_date(moment, index_format)
        except DateFormatError as error:
            raise invalid(str(error)) from None
        doc.set("_index", f"<{prefix}{{{date}||/{rounding}{{{index_format}|{self.zone}}}}}>")

    def produced_fields(self) -> list[str]:
        return ["_index"]
