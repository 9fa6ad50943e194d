"""The connection tracker's events on this host: `conntrack -E -o timestamp,extended,id`
(conntrack-tools) run as a child in this process's network namespace, either followed
live (`ConntrackEvents`, for `ship --conntrack live`) or written into a file
(`ConntrackRecorder`, for `record --conntrack`).

A live stream cannot be read back: what the kernel announced while nobody listened is
gone. So the position saved with the state is when the stream was last read
("seen:<unix seconds>"), and a start after one names the gap it could not see (`gap`).
A file that conntrack writes (followed with a FileFollower) keeps those events instead.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .follow import ChildFollower

# What the conntrack parser reads: the kernel's event time, the layer 3 protocol, the id.
EVENT_OPTIONS = ("-E", "-o", "timestamp,extended,id")
LIVE = "conntrack -E"  # the live stream's name in messages and in the state's positions

# What one poll takes of the stream at most; the rest waits for the next poll (in the
# file, or in the child's queue; once that is full conntrack's socket overflows and it
# says ENOBUFS). A poll's records and their flow documents are in memory together, about
# 3.5 KB a line: 8 MiB of text, some 43,000 lines, took 1.4 s and 144 MB
# (fixtures/conntrack/acct-on.log repeated, one peer).
MAX_BYTES_PER_READ = 8 * 1024 * 1024
MAX_LINES_PER_READ = 40_000

# conntrack's words when its netlink socket overflowed (conntrack.c): it goes on, the
# events in between are lost.
_ENOBUFS = "ENOBUFS"
_DENIED = "Operation not permitted"


class _Conntrack(ChildFollower):
    """What both ways of running `conntrack -E` say when it cannot run or stops."""

    def __init__(self, program: str, max_lines_per_read: int = MAX_LINES_PER_READ) -> None:
        super().__init__(program, max_lines_per_read)
        self.lost = 0  # times conntrack said it was losing events (ENOBUFS)

    def argv(self) -> list[str]:
        return [self.program, *EVENT_OPTIONS]

    def _cannot_run(self, err: OSError) -> str:
        if isinstance(err, FileNotFoundError):
            return (
                f"{self.program!r} not found: install conntrack-tools (Debian, Ubuntu: the package conntrack;"
                " Fedora, RHEL: conntrack-tools)"
            )
        return f"{self.program!r} is not executable by this user"

    def _said(self, text: str) -> None:
        if _ENOBUFS in text:
            self.lost += 1

    def _exit_failure(self) -> str:
        failure = super()._exit_failure()
        denied = next((line for line in self._stderr if _DENIED in line), None)
        if denied is None:
            return failure
        if denied not in failure:
            failure += f" ({denied})"
        return failure + ": listening to the connection tracker's events takes CAP_NET_ADMIN"


class ConntrackEvents(_Conntrack):
    """`conntrack -E -o timestamp,extended,id` followed live (a `Follower`).

    Each line's position is "seen:<unix seconds>", the time of the read() that handed it
    out; `position` is the same for the last read while conntrack was running, lines or
    none, so a quiet stream still counts as seen. start() after such a position sets
    `gap`: (last seen, now), the time whose events are lost."""

    name = LIVE

    def __init__(self, program: str = "conntrack", clock: Callable[[], float] = time.time) -> None:
        super().__init__(program)
        self.clock = clock
        self.gap: tuple[float, float] | None = None
        self.seen_until: float | None = None

    @property
    def position(self) -> str | None:
        return None if self.seen_until is None else _seen(self.seen_until)

    def start(self, position: str | None) -> None:
        self.stop()
        self.failure = None
        self.lost = 0
        self.seen_until = None
        since = seen_time(position)
        now = self.clock()
        self.gap = (since, now) if since is not None and since < now else None
        err = self._spawn(self.argv())
        if err is not None:
            self.failure = self._cannot_run(err)

    def read(self) -> list[tuple[str, str]]:
        if self.failure is not None or self._proc is None:
            return []
        now = self.clock()
        position = _seen(now)
        out = [(line.decode("utf-8", errors="replace"), position) for line in self._take()]
        if not self._ended:
            self.seen_until = now
        elif not out:  # reported after its last lines, as the journal's end is
            self.failure = self._exit_failure()
        return out


class ConntrackRecorder(_Conntrack):
    """`conntrack -E -o timestamp,extended,id` appending to a file, as it prints it."""

    def __init__(self, path: Path, program: str = "conntrack") -> None:
        super().__init__(program)
        self.path = Path(path)
        self._sink: IO[bytes] | None = None

    def start(self, settle: float = 0.5) -> None:
        """Start it; `failure` says why it cannot run (the file, the program, or its exit
        within `settle` seconds: without the privilege it exits at once). The wait also
        lets it subscribe before the first poll."""
        self.stop()
        self.failure = None
        try:
            self._sink = open(self.path, "ab")  # noqa: SIM115 - the child's stdout until stop()
        except OSError as err:
            self.failure = f"{self.path}: cannot write: {err.strerror}"
            return
        cannot = self._spawn(self.argv(), stdout=self._sink)
        if cannot is not None:
            self.failure = self._cannot_run(cannot)
            return
        assert self._proc is not None
        try:
            self._proc.wait(settle)
        except subprocess.TimeoutExpired:
            return  # running
        self.failure = self._exit_failure()

    def check(self) -> str | None:
        """`failure`, once conntrack has exited (it runs until stop() otherwise)."""
        if self.failure is None and self._proc is not None and self._proc.poll() is not None:
            self.failure = self._exit_failure()
        return self.failure

    def stop(self) -> None:
        super().stop()
        if self._sink is not None:
            self._sink.close()
            self._sink = None


def _seen(time: float) -> str:
    return f"seen:{time:.6f}"


def seen_time(position: str | None) -> float | None:
    """The time in a live stream's position ("seen:<unix seconds>"); None for any other."""
    if not position or not position.startswith("seen:"):
        return None
    try:
        return float(position[5:])
    except ValueError:
        return None
