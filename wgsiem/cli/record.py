"""`wgsiem record DIR`: write a capture directory from this host, keys redacted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.capture import write_config_snapshot, write_poll
from ..adapters.config_files import ConfigDirReader
from ..adapters.secret import load_or_create_secret
from ..adapters.wg import run_wg
from ..config import ShipConfig
from ..wgconfig.parse import interface_of
from ..wgconfig.snapshot import same_files
from ..wgdump import PresharedKeyHasher
from ..wgdump.raw import ConfigRead
from ..wgdump.redact import redact_dump
from .groups import ShipOptions, with_groups
from .setup import fail, log, setup_logging, stop_on_signals

# The poll settings, as `ship` takes them (and with its defaults).
POLL_SETTINGS = ShipOptions(keys=("interval", "interfaces", "wg", "state_dir", "wg_config_dirs", "wg_config_watch"), config_file=False)


@with_groups
def record(
    directory: Annotated[Path, typer.Argument(help="Capture directory to write <unix-seconds>.dump files into.", file_okay=False)],
    poll: Annotated[ShipConfig, POLL_SETTINGS],
    count: Annotated[Optional[int], typer.Option("--count", "-n", help="Stop after this many polls [default: until stopped]")] = None,
) -> None:
    """Poll `wg show all dump` and keep each poll as DIR/<unix-seconds>.dump.

    Private keys are replaced by '(redacted)'; a preshared key by a stand-in of the same
    shape derived by keyed hash, so set / removed / rotated still show in `wgsiem convert`.
    The wg-quick files of --wg-config-dir are kept too, redacted the same way, as
    DIR/wg-config/<unix-seconds>.json whenever one was added, changed or removed.
    SIGTERM or SIGINT stops it after the current poll.
    """
    setup_logging()
    if count is not None and count < 1:
        raise fail("--count must be at least 1")
    # The secret keys the preshared-key stand-ins, as it keys the shipper's hashes.
    hasher = PresharedKeyHasher(load_or_create_secret(poll.secret_file))
    stop = stop_on_signals()
    reader = ConfigDirReader(poll.wg_config_dirs) if poll.wg_config_watch == "on" else None
    kept: ConfigRead | None = None
    written = 0
    last = 0
    while not stop.is_set():
        started = time.time()
        now = int(started)
        if now <= last:  # one file per second at most: the name is the second
            stop.wait(last + 1 - started)
            continue
        config = reader.read() if reader is not None else None
        raw = run_wg(now, poll.wg)
        if raw.failure:
            raise fail(raw.failure, 1)
        for line in raw.stderr.splitlines():
            log.warning("wg: %s", line)
        text = raw.stdout
        if poll.interfaces:
            text = "".join(line for line in text.splitlines(True) if line.split("\t", 1)[0] in poll.interfaces)
        if config is not None:
            if poll.interfaces:
                config = ConfigRead(tuple(f for f in config.files if interface_of(f.path) in poll.interfaces), config.unknown)
            # No files now and none before: nothing to keep (a host without wg-quick).
            if not same_files(kept, config) and (kept is not None or config.files or config.unknown):
                log.info("recorded %s", write_config_snapshot(directory, now, config, hasher))
                kept = config
        path = write_poll(directory, now, redact_dump(text, hasher))
        last = now
        written += 1
        log.info("recorded %s", path)
        if count is not None and written >= count:
            break
        stop.wait(max(0.0, poll.interval - (time.time() - started)))
    log.info("%d polls recorded in %s", written, directory)
