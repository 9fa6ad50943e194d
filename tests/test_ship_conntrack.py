"""`wgsiem ship --conntrack FILE`: a file `conntrack -E -o timestamp,extended,id` appends to,
followed as it grows and across restarts, its connections shipped as wireguard.flow events;
`--conntrack live` and `wgsiem record --conntrack` failing, with a script that fails as
conntrack does (tests/test_ship_conntrack_live.py runs the real one, as root).

The conntrack text is the real recording of fixtures/conntrack/ (the client namespace is
10.98.0.2 and fd98::2), moved to the present and renumbered where a test needs more of it;
`wg` is a script printing a dump whose peer has those addresses as its allowed-ips.
"""

from __future__ import annotations

import calendar
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support import ship_process
from tests.support.dumps import fake_key
from wgsiem.conntrack import ACCOUNTING_OFF

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "conntrack"
PEER_IPS = "10.98.0.2/32,fd98::2/128"
# acct-on.log: 12 connections of the client, each a NEW and a DESTROY line; the tcp one that
# sent 100,000 bytes and got 50,000 back is conntrack id 794240106 (bytes with headers).
CONNECTIONS = 12
BIG_ID, BIG_SENT, BIG_RECEIVED = 794240106, 100744, 50632


def recording(name: str, shift: float = 0.0, ids: int = 0) -> list[str]:
    """The fixture's lines (with their newline) moved to `shift` seconds before now and
    with `ids` added to every conntrack id, as another run of the same traffic would be."""
    lines = (FIXTURES / name).read_text().splitlines(True)
    first = float(re.match(r"\[(\d+\.\d+)\]", lines[0]).group(1))
    delta = time.time() - shift - first

    def moved(line: str) -> str:
        line = re.sub(r"^\[(\d+\.\d+)\]", lambda m: f"[{float(m.group(1)) + delta:.6f}]", line)
        return re.sub(r" id=(\d+)$", lambda m: f" id={int(m.group(1)) + ids}", line.rstrip("\n")) + "\n"

    return [moved(line) for line in lines]


def fake_wg(tmp: Path) -> tuple[Path, Path]:
    """A `wg` printing a dump whose peer `laptop` has the client's addresses, and a names file."""
    wg, names, _ = ship_process.fake_wg(tmp, "laptop", PEER_IPS)
    return wg, names


class Ship(ship_process.BackgroundShip):
    """`wgsiem ship --conntrack FILE` in the background, against a fake `wg`."""

    def __init__(self, tmp: Path, conntrack: str, *extra: str) -> None:
        super().__init__(
            tmp, "--kernel-log", "off", "--conntrack", conntrack, *extra,
            peer="laptop", allowed_ips=PEER_IPS, host_name="gw1", dataset="wireguard.flow", timeout=20,
        )  # fmt: skip

    def health(self) -> list[dict]:
        return [d for d in self.docs("wireguard.status") if d["event"]["action"] == "shipper-health"]

    def wait_polls(self, polls: int = 2) -> int:
        seen = super().wait_polls(polls)
        assert seen >= polls, "ship saved no state"
        return seen


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.writelines(lines)


def ids(docs: list[dict]) -> list[str]:
    return [d["event"]["id"] for d in docs]


def test_a_growing_file_becomes_the_peers_flows_across_restarts_none_lost_none_repeated(tmp_path):
    first = recording("acct-on.log", shift=120)
    second = recording("acct-on.log", shift=60, ids=1)
    # A line conntrack never prints (protocol 7 is not tcp): the second run's second NEW.
    assert "[NEW] ipv6" in second[6]
    second[6] = second[6].replace("tcp      6", "tcp      7")
    chunks = [first[:20], first[20:], second]
    bad_line = len(first) + 7  # its number in the file

    # Uninterrupted: the file grows three times while ship runs.
    whole = Ship(tmp_path / "whole", str(tmp_path / "whole.log"))
    whole.start()
    whole.wait_polls()
    expected = 0
    for chunk in chunks:
        append(tmp_path / "whole.log", chunk)
        expected += sum(("[NEW]" in line and "tcp      7" not in line) or "[DESTROY]" in line for line in chunk)
        whole.wait_for(expected)
    assert whole.stop() == 0
    assert whole.stderr.count("whole.log does not exist (yet): waiting for `conntrack -E -o timestamp,extended,id >>") == 1
    uninterrupted = whole.docs()
    assert len(uninterrupted) == 4 * CONNECTIONS - 1  # the broken line was a NEW

    # Restarted: stopped after the first chunk, the second written while it is down.
    path = tmp_path / "restarted.log"
    ship = Ship(tmp_path / "restarted", str(path))
    ship.start()
    ship.wait_polls()
    append(path, chunks[0])
    ship.wait_for(sum("[NEW]" in line or "[DESTROY]" in line for line in chunks[0]))
    assert ship.stop() == 0
    append(path, chunks[1])
    ship.start()
    ship.wait_polls()
    append(path, chunks[2])
    ship.wait_for(len(uninterrupted))
    time.sleep(0.5)  # a repeat would come with the next polls
    assert ship.stop() == 0
    docs = ship.docs()
    assert len(ids(docs)) == len(set(ids(docs))), "a flow event was shipped twice"
    assert sorted(ids(docs)) == sorted(ids(uninterrupted))

    # What they say: the peer's flows, with the totals conntrack counted.
    actions = [d["event"]["action"] for d in docs]
    assert actions.count("flow-ended") == 2 * CONNECTIONS and actions.count("flow-started") == 2 * CONNECTIONS - 1
    assert {d["user"]["name"] for d in docs} == {"laptop"}
    assert {d["wireguard"]["peer"]["public_key"] for d in docs} == {fake_key("laptop")}
    big = [d for d in docs if d["event"]["action"] == "flow-ended" and d["wireguard"]["flow"]["conntrack_id"] in (BIG_ID, BIG_ID + 1)]
    assert len(big) == 2
    for d in big:
        assert (d["source"]["ip"], d["destination"]["port"], d["network"]["transport"]) == ("10.98.0.2", 5432, "tcp")
        assert (d["source"]["bytes"], d["destination"]["bytes"]) == (BIG_SENT, BIG_RECEIVED)

    # The broken line: named by file, its line in the file (after a restart too) and field,
    # counted as malformed in the summary and the shipper's health.
    said = f"malformed conntrack line skipped: {path}:{bad_line}: protocol: "
    assert ship.stderr.count(said) == 1, ship.stderr
    assert whole.stderr.count(f"malformed conntrack line skipped: {tmp_path / 'whole.log'}:{bad_line}: protocol: ") == 1
    summary = ship.stderr.splitlines()[-1]
    assert "1 malformed lines skipped;" in summary
    read = len(chunks[1]) + len(chunks[2]) - 1  # since the restart
    assert f"{path}: {read} conntrack records, 1 malformed lines skipped" in summary
    assert ACCOUNTING_OFF not in ship.stderr


def test_a_malformed_line_fails_the_shippers_health(tmp_path):
    path = tmp_path / "conntrack.log"
    ship = Ship(tmp_path / "ship", str(path), "--health-interval", "0.3")
    ship.start()
    ship.wait_polls()
    lines = recording("acct-on.log")
    append(path, [lines[0], "[1796448685.264248]\t    [NEW] ipv4     2 tcp      6 3 SYN_SENT src=10.98.0.2\n", *lines[1:]])
    ship.wait_for(2 * CONNECTIONS)
    deadline = time.monotonic() + 20
    while not any(h["wireguard"]["shipper"]["malformed_lines"] for h in ship.health()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ship.stop() == 0
    failed = [h for h in ship.health() if h["wireguard"]["shipper"]["malformed_lines"]]
    assert [h["wireguard"]["shipper"]["malformed_lines"] for h in failed] == [1]
    assert failed[0]["event"]["outcome"] == "failure"
    assert f"malformed conntrack line skipped: {path}:2: dst: " in ship.stderr


def test_accounting_off_is_said_once_and_totals_are_unknown(tmp_path):
    path = tmp_path / "conntrack.log"
    lines = recording("acct-off.log")
    ship = Ship(tmp_path / "ship", str(path))
    ship.start()
    ship.wait_polls()
    append(path, lines[:38])  # DESTROY lines in both halves
    ship.wait_for(sum("[NEW]" in line or "[DESTROY]" in line for line in lines[:38]))
    append(path, lines[38:])
    docs = ship.wait_for(2 * CONNECTIONS)
    assert ship.stop() == 0
    assert ship.stderr.count(ACCOUNTING_OFF) == 1
    ended = [d for d in docs if d["event"]["action"] == "flow-ended"]
    assert len(ended) == CONNECTIONS
    assert all("bytes" not in d["source"] and "bytes" not in d["destination"] for d in ended)


def test_only_ended_flows_and_undated_lines_are_said(tmp_path):
    path = tmp_path / "conntrack.log"
    lines = recording("nat.log")
    undated = re.sub(r"^\[\d+\.\d+\]\t", "", lines[0])  # conntrack run without -o timestamp
    ship = Ship(tmp_path / "ship", str(path), "--flow-events", "ended")
    ship.start()
    ship.wait_polls()
    append(path, [undated, *lines])
    docs = ship.wait_for(6)
    time.sleep(0.5)
    assert ship.stop() == 0
    assert [d["event"]["action"] for d in ship.docs()] == ["flow-ended"] * 6
    # Masqueraded and forwarded: the far end as it really is, the peer's own address.
    forwarded = next(d for d in docs if d["destination"].get("port") == 80 and d["destination"]["ip"] == "10.98.1.2")
    assert forwarded["source"]["ip"] == "10.98.0.2" and forwarded["wireguard"]["flow"]["nat"] is True
    assert ship.stderr.count("conntrack lines without a time are skipped") == 1
    assert f"{path}: 31 conntrack records, 1 without a time (-o timestamp) skipped" in ship.stderr


def test_a_missing_conntrack_is_said_once_and_status_events_go_on(tmp_path):
    ship = Ship(tmp_path / "ship", "live", "--conntrack-program", str(tmp_path / "no-conntrack"))
    ship.start()
    ship.wait_polls(3)
    assert ship.stop() == 0
    assert ship.stderr.count("not found: install conntrack-tools") == 1
    assert "wireguard.status events go on without flows" in ship.stderr
    actions = [d["event"]["action"] for d in ship.docs("wireguard.status")]
    assert "peer-discovered" in actions


def test_conntrack_exiting_is_said_once_with_what_it_said(tmp_path):
    """A `conntrack` that fails as the real one does without CAP_NET_ADMIN (its words)."""
    fake = tmp_path / "conntrack"
    fake.write_text(
        "#!/bin/sh\necho 'mnl_socket_bind: Operation not permitted' >&2\n"
        "echo \"conntrack v1.4.7 (conntrack-tools): Can't open netlink socket\" >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    ship = Ship(tmp_path / "ship", "live", "--conntrack-program", str(fake))
    ship.start()
    ship.wait_polls(3)
    assert ship.stop() == 0
    said = [line for line in ship.stderr.splitlines() if "without flows" in line]
    assert len(said) == 1
    assert "exited with status 1: conntrack v1.4.7 (conntrack-tools): Can't open netlink socket" in said[0]
    assert "mnl_socket_bind: Operation not permitted" in said[0] and "CAP_NET_ADMIN" in said[0]
    assert "peer-discovered" in [d["event"]["action"] for d in ship.docs("wireguard.status")]


def test_live_after_a_restart_names_the_gap_once(tmp_path):
    """A `conntrack` that prints the recording, then waits as `conntrack -E` does."""
    lines = recording("acct-on.log")
    text = tmp_path / "events.txt"
    text.write_text("".join(lines))
    fake = tmp_path / "conntrack"
    fake.write_text(f"#!/bin/sh\n[ \"$*\" = '-E -o timestamp,extended,id' ] || exit 9\ncat '{text}'\nexec sleep 600\n")
    fake.chmod(0o755)
    ship = Ship(tmp_path / "ship", "live", "--conntrack-program", str(fake))
    ship.start()
    ship.wait_for(2 * CONNECTIONS)
    ship.wait_polls()
    assert ship.stop() == 0
    assert "were not seen" not in ship.stderr  # a first start has no gap
    stopped = time.time()
    text.write_text("")  # what the kernel announced while ship was down is gone
    time.sleep(1.1)
    ship.start()
    ship.wait_polls()
    assert ship.stop() == 0
    (gap,) = [line for line in ship.stderr.splitlines() if "were not seen" in line]
    found = re.search(r"from (\S+) to (\S+) \(", gap)
    assert found, gap
    since, until = (calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) for t in found.groups())
    assert since <= stopped < until and until - since >= 1
    assert "--conntrack FILE" in gap
    assert len(ship.docs()) == 2 * CONNECTIONS
    assert f"conntrack -E: {len(lines)} conntrack records, {len(lines) - 2 * CONNECTIONS} updates dropped" in ship.stderr


# ------------------------------------------------------------------ record --conntrack


def fake_conntrack(tmp: Path, body: str) -> Path:
    script = tmp / "conntrack"
    script.write_text(f"#!/bin/sh\n[ \"$*\" = '-E -o timestamp,extended,id' ] || {{ echo \"bad args: $*\" >&2; exit 9; }}\n{body}\n")
    script.chmod(0o755)
    return script


def test_record_conntrack_keeps_what_conntrack_printed_and_convert_makes_the_flows(tmp_path):
    lines = recording("acct-on.log", shift=30)
    events = tmp_path / "events"
    events.write_text("".join(lines))
    program = fake_conntrack(tmp_path, f"cat '{events}'\nexec sleep 60")
    wg, names = fake_wg(tmp_path / "wg")
    capture = tmp_path / "capture"
    subprocess.run([sys.executable, "-m", "wgsiem", "record", str(capture), "--wg", str(wg), "--count", "2", "--interval", "0.2",
                    "--state-dir", str(tmp_path / "rec"), "--conntrack", "--conntrack-program", str(program)],
                   cwd=REPO, check=True, capture_output=True, text=True)  # fmt: skip
    assert (capture / "conntrack.log").read_text() == "".join(lines)
    converted = subprocess.run([sys.executable, "-m", "wgsiem", "convert", str(capture), "--host-name", "gw1",
                                "--peers", str(names)],
                               cwd=REPO, check=True, capture_output=True, text=True)  # fmt: skip
    docs = [d for line in converted.stdout.splitlines() if (d := json.loads(line))["event"]["dataset"] == "wireguard.flow"]
    assert len(docs) == 2 * CONNECTIONS and {d["user"]["name"] for d in docs} == {"laptop"}
    big = next(d for d in docs if d["event"]["action"] == "flow-ended" and d["wireguard"]["flow"]["conntrack_id"] == BIG_ID)
    assert (big["source"]["bytes"], big["destination"]["bytes"]) == (BIG_SENT, BIG_RECEIVED)


def test_record_conntrack_refused_stops_with_conntracks_words(tmp_path):
    program = fake_conntrack(tmp_path, "echo 'mnl_socket_bind: Operation not permitted' >&2\n"
                                       "echo \"conntrack v1.4.7 (conntrack-tools): Can't open netlink socket\" >&2\nexit 1")  # fmt: skip
    wg, _ = fake_wg(tmp_path / "wg")
    proc = subprocess.run([sys.executable, "-m", "wgsiem", "record", str(tmp_path / "capture"), "--wg", str(wg),
                           "--count", "1", "--state-dir", str(tmp_path / "rec"), "--conntrack", "--conntrack-program", str(program)],
                          cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert "Operation not permitted" in proc.stderr and "CAP_NET_ADMIN" in proc.stderr
    assert not list((tmp_path / "capture").glob("*.dump"))  # nothing recorded without what was asked for
