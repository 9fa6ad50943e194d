"""`wgsiem record DIR`: write a capture directory from this host, keys redacted."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.capture import CONNTRACK_LOG, write_config_snapshot, write_poll
from ..adapters.config_files import ConfigDirReader
from ..adapters.conntrack import ConntrackRecorder
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
POLL_SETTINGS = ShipOptions(
    keys=("interval", "interfaces", "wg", "state_dir", "wg_config_dirs", "wg_config_watch", "conntrack_program"), config_file=False
)


@with_groups
def record(
    directory: Annotated[Path, typer.Argument(help="Capture directory to write <unix-seconds>.dump files into.", file_okay=False)],
    poll: Annotated[ShipConfig, POLL_SETTINGS],
    count: Annotated[Optional[int], typer.Option("--count", "-n", help="Stop after this many polls [default: until stopped]")] = None,
    conntrack: Annotated[
        bool,
        typer.Option(
            "--conntrack",
            help=f"Also run `conntrack -E -o timestamp,extended,id` (CAP_NET_ADMIN) and append its events to DIR/{CONNTRACK_LOG}.",
        ),
    ] = False,
) -> None:
    """Poll `wg show all dump` and keep each poll as DIR/<unix-seconds>.dump.

    Private keys are replaced by '(redacted)'; a preshared key by a stand-in of the same
    shape derived by keyed hash, so set / removed / rotated still show in `wgsiem convert`.
    The wg-quick files of --wg-config-dir are kept too, redacted the same way, as
    DIR/wg-config/<unix-seconds>.json whenever one was added, changed or removed.
    With --conntrack the connection tracker's events of this network namespace go to
    DIR/conntrack.log as conntrack prints them, for `wgsiem convert` to make the peers'
    flows of; conntrack failing stops the recording with its words.
    SIGTERM or SIGINT stops it after the current poll.
    """
    setup_logging()
    if count is not None and count < 1:
        raise fail("--count must be at least 1")
    # The secret keys the preshared-key stand-ins, as it keys the shipper's hashes.
    hasher = PresharedKeyHasher(load_or_create_secret(poll.secret_file))
    stop = stop_on_signals()
    reader = ConfigDirReader(poll.wg_config_dirs) if poll.wg_config_watch == "on" else None
    recorder = _start_conntrack(directory, poll) if conntrack else None
    try:
        written = _record(directory, poll, count, hasher, stop, reader, recorder)
    finally:
        if recorder is not None:
            recorder.stop()
    log.info("%d polls recorded in %s", written, directory)
    if recorder is not None:
        log.info("conntrack events appended to %s", recorder.path)


def _start_conntrack(directory: Path, poll: ShipConfig) -> ConntrackRecorder:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise fail(f"{directory}: cannot create: {err.strerror}") from None
    recorder = ConntrackRecorder(directory / CONNTRACK_LOG, poll.conntrack_program)
    recorder.start()
    if recorder.failure is not None:
        raise fail(f"conntrack: {recorder.failure}")
    return recorder


def _record(  # noqa: PLR0913 - the command's parts, handed down
    directory: Path,
    poll: ShipConfig,
    count: int | None,
    hasher: PresharedKeyHasher,
    stop: threading.Event,
    reader: ConfigDirReader | None,
    recorder: ConntrackRecorder | None,
) -> int:
    """Poll until stopped or `count` polls are kept; the number kept."""
    kept: ConfigRead | None = None
    written = 0
    last = 0
    while not stop.is_set():
        if recorder is not None and recorder.check() is not None:
            raise fail(f"conntrack: {recorder.failure}", 1)
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
    if recorder is not None and recorder.check() is not None:
        raise fail(f"conntrack: {recorder.failure}", 1)
    return written
