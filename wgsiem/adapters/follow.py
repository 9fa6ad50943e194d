"""Follow a log as it grows: the systemd journal (through `journalctl`), a text file, or
any child process's output (`ChildFollower`).

The shipper calls `read()` once per poll, handles the lines, writes the documents, and
only then saves the position of the last line it handled (with the rest of its state).
After a restart `start(saved_position)` carries on just after that line, so no line is
lost and none is repeated. A position is an opaque string to the caller.

Neither follower ever blocks the poll loop: the journal is read by a thread into a
queue, a file is read up to its current end.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

import orjson


class Follower(Protocol):
    name: str  # for messages: "journal" or the file's path
    failure: str | None  # the source died or cannot be read; read() then returns []

    def start(self, position: str | None) -> None:
        """Carry on after `position`; None (or "") starts at the end: only new lines."""

    def read(self) -> list[tuple[str, str]]:
        """Every complete line available now, each with the position just after it."""

    def stop(self) -> None:
        """Idempotent: end any child process, close files."""


# --- the journal ----------------------------------------------------------------------

# journalctl(1): matches on different fields are ANDed, matches on the same field ORed,
# and a separate "+" ORs everything before it with everything after it. So this is
# "kernel messages, or lines wg-quick printed" (its output under wg-quick@.service).
DEFAULT_MATCHES: tuple[str, ...] = ("_TRANSPORT=kernel", "+", "SYSLOG_IDENTIFIER=wg-quick")
# Only the fields the framing reads (journalctl adds the cursor, both timestamps and the
# boot id anyway): a kernel record shrinks from ~650 to ~300 characters, and parsing its
# JSON was most of the cost of a line.
_FIELDS = "MESSAGE,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,_SOURCE_MONOTONIC_TIMESTAMP"

# From systemd 250 on, --follow quietly adds "this boot only" (_BOOT_ID=<current>), which
# would drop what the previous boot logged after the saved cursor (its wg-quick down, its
# last kernel lines): exactly what a shipper restarted by a reboot must not lose. Only
# --merge turns that off on 254+ (and Debian's 252), only a --boot=all after --follow on
# 250-253; both together are accepted by all of them. Before 250 there is nothing to turn
# off, and an old journalctl may not know "all", so they are passed from 250 on only.
_ALL_BOOTS = ("--merge", "--boot=all")
_FOLLOW_IMPLIES_BOOT = 250

_QUEUE_LINES = 100_000  # a slow shipper stops reading the pipe, and the child waits
_STDERR_LINES = 20


class ChildFollower:
    """The lines a child process prints, read without blocking the poll loop: a thread
    pumps its stdout into a bounded queue, another keeps its last stderr lines for the
    failure, which is reported once its output has ended (`_exit_failure`)."""

    def __init__(self, program: str, max_lines_per_read: int = _QUEUE_LINES) -> None:
        self.program = program
        self.max_lines_per_read = max_lines_per_read  # the rest waits in the queue for the next read
        self.failure: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue(_QUEUE_LINES)
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._ended = False

    def _spawn(self, argv: list[str], stdout: IO[bytes] | None = None) -> OSError | None:
        """Start the child; the error when it cannot be run (not found, not executable).
        With `stdout` (a file) the child writes there itself and only stderr is read."""
        self._ended = False
        self._lines = queue.Queue(_QUEUE_LINES)
        self._stderr = deque(maxlen=_STDERR_LINES)
        self._stopping = threading.Event()
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - argv, no shell
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE
            )
        except (FileNotFoundError, PermissionError) as err:
            return err
        assert self._proc.stderr is not None
        self._threads = [threading.Thread(target=self._pump_stderr, args=(self._proc.stderr,), daemon=True)]
        if self._proc.stdout is not None:
            self._threads.append(threading.Thread(target=self._pump_stdout, args=(self._proc.stdout,), daemon=True))
        for thread in self._threads:
            thread.start()
        return None

    def _pump_stdout(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            if not line.endswith(b"\n"):
                break  # the child died in the middle of a line: never hand out half of one
            if not self._put(line[:-1]):
                return
        self._put(None)  # end of output: the child has exited (or is about to)

    def _put(self, item: bytes | None) -> bool:
        # A full queue waits for read(), but stop() must not wait for a full queue.
        while not self._stopping.is_set():
            try:
                self._lines.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _pump_stderr(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                self._said(text)
                self._stderr.append(text)

    def _said(self, text: str) -> None:
        """A line the child wrote to stderr while running (in the stderr thread)."""

    def _take(self) -> list[bytes]:
        """The complete lines available now, at most `max_lines_per_read` (a child that
        writes as fast as they are taken must not hold read() forever); sets `_ended` at
        the end of the output."""
        out: list[bytes] = []
        while len(out) < self.max_lines_per_read:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._ended = True
                break
            out.append(line)
        return out

    def _exit_failure(self) -> str:
        proc = self._proc
        assert proc is not None
        try:
            status = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # closed its output but lives on: end it
            proc.kill()
            status = proc.wait()
        for thread in self._threads:
            thread.join(timeout=1)  # the rest of stderr
        said = self._stderr[-1] if self._stderr else "it said nothing on stderr"
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        return f"{self.program} {how}: {said}"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._stopping.set()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait()  # reaped: no zombie
        for thread in self._threads:
            thread.join(timeout=1)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        self._threads = []


class JournalFollower(ChildFollower):
    """`journalctl --follow --output=json` for the kernel and the wg-quick units.

    The position of a line is its __CURSOR field; resuming passes it to --after-cursor
    (journalctl 206 and later; an older one exits with an error, which becomes `failure`).
    """

    name = "journal"

    def __init__(self, journalctl: str = "journalctl", matches: Sequence[str] = DEFAULT_MATCHES) -> None:
        super().__init__(journalctl)
        self.journalctl = journalctl
        self.matches = list(matches)
        self._position = ""

    def argv(self, position: str | None) -> list[str]:
        argv = [self.journalctl, "--follow", "--output=json", f"--output-fields={_FIELDS}", "--no-pager", "--quiet"]
        if position:
            # --follow also implies --lines=10, which stops the backlog after the cursor at
            # ten entries until something new is logged (systemd issue #4739).
            argv += [f"--after-cursor={position}", "--no-tail"]
            if (self._version() or 0) >= _FOLLOW_IMPLIES_BOOT:
                argv += _ALL_BOOTS
        else:
            argv.append("--lines=0")
        return argv + self.matches

    def _version(self) -> int | None:
        """The systemd version `journalctl --version` names, None if it names none."""
        try:
            out = subprocess.run(
                [self.journalctl, "--version"], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None  # start() then fails with the reason
        found = re.match(r"systemd (\d+)", out.stdout)
        return int(found.group(1)) if found else None

    def start(self, position: str | None) -> None:
        self.stop()
        self.failure = None
        self._position = position or ""
        err = self._spawn(self.argv(position))
        if isinstance(err, FileNotFoundError):
            self.failure = f"journalctl not found ({self.journalctl!r}): the journal cannot be followed"
        elif err is not None:
            self.failure = f"{self.journalctl!r} is not executable by this user"

    def read(self) -> list[tuple[str, str]]:
        if self.failure is not None or self._proc is None:
            return []
        out: list[tuple[str, str]] = []
        for line in self._take():
            # journalctl's JSON always has a cursor; a line without one (never seen) shares
            # the previous line's position ("" before any: resuming there starts at the end).
            self._position = _cursor(line) or self._position
            out.append((line.decode("utf-8", errors="replace"), self._position))
        # The end is reported by the read() after the last lines, so the caller handles
        # those before it sees the failure.
        if self._ended and not out:
            self.failure = self._exit_failure()
        return out


def _cursor(line: bytes) -> str | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    cursor = record.get("__CURSOR") if isinstance(record, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


# --- a text file ----------------------------------------------------------------------

_CHUNK = 1024 * 1024


class FileFollower:
    """Follow a text log like `tail -F`: through renames (logrotate) and truncation.

    The position of a line is "<inode>:<offset just after it>"; the inode tells whether
    the file at `path` is still the one the offset belongs to. `numbered` adds the line's
    number in its file, "<inode>:<offset>:<line>" (`line_of`), so that a bad line can be
    named by file and line across reads, restarts and rotations."""

    def __init__(self, path: Path, max_bytes_per_read: int = 64 * 1024 * 1024, *, numbered: bool = False) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.max_bytes_per_read = max_bytes_per_read  # a long backlog comes out over several polls
        self.numbered = numbered
        self.failure: str | None = None
        self._file: IO[bytes] | None = None
        self._inode = 0
        self._offset = 0  # just after the last complete line handed out
        self._line = 0  # the number of that line in its file (numbered only)
        self._partial = b""  # read beyond _offset, waiting for its newline

    def start(self, position: str | None) -> None:
        self.stop()
        self.failure = None
        if not position:
            self._start_at_end()
            return
        inode_text, _, rest = position.partition(":")
        offset_text, _, line_text = rest.partition(":")
        if not (inode_text.isdigit() and offset_text.isdigit() and (not line_text or line_text.isdigit())):
            self.failure = f"{self.path}: cannot resume from {position!r}: not an <inode>:<offset> position"
            return
        inode, offset = int(inode_text), int(offset_text)
        line = int(line_text) if line_text else None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            st = None
        except OSError as err:
            self.failure = f"{self.path}: cannot read: {err.strerror}"
            return
        if st is not None and st.st_ino == inode:
            # Still the same file. Smaller than the offset: truncated while we were down,
            # so all of it is new.
            self._open(self.path, *((offset, line) if st.st_size >= offset else (0, 0)))
            return
        rotated = self._rotated(inode)
        if rotated is not None:
            # Rotated while we were down: finish the old file first; read() moves on to
            # the new one (from its start) once the old one is drained.
            self._open(rotated, offset, line)
        # Otherwise the old file is gone and so are its last lines: the new file (or the
        # one still to come) is read from its start.

    def _start_at_end(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return  # waited for; read from its start once it appears
        except OSError as err:
            self.failure = f"{self.path}: cannot read: {err.strerror}"
            return
        # At the end, but not in the middle of a line being written: back to its start.
        start = max(0, size - 65536)
        tail = self._read_range(start, size)
        if tail is None:
            return
        cut = tail.rfind(b"\n")
        self._open(self.path, start + cut + 1 if cut >= 0 else size, None)

    def _read_range(self, start: int, end: int) -> bytes | None:
        try:
            with open(self.path, "rb") as f:
                f.seek(start)
                return f.read(end - start)
        except FileNotFoundError:
            return None
        except OSError as err:
            self.failure = f"{self.path}: cannot read: {err.strerror}"
            return None

    def _rotated(self, inode: int) -> Path | None:
        """The renamed old file: logrotate's `kern.log.1` (or `.0`, or dateext's `-20240101`)."""
        name = self.path.name
        candidates = [self.path.with_name(name + ".1"), self.path.with_name(name + ".0")]
        try:
            candidates += sorted(p for p in self.path.parent.iterdir() if _rotated_name(p.name, name))
        except OSError:
            pass  # the two usual names are still tried
        for candidate in candidates:
            try:
                if candidate.stat().st_ino == inode:
                    return candidate
            except OSError:
                continue
        return None

    def _open(self, path: Path, offset: int, line: int | None = 0) -> bool:
        """Open `path` at `offset`, just after line number `line` (None: not known, counted
        when numbered, by reading the file up to the offset once)."""
        try:
            f = open(path, "rb")  # noqa: SIM115 - held open across reads
        except FileNotFoundError:
            return False
        except OSError as err:
            self.failure = f"{path}: cannot read: {err.strerror}"
            return False
        self._close()
        self._file = f
        self._inode = os.fstat(f.fileno()).st_ino
        if line is None:
            line = _count_lines(f, offset) if self.numbered else 0
        self._line = line
        f.seek(offset)
        self._offset = offset
        self._partial = b""
        return True

    def read(self) -> list[tuple[str, str]]:
        if self.failure is not None:
            return []
        out: list[tuple[str, str]] = []
        budget = self.max_bytes_per_read
        if self._file is None and not self._open(self.path, 0):
            return []  # not there yet (or failure set)
        while True:
            # Look at the name before draining: a line written to the old file just
            # before the rename is then still read from it.
            try:
                named = self.path.stat().st_ino
            except FileNotFoundError:
                named = None  # renamed, the new one not created yet: keep the old
            except OSError as err:
                self.failure = f"{self.path}: cannot read: {err.strerror}"
                return out
            budget = self._drain(out, budget)
            if budget <= 0 or self.failure is not None:
                return out
            assert self._file is not None
            if os.fstat(self._file.fileno()).st_size < self._offset + len(self._partial):
                self._flush_partial(out)  # truncated (copytruncate): starts again at 0
                self._file.seek(0)
                self._offset = 0
                self._line = 0
                continue
            if named is not None and named != self._inode:
                self._flush_partial(out)  # rotated: the old one is drained, on to the new
                if not self._open(self.path, 0):
                    return out
                continue
            return out

    def _drain(self, out: list[tuple[str, str]], budget: int) -> int:
        assert self._file is not None
        while budget > 0:
            try:
                chunk = self._file.read(min(_CHUNK, budget))
            except OSError as err:
                self.failure = f"{self.path}: cannot read: {err.strerror}"
                return 0
            if not chunk:
                break
            budget -= len(chunk)
            data = self._partial + chunk
            start = 0
            while (end := data.find(b"\n", start)) >= 0:
                self._offset += end + 1 - start
                self._line += 1
                text = data[start:end].decode("utf-8", errors="replace")
                out.append((text, self._position()))
                start = end + 1
            self._partial = data[start:]
        return budget

    def _flush_partial(self, out: list[tuple[str, str]]) -> None:
        # A last line without its newline in a file that is left behind will never be
        # completed: hand it out as it is rather than lose it.
        if self._partial:
            self._offset += len(self._partial)
            self._line += 1
            out.append((self._partial.decode("utf-8", errors="replace"), self._position()))
            self._partial = b""

    def _position(self) -> str:
        return f"{self._inode}:{self._offset}:{self._line}" if self.numbered else f"{self._inode}:{self._offset}"

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def stop(self) -> None:
        self._close()
        self._partial = b""


def line_of(position: str) -> int | None:
    """The line number in a numbered FileFollower's position ("<inode>:<offset>:<line>")."""
    parts = position.split(":")
    return int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None


def _count_lines(f: IO[bytes], end: int) -> int:
    f.seek(0)
    lines = 0
    while end > 0:
        chunk = f.read(min(_CHUNK, end))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        end -= len(chunk)
    return lines


def _rotated_name(candidate: str, name: str) -> bool:
    return len(candidate) > len(name) and candidate.startswith(name) and candidate[len(name)] in ".-_"
