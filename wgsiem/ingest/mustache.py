"""The Mustache subset Elasticsearch renders in processor options (`{{field}}`, `{{{field}}}`).

In ingest templates `{{x}}` is escaped for the template's media type (JSON string escaping
by default: that is why pipelines write `{{{_ingest.on_failure_message}}}`), while
`{{{x}}}` and `{{& x}}` are inserted raw. Names are dotted paths looked up in the
document (`_source.` and `_ingest.` prefixes included); a missing value renders empty.
Sections (`{{#x}}`), partials and comments are outside the subset and refused.
"""

from __future__ import annotations

import copy
import re
import urllib.parse
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from wgsiem.ingest.document import IngestDocument, java_str
from wgsiem.ingest.errors import PipelineConfigError

MEDIA_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")
_TAG = re.compile(r"\{\{\{\s*(.*?)\s*\}\}\}|\{\{\s*([&#^/!>=]?)\s*(.*?)\s*\}\}", re.S)
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_JSON_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_MISSING = object()


def _json_escape(text: str) -> str:
    if not _NEEDS_JSON_ESCAPE.search(text):
        return text
    return _NEEDS_JSON_ESCAPE.sub(lambda m: _JSON_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


_ENCODERS: dict[str, Callable[[str], str]] = {
    "application/json": _json_escape,
    "text/plain": lambda text: text,
    # Java's URLEncoder: space is '+', and '*' '-' '.' '_' are kept.
    "application/x-www-form-urlencoded": lambda text: urllib.parse.quote_plus(text, safe="*-._"),
}


def _lookup(doc: IngestDocument, parts: tuple[str, ...]) -> Any:
    """Mustache's dotted lookup over the document model (ctx, with `_source` and `_ingest`)."""
    head = parts[0]
    if head == "_ingest":
        context: Any = doc.ingest
    elif head == "_source":
        context = doc.ctx
    else:
        context = doc.ctx.get(head, _MISSING)
    for part in parts[1:]:
        if type(context) is dict:
            context = context.get(part, _MISSING)
        elif isinstance(context, list) and part.isdigit() and int(part) < len(context):
            context = context[int(part)]
        else:
            return _MISSING
    return context


Tag = tuple[tuple[str, ...], "Callable[[str], str] | None"]  # a name's keys, and its escaping (None: raw)


class Template:
    """A compiled template; `static` is set when it holds no tag, so callers skip rendering."""

    __slots__ = ("source", "parts", "static", "render", "_tag")

    def __init__(self, source: str, media_type: str = "application/json") -> None:
        self.source = source
        encode = _ENCODERS[media_type]
        parts: list[str | Tag] = []
        position = 0
        for match in _TAG.finditer(source):
            if match.start() > position:
                parts.append(source[position : match.start()])
            if match.group(1) is not None:
                parts.append((tuple(match.group(1).split(".")), None))
            else:
                sigil, name = match.group(2), match.group(3)
                if sigil in ("#", "^", "/", "!", ">", "="):
                    raise PipelineConfigError(
                        f"mustache tag [{match.group()}] is not supported by the offline engine "
                        "(only {{field}}, {{{field}}} and {{&field}})"
                    )
                parts.append((tuple(name.split(".")), None if sigil == "&" else encode))
            position = match.end()
        if position < len(source):
            parts.append(source[position:])
        self.parts = tuple(parts)
        tags = [part for part in parts if not isinstance(part, str)]
        self.static = not tags
        self._tag = tags[0] if tags else None
        # `render` is chosen once: the source itself, one tag alone (the common
        # "{{{field}}}"), or the general walk over text and tags.
        if self.static:
            self.render = self._static
        elif len(parts) == 1:
            self.render = self._single
        else:
            self.render = self._general

    def _static(self, doc: IngestDocument) -> str:
        return self.source

    def _single(self, doc: IngestDocument) -> str:
        names, encode = self._tag  # type: ignore[misc]  # set whenever _single is chosen
        value = _lookup(doc, names)
        if value is _MISSING or value is None:
            return ""
        text = value if type(value) is str else java_str(value)
        return encode(text) if encode else text

    def _general(self, doc: IngestDocument) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            names, encode = part
            value = _lookup(doc, names)
            if value is _MISSING or value is None:
                continue
            text = value if type(value) is str else java_str(value)
            out.append(encode(text) if encode else text)
        return "".join(out)


@lru_cache(maxsize=2048)
def template(source: str, media_type: str = "application/json") -> Template:
    return Template(source, media_type)


class ValueSource:
    """A processor `value`: strings are templates, maps and lists are walked, the rest kept."""

    __slots__ = ("_resolve",)

    def __init__(self, value: Any, media_type: str = "application/json") -> None:
        self._resolve = _compile_value(value, media_type)

    def resolve(self, doc: IngestDocument) -> Any:
        return self._resolve(doc)


def _compile_value(value: Any, media_type: str) -> Callable[[IngestDocument], Any]:
    if isinstance(value, str):
        compiled = template(value, media_type)
        if compiled.static:
            return lambda doc: value
        return compiled.render
    if isinstance(value, dict):
        items = [(_compile_value(k, media_type), _compile_value(v, media_type)) for k, v in value.items()]
        return lambda doc: {key(doc): val(doc) for key, val in items}
    if isinstance(value, list):
        elements = [_compile_value(v, media_type) for v in value]
        return lambda doc: [element(doc) for element in elements]
    if isinstance(value, (int, float, bool)) or value is None:
        return lambda doc: value
    frozen = copy.deepcopy(value)
    return lambda doc: copy.deepcopy(frozen)
