"""`wgsiem record DIR`: write a capture directory from this host, keys redacted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.capture import write_poll
from ..adapters.secret import load_or_create_secret
from ..adapters.wg import run_wg
from ..config import ShipConfig
from ..wgdump import PresharedKeyHasher
from ..wgdump.redact import redact_dump
from .groups import ShipOptions, with_groups
from .setup import fail, log, setup_logging, stop_on_signals

# The poll settings, as `ship` takes them (and with its defaults).
POLL_SETTINGS = ShipOptions(keys=("interval", "interfaces", "wg", "state_dir"), config_file=False)


@with_groups
def record(
    directory: Annotated[Path, typer.Argument(help="Capture directory to write <unix-seconds>.dump files into.", file_okay=False)],
    poll: Annotated[ShipConfig, POLL_SETTINGS],
    count: Annotated[Optional[int], typer.Option("--count", "-n", help="Stop after this many polls [default: until stopped]")] = None,
) -> None:
    """Poll `wg show all dump` and keep each poll as DIR/<unix-seconds>.dump.

    Private keys are replaced by '(redacted)'; a preshared key by a stand-in of the same
    shape derived by keyed hash, so set / removed / rotated still show in `wgsiem convert`.
    SIGTERM or SIGINT stops it after the current poll.
    """
    setup_logging()
    if count is not None and count < 1:
        raise fail("--count must be at least 1")
    # The secret keys the preshared-key stand-ins, as it keys the shipper's hashes.
    hasher = PresharedKeyHasher(load_or_create_secret(poll.secret_file))
    stop = stop_on_signals()
    written = 0
    last = 0
    while not stop.is_set():
        started = time.time()
        now = int(started)
        if now <= last:  # one file per second at most: the name is the second
            stop.wait(last + 1 - started)
            continue
        raw = run_wg(now, poll.wg)
        if raw.failure:
            raise fail(raw.failure, 1)
        for line in raw.stderr.splitlines():
            log.warning("wg: %s", line)
        text = raw.stdout
        if poll.interfaces:
            text = "".join(line for line in text.splitlines(True) if line.split("\t", 1)[0] in poll.interfaces)
        path = write_poll(directory, now, redact_dump(text, hasher))
        last = now
        written += 1
        log.info("recorded %s", path)
        if count is not None and written >= count:
            break
        stop.wait(max(0.0, poll.interval - (time.time() - started)))
    log.info("%d polls recorded in %s", written, directory)
