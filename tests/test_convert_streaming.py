"""`wgsiem convert` streams: its memory does not grow with the length of the capture.

The same fleet is captured for 80 polls and for 800, and each is converted by a
`wgsiem convert` process whose peak resident memory is read from the kernel (`wait4`).
Ten times the polls, ten times the documents, the same memory: the capture is read one
file at a time and each interval's documents are written as they are built. Holding the
capture or an interval's documents in memory shows up as tens of megabytes here.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from tests.support.dumps import FakeInterface, dump

PEERS = 500
T0 = 1_790_000_000


def write_capture(directory: Path, polls: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    directory.mkdir()
    wg0 = FakeInterface()
    peers = [wg0.peer(f"p{i}", endpoint=f"198.51.{i // 200}.{i % 200 + 1}:51820", allowed_ips=f"10.0.{i // 200}.{i % 200 + 2}/32") for i in range(PEERS)]
    for n in range(polls):
        t = T0 + 30 * n
        for peer in rng.sample(peers, PEERS // 20):  # 5 % of the peers move data and handshake
            peer.rx += rng.randrange(1, 10**7)
            peer.tx += rng.randrange(1, 10**6)
            peer.handshake = t - rng.randrange(0, 30)
        (directory / f"{t}.dump").write_text(dump(wg0))


def convert(capture: Path, out: Path) -> tuple[int, int]:
    """Peak RSS in KiB of a `wgsiem convert` process, and the documents it wrote."""
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "wgsiem", "convert", str(capture), "--host-name", "vpn1"], stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    with out.open("rb") as f:
        return usage.ru_maxrss, sum(1 for _ in f)


def test_memory_stays_flat_as_the_capture_grows(tmp_path: Path) -> None:
    write_capture(tmp_path / "short", 80)
    write_capture(tmp_path / "long", 800)
    short_rss, short_docs = convert(tmp_path / "short", tmp_path / "short.ndjson")
    long_rss, long_docs = convert(tmp_path / "long", tmp_path / "long.ndjson")
    assert long_docs > 8 * short_docs
    # The long capture is 800 files of 500 peers (about 50 MB of dumps) and ten times the
    # documents; the process may not need more than a few MB more for it.
    assert long_rss - short_rss < 8 * 1024, f"{short_rss // 1024} MB for 80 polls, {long_rss // 1024} MB for 800"
