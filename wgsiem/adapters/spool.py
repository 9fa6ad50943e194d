"""A bounded disk spool: documents wait here, fsynced, until Elasticsearch has them.

The spool is a directory of segment files, `<sequence>.ndjson`, one encoded document a
line. Batches are appended to the open segment and fsynced before anyone tries to
deliver them; a segment is sealed when it is full or when the deliverer asks for work
and nothing older is waiting, and it is deleted once every document in it was
acknowledged. Delivery is at least once: a segment half delivered when the process died
is sent again, and Elasticsearch's `create` with the document's own `_id` answers 409
for what it already has.

A crash in the middle of an append leaves at most a torn last line: it is cut off when
the spool is opened. The poll it came from was not saved in the state (documents are
fsynced before the state is), so the shipper polls it again.

The spool is bounded by `max_bytes`. When a document would take it past the bound,
`drop-oldest` deletes the oldest sealed segments (never one the deliverer holds), and
`drop-newest` refuses the new document; either way what was dropped is counted and
returned with its time range, for the caller to say so.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..errors import WgsiemError

POLICIES = ("drop-oldest", "drop-newest")
SUFFIX = ".ndjson"
_NAME = re.compile(r"(\d{16})\.ndjson")
_TAIL_SCAN = 1 << 20


class SpoolError(WgsiemError):
    pass


@dataclass(slots=True)
class Dropped:
    """Documents the bound made us throw away, and the @timestamp range they covered."""

    count: int = 0
    bytes: int = 0
    first: str | None = None
    last: str | None = None

    def add(self, count: int, size: int, first: str | None, last: str | None) -> None:
        self.count += count
        self.bytes += size
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last

    def merge(self, other: Dropped) -> None:
        self.add(other.count, other.bytes, other.first, other.last)


@dataclass(slots=True)
class Segment:
    seq: int
    path: Path
    size: int = 0
    count: int = 0
    first: str | None = None  # @timestamp of its first and last document, for drop messages
    last: str | None = None


@dataclass(slots=True)
class AppendResult:
    written: int = 0
    dropped: Dropped = field(default_factory=Dropped)


class Spool:
    """Thread-safe: one writer (the poll loop) and one deliverer (take, read, ack, release)."""

    def __init__(self, directory: Path, max_bytes: int, policy: str = "drop-oldest", segment_bytes: int | None = None) -> None:
        if policy not in POLICIES:
            raise SpoolError(f"spool_full must be one of {', '.join(POLICIES)}, not {policy!r}")
        if max_bytes <= 0:
            raise SpoolError("spool_max_bytes must be more than 0")
        self.directory = directory
        self.max_bytes = max_bytes
        self.policy = policy
        # Several segments fit under the bound, so drop-oldest always has one to give up
        # that is neither being delivered nor being written.
        self.segment_bytes = segment_bytes or max(4096, min(16 << 20, max_bytes // 8))
        self.repaired: list[str] = []  # what opening found and fixed, for the caller to log
        self._lock = threading.Lock()
        self._sealed: list[Segment] = []  # oldest first
        self._leased: dict[int, Segment] = {}
        self._open: Segment | None = None
        self._file = None
        self._next_seq = 1
        self._bytes = 0  # of every segment, open, sealed or taken
        self._docs = 0
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolError(f"{directory}: another wgsiem ship is using this spool") from None
        self._recover()

    # -- opening -------------------------------------------------------------------------

    def _recover(self) -> None:
        found = sorted((int(m.group(1)), p) for p in self.directory.iterdir() if (m := _NAME.fullmatch(p.name)))
        for seq, path in found:
            segment = self._scan(seq, path)
            if segment.count:
                self._sealed.append(segment)
                self._bytes += segment.size
                self._docs += segment.count
            else:
                path.unlink()
            self._next_seq = seq + 1

    def _scan(self, seq: int, path: Path) -> Segment:
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            keep = _complete_size(f, size)
            if keep != size:
                f.truncate(keep)
                os.fsync(f.fileno())
                self.repaired.append(f"{path}: cut a torn last line ({size - keep} bytes) left by a crash while writing")
            f.seek(0)
            count = 0
            first = last = None
            head = b""
            while chunk := f.read(1 << 20):
                count += chunk.count(b"\n")
                if not head:
                    head = chunk[: chunk.find(b"\n")]
            if count:
                first = _timestamp(head)
                last = _timestamp(_last_line(f, keep))
        return Segment(seq, path, keep, count, first, last)

    # -- writing -------------------------------------------------------------------------

    def append(self, docs: Iterable[tuple[bytes, str | None]]) -> AppendResult:
        """Append (encoded document, its @timestamp) pairs and fsync them. The lock is taken
        a chunk at a time, so a huge batch does not keep the deliverer waiting."""
        result = AppendResult()
        chunk: list[tuple[bytes, str | None]] = []
        for item in docs:
            chunk.append(item)
            if len(chunk) == 1000:
                self._append_chunk(chunk, result)
                chunk = []
        if chunk:
            self._append_chunk(chunk, result)
        return result

    def _append_chunk(self, chunk: list[tuple[bytes, str | None]], result: AppendResult) -> None:
        with self._lock:
            pending: list[bytes] = []
            for line, ts in chunk:
                size = len(line) + 1
                if self._bytes + size > self.max_bytes and not self._make_room(size, result.dropped):
                    result.dropped.add(1, size, ts, ts)
                    continue
                segment = self._writable()
                if segment.size and segment.size + size > self.segment_bytes:
                    self._write(pending)
                    pending = []
                    self._seal()
                    segment = self._writable()
                pending.append(line + b"\n")
                segment.size += size
                segment.count += 1
                self._bytes += size
                self._docs += 1
                if ts is not None:
                    if segment.first is None:
                        segment.first = ts
                    segment.last = ts
                result.written += 1
            self._write(pending)

    def _make_room(self, size: int, dropped: Dropped) -> bool:
        if self.policy == "drop-newest":
            return False
        while self._bytes + size > self.max_bytes and self._sealed:
            oldest = self._sealed.pop(0)
            oldest.path.unlink(missing_ok=True)
            self._forget(oldest)
            dropped.add(oldest.count, oldest.size, oldest.first, oldest.last)
        return self._bytes + size <= self.max_bytes

    def _forget(self, segment: Segment) -> None:
        self._bytes -= segment.size
        self._docs -= segment.count

    def _writable(self) -> Segment:
        if self._open is None:
            seq = self._next_seq
            self._next_seq += 1
            path = self.directory / f"{seq:016d}{SUFFIX}"
            # Documents name peers and addresses: the spool is as private as the state.
            self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
            self._open = Segment(seq, path)
        return self._open

    def _write(self, lines: list[bytes]) -> None:
        if not lines:
            return
        assert self._file is not None
        self._file.write(b"".join(lines))
        self._file.flush()
        os.fsync(self._file.fileno())

    def _seal(self) -> None:
        if self._open is None:
            return
        assert self._file is not None
        self._file.close()
        self._file = None
        if self._open.count:
            self._sealed.append(self._open)
        else:
            self._open.path.unlink(missing_ok=True)
        self._open = None

    # -- delivering ----------------------------------------------------------------------

    def take(self) -> Segment | None:
        """The oldest segment not yet taken, sealing the open one if nothing older waits."""
        with self._lock:
            if not self._sealed:
                self._seal()
            if not self._sealed:
                return None
            segment = self._sealed.pop(0)
            self._leased[segment.seq] = segment
            return segment

    def read(self, segment: Segment) -> list[bytes]:
        """The segment's lines. Sealed segments never change, so no lock is needed."""
        return segment.path.read_bytes().splitlines()

    def ack(self, segment: Segment) -> None:
        """Every document of the segment is in Elasticsearch (or dead-lettered): delete it."""
        with self._lock:
            if self._leased.pop(segment.seq, None) is not None:
                self._forget(segment)
            segment.path.unlink(missing_ok=True)

    def release(self, segment: Segment) -> None:
        """Give a taken segment back undelivered: it is the next one taken."""
        with self._lock:
            if self._leased.pop(segment.seq, None) is not None:
                self._sealed.insert(0, segment)
                self._sealed.sort(key=lambda s: s.seq)

    # -- looking -------------------------------------------------------------------------

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    @property
    def count(self) -> int:
        with self._lock:
            return self._docs

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._open is not None and not self._open.count:
                self._open.path.unlink(missing_ok=True)
            self._open = None
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1


def _complete_size(f, size: int) -> int:  # noqa: ANN001 - a binary file
    """The size up to and including the last newline."""
    pos = size
    while pos > 0:
        start = max(0, pos - _TAIL_SCAN)
        f.seek(start)
        block = f.read(pos - start)
        i = block.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def _last_line(f, size: int) -> bytes:  # noqa: ANN001 - a binary file
    start = max(0, size - _TAIL_SCAN)
    f.seek(start)
    block = f.read(size - start).rstrip(b"\n")
    return block[block.rfind(b"\n") + 1 :]


def _timestamp(line: bytes) -> str | None:
    try:
        value = orjson.loads(line).get("@timestamp")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None
