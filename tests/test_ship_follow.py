"""`wgsiem ship` following the kernel log live: through restarts, nothing lost, nothing repeated."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support.dumps import FakeInterface, dump
from tests.support.journal import FakeJournal
from tests.support.ship_process import BackgroundShip


class Ship(BackgroundShip):
    """`wgsiem ship --kernel-log KERNEL_LOG` in the background; its wireguard.log events."""

    def __init__(self, tmp_path: Path, kernel_log: str, *extra: str) -> None:
        super().__init__(
            tmp_path, "--kernel-log", kernel_log, *extra,
            peer="alice", allowed_ips=None, host_name="vpn1", dataset="wireguard.log", timeout=15,
        )  # fmt: skip

    def logs(self) -> list[dict]:
        return self.docs()

    def stop(self, timeout: float = 20) -> int:
        return super().stop(timeout)


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
