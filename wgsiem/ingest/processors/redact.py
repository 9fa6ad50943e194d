"""The redact processor: text that grok patterns match, replaced by the pattern's name.

Elasticsearch's RedactProcessor (x-pack, a platinum feature). For each pattern in turn
it searches the field again and again (from the end of the last match, one further after
an empty one), and records every match under the name of the pattern's first capture
(`%{EMAILADDRESS:EMAIL}` records EMAIL). The matches of all patterns are then sorted by
start and overlapping ones merged: a run of regions each starting no later than the
previous one's end becomes one, named after the longest (the first of equal length).
Each region becomes prefix + name + suffix.

Like Elasticsearch, positions and lengths are those of the UTF-8 bytes, and any failure
inside the matching (a pattern with no capture, whose first capture cannot be read;
merged regions out of order) fails the document with "Grok pattern matching timed out",
the ElasticsearchTimeoutException every RuntimeException there is turned into.

The licence: the offline engine behaves as a cluster whose licence allows redact (a
trial, as Elasticsearch's own tests run). `skip_if_unlicensed` is read and checked, and
never has anything to skip.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import IngestError, invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

_IS_REDACTED = "_ingest._redact._is_redacted"


@lru_cache(maxsize=256)
def _compiled(source: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the grok translator's classes may warn ([[, --)
        return re.compile(source, re.MULTILINE)


def _timed_out() -> IngestError:
    return IngestError("Grok pattern matching timed out", "elasticsearch_timeout_exception")


class Redact(Processor):
    type = "redact"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.formats.grok import Grok, GrokError, ecs_patterns

        self.field = opts.string("field")
        patterns = opts.list("patterns")
        self.ignore_missing = opts.boolean("ignore_missing", True)
        opts.boolean("skip_if_unlicensed", False)  # always licensed here: nothing to skip
        self.prefix = opts.string("prefix", "<")
        self.suffix = opts.string("suffix", ">")
        self.trace_redact = opts.boolean("trace_redact", False)
        if not patterns:
            raise opts.error("List of patterns must not be empty", "patterns")
        definitions = opts.map("pattern_definitions", None)
        bank = dict(ecs_patterns())
        if definitions:
            bank.update(definitions)
        # (regex, name of the first capture or None): one grok per pattern, as in Elasticsearch.
        self.groks: list[tuple[re.Pattern[str], str | None]] = []
        try:
            for pattern in patterns:
                grok = Grok([pattern], bank)
                self.groks.append((_compiled(grok.regex), next(iter(grok.field_types), None)))
        except (GrokError, re.error) as error:
            raise opts.error(f"Invalid regex pattern found in: {java_str(patterns)}. {error}", "patterns") from None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        text = doc.get(self.field, True)
        if text is not None and not isinstance(text, str):
            raise invalid(f"field [{self.field}] of type [{java_type(text)}] cannot be cast to [java.lang.String]")
        if text is None:
            if self.ignore_missing:
                return
            raise invalid(f"field [{self.field}] is null or missing")
        redacted = redact(text, self.groks, self.prefix, self.suffix)
        doc.set(self.field, redacted)
        if self.trace_redact and redacted != text:
            already = doc.get(_IS_REDACTED, True)
            if already is not None and not isinstance(already, bool):
                raise invalid(f"field [{_IS_REDACTED}] of type [{java_type(already)}] cannot be cast to [java.lang.Boolean]")
            if already is not True:
                doc.set(_IS_REDACTED, True)

    def produced_fields(self) -> list[str]:
        return [self.field]


def redact(text: str, groks: list[tuple[re.Pattern[str], str | None]], prefix: str, suffix: str) -> str:
    """RedactProcessor.matchRedact."""
    found: list[tuple[int, int, str]] = []
    length = len(text)
    for regex, name in groks:
        if name is None:
            raise _timed_out()  # captureConfig().get(0) on a pattern without captures
        offset = 0
        while offset <= length:
            m = regex.search(text, offset)
            if m is None:
                break
            found.append((m.start(), m.end(), name))
            offset = offset + 1 if m.end() == offset else m.end()
            if offset == length:
                break
    if not found:
        return text
    size = _byte_length(text)
    out: list[str] = []
    read = 0
    for start, end, name in _merge(found, size):
        if start < read:
            raise _timed_out()  # System.arraycopy with a negative length
        out.append(text[read:start])
        out.append(prefix + name + suffix)
        read = end
    out.append(text[read:])
    return "".join(out)


def _byte_length(text: str) -> Any:
    """A function giving a region's length in UTF-8 bytes, as Elasticsearch measures it."""
    if text.isascii():
        return lambda start, end: end - start
    return lambda start, end: len(text[start:end].encode("utf-8", "surrogatepass"))


def _merge(found: list[tuple[int, int, str]], size: Any) -> list[tuple[int, int, str]]:
    """mergeOverlappingReplacements, with its rule for a run: each next region must start no
    later than the end of the region before it (not of the whole run)."""
    if len(found) == 1:
        return found
    regions = sorted(found, key=lambda r: r[0])
    merged: list[tuple[int, int, str]] = []
    current, following = 0, 1
    while current < len(regions):
        head = regions[current]
        if following >= len(regions) or head[1] < regions[following][0]:
            merged.append(head)
        else:
            while True:
                previous_end = regions[following][1]
                following += 1
                if not (following < len(regions) and previous_end >= regions[following][0]):
                    break
            merged.append(_longest(regions[current:following], size))
        current = following
        following += 1
    return merged


def _longest(run: list[tuple[int, int, str]], size: Any) -> tuple[int, int, str]:
    """mergeLongestRegion: the run's start, its furthest end, the longest region's name."""
    longest = run[0]
    end = run[0][1]
    for region in run[1:]:
        if size(region[0], region[1]) > size(longest[0], longest[1]):
            longest = region
        end = max(end, region[1])
    return (run[0][0], end, longest[2])
