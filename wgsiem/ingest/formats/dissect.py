"""Dissect with Elasticsearch's semantics.

A pattern is literal text (delimiters) around keys written `%{...}`:

- `%{name}` takes the text up to the next delimiter; the last key, with nothing after
  it, takes the rest of the line. Text before the first key must begin the line.
- `%{}` and `%{?name}` match but keep nothing.
- `%{+name}` appends to `name` (joined with `append_separator`); `%{+name/N}` appends in
  order N. Once any key appends to a name, plain `%{name}` keys of that name append too.
- `%{*k}` and `%{&k}` come in pairs: the `*` value becomes a field name, the `&` value
  its value.
- `name->` skips repeats of the delimiter that follows the key. Without it, a repeated
  delimiter simply ends the next key's (empty) value, and so on.
- Every key must get a value, and the results must have as many fields as the pattern
  has distinct (kept) names, or the text does not match.

Delimiters are found left to right, first occurrence, no backtracking. Extra text after
the last delimiter is ignored.

Repeated delimiters follow Elasticsearch's current code (the fix for elasticsearch#119264,
pinned by DissectParserTests.testConcurrentDelimitersAdditional): only a `->` key swallows
them. Releases before that fix also turned each repeat, without `->`, into an empty value
for the following key (`%{a}-%{b}` on "foo---bar" gave b="" there, "--bar" here).
"""

from __future__ import annotations

import re

from ...errors import WgsiemError

__all__ = ["Dissect", "DissectError", "DissectMismatch"]


class DissectError(WgsiemError):
    """A dissect pattern Elasticsearch would refuse; the message names the pattern or key."""


class DissectMismatch(ValueError):  # noqa: N818 - the pattern does not match: a signal, reported by the processor
    """The text does not fit the pattern (Elasticsearch's message)."""


# Java's regex '.' and '$' (no DOTALL, no MULTILINE) in the key grammar: '.' stops at any
# line terminator, '$' also matches before one final line terminator.
_LINE_END = "\n\r\u0085\u2028\u2029"
_DOT = f"[^{_LINE_END}]"
_DOLLAR = f"(?=(?:\\r\\n|[{_LINE_END}])?\\Z)"
_PLAIN_KEY = re.compile(f"({_DOT}*?)(->)?{_DOLLAR}")
_MODIFIED_KEY = re.compile(f"([+*&?])({_DOT}*?)(->)?{_DOLLAR}")
_ORDERED_KEY = re.compile(f"\\+({_DOT}*?)/([0-9]+)(->)?{_DOLLAR}")
_MODIFIERS = "/+*&?"

# modifier kinds
_NONE, _APPEND, _ORDERED, _NAME, _VALUE, _SKIP = "", "+", "/", "*", "&", "?"


class _Key:
    __slots__ = ("name", "kind", "skip", "pad", "order")

    def __init__(self, name: str, kind: str, skip: bool, pad: bool, order: int = 0) -> None:
        self.name = name
        self.kind = kind
        self.skip = skip
        self.pad = pad  # '->': swallow repeated delimiters after this key
        self.order = order


def _parse_key(text: str) -> _Key:
    """One `%{...}` body -> its name and modifiers."""
    kind = _NONE
    count = 0
    for ch in text:
        if ch in _MODIFIERS:
            count += 1
            previous, kind = kind, ch
            # only '+' followed by '/' (as in +name/2) may combine
            if count > 1 and not (previous == _APPEND and kind == _ORDERED):
                raise DissectError(f"dissect key [{text}] has more than one modifier")
    name: str | None = None
    pad = False
    order = 0
    skip = text == ""
    if kind == _NONE:
        m = _PLAIN_KEY.match(text)
        if m is not None:
            name, pad = m.group(1), m.group(2) is not None
        skip = name == ""
    elif kind == _ORDERED:
        m = _ORDERED_KEY.search(text)
        if m is not None:
            name, pad = m.group(1), m.group(3) is not None
            order = int(m.group(2))
            if order > 32767:  # a Java short
                raise DissectError(f"dissect key [{text}] has an append order above 32767")
    else:
        m = _MODIFIED_KEY.search(text)
        if m is not None:
            name, pad = m.group(2), m.group(3) is not None
        if kind == _SKIP:
            skip = True
    if name is None or (name == "" and not skip):
        raise DissectError(f"dissect key [{text}] has no name")
    return _Key(name, kind, skip, pad, order)


def _split_pattern(pattern: str) -> tuple[str, list[tuple[str, str]]]:
    """(leading delimiter, [(key text, delimiter after it)]) as Elasticsearch reads them.

    The leading delimiter is the text before the first `%{` (dropped, not required, if it
    spans a line break). A key runs to the first '}'; its delimiter runs to the next `%{`
    at least one character on, or to the end.
    """
    first = pattern.find("%{")
    leading = ""
    if first > 0 and not any(ch in _LINE_END for ch in pattern[:first]):
        leading = pattern[:first]
    rest = pattern[len(leading) :]
    pairs: list[tuple[str, str]] = []
    at = rest.find("%{")
    while at != -1:
        close = rest.find("}", at + 2)
        if close == -1:
            break
        start = close + 1
        following = rest.find("%{", start + 1) if start < len(rest) else -1
        end = following if following != -1 else len(rest)
        pairs.append((rest[at + 2 : close], rest[start:end]))
        at = following
    return leading, pairs


class Dissect:
    """A compiled dissect pattern; `parse(text)` -> {field: value} or DissectMismatch."""

    __slots__ = ("pattern", "append_separator", "_leading", "_pairs", "_kept", "_appended")

    def __init__(self, pattern: str, append_separator: str = "") -> None:
        self.pattern = pattern
        self.append_separator = append_separator or ""
        leading, raw = _split_pattern(pattern)
        keys = [(_parse_key(text), delimiter) for text, delimiter in raw]
        kept = {key.name for key, _ in keys if not key.skip}
        if not keys or not kept:
            raise DissectError(f"dissect pattern [{pattern}] has no keys to keep")
        appended = {key.name for key, _ in keys if key.kind in (_APPEND, _ORDERED)}
        # a plain key of a name something appends to appends too (in pattern order)
        for key, _ in keys:
            if key.kind == _NONE and key.name in appended:
                key.kind = _APPEND
        references: dict[str, int] = {}
        for key, _ in keys:
            if key.kind in (_NAME, _VALUE):
                references[key.name] = references.get(key.name, 0) + 1
        for name, count in references.items():
            if count != 2:
                raise DissectError(
                    f"dissect pattern [{pattern}] needs exactly one %{{*{name}}} and one %{{&{name}}}, has {count} reference keys"
                )
        self._leading = leading
        self._pairs = tuple((key, delimiter) for key, delimiter in keys)
        self._kept = len(kept)
        self._appended = bool(appended)

    def parse(self, text: str) -> dict[str, str]:
        results = self._dissect(text)
        if results is None:
            raise DissectMismatch(f"Unable to find match for dissect pattern: {self.pattern} against source: {text}")
        return results

    def _dissect(self, text: str) -> dict[str, str] | None:
        leading = self._leading
        if len(text) <= len(leading) or not text.startswith(leading):
            return None
        pairs = self._pairs
        last = len(pairs) - 1
        found: list[tuple[_Key, str]] = []
        p = 0
        key, delimiter = pairs[0]
        i = start = len(leading)
        # Each key's value runs to the first occurrence of its delimiter (only the last
        # pair can have an empty delimiter: it then takes the rest).
        while delimiter:
            at = text.find(delimiter, i)
            if at == -1:
                break
            found.append((key, text[start:at]))
            i = at + len(delimiter)
            if key.pad:  # '->': repeats of this delimiter are padding
                while text.startswith(delimiter, i):
                    i += len(delimiter)
            if p == last:
                break
            p += 1
            key, delimiter = pairs[p]
            start = i
        if len(found) != len(pairs) and not delimiter:
            found.append((key, text[start:]))
        if len(found) != len(pairs):
            return None
        return self._results(found)

    def _results(self, found: list[tuple[_Key, str]]) -> dict[str, str] | None:
        simple: dict[str, str] = {}
        names: dict[str, list[str | None]] = {}  # reference name -> [field name, value]
        appends: dict[str, list[tuple[int, str]]] = {}
        implicit = -1000  # plain appends sort before ordered ones, in pattern order
        for key, value in found:
            if key.skip:
                continue
            kind = key.kind
            if kind == _NONE:
                simple[key.name] = value
            elif kind == _APPEND:
                appends.setdefault(key.name, []).append((implicit, value))
                implicit += 1
            elif kind == _ORDERED:
                appends.setdefault(key.name, []).append((key.order, value))
            else:
                pair = names.setdefault(key.name, [None, None])
                pair[0 if kind == _NAME else 1] = value
        results: dict[str, str] = dict(simple)
        for field, value in names.values():
            results[field] = value  # type: ignore[index]
        separator = self.append_separator
        for name, values in appends.items():
            values.sort(key=lambda item: item[0])  # stable, like Collections.sort
            results[name] = separator.join(v for _, v in values)
        if len(results) != self._kept:
            return None
        return results

    def __repr__(self) -> str:
        return f"Dissect({self.pattern!r})"
