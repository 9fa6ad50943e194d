"""A log line understood: the message, the record it came in, when, and whose it is."""

from __future__ import annotations

from dataclasses import dataclass

from .framing import LogRecord
from .messages import LogMessage


@dataclass(frozen=True, slots=True)
class LogEvent:
    message: LogMessage
    record: LogRecord
    time: float  # the line's wall-clock time (see timing.py when the framing has none)
    # How many identical lines (same time, same text) came before this one: a flood of
    # invalid handshakes in one second is many events, not one, live and replayed alike.
    occurrence: int = 0
    peer: str | None = None  # the public key, when correlation found it
