"""`wgsiem ship` run in the background against a fake `wg` (a script printing a dump),
as the follow tests drive it: started, stopped with SIGTERM, its NDJSON output read."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.dumps import FakeInterface, dump, fake_key

REPO = Path(__file__).resolve().parents[2]


def fake_wg(tmp: Path, peer: str, allowed_ips: str | None = None) -> tuple[Path, Path, Path]:
    """A `wg` printing the dump in `current.dump` (one peer, `peer`, rewritable by the test),
    and a names file naming the peer: (wg, names, dump)."""
    tmp.mkdir(parents=True, exist_ok=True)
    wg0 = FakeInterface()
    options = {"allowed_ips": allowed_ips} if allowed_ips is not None else {}
    wg0.peer(peer, endpoint="198.51.100.7:51820", handshake=int(time.time()) - 5, **options)
    current = tmp / "current.dump"
    current.write_text(dump(wg0))
    wg = tmp / "wg"
    wg.write_text(f"#!/bin/sh\ncat '{current}'\n")
    wg.chmod(0o755)
    names = tmp / "peers.yaml"
    names.write_text(f"{fake_key(peer)}: {peer}\n")
    return wg, names, current


class BackgroundShip:
    """`ship --output-file` with a fake `wg` whose one peer is `peer` (allowed-ips
    `allowed_ips`), named in a peers file; `dataset` is what docs() and wait_for() read."""

    def __init__(
        self, tmp: Path, *extra: str, peer: str, allowed_ips: str | None, host_name: str, dataset: str, timeout: float
    ) -> None:
        self.tmp, self.dataset, self.timeout = tmp, dataset, timeout
        self.out = tmp / "out.ndjson"
        wg, names, self.dump = fake_wg(tmp, peer, allowed_ips)
        self.argv = [sys.executable, "-m", "wgsiem", "ship", "--wg", str(wg), "--state-dir", str(tmp / "state"),
                     "--output-file", str(self.out), "--host-name", host_name, "--interval", "0.2", "--peers", str(names),
                     "--wg-config-dir", str(tmp / "none"), *extra]  # fmt: skip
        self.proc: subprocess.Popen[str] | None = None
        self.stderr = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=REPO, stderr=subprocess.PIPE, text=True)

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=timeout)
        self.stderr += err
        return self.proc.returncode

    def docs(self, dataset: str | None = None) -> list[dict]:
        if not self.out.exists():
            return []
        wanted = dataset or self.dataset
        return [d for line in self.out.read_text().splitlines() if (d := json.loads(line))["event"]["dataset"] == wanted]

    def wait_for(self, n: int) -> list[dict]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            docs = self.docs()
            if len(docs) >= n:
                return docs
            assert self.proc is None or self.proc.poll() is None, self.proc.communicate()[1]
            time.sleep(0.05)
        raise AssertionError(f"{len(self.docs())} {self.dataset} events, wanted {n}")

    def wait_polls(self, polls: int = 2) -> int:
        """Until the state was saved `polls` times (or the timeout); how many times it was."""
        state = self.tmp / "state" / "state.json"
        seen = set()
        deadline = time.monotonic() + self.timeout
        while len(seen) < polls and time.monotonic() < deadline:
            if state.exists():
                seen.add(state.stat().st_mtime_ns)
            time.sleep(0.05)
        return len(seen)
