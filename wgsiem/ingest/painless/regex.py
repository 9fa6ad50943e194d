"""Pattern and Matcher: what a regex literal `/.../flags` is, and what `=~` and `==~` use.

Elasticsearch 9 runs Painless with `script.painless.regex.enabled: limited` (the default):
regexes are allowed, and a match that inspects more than `limit-factor` (6) times the
input's length in characters is stopped with a CircuitBreakingException. Python's `re`
cannot count what it inspects, so that limit is not enforced here (docs/ingest.md says so).
"""

from __future__ import annotations

import re
from typing import Any

from ..java.regex import FLAG_BITS, JavaRegexError, compile_java, java_replacement
from ..java.strings import py_index, utf16_index
from .errors import PainlessRuntimeError
from .objects import JavaObject
from .values import JArray, jstr


class Pattern(JavaObject):
    java_class = "java.util.regex.Pattern"
    java_types = ("Pattern",)

    def __init__(self, source: str, flags: str) -> None:
        self.source = source
        self.flags = flags
        self.regex: re.Pattern[str] = compile_java(source, flags)

    def flag_bits(self) -> int:
        return sum(FLAG_BITS[f] for f in set(self.flags))

    def java_string(self) -> str:
        return self.source

    def matcher(self, text: str) -> Matcher:
        return Matcher(self, text)

    def split(self, text: str, limit: int = 0) -> JArray:
        """Pattern.split: a zero-width match at the start gives no leading empty string;
        with limit 0 trailing empty strings are dropped."""
        if text == "":
            return JArray([""], "String")
        parts: list[str] = []
        position = 0
        for m in self.regex.finditer(text):
            if limit > 0 and len(parts) == limit - 1:
                break
            if m.end() == 0:
                continue
            parts.append(text[position : m.start()])
            position = m.end()
        parts.append(text[position:])
        if limit == 0:
            while parts and parts[-1] == "":
                parts.pop()
            if not parts:
                parts = [""] if not text else []
        return JArray(parts, "String")


class Matcher(JavaObject):
    java_class = "java.util.regex.Matcher"
    java_types = ("Matcher",)

    def __init__(self, pattern: Pattern, text: str) -> None:
        self.pattern = pattern
        self.text = text
        self.match: re.Match[str] | None = None
        self.search_from = 0  # Python index where the next find() starts

    def java_string(self) -> str:
        last = self.match.group() if self.match else ""
        return f"java.util.regex.Matcher[pattern={self.pattern.source} region=0,{len(self.text)} lastmatch={last}]"

    def matches(self) -> bool:
        self.match = self.pattern.regex.fullmatch(self.text)
        return self.match is not None

    def looking_at(self) -> bool:
        self.match = self.pattern.regex.match(self.text)
        return self.match is not None

    def find(self, start: int | None = None) -> bool:
        if start is not None:
            if start < 0 or start > len(self.text):
                raise PainlessRuntimeError("Illegal start index", "IndexOutOfBoundsException")
            self.search_from = py_index(self.text, start)
        if self.search_from > len(self.text):
            self.match = None
            return False
        self.match = self.pattern.regex.search(self.text, self.search_from)
        if self.match is None:
            self.search_from = len(self.text) + 1
            return False
        end = self.match.end()
        # An empty match moves the next search on by one, as Java's find() does.
        self.search_from = end + 1 if end == self.match.start() else end
        return True

    def reset(self) -> Matcher:
        self.match = None
        self.search_from = 0
        return self

    def _current(self) -> re.Match[str]:
        if self.match is None:
            raise PainlessRuntimeError("No match found", "IllegalStateException")
        return self.match

    def group(self, index: Any = 0) -> str | None:
        m = self._current()
        if index < 0 or index > (m.re.groups):
            raise PainlessRuntimeError(f"No group {index}", "IndexOutOfBoundsException")
        group: str | None = m.group(index)
        return group

    def named_group(self, name: str) -> str | None:
        m = self._current()
        if name not in m.re.groupindex:
            raise PainlessRuntimeError(f"No group with name <{name}>", "IllegalArgumentException")
        return m.group(name)

    def group_count(self) -> int:
        return self.pattern.regex.groups

    def start(self, index: int = 0) -> int:
        m = self._current()
        return utf16_index(self.text, m.start(index)) if m.start(index) >= 0 else -1

    def end(self, index: int = 0) -> int:
        m = self._current()
        return utf16_index(self.text, m.end(index)) if m.end(index) >= 0 else -1

    def replace_all(self, replacement: str) -> str:
        return self._replace(replacement, 0)

    def replace_first(self, replacement: str) -> str:
        return self._replace(replacement, 1)

    def _replace(self, replacement: str, count: int) -> str:
        try:
            return self.pattern.regex.sub(java_replacement(replacement), self.text, count=count)
        except JavaRegexError as error:  # Matcher's IllegalArgument / IndexOutOfBounds
            raise PainlessRuntimeError(error.message, error.java_exception) from None


def replace_with(pattern: Pattern, text: str, replacer: Any, count: int = 0) -> str:
    """The String.replaceAll(Pattern, Function) augmentation: the function gets the Matcher
    positioned on each match and returns the replacement text (used as it is, no $ groups)."""
    matcher = Matcher(pattern, text)

    def one(m: re.Match[str]) -> str:
        matcher.match = m
        return jstr(replacer(matcher))

    return pattern.regex.sub(one, text, count=count)
