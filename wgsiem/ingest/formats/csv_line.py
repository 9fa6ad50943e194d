"""One line of CSV split into fields, as Elasticsearch's CsvParser does it (the csv processor).

RFC 4180 with a chosen quote and separator (one character each): a quoted field may hold the
separator, newlines and a doubled quote (one quote in the value); an unquoted field may not
hold a quote, CR or LF. Around a quoted field only spaces and tabs may stand; with `trim`,
leading and trailing spaces and tabs of unquoted fields are dropped too. Fields beyond the
number of names are ignored; an empty field sets nothing unless an empty value is given; a
line with fewer fields leaves the remaining names unset. Errors are CsvParser's messages:
"Unmatched quote", "Illegal character inside unquoted field at N", "character 'c' after
quoted field at N".

The states and their methods are CsvParser's, so its quirks are kept (tests pin them): the
last unquoted field keeps its trailing spaces even with `trim`, a line ending in a separator
sets no empty last field, and without `trim` a field of only spaces sets nothing while the
next field starts inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wgsiem.errors import WgsiemError

_MISSING = object()
_START, _UNQUOTED, _QUOTED, _QUOTED_END = range(4)


class CsvLineError(WgsiemError, ValueError):
    """A line CsvParser refuses; the message is Elasticsearch's."""


def _space(char: str) -> bool:
    return char in (" ", "\t")


class CsvLine:
    """The processor's settings; `parse(line, put)` calls `put(name, value)` for each field set."""

    def __init__(self, quote: str, separator: str, trim: bool, headers: list[str], empty_value: Any = _MISSING) -> None:
        self.quote = quote
        self.separator = separator
        self.trim = trim
        self.headers = headers
        self.empty_value = empty_value

    def parse(self, line: str, put: Callable[[str, Any], None]) -> None:
        _Parser(self, line, put).run()


class _Parser:
    """CsvParser over one line: `index` is its currentIndex, shared by the state methods, each
    of which returns True when every name has its field (the line is done)."""

    def __init__(self, settings: CsvLine, line: str, put: Callable[[str, Any], None]) -> None:
        self.settings = settings
        self.line = line
        self.put = put
        self.state = _START
        self.builder: list[str] = []
        self.start = 0
        self.header = 0
        self.index = 0

    def run(self) -> None:
        states = {_START: self._start, _UNQUOTED: self._unquoted, _QUOTED: self._quoted, _QUOTED_END: self._quoted_end}
        length = len(self.line)
        while self.index < length:
            if states[self.state]():
                return
            self.index += 1
        if self.state == _UNQUOTED:
            self._set_field(length)
        elif self.state == _QUOTED_END:
            self._set_field(length - 1)
        elif self.state == _QUOTED:
            raise CsvLineError("Unmatched quote")

    def _start(self) -> bool:
        line, settings = self.line, self.settings
        while self.index < len(line):
            char = line[self.index]
            if char == settings.quote:
                self.state = _QUOTED
                self.builder.clear()
                self.start = self.index + 1
                return False
            if char == settings.separator:
                self.start += 1
                self.builder.clear()
                if self._set_field(self.start):
                    return True
            elif _space(char):
                if settings.trim:
                    self.start += 1
            else:
                self.state = _UNQUOTED
                self.builder.clear()
                return False
            self.index += 1
        return True

    def _unquoted(self) -> bool:
        line, settings = self.line, self.settings
        spaces = 0
        while self.index < len(line):
            char = line[self.index]
            if char in ("\n", "\r") or char == settings.quote:
                raise CsvLineError(f"Illegal character inside unquoted field at {self.index}")
            if settings.trim and _space(char):
                spaces += 1
            elif char == settings.separator:
                self.state = _START
                if self._set_field(self.index - spaces):
                    return True
                self.start = self.index + 1
                return False
            else:
                spaces = 0
            self.index += 1
        return False

    def _quoted(self) -> bool:
        close = self.line.find(self.settings.quote, self.index)
        if close < 0:
            self.index = len(self.line)
        else:
            self.index = close
            self.state = _QUOTED_END
        return False

    def _quoted_end(self) -> bool:
        line, settings = self.line, self.settings
        if line[self.index] == settings.quote:  # a doubled quote: one quote in the value
            self.builder.append(line[self.start : self.index - 1] + settings.quote)
            self.start = self.index + 1
            self.state = _QUOTED
            return False
        pending = True
        while self.index < len(line):
            char = line[self.index]
            if _space(char):
                if pending:
                    if self._set_field(self.index - 1):
                        return True
                    pending = False
            elif char == settings.separator:
                if pending and self._set_field(self.index - 1):
                    return True
                self.start = self.index + 1
                self.state = _START
                return False
            else:
                raise CsvLineError(f"character '{char}' after quoted field at {self.index}")
            self.index += 1
        return True

    def _set_field(self, end: int) -> bool:
        settings = self.settings
        value = "".join(self.builder) + self.line[self.start : end]
        if value:
            self.put(settings.headers[self.header], value)
        elif settings.empty_value is not _MISSING:
            self.put(settings.headers[self.header], settings.empty_value)
        self.header += 1
        return self.header == len(settings.headers)
