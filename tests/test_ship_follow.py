"""`wgsiem ship` following the kernel log live: through restarts, nothing lost, nothing repeated."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.dumps import FakeInterface, dump, fake_key
from tests.support.journal import FakeJournal

REPO = Path(__file__).resolve().parents[1]


class Ship:
    def __init__(self, tmp_path: Path, kernel_log: str, *extra: str) -> None:
        self.tmp = tmp_path
        self.out = tmp_path / "out.ndjson"
        wg0 = FakeInterface()
        wg0.peer("alice", endpoint="198.51.100.7:51820", handshake=int(time.time()) - 5)
        self.dump = tmp_path / "current.dump"
        self.dump.write_text(dump(wg0))
        self.wg = tmp_path / "wg"
        self.wg.write_text(f"#!/bin/sh\ncat '{self.dump}'\n")
        self.wg.chmod(0o755)
        names = tmp_path / "peers.yaml"
        names.write_text(f"{fake_key('alice')}: alice\n")
        self.argv = [sys.executable, "-m", "wgsiem", "ship", "--wg", str(self.wg), "--state-dir", str(tmp_path / "state"),
                     "--output-file", str(self.out), "--host-name", "vpn1", "--interval", "0.2", "--peers", str(names),
                     "--wg-config-dir", str(tmp_path / "none"), "--kernel-log", kernel_log, *extra]  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.stderr = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=REPO, stderr=subprocess.PIPE, text=True)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=20)
        self.stderr += err
        return self.proc.returncode

    def logs(self) -> list[dict]:
        if not self.out.exists():
            return []
        docs = [json.loads(line) for line in self.out.read_text().splitlines()]
        return [d for d in docs if d["event"]["dataset"] == "wireguard.log"]

    def wait_for(self, n: int, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            docs = self.logs()
            if len(docs) >= n:
                return docs
            assert self.proc is None or self.proc.poll() is None, self.proc.communicate()[1]
            time.sleep(0.05)
        raise AssertionError(f"{len(self.logs())} log events, wanted {n}")

    def wait_polls(self, polls: int = 2) -> None:
        state = self.tmp / "state" / "state.json"
        seen = set()
        deadline = time.monotonic() + 15
        while len(seen) < polls and time.monotonic() < deadline:
            if state.exists():
                seen.add(state.stat().st_mtime_ns)
            time.sleep(0.05)


LINE = "wireguard: wg0: Keypair {n} created for peer 4"


def test_following_a_log_file_across_restarts(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("Nov 22 00:00:00 vpn1 kernel: wireguard: wg0: old line before the shipper ever ran\n")
    ship = Ship(tmp_path, str(log))
    ship.start()
    ship.wait_polls()

    def write(*numbers):
        with log.open("a") as f:
            for n in numbers:
                f.write(f"Nov 22 00:00:{n:02d} vpn1 kernel: {LINE.format(n=n)}\n")

    write(1, 2, 3)
    ship.wait_for(3)
    assert ship.stop() == 0
    write(4, 5)  # while it is down
    ship.start()
    ship.wait_polls()
    write(6)
    docs = ship.wait_for(6)
    assert ship.stop() == 0
    keypairs = [d["wireguard"]["log"]["keypair_id"] for d in docs]
    assert keypairs == [1, 2, 3, 4, 5, 6]  # none lost, none repeated, the old line not replayed
    assert len({d["event"]["id"] for d in docs}) == 6


def test_following_the_journal_across_restarts_and_correlating(tmp_path):
    journal = FakeJournal(tmp_path)
    ship = Ship(tmp_path, "journal", "--journalctl", str(journal.journalctl))
    ship.start()
    ship.wait_polls()
    journal.log("wireguard: wg0: Receiving handshake initiation from peer 4 (198.51.100.7:51820)", kernel=True)
    journal.log("[#] wg set wg0 peer x remove")
    ship.wait_for(2)
    assert ship.stop() == 0
    journal.log(LINE.format(n=7), kernel=True)  # while it is down
    journal.log("usb 1-1: not ours", kernel=True)
    ship.start()
    docs = ship.wait_for(3)
    time.sleep(0.5)
    assert ship.stop() == 0
    assert [d["event"]["action"] for d in ship.logs()] == ["handshake-initiation-received", "wg-quick-command", "keypair-created"]
    assert docs[0]["user"]["name"] == "alice" and docs[2]["user"]["name"] == "alice"  # the id, remembered across the restart
    assert docs[1]["process"]["name"] == "wg-quick"


def test_warns_once_when_dynamic_debug_is_off(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    ship = Ship(tmp_path, str(log))
    ship.start()
    ship.wait_polls()
    for i in range(3):  # handshakes, but the kernel log stays silent
        wg0 = FakeInterface()
        wg0.peer("alice", endpoint="198.51.100.7:51820", handshake=int(time.time()) + i)
        ship.dump.write_text(dump(wg0))
        ship.wait_polls()
    assert ship.stop() == 0
    assert ship.stderr.count("dynamic debug is off") == 1
    assert "module wireguard +p" in ship.stderr


def test_a_missing_journalctl_is_reported_and_polling_goes_on(tmp_path):
    ship = Ship(tmp_path, "journal", "--journalctl", str(tmp_path / "no-journalctl"))
    ship.start()
    ship.wait_polls()
    assert ship.stop() == 0
    assert "journalctl not found" in ship.stderr
    docs = [json.loads(line) for line in ship.out.read_text().splitlines()]
    # The shipper's own start-up health event aside, the baseline poll's documents.
    assert [d["event"]["action"] for d in docs if d["event"]["action"] != "shipper-health"] == ["interface-discovered", "peer-discovered"]


def test_kernel_log_off(tmp_path):
    ship = Ship(tmp_path, "off")
    ship.start()
    ship.wait_polls()
    assert ship.stop() == 0
    assert "kernel log" not in ship.stderr and "WireGuard log lines" not in ship.stderr


def test_a_year_less_line_read_in_the_new_year_is_last_years():
    import secrets
    from datetime import UTC, datetime

    from wgsiem.cli.ship import _LogWatch
    from wgsiem.ecs.document import Context
    from wgsiem.shipper import Shipper
    from wgsiem.status.state import State
    from wgsiem.wgdump import PresharedKeyHasher

    class Lines:
        name, failure = "kern.log", None

        def read(self):
            return [("Dec 31 23:59:58 vpn1 kernel: wireguard: wg0: Peer 1 created", "1:60")]

    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="vpn1"))
    new_year = datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC).timestamp()
    (doc,) = shipper.process_log(_LogWatch(Lines(), None).read(new_year))
    assert doc["@timestamp"] == "2026-12-31T23:59:58.000Z"
