"""Followers: a text file (tail -F) and the journal (through a fake journalctl).

What matters is the restart contract: the shipper saves the position of the last line it
handled, and a new follower started there yields exactly the lines after it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.support.journal import FakeJournal
from wgsiem.adapters.follow import DEFAULT_MATCHES, FileFollower, JournalFollower


def read_until(follower, n: int, timeout: float = 3.0) -> list[tuple[str, str]]:
    """Read until `n` lines came (or the timeout passed, or the follower failed)."""
    got: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline and follower.failure is None:
        got += follower.read()
        if len(got) < n:
            time.sleep(0.01)
    return got


def read_quiet(follower, wait: float = 0.2) -> list[tuple[str, str]]:
    """Whatever comes within `wait` seconds: for checking that nothing more does."""
    got: list[tuple[str, str]] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got += follower.read()
        time.sleep(0.02)
    return got


def texts(lines: list[tuple[str, str]]) -> list[str]:
    return [text for text, _ in lines]


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def offsets(lines: list[tuple[str, str]]) -> list[int]:
    return [int(pos.split(":")[1]) for _, pos in lines]


# --- FileFollower ---------------------------------------------------------------------


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "kern.log"
    path.write_bytes(b"before we started\n")
    return path


def follow(path: Path, position: str | None = None) -> FileFollower:
    f = FileFollower(path)
    f.start(position)
    return f


def test_file_new_lines_come_out_once_with_increasing_positions(log):
    f = follow(log)
    assert f.read() == []  # starts at the end: only new lines
    append(log, b"one\ntwo\n")
    first = f.read()
    append(log, b"three\n")
    second = f.read()
    assert texts(first) == ["one", "two"] and texts(second) == ["three"]
    inode = log.stat().st_ino
    assert all(pos.startswith(f"{inode}:") for _, pos in first + second)
    start = len(b"before we started\n")
    assert offsets(first + second) == [start + 4, start + 8, start + 14]
    assert f.read() == []
    assert f.failure is None
    f.stop()
    f.stop()  # idempotent


def test_file_incomplete_line_is_held_back_until_its_newline(log):
    f = follow(log)
    append(log, b"done\nhal")
    assert texts(f.read()) == ["done"]
    assert f.read() == []
    append(log, b"f a line\n")
    assert texts(f.read()) == ["half a line"]


def test_file_started_in_the_middle_of_a_line_starts_at_that_line(tmp_path):
    path = tmp_path / "kern.log"
    path.write_bytes(b"old\nbeing writ")
    f = follow(path)
    append(path, b"ten\n")
    assert texts(f.read()) == ["being written"]


def test_file_bytes_that_are_not_utf8_are_replaced(log):
    f = follow(log)
    append(log, b"caf\xc3\xa9 \xff\n")
    assert texts(f.read()) == ["café \ufffd"]


def test_file_restart_from_any_saved_position_neither_loses_nor_repeats(log):
    f = follow(log)
    append(log, b"a\nb\nc\n")
    lines = f.read()
    f.stop()
    append(log, b"d\ne\n")  # written while the shipper was down
    every = lines + follow(log, lines[-1][1]).read()
    assert texts(every) == ["a", "b", "c", "d", "e"]
    for i, (_, pos) in enumerate(every):
        again = follow(log, pos)
        assert again.read() == every[i + 1 :], f"restart after line {i}"
        append_later = b"f%d\n" % i
        append(log, append_later)
        assert texts(again.read()) == [append_later.decode().strip()]
        log.write_bytes(log.read_bytes()[: -len(append_later)])  # back as it was
        again.stop()


def test_file_restart_after_rotation_while_down_reads_the_rest_of_the_old_file_first(log):
    f = follow(log)
    append(log, b"a\nb\n")
    lines = f.read()
    f.stop()
    saved = lines[0][1]  # the shipper only got to handle "a"
    append(log, b"c\n")
    log.rename(log.with_name("kern.log.1"))  # logrotate
    log.write_bytes(b"d\ne\n")
    g = follow(log, saved)
    rest = g.read()
    assert texts(rest) == ["b", "c", "d", "e"]
    assert rest[-1][1].startswith(f"{log.stat().st_ino}:")
    # A restart after the new file's lines does not go back to the old one.
    for i, (_, pos) in enumerate(rest):
        assert texts(follow(log, pos).read()) == texts(rest[i + 1 :])


def test_file_restart_after_rotation_to_a_dated_name(log):
    f = follow(log)
    append(log, b"a\n")
    saved = f.read()[-1][1]
    f.stop()
    append(log, b"b\n")
    log.rename(log.with_name("kern.log-20240101"))  # logrotate's dateext
    log.write_bytes(b"c\n")
    assert texts(follow(log, saved).read()) == ["b", "c"]


def test_file_restart_when_the_old_file_is_gone_reads_the_new_one_from_its_start(log):
    f = follow(log)
    append(log, b"a\n")
    saved = f.read()[-1][1]
    f.stop()
    log.rename(log.with_name("kern.log.1"))
    log.with_name("kern.log.1").unlink()  # compressed or deleted: its rest is lost
    log.write_bytes(b"new\n")
    assert texts(follow(log, saved).read()) == ["new"]


def test_file_restart_after_truncation_while_down_reads_from_the_start(log):
    f = follow(log)
    append(log, b"a\nb\n")
    saved = f.read()[-1][1]
    f.stop()
    with open(log, "r+b") as fh:  # copytruncate: same inode, shorter
        fh.truncate(0)
    append(log, b"x\n")
    g = follow(log, saved)
    assert texts(g.read()) == ["x"]
    assert g.read() == []


def test_file_rotation_while_running_drains_the_old_file_then_follows_the_new(log):
    f = follow(log)
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - a syslog daemon: keeps its descriptor
    writer.write(b"a\n")
    assert texts(f.read()) == ["a"]
    writer.write(b"b\n")
    log.rename(log.with_name("kern.log.1"))
    writer.write(b"c\nlast without newline")  # written before the daemon reopened
    writer.close()
    log.write_bytes(b"d\n")
    lines = f.read()
    assert texts(lines) == ["b", "c", "last without newline", "d"]
    append(log, b"e\n")
    assert texts(f.read()) == ["e"]
    # Restarts from positions in the old file find it by its inode.
    assert texts(follow(log, lines[0][1]).read()) == ["c", "last without newline", "d", "e"]
    assert texts(follow(log, lines[2][1]).read()) == ["d", "e"]


def test_file_truncation_while_running_starts_again_at_zero(log):
    f = follow(log)
    append(log, b"a\nb\n")
    assert texts(f.read()) == ["a", "b"]
    with open(log, "r+b") as fh:
        fh.truncate(0)
    append(log, b"c\n")
    lines = f.read()
    assert texts(lines) == ["c"]
    assert offsets(lines) == [2]


def test_file_that_does_not_exist_yet_is_waited_for(tmp_path):
    path = tmp_path / "later.log"
    f = follow(path)
    assert f.read() == [] and f.failure is None
    path.write_bytes(b"first\nsecond\n")  # all of it is new
    lines = f.read()
    assert texts(lines) == ["first", "second"]
    f.stop()
    assert follow(path, lines[0][1]).read() == lines[1:]


def test_file_restart_with_a_position_but_no_file_waits_for_it(tmp_path):
    path = tmp_path / "kern.log"
    f = follow(path, "12345:678")
    assert f.read() == [] and f.failure is None
    path.write_bytes(b"x\n")
    assert texts(f.read()) == ["x"]


def test_file_backlog_larger_than_one_read_comes_out_over_several(log):
    f = FileFollower(log, max_bytes_per_read=10)
    f.start(None)
    append(log, b"".join(b"line %d\n" % i for i in range(20)))
    got = []
    for _ in range(40):
        got += f.read()
    assert texts(got) == [f"line {i}" for i in range(20)]


def test_file_that_cannot_be_read_is_a_failure(tmp_path):
    path = tmp_path / "kern.log"
    path.mkdir()  # reading it fails for root too
    f = follow(path)
    assert f.failure is not None and str(path) in f.failure and "Is a directory" in f.failure
    assert f.read() == []
    waited = follow(tmp_path / "appears.log")
    (tmp_path / "appears.log").mkdir()
    assert waited.read() == [] and "Is a directory" in (waited.failure or "")


def test_file_without_read_permission_is_a_failure(log):
    log.chmod(0)
    if os.geteuid() != 0:
        f = follow(log)
        assert f.failure is not None and str(log) in f.failure and "Permission denied" in f.failure
        return
    # Root reads a mode-000 file anyway, so drop to nobody in a forked child, which
    # needs no file of its own (Python and this module are already loaded).
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            f = FileFollower(log)
            f.start(None)
            os.write(write_end, (f.failure or "").encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as r:
        failure = r.read()
    assert str(log) in failure and "Permission denied" in failure


def test_file_bad_position_is_a_failure(log):
    f = follow(log, "journal-cursor")
    assert f.failure is not None and "journal-cursor" in f.failure
    assert f.read() == []


# --- JournalFollower with a fake journalctl -------------------------------------------

# Behaves like journalctl 252 for the options JournalFollower uses. The journal is
# `records` (a JSON object a line, the cursor of line N is "cN"); it prints the
# matching records as JSON lines with __CURSOR, then follows the file every 50 ms.
def messages(lines: list[tuple[str, str]]) -> list[str]:
    return [json.loads(text)["MESSAGE"] for text, _ in lines]


@pytest.fixture
def journal(tmp_path: Path) -> FakeJournal:
    return FakeJournal(tmp_path)


def test_default_matches_are_kernel_or_wg_quick():
    assert list(DEFAULT_MATCHES) == ["_TRANSPORT=kernel", "+", "SYSLOG_IDENTIFIER=wg-quick"]
    f = JournalFollower("journalctl")
    fields = "--output-fields=MESSAGE,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,_SOURCE_MONOTONIC_TIMESTAMP"
    assert f.argv(None) == [
        "journalctl", "--follow", "--output=json", fields, "--no-pager", "--quiet", "--lines=0", *DEFAULT_MATCHES
    ]


def test_journal_new_records_are_read_once(journal):
    journal.log("old, before the start")
    f = journal.follower()
    try:
        assert f.failure is None
        journal.log("wg0: Interface created", kernel=True)
        journal.log("Accepted publickey", identifier="sshd")  # matches neither group
        journal.log("[#] ip link add wg0 type wireguard")
        lines = read_until(f, 2)
        assert messages(lines) == ["wg0: Interface created", "[#] ip link add wg0 type wireguard"]
        assert [pos for _, pos in lines] == ["c2", "c4"]
        assert read_quiet(f) == []
        journal.log("wg0: peer 1 created", kernel=True)
        assert messages(read_until(f, 1)) == ["wg0: peer 1 created"]
        assert f.failure is None
        assert journal.argv()[0][-3:] == list(DEFAULT_MATCHES)
    finally:
        f.stop()


def test_journal_stop_kills_and_reaps_journalctl(journal):
    f = journal.follower()
    proc = f._proc
    assert proc is not None and proc.poll() is None
    f.stop()
    assert proc.returncode is not None  # waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(proc.pid, os.WNOHANG)  # already reaped: no zombie left
    status = Path(f"/proc/{proc.pid}/status")
    assert not status.exists() or "zombie" not in status.read_text()
    f.stop()  # idempotent
    assert f.read() == []


def test_journal_restart_after_the_saved_cursor_neither_loses_nor_repeats(journal):
    f = journal.follower()
    journal.log("one", "two", "three")
    lines = read_until(f, 3)
    assert messages(lines) == ["one", "two", "three"]
    f.stop()
    journal.log("four", "five")  # while the shipper was down
    saved = lines[1][1]  # it had handled up to "two"
    g = journal.follower(saved)
    try:
        rest = read_until(g, 3)
        assert messages(rest) == ["three", "four", "five"]
        assert [pos for _, pos in rest] == ["c3", "c4", "c5"]
        assert read_quiet(g) == []
        argv = journal.argv()[-1]
        assert "--after-cursor=c2" in argv and "--no-tail" in argv and "--lines=0" not in argv
    finally:
        g.stop()
    h = journal.follower(rest[-1][1])
    try:
        assert read_quiet(h) == []
        journal.log("six")
        assert messages(read_until(h, 1)) == ["six"]
    finally:
        h.stop()


def test_journalctl_exiting_with_an_error_is_a_failure(journal):
    f = journal.follower("not-a-cursor")
    read_until(f, 1)
    said = "Failed to seek to cursor: Invalid argument"
    assert f.failure == f"{journal.journalctl} exited with status 1: {said}"
    assert f.read() == []
    f.stop()


def test_journalctl_dying_hands_out_its_complete_lines_then_fails(journal):
    f = journal.follower()
    try:
        journal.log("last words")
        assert messages(read_until(f, 1)) == ["last words"]
        Path(f"{journal.records}.die").write_text("Failed to iterate through journal: Bad message\n")
        assert read_until(f, 1) == []  # the half line it wrote is never handed out
        assert f.failure is not None
        assert f.failure.endswith("exited with status 3: Failed to iterate through journal: Bad message")
        assert f.read() == []
    finally:
        f.stop()


def test_journalctl_given_other_matches_says_so(tmp_path):
    journal = FakeJournal(tmp_path, matches=["_TRANSPORT=kernel"])
    f = journal.follower()
    read_until(f, 1)
    assert f.failure is not None and "expected ['_TRANSPORT=kernel']" in f.failure
    f.stop()


def test_missing_journalctl_is_a_clear_failure(tmp_path):
    f = JournalFollower(str(tmp_path / "no-such-journalctl"))
    f.start(None)
    assert f.failure is not None and f.failure.startswith("journalctl not found")
    assert f.read() == []
    f.stop()
    f.start("c1")
    assert f.failure is not None and f.failure.startswith("journalctl not found")
