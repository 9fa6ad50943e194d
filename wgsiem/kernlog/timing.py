"""When a log line happened, for framings that do not say it in wall-clock time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .framing import LogRecord


def line_time(record: LogRecord, boot_time: float | None, fallback: float) -> float:
    """The framing's wall-clock time; else dmesg's seconds since boot plus the boot time;
    else `fallback` (the time the line was read live, or the line before it in a file)."""
    if record.time is not None:
        return record.time
    if record.monotonic is not None and boot_time is not None:
        return boot_time + record.monotonic
    return fallback


def timed(records: Iterable[LogRecord], boot_time: float | None, start: float) -> Iterator[tuple[LogRecord, float]]:
    """Date each record of one file: a line the framing does not date takes the time of
    the line before it, and the first such lines `start`."""
    last = start
    for record in records:
        last = line_time(record, boot_time, last)
        yield record, last
