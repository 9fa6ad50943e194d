"""Following conntrack's events: a file it appends to, with each line's number in its file
(FileFollower numbered), and the live stream of a `conntrack -E` child (ConntrackEvents)
or its recording into a file (ConntrackRecorder). The children here are scripts that
behave as conntrack does; tests/test_ship_conntrack_live.py runs the real one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wgsiem.adapters.conntrack import ConntrackEvents, ConntrackRecorder, seen_time
from wgsiem.adapters.follow import FileFollower, line_of

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "conntrack" / "acct-on.log"
LINES = FIXTURE.read_text().splitlines(True)


def numbers(lines: list[tuple[str, str]]) -> list[int | None]:
    return [line_of(position) for _, position in lines]


# ------------------------------------------------------------------ a file, numbered


def test_numbered_lines_go_on_across_reads_and_restarts(tmp_path):
    log = tmp_path / "conntrack.log"
    log.write_text("")
    f = FileFollower(log, numbered=True)
    f.start(None)
    log.write_text("".join(LINES[:3]))
    first = f.read()
    assert numbers(first) == [1, 2, 3] and [t + "\n" for t, _ in first] == LINES[:3]
    with log.open("a") as out:
        out.writelines(LINES[3:5])
    assert numbers(f.read()) == [4, 5]
    f.stop()
    with log.open("a") as out:
        out.writelines(LINES[5:7])
    g = FileFollower(log, numbered=True)
    g.start(first[-1][1])  # it had handled up to line 3
    assert numbers(g.read()) == [4, 5, 6, 7]
    g.stop()


def test_numbered_start_at_the_end_and_from_an_unnumbered_position_count_the_lines_before(tmp_path):
    log = tmp_path / "conntrack.log"
    log.write_text("".join(LINES[:10]))
    f = FileFollower(log, numbered=True)
    f.start(None)  # only new lines, but numbered as the file numbers them
    with log.open("a") as out:
        out.write(LINES[10])
    assert numbers(f.read()) == [11]
    f.stop()
    inode = log.stat().st_ino
    offset = len("".join(LINES[:4]).encode())
    g = FileFollower(log, numbered=True)
    g.start(f"{inode}:{offset}")  # a position saved before the lines were numbered
    assert numbers(g.read()) == list(range(5, 12))
    g.stop()


def test_numbered_rotation_and_truncation_start_again_at_one(tmp_path):
    log = tmp_path / "conntrack.log"
    log.write_text("".join(LINES[:2]))
    f = FileFollower(log, numbered=True)
    f.start(None)
    with log.open("a") as out:
        out.write(LINES[2])
    log.rename(tmp_path / "conntrack.log.1")
    log.write_text("".join(LINES[3:5]))
    assert numbers(f.read()) == [3, 1, 2]  # the old file's last line, then the new file's
    log.write_text(LINES[5])  # truncated and rewritten (copytruncate)
    assert numbers(f.read()) == [1]
    f.stop()


def test_unnumbered_positions_stay_as_they_were(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    f = FileFollower(log)
    f.start(None)
    log.write_text("one\n")
    ((_, position),) = f.read()
    assert position == f"{log.stat().st_ino}:4" and line_of(position) is None
    f.stop()


# ------------------------------------------------------------------ a live child


def fake_conntrack(tmp_path: Path, body: str) -> Path:
    """A `conntrack` that checks its arguments are what the parser reads, then runs `body`."""
    script = tmp_path / "conntrack"
    script.write_text(f"#!/bin/sh\n[ \"$*\" = '-E -o timestamp,extended,id' ] || {{ echo \"bad args: $*\" >&2; exit 9; }}\n{body}\n")
    script.chmod(0o755)
    return script


def read_until(f: ConntrackEvents, n: int, timeout: float = 10) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and f.failure is None and time.monotonic() < deadline:
        out += f.read()
        time.sleep(0.02)
    return out


def test_live_lines_come_once_and_a_quiet_stream_still_counts_as_seen(tmp_path):
    events = tmp_path / "events"
    events.write_text("".join(LINES[:4]))
    now = [1000.0]
    f = ConntrackEvents(str(fake_conntrack(tmp_path, f"cat '{events}'\nexec sleep 60")), clock=lambda: now[0])
    f.start(None)
    try:
        assert f.gap is None  # a first start: nothing was being followed before
        lines = read_until(f, 4)
        assert [t + "\n" for t, _ in lines] == LINES[:4]
        assert {position for _, position in lines} == {"seen:1000.000000"}
        now[0] = 1030.0
        assert f.read() == [] and f.position == "seen:1030.000000" and f.failure is None
    finally:
        f.stop()


def test_live_reads_take_a_bounded_share_and_leave_the_rest_for_the_next(tmp_path):
    events = tmp_path / "events"
    events.write_text("".join(LINES))
    f = ConntrackEvents(str(fake_conntrack(tmp_path, f"cat '{events}'\nexec sleep 60")))
    f.max_lines_per_read = 10
    f.start(None)
    try:
        time.sleep(0.5)  # all 45 lines are in the queue by now
        sizes = [len(f.read()) for _ in range(6)]
        assert sizes == [10, 10, 10, 10, 5, 0]
    finally:
        f.stop()


def test_live_restart_names_the_gap_since_the_saved_position(tmp_path):
    f = ConntrackEvents(str(fake_conntrack(tmp_path, "exec sleep 60")), clock=lambda: 1600.0)
    f.start("seen:1000.500000")
    try:
        assert f.gap == (1000.5, 1600.0)
        assert seen_time("seen:1000.500000") == 1000.5 and seen_time("123:456") is None
    finally:
        f.stop()


def test_live_end_hands_out_the_last_lines_then_fails_and_stops_counting_as_seen(tmp_path):
    now = [50.0]
    script = fake_conntrack(tmp_path, f"echo '{LINES[0].strip()}'\necho 'WARNING: We have hit ENOBUFS! We are losing events.' >&2\nexit 1")
    f = ConntrackEvents(str(script), clock=lambda: now[0])
    f.start(None)
    try:
        deadline = time.monotonic() + 10
        got: list[tuple[str, str]] = []
        while f.failure is None and time.monotonic() < deadline:
            now[0] += 1
            got += f.read()
            time.sleep(0.02)
        assert [t for t, _ in got] == [LINES[0].strip()]
        assert f.failure == f"{script} exited with status 1: WARNING: We have hit ENOBUFS! We are losing events."
        assert f.lost == 1
        # Seen only while it ran: a restart names the gap from before its end.
        assert f.position is None or (seen_time(f.position) or 0) < now[0]
        assert f.read() == []
    finally:
        f.stop()


def test_live_missing_program_is_a_clear_failure(tmp_path):
    f = ConntrackEvents(str(tmp_path / "no-conntrack"))
    f.start(None)
    assert f.failure is not None and "not found: install conntrack-tools" in f.failure
    assert f.read() == []
    f.stop()


# ------------------------------------------------------------------ recorded into a file


def test_recorder_appends_what_conntrack_prints(tmp_path):
    events = tmp_path / "events"
    events.write_text("".join(LINES[:5]))
    out = tmp_path / "capture.log"
    out.write_text(LINES[0])  # an earlier recording: appended to, not replaced
    r = ConntrackRecorder(out, str(fake_conntrack(tmp_path, f"cat '{events}'\nexec sleep 60")))
    r.start(settle=0.2)
    try:
        assert r.failure is None and r.check() is None
        deadline = time.monotonic() + 10
        while len(out.read_text().splitlines()) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        r.stop()
    assert out.read_text() == LINES[0] + "".join(LINES[:5])


@pytest.mark.parametrize("settle", [2.0, 0.0])
def test_recorder_failing_says_so_at_start_or_when_checked(tmp_path, settle):
    script = fake_conntrack(tmp_path, "echo 'mnl_socket_bind: Operation not permitted' >&2\n"
                                      "echo \"conntrack v1.4.7 (conntrack-tools): Can't open netlink socket\" >&2\nexit 1")  # fmt: skip
    r = ConntrackRecorder(tmp_path / "conntrack.log", str(script))
    r.start(settle=settle)
    try:
        if settle == 0.0:
            deadline = time.monotonic() + 10
            while r.check() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        assert r.failure is not None
        assert r.failure.endswith(
            "exited with status 1: conntrack v1.4.7 (conntrack-tools): Can't open netlink socket"
            " (mnl_socket_bind: Operation not permitted): listening to the connection tracker's events takes CAP_NET_ADMIN"
        )
    finally:
        r.stop()
