"""What one poll printed, before the parser: the text of `wg show all dump` (live, or a
capture file) and when it ran.

Its text still holds the private and preshared keys; only the parser (parse.py) reads
it, and nothing else may log, store or print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..wgconfig.raw import ConfigRead


@dataclass(frozen=True, slots=True)
class RawPoll:
    time: int
    stdout: str
    stderr: str = ""
    source: str = "wg show all dump"
    failure: str | None = None  # wg could not be run at all
    # The wg-quick files as read just before the poll; None when they are not watched.
    config: ConfigRead | None = None

    def __repr__(self) -> str:
        # A repr in a traceback or a debug log must not carry the keys in `stdout`.
        files = "" if self.config is None else f", {len(self.config.files)} config files"
        return f"RawPoll(time={self.time}, source={self.source!r}, {len(self.stdout)} characters{files}, failure={self.failure!r})"
