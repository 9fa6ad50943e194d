"""A capture (polls, and kernel / wg-quick lines of the same host) through the shipper:
the loop `wgsiem convert` and `wgsiem replay` share, so both give what `ship` would have."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..kernlog.framing import LogRecord, frame
from ..kernlog.timing import timed
from ..shipper import Shipper
from ..wgdump.raw import RawPoll


def read_logs(paths: Sequence[Path], boot_time: float | None, start: float, year_of: float) -> list[tuple[LogRecord, float]]:
    """Every line of the log files, framed and dated, in time order (stable per file)."""
    items = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as f:
            items.extend(date_lines(f, boot_time, start, year_of))
    items.sort(key=lambda item: item[1])
    return items


def date_lines(lines: Iterable[str], boot_time: float | None, start: float, year_of: float) -> list[tuple[LogRecord, float]]:
    """The lines of one log, framed and dated (lines without a year take year_of's)."""
    year = datetime.fromtimestamp(year_of, UTC).year
    framed = [record for line in lines if (record := frame(line, year=year)) is not None]
    return list(timed(framed, boot_time, start))


def capture_documents(
    shipper: Shipper,
    polls: Iterable[RawPoll],
    lines: Sequence[tuple[LogRecord, float]],
    on_poll: Any = lambda outcome: None,
) -> Iterator[Iterator[dict[str, Any]]]:
    """The documents of each poll interval in @timestamp order, one interval at a time,
    each document built as it is consumed: memory holds one poll, not the capture (consume
    each interval before asking for the next). Log lines interleave with the polls in time
    and are tied to peers with the polls before and after them, as `ship` does
    (`Shipper.process_interval`). A poll's documents come in time order (its handshakes
    fall before it, maybe before lines read since the last poll), so an interval is the
    merge of two time-ordered streams; on equal times the log lines' come first.
    `on_poll(outcome)` sees each poll's problems."""
    i = 0
    for raw in polls:
        start = i
        while i < len(lines) and lines[i][1] < raw.time:
            i += 1
        log_docs, outcome = shipper.process_interval(lines[start:i], raw)
        del raw  # its text (15 MB at 100,000 peers) is parsed: the documents do without it
        on_poll(outcome)
        yield heapq.merge(log_docs, outcome.documents, key=_at)
    yield iter(shipper.process_log(lines[i:]))


def _at(doc: dict[str, Any]) -> str:
    return doc["@timestamp"]  # type: ignore[no-any-return]
