"""The root of every error wgsiem reports to a person, and where it happened.

Each package raises its own subclass (`ConfigError`, `RuleFileError`, `EsError`, ...) so
callers can catch what they can handle; the command line catches `WgsiemError` once and
prints it. An error that is not a `WgsiemError` is a bug, and is allowed to show its
traceback rather than pass as a user's mistake.

A `Location` names the file, line, column and key where bad input was found; the message
then reads "file:line:column: key: what is wrong", the form editors and CI logs link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    file: str | Path | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None  # a setting, a field, a dotted path into the document

    def __str__(self) -> str:
        place = "" if self.file is None else str(self.file)
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        if self.key is not None:
            place = f"{place}: {self.key}" if place else self.key
        return place


class WgsiemError(Exception):
    """Bad input, a refused request, a missing tool: something a user can act on."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        where = str(self.location) if self.location is not None else ""
        return f"{where}: {self.message}" if where else self.message
