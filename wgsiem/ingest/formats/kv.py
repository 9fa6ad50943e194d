"""The splitting half of Elasticsearch's kv processor.

`field_split` and `value_split` are Java regular expressions, applied with Java's
`split`: the text is cut at every `field_split` match (trailing empty pieces dropped,
a text with no match kept whole, even when empty), then each piece at its first
`value_split` match. A piece that does not split in two fails the processor. Keys are
trimmed (`trim_key`) and filtered (`include_keys`, then `exclude_keys`) before the prefix
is added; values lose one leading and one trailing bracket or quote (`strip_brackets`)
before `trim_value`. `trim_key`/`trim_value` are sets of characters, written as the
inside of a regex character class, removed from both ends.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

from ...errors import WgsiemError

__all__ = ["KvSplitError", "KvSplitter"]


class KvSplitError(WgsiemError):
    """A pair with no `value_split` in it: Elasticsearch's error, which fails the document.

    Elasticsearch has already set the pairs before the bad one when it fails (they stay
    if the failure is ignored); they are in `pairs`.
    """

    def __init__(self, field: str | None, value_split: str, pairs: list[tuple[str, str]]) -> None:
        where = f"field [{field}]" if field is not None else "the value"
        super().__init__(f"{where} does not contain value_split [{value_split}]")
        self.value_split = value_split
        self.pairs = pairs


# --------------------------------------------------------------------------------------
# Java regular expressions on Python's re

_LINE_END = "\n\r\u0085\u2028\u2029"
_JAVA_DOLLAR = f"(?=(?:\\r\\n|[{_LINE_END}])?\\Z)"  # '$' without MULTILINE
_JAVA_DOT = f"[^{_LINE_END}]"  # '.' without DOTALL
_JAVA_ESCAPES = {
    "z": r"\Z",
    "Z": _JAVA_DOLLAR,
    "h": "[ \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000]",
    "H": "[^ \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000]",
    "v": "[\\n\\x0b\\f\\r\\x85\\u2028\\u2029]",
    "V": "[^\\n\\x0b\\f\\r\\x85\\u2028\\u2029]",
    "R": "(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])",
    "e": "\\x1b",
}
_JAVA_CLASS_ESCAPES = {"h": _JAVA_ESCAPES["h"][1:-1], "v": _JAVA_ESCAPES["v"][1:-1], "e": "\\x1b"}


_INLINE_DOTALL = re.compile(r"\(\?[a-zA-Z]*s")
_JAVA_NAMED_BACKREF = re.compile(r"\\k<([a-zA-Z][a-zA-Z0-9]*)>")


def _java_regex(regex: str) -> str:
    """A Java regular expression as Python `re` source (the constructs that differ)."""
    out: list[str] = []
    i, n = 0, len(regex)
    depth = 0  # inside a character class
    dotall = _INLINE_DOTALL.search(regex) is not None  # then '.' is left to Python's (?s)
    while i < n:
        c = regex[i]
        if c == "\\" and i + 1 < n:
            e = regex[i + 1]
            if e == "Q":  # \Q...\E quotes literally
                end = regex.find("\\E", i + 2)
                literal = regex[i + 2 : end if end != -1 else n]
                out.append(re.escape(literal))
                i = end + 2 if end != -1 else n
                continue
            if e == "k" and not depth:
                m = _JAVA_NAMED_BACKREF.match(regex, i)
                if m is not None:
                    out.append(f"(?P={m.group(1)})")
                    i = m.end()
                    continue
            table = _JAVA_CLASS_ESCAPES if depth else _JAVA_ESCAPES
            out.append(table.get(e, "\\" + e))
            i += 2
            continue
        if depth:
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            out.append(c)
        elif c == "[":
            depth = 1
            out.append(c)
            if regex[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if regex[i + 1 : i + 2] == "]":  # literal ']' first in a class
                out.append("\\]")
                i += 1
        elif c == "(" and regex.startswith("(?<", i) and regex[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")  # a Java named group
            i += 3
            continue
        elif c == "." and not dotall:
            out.append(_JAVA_DOT)
        elif c == "$":
            out.append(_JAVA_DOLLAR)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _compile(regex: str, what: str) -> re.Pattern[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(regex)
    except re.error as error:
        raise ValueError(f"{what} is not a valid regular expression: {error}") from None


def _literal(regex: str) -> str | None:
    """The one string `regex` matches, when it is a single plain or backslash-escaped character."""
    if len(regex) == 1 and regex not in ".$|()[{^?*+\\":
        return regex
    if len(regex) == 2 and regex[0] == "\\" and not (regex[1].isascii() and regex[1].isalnum()):
        return regex[1]
    return None


class _Splitter:
    """Java's Pattern.split(text, limit) for limit 0 (all pieces, trailing empties dropped) or 2."""

    __slots__ = ("literal", "regex", "limit")

    def __init__(self, regex: str, limit: int, what: str) -> None:
        self.limit = limit
        self.literal = _literal(regex)
        self.regex = None if self.literal is not None else _compile(_java_regex(regex), f"{what} [{regex}]")

    def split(self, text: str) -> list[str]:
        sep = self.literal
        if sep is not None:
            if sep not in text:
                return [text]
            if self.limit == 2:
                return text.split(sep, 1)
            parts = text.split(sep)
        else:
            parts = self._regex_split(text)
            if parts is None:
                return [text]
            if self.limit == 2:
                return parts
        while parts and parts[-1] == "":
            parts.pop()
        return parts

    def _regex_split(self, text: str) -> list[str] | None:
        """The pieces, or None when nothing split the text."""
        rx = self.regex
        assert rx is not None
        limit = self.limit
        parts: list[str] = []
        index = 0
        pos = 0
        n = len(text)
        while pos <= n:
            m = rx.search(text, pos)
            if m is None:
                break
            start, end = m.span()
            # Java's find(): after an empty match, the next search starts one further on
            pos = end + 1 if start == end else end
            if start == end == 0:
                continue  # a zero-width match at the start never makes a leading piece
            if limit and len(parts) == limit - 1:
                break
            parts.append(text[index:start])
            index = end
        if index == 0:
            return None
        parts.append(text[index:])
        return parts


def _trimmer(chars: str | None, what: str) -> re.Pattern[str] | None:
    """Removes runs of `chars` (a character-class body) from both ends."""
    if chars is None:
        return None
    body = _java_regex("[" + chars + "]")
    return _compile(f"^{body}+|{body}+{_JAVA_DOLLAR}", f"{what} [{chars}]")


# One opening bracket or quote at the start, one closing at the end (independently).
_BRACKETS = re.compile(f"^[(\\[<\"']|[\\])>\"']{_JAVA_DOLLAR}")


class KvSplitter:
    """The kv processor's parsing: text -> [(prefixed key, value)] in order.

    Repeated keys are returned repeatedly; the processor appends them.
    """

    __slots__ = ("field_split", "value_split", "_fields", "_values", "_trim_key", "_trim_value", "_brackets", "_keep", "_prefix")

    def __init__(
        self,
        field_split: str,
        value_split: str,
        *,
        trim_key: str | None = None,
        trim_value: str | None = None,
        strip_brackets: bool = False,
        include_keys: Iterable[str] | None = None,
        exclude_keys: Iterable[str] | None = None,
        prefix: str | None = None,
    ) -> None:
        self.field_split = field_split
        self.value_split = value_split
        self._fields = _Splitter(field_split, 0, "field_split")
        self._values = _Splitter(value_split, 2, "value_split")
        self._trim_key = _trimmer(trim_key, "trim_key")
        self._trim_value = _trimmer(trim_value, "trim_value")
        self._brackets = strip_brackets
        include = frozenset(include_keys) if include_keys is not None else None
        exclude = frozenset(exclude_keys) if exclude_keys is not None else None
        if include is None and exclude is None:
            self._keep = None
        elif exclude is None:
            self._keep = include.__contains__  # type: ignore[union-attr]
        elif include is None:
            self._keep = lambda key: key not in exclude
        else:
            self._keep = lambda key: key in include and key not in exclude
        self._prefix = prefix or ""

    def split(self, text: str, field: str | None = None) -> list[tuple[str, str]]:
        """The pairs of `text`; `field` (the source field's name) goes into the error message.

        Raises KvSplitError, carrying the pairs before the bad one, when a piece has no
        `value_split`.
        """
        pairs: list[tuple[str, str]] = []
        split_value = self._values.split
        trim_key, trim_value, keep, prefix = self._trim_key, self._trim_value, self._keep, self._prefix
        for piece in self._fields.split(text):
            kv = split_value(piece)
            if len(kv) != 2:
                raise KvSplitError(field, self.value_split, pairs)
            key, value = kv
            if trim_key is not None:
                key = trim_key.sub("", key)
            if keep is not None and not keep(key):
                continue
            if self._brackets:
                value = _BRACKETS.sub("", value)
            if trim_value is not None:
                value = trim_value.sub("", value)
            pairs.append((prefix + key if prefix else key, value))
        return pairs
