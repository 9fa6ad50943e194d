"""`--output elasticsearch`: documents to Elasticsearch through a disk spool.

The poll loop hands a batch to `ElasticsearchOutput.write_batch`, which only appends it to
the spool (spool.py) and fsyncs it; a delivery thread sends the spool in bulk requests
(bulk.py says what each answer means) and removes what the cluster acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..ecs.document import timestamp
from . import bulk
from .bulk import Backoff
from .output import NdjsonFileOutput, encode
from .spool import Dropped, Segment, Spool


@dataclass(slots=True)
class DeliveryCounts:
    delivered: int = 0  # created (201)
    conflicts: int = 0  # already there (409): delivered by an earlier attempt
    dead_lettered: int = 0  # rejected for good (400, ...) or damaged in the spool
    dropped: Dropped = field(default_factory=Dropped)  # the spool was full


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class ElasticsearchOutput:
    """Documents to Elasticsearch through a disk spool.

    `write_batch` only appends the batch to the spool and fsyncs it: that is all the poll
    loop ever waits for, so a cluster that is slow or away cannot hold up polling (or
    the state, which is saved after the batch is on disk). A delivery thread sends the
    spool in bulk requests, oldest first, retries what failed with capped exponential
    backoff, and deletes a segment once Elasticsearch has every document of it. A
    document Elasticsearch rejects for good goes to the dead letter file instead, so it
    cannot block the spool. Messages about trouble are rate-limited: the first at once,
    then one a `notice_every` seconds while it lasts.
    """

    def __init__(  # noqa: PLR0913 - the delivery settings, keyword-only after the first three
        self,
        spool: Spool,
        send: Callable[[bytes], Any],
        dead_letter: Path,
        *,
        url: str = "Elasticsearch",
        flush_timeout: float = 10.0,
        backoff: Backoff | None = None,
        bulk_docs: int = 1000,
        bulk_bytes: int = 10 << 20,
        scrub: Callable[[str], str] = str,
        logger: logging.Logger | None = None,
        notice_every: float = 60.0,
        summary_every: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spool = spool
        self.send = send
        self.dead_letter_path = dead_letter
        self.url = url
        self.flush_timeout = flush_timeout
        self.backoff = backoff or Backoff()
        self.bulk_docs = bulk_docs
        self.bulk_bytes = bulk_bytes
        self.scrub = scrub
        self.log = logger or logging.getLogger("wgsiem")
        self.notice_every = notice_every
        self.summary_every = summary_every
        self.clock = clock
        self.counts = DeliveryCounts()
        self._dead_letter: NdjsonFileOutput | None = None
        self._failures = 0  # failed attempts in a row: the backoff step
        self._down_since: float | None = None
        self._last_trouble_notice = 0.0
        self._backlog_from: int | None = None  # delivered+conflicts when a backlog began
        self._rejects = _Pending()
        self._drops = _Pending()
        self._full = False
        self._last_summary = clock()
        self._summarized: tuple[int, ...] = ()
        self._wake = threading.Event()
        self._draining = threading.Event()
        self._halt = threading.Event()
        for message in spool.repaired:
            self.log.warning("spool: %s", message)
        if spool.count:
            self.log.info(
                "%d documents (%s) spooled in %s by an earlier run: delivering them first",
                spool.count,
                _size(spool.bytes),
                spool.directory,
            )
            self._backlog_from = 0
        self._thread = threading.Thread(target=self._run, name="es-delivery", daemon=True)
        self._thread.start()

    # -- the poll loop's side --------------------------------------------------------------

    def backlog(self) -> tuple[int, int, int]:
        """Documents and bytes waiting in the spool, and documents dropped since start (spool full)."""
        return self.spool.count, self.spool.bytes, self.counts.dropped.count

    def write_batch(self, docs: Iterable[dict[str, Any]]) -> int:
        result = self.spool.append((encode(doc), _timestamp(doc)) for doc in docs)
        self._wake.set()
        if result.dropped.count:
            self._dropped(result.dropped)
        elif self._full and self.spool.bytes < self.spool.max_bytes * 0.9:
            self._full = False
            self._flush_drops(force=True)
            self.log.info("spool below its bound again: documents are kept again")
        return result.written

    def _dropped(self, dropped: Dropped) -> None:
        self.counts.dropped.merge(dropped)
        self._drops.add(dropped)
        if not self._full:
            self._full = True
            self.log.warning(
                "spool %s is full (spool_max_bytes %s) while Elasticsearch does not take documents: %s",
                self.spool.directory,
                _size(self.spool.max_bytes),
                "dropping the oldest documents to keep the newest (spool_full: drop-oldest)"
                if self.spool.policy == "drop-oldest"
                else "dropping new documents until there is room (spool_full: drop-newest)",
            )
        self._flush_drops()

    def _flush_drops(self, force: bool = False) -> None:
        pending = self._drops.due(self.clock(), self.notice_every, force)
        if pending is not None:
            self.log.warning(
                "spool full: dropped %d documents (%s) from %s to %s; %d dropped since start",
                pending.count,
                _size(pending.bytes),
                pending.first or "?",
                pending.last or "?",
                self.counts.dropped.count,
            )

    def close(self) -> None:
        """Deliver what is spooled for up to flush_timeout seconds; what is left stays in
        the spool for the next start."""
        self._draining.set()
        self._wake.set()
        self._thread.join(self.flush_timeout)
        if self._thread.is_alive():
            self._halt.set()
            # A bulk request in flight may still get its answer: waiting a little lets it
            # acknowledge what got in, so the next start re-sends less.
            self._thread.join(5)
        self._flush_drops(force=True)
        self._flush_rejects(force=True)
        left = self.spool.count
        if left:
            self.log.warning(
                "stopping with %d documents (%s) spooled in %s: they are delivered at the next start",
                left,
                _size(self.spool.bytes),
                self.spool.directory,
            )
        self.log.info("%s", self.summary())
        if not self._thread.is_alive():  # else it may still ack; the process exit closes all
            self.spool.close()
            if self._dead_letter is not None:
                self._dead_letter.close()

    def summary(self) -> str:
        c = self.counts
        return (
            f"elasticsearch output: {c.delivered} documents delivered, {c.conflicts} already there (409),"
            f" {self.spool.count} spooled ({_size(self.spool.bytes)}), {c.dropped.count} dropped (spool full),"
            f" {c.dead_lettered} dead-lettered"
        )

    # -- the delivery thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._halt.is_set():
            self._wake.clear()
            segment = self.spool.take()
            if segment is None:
                self._idle()
                if self._draining.is_set():
                    return
                self._wake.wait(1.0)
                continue
            try:
                done = self._deliver(segment)
            except Exception as error:  # noqa: BLE001 - a bug must not end delivery for good
                self.spool.release(segment)
                self.log.error("delivery failed: %s; trying again", self.scrub(f"{type(error).__name__}: {error}"))
                if not self._sleep():
                    return
                continue
            if not done:
                self.spool.release(segment)
                return
            self.spool.ack(segment)

    def _idle(self) -> None:
        if self._backlog_from is not None and self.spool.count == 0:
            moved = self.counts.delivered + self.counts.conflicts - self._backlog_from
            self.log.info("delivered %d spooled documents, spool empty", moved)
            self._backlog_from = None
        self._flush_rejects()
        self._periodic_summary()

    def _periodic_summary(self) -> None:
        now = self.clock()
        if now - self._last_summary >= self.summary_every:
            self._last_summary = now
            c = self.counts
            state = (c.delivered, c.conflicts, c.dropped.count, c.dead_lettered)
            if state != self._summarized:
                self._summarized = state
                self.log.info("%s", self.summary())

    def _deliver(self, segment: Segment) -> bool:
        """Send every document of the segment until each is delivered or dead-lettered
        (True), or until halted (False)."""
        items: list[bulk.Item] = []
        for number, line in enumerate(self.spool.read(segment), 1):
            try:
                items.append(bulk.item(line))
            except bulk.Damaged as error:
                self._reject_damaged(f"{segment.path.name}:{number}", line, str(error))
        todo = list(bulk.chunks(items, self.bulk_docs, self.bulk_bytes))
        todo.reverse()
        while todo:
            if self._halt.is_set():
                return False
            chunk = todo.pop()
            result = bulk.attempt(self.send, chunk)
            self.counts.delivered += result.delivered
            self.counts.conflicts += result.conflicts
            if result.rejected:
                self._reject(result.rejected)
            if result.split:
                first, second = bulk.halves(chunk)
                todo += [second, first]
                continue
            if result.retry:
                self._trouble(self.scrub(result.failure or "no reason given"), result.status, len(result.retry))
                todo.append(result.retry)
                if not self._sleep():
                    return False
                continue
            self._failures = 0
            if self._down_since is not None:
                self.log.info(
                    "Elasticsearch at %s takes documents again after %s; %d documents spooled (%s) to deliver",
                    self.url,
                    _duration(self.clock() - self._down_since),
                    self.spool.count,
                    _size(self.spool.bytes),
                )
                self._down_since = None
        return True

    def _sleep(self) -> bool:
        self._periodic_summary()  # an outage of hours still gets its hourly figures
        wait = self.backoff.delay(self._failures)
        self._failures += 1
        return not self._halt.wait(wait)

    def _trouble(self, reason: str, status: int | None, documents: int = 0) -> None:
        now = self.clock()
        if status is None:
            what = "unreachable"
        elif status == 429:
            what = "overloaded"
        elif status in (401, 403):
            what = "refusing the writes (check the credentials and the user's privileges)"
        else:
            what = "failing"
        retry = f"retrying {documents} documents" if documents else "retrying"
        if self._down_since is None:
            self._down_since = now
            self._last_trouble_notice = now
            if self._backlog_from is None:
                self._backlog_from = self.counts.delivered + self.counts.conflicts
            self.log.warning(
                "Elasticsearch %s (%s), %d documents spooled (%s); %s with backoff",
                what,
                reason,
                self.spool.count,
                _size(self.spool.bytes),
                retry,
            )
        elif now - self._last_trouble_notice >= self.notice_every:
            self._last_trouble_notice = now
            self.log.warning(
                "Elasticsearch still %s after %s (%s), %d documents spooled (%s)",
                what,
                _duration(now - self._down_since),
                reason,
                self.spool.count,
                _size(self.spool.bytes),
            )

    # -- dead letters ----------------------------------------------------------------------

    def _dead_letters(self) -> NdjsonFileOutput:
        if self._dead_letter is None:
            self._dead_letter = NdjsonFileOutput(self.dead_letter_path, DEAD_LETTER_BYTES, DEAD_LETTER_KEEP)
        return self._dead_letter

    def _reject(self, rejected: list[tuple[bulk.Item, int, str]]) -> None:
        now = timestamp(time.time())
        records = []
        for it, status, reason in rejected:
            reason = self.scrub(reason)
            records.append(
                {"@timestamp": now, "error": {"status": status, "reason": reason}, "_index": it.index, "_id": it.id,
                 "document": orjson.loads(it.line)}
            )  # fmt: skip
            self._rejects.add_one(reason)
        self._dead_letters().write_batch(records)
        self.counts.dead_lettered += len(rejected)
        self._flush_rejects()

    def _reject_damaged(self, where: str, line: bytes, reason: str) -> None:
        reason = f"damaged in the spool ({where}): {reason}"
        record = {"@timestamp": timestamp(time.time()), "error": {"status": None, "reason": reason}, "line": line.decode("utf-8", "replace")}
        self._dead_letters().write_batch([record])
        self.counts.dead_lettered += 1
        self._rejects.add_one(reason)
        self._flush_rejects()

    def _flush_rejects(self, force: bool = False) -> None:
        pending = self._rejects.due(self.clock(), self.notice_every, force)
        if pending is not None:
            self.log.warning(
                "Elasticsearch rejected %d documents for good (%s): written to %s; %d dead-lettered since start",
                pending.count,
                pending.reason,
                self.dead_letter_path,
                self.counts.dead_lettered,
            )


DEAD_LETTER_BYTES = 100 * 1024 * 1024
DEAD_LETTER_KEEP = 2


class _Pending:
    """Trouble of one kind, counted between two messages about it: the first at once,
    then at most one a period."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dropped = Dropped()
        self.count = 0
        self.reason: str | None = None
        self.last: float | None = None

    def add(self, dropped: Dropped) -> None:
        with self.lock:
            self.dropped.merge(dropped)
            self.count += dropped.count

    def add_one(self, reason: str) -> None:
        with self.lock:
            self.count += 1
            if self.reason is None:
                self.reason = reason

    def due(self, now: float, every: float, force: bool = False) -> Any:  # noqa: ANN401 - Dropped or self
        with self.lock:
            if not self.count or not (force or self.last is None or now - self.last >= every):
                return None
            self.last = now
            out = _Report(self.count, self.reason, self.dropped.bytes, self.dropped.first, self.dropped.last)
            self.dropped, self.count, self.reason = Dropped(), 0, None
            return out


@dataclass(frozen=True, slots=True)
class _Report:
    count: int
    reason: str | None
    bytes: int
    first: str | None
    last: str | None


def _timestamp(doc: dict[str, Any]) -> str | None:
    value = doc.get("@timestamp")
    return value if isinstance(value, str) else None

