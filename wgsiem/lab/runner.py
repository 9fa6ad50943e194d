"""Run the real `wgsiem ship` / `wgsiem record` commands against a lab, as a user would.

Both run as subprocesses with a short poll interval; `wait_for_poll(after)` returns once
a poll that started after `after` has been written, which is what a story's tick needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from .tunnels import Client


def write_names(path: Path, clients: dict[str, Client]) -> None:
    """Replaced whole (a temporary file renamed over it), as an operator's tooling should:
    a shipper polling while the file is truncated and rewritten in place could load it
    empty and name the new peer's first events after nobody."""
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(yaml.safe_dump({c.public_key: c.name for c in clients.values()}, sort_keys=True))
    os.replace(partial, path)


class _Command:
    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv = argv
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.status = 0

    def start(self) -> None:
        self._log = open(self.log, "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wgsiem", *self.argv], stdout=subprocess.DEVNULL, stderr=self._log
        )

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd stops it; returns the exit status (again, if already stopped)."""
        if self.proc is None:
            return self.status
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.status = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._log.close()
            self.proc = None
        return self.status

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _wait(self, newest: Callable[[], int | None], after: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        target = int(after) + 1  # polls are named by whole seconds
        while time.monotonic() < deadline:
            latest = newest()
            if latest is not None and latest >= target:
                return
            if not self.running():
                raise RuntimeError(f"wgsiem {self.argv[0]} exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"no poll after {after:.0f} within {timeout} s: {self.log.read_text()[-2000:]}")


class LiveShipper(_Command):
    def __init__(self, workdir: Path, args: list[str], interval: float = 1.0) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.output = workdir / "wireguard-status.ndjson"
        self.state_file = workdir / "state" / "state.json"
        super().__init__(
            ["ship", "--interval", str(interval), "--state-dir", str(workdir / "state"),
             "--output-file", str(self.output), *args],
            workdir / "ship.log",
        )  # fmt: skip

    def last_poll(self) -> int | None:
        try:
            return json.loads(self.state_file.read_text())["last_poll"]
        except (OSError, ValueError, KeyError):
            return None

    def wait_for_poll(self, after: float, timeout: float = 30) -> None:
        self._wait(self.last_poll, after, timeout)

    def documents(self) -> list[dict]:
        if not self.output.exists():
            return []
        return [json.loads(line) for line in self.output.read_text().splitlines()]


class LiveRecorder(_Command):
    def __init__(self, capture: Path, workdir: Path, args: list[str] = (), interval: float = 1.0) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.capture = capture
        super().__init__(
            ["record", str(capture), "--interval", str(interval), "--state-dir", str(workdir / "record-state"), *args],
            workdir / "record.log",
        )

    def last_poll(self) -> int | None:
        times = [int(p.stem) for p in self.capture.glob("*.dump") if p.stem.isdigit()] if self.capture.is_dir() else []
        return max(times, default=None)

    def wait_for_poll(self, after: float, timeout: float = 30) -> None:
        self._wait(self.last_poll, after, timeout)
