"""A capture (polls, and kernel / wg-quick lines of the same host) through the shipper:
the loop `wgsiem convert` and `wgsiem replay` share, so both give what `ship` would have."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..conntrack import ConntrackParser, ConntrackProblem, ConntrackRecord
from ..ecs.health import Health, HealthEvents, tally
from ..kernlog.framing import LogRecord, frame
from ..kernlog.timing import timed
from ..shipper import PollOutcome, Shipper
from ..wgdump.raw import RawPoll


def read_logs(paths: Sequence[Path], boot_time: float | None, start: float, year_of: float) -> list[tuple[LogRecord, float]]:
    """Every line of the log files, framed and dated, in time order (stable per file)."""
    items = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as f:
            items.extend(date_lines(f, boot_time, start, year_of))
    items.sort(key=lambda item: item[1])
    return items


def read_flows(path: Path, counts: Counter[str], on_problem: Callable[[ConntrackProblem], None]) -> Iterator[ConntrackRecord]:
    """The records of a `conntrack -E -o timestamp,extended,id` text, read as they are
    asked for; a line that cannot be read goes to `on_problem` (file, line, field), a
    record without its time (conntrack run without `-o timestamp`) is counted as undated:
    it cannot be placed among the polls."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for item in ConntrackParser(str(path)).feed(f):
            if isinstance(item, ConntrackProblem):
                counts["malformed"] += 1
                on_problem(item)
            elif item.time is None:
                counts["undated"] += 1
            else:
                counts["records"] += 1
                yield item


def flow_summary(read: Counter[str], tracker: Counter[str]) -> str:
    """What became of a conntrack text: records read, and those that were no peer's flow."""
    parts = [f"{read['records']} conntrack records"]
    for key, what in (("malformed", "malformed lines skipped"), ("undated", "without a time (-o timestamp) skipped")):
        if read[key]:
            parts.append(f"{read[key]} {what}")
    for key, what in (("tunnel", "the tunnel's own packets"), ("no-peer", "of no peer"), ("update", "updates")):
        if tracker[key]:
            parts.append(f"{tracker[key]} {what} dropped")
    return ", ".join(parts)


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
    flows: Iterable[ConntrackRecord] = (),
) -> Iterator[Iterator[dict[str, Any]]]:
    """The documents of each poll interval in @timestamp order, one interval at a time,
    each document built as it is consumed: memory holds one poll, not the capture (consume
    each interval before asking for the next). Log lines interleave with the polls in time
    and are tied to peers with the polls before and after them, as `ship` does
    (`Shipper.process_interval`). A poll's documents come in time order (its handshakes
    fall before it, maybe before lines read since the last poll), so an interval is the
    merge of two time-ordered streams; on equal times the log lines' come first.
    Conntrack records (`flows`, dated, in time order: read as they are needed) go with
    the interval they fall in, as the log lines do. `on_poll(outcome)` sees each poll's
    problems and notices."""
    i = 0
    pending = _Dated(flows)
    for raw in polls:
        start = i
        while i < len(lines) and lines[i][1] < raw.time:
            i += 1
        log_docs, outcome = shipper.process_interval(lines[start:i], raw, pending.before(raw.time))
        del raw  # its text (15 MB at 100,000 peers) is parsed: the documents do without it
        on_poll(outcome)
        yield heapq.merge(log_docs, outcome.documents, key=_at)
    notices: list[str] = []
    tail = sorted(shipper.process_log(lines[i:]) + shipper.process_flows(pending.rest(), notices), key=_at)
    if notices:
        on_poll(PollOutcome(time=0, notices=notices))
    yield iter(tail)


class _Dated:
    """A time-ordered stream of conntrack records, taken an interval at a time."""

    def __init__(self, records: Iterable[ConntrackRecord]) -> None:
        self._records = iter(records)
        self._next: ConntrackRecord | None = next(self._records, None)

    def before(self, time: float) -> list[ConntrackRecord]:
        out = []
        while self._next is not None and (self._next.time or 0.0) < time:
            out.append(self._next)
            self._next = next(self._records, None)
        return out

    def rest(self) -> Iterator[ConntrackRecord]:
        if self._next is not None:
            yield self._next
            yield from self._records
            self._next = None


def with_health(
    shipper: Shipper,
    polls: Iterable[RawPoll],
    lines: Sequence[tuple[LogRecord, float]],
    every: float,
    on_poll: Any = lambda outcome: None,
    restarts: Collection[int] = (),
    flows: Iterable[ConntrackRecord] = (),
) -> Iterator[dict[str, Any]]:
    """`capture_documents` with the shipper-health events `ship --health-interval every`
    would have written among them, in the order it writes: those due before a poll, at
    their time, then the poll's interval, then the one due with the poll. The shipper is
    taken to start at the first poll and stop after the last: nothing after it; a poll
    time in `restarts` is the first after the shipper was stopped: nothing was written
    while it was, and its tally starts again there. Polls are streamed, as by
    capture_documents."""
    health = Health()
    beat: HealthEvents | None = None
    ok = [True]
    times: list[int] = []

    def seen(outcome: Any) -> None:
        ok[0] = outcome.failure is None
        on_poll(outcome)

    def timed_polls() -> Iterator[RawPoll]:
        for raw in polls:
            times.append(raw.time)
            yield raw

    def take(now: float) -> dict[str, Any]:
        assert beat is not None
        doc = beat.take(now, shipper.context)
        health.documents_written += 1
        return doc

    done = 0
    for batch in capture_documents(shipper, timed_polls(), lines, seen, flows):
        if len(times) == done:
            yield from batch  # lines after the last poll, as `convert` writes them
            return
        done = len(times)
        # Times as ship's clock gives them, floats: event.id hashes the time as it is given.
        now = float(times[-1])
        if beat is None or times[-1] in restarts:
            beat = HealthEvents(health, float(every), now)
        while beat.is_due(beat.due, now):  # ship waits until each is due, no longer
            yield take(beat.due)
        # A failed poll has no documents (the differ skips it); its interval's log lines do.
        polled = list(batch)
        yield from polled
        tally(health, shipper, ok[0], now, len(polled))
        if beat.is_due(now):
            yield take(now)


def _at(doc: dict[str, Any]) -> str:
    return doc["@timestamp"]  # type: ignore[no-any-return]
