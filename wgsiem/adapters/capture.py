"""Capture directories: one `<unix-seconds>.dump` file per poll, as `wg show all dump` printed
it, `wg-config/<unix-seconds>.json`, the wg-quick files as read from that time on, and
`conntrack.log`, the host's connection tracker events over the same time (inner flows).

A poll where wg exited non-zero or said something on stderr has `<unix-seconds>.exit.json`
beside its dump, `{"exit_status": 1, "stderr": "Unable to access interface wg0: ..."}`: without
it a dump that is empty could be a host without interfaces or a wg that failed, and the
shipper tells the two apart (a failed poll changes nothing; an empty one takes the
interfaces down)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import Location, WgsiemError
from ..wgconfig.snapshot import SnapshotError, decode_snapshot, encode_snapshot
from ..wgdump.psk import PresharedKeyHasher
from ..wgdump.raw import ConfigRead, RawPoll, exit_failure
from .files import write_atomic

SUFFIX = ".dump"
CONFIG_DIR = "wg-config"
# What `conntrack -E -o timestamp,extended,id` printed on the host while it was recorded.
CONNTRACK_LOG = "conntrack.log"
EXIT_SUFFIX = ".exit.json"
# What the failure of a recorded poll names: the binary's path is the recording host's.
COMMAND = "wg show all dump"


class CaptureError(WgsiemError):
    """A capture directory or file that cannot be read as one; the location names which."""


def capture_files(directory: Path) -> list[tuple[int, Path]]:
    return [(time, directory / name) for time, name in _capture_names(directory)]


def _capture_names(directory: Path) -> list[tuple[int, str]]:
    # Names, not Path objects: a month of polls every 30 s is 86,400 files, and each Path
    # would hold several times the memory of its name.
    if not directory.is_dir():
        raise CaptureError("not a directory", Location(directory))
    files = []
    with os.scandir(directory) as entries:
        for entry in entries:
            stem, dot, suffix = entry.name.rpartition(".")
            if not dot or f".{suffix}" != SUFFIX:
                continue
            if not stem.isascii() or not stem.isdigit():
                raise CaptureError(f"a capture file is named <unix-seconds>{SUFFIX}", Location(directory / entry.name))
            files.append((int(stem), entry.name))
    if not files:
        raise CaptureError(f"no <unix-seconds>{SUFFIX} files", Location(directory))
    return sorted(files)


def config_snapshots(directory: Path) -> list[tuple[int, Path]]:
    """The capture's wg-config/<unix-seconds>.json files in time order (none: not watched)."""
    folder = directory / CONFIG_DIR
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        if path.suffix != ".json":
            continue
        if not path.stem.isascii() or not path.stem.isdigit():
            raise CaptureError("a configuration snapshot is named <unix-seconds>.json", Location(path))
        out.append((int(path.stem), path))
    return sorted(out)


def read_config_snapshot(path: Path) -> ConfigRead:
    try:
        return decode_snapshot(json.loads(path.read_bytes()), str(path))
    except OSError as err:
        raise CaptureError(f"cannot read: {err.strerror}", Location(path)) from None
    except (ValueError, SnapshotError) as err:
        raise CaptureError(f"not a configuration snapshot: {err}", Location(path)) from None


def write_config_snapshot(directory: Path, time: int, read: ConfigRead, hasher: PresharedKeyHasher) -> Path:
    path = directory / CONFIG_DIR / f"{time}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(encode_snapshot(read, hasher), indent=1).encode(), mode=0o640)
    return path


def read_capture(directory: Path) -> Iterator[RawPoll]:
    """The polls of a capture in time order, each file read when its poll is asked for;
    each with the configuration snapshot in force at its time, if the capture has any."""
    snapshots = config_snapshots(directory)
    exits = _exit_times(directory)
    config: ConfigRead | None = None
    for time, name in _capture_names(directory):
        while snapshots and snapshots[0][0] <= time:
            config = read_config_snapshot(snapshots.pop(0)[1])
        path = directory / name
        try:
            data = path.read_bytes()
        except OSError as err:
            raise CaptureError(f"cannot read: {err.strerror}", Location(path)) from None
        try:
            text = data.decode()
        except UnicodeDecodeError:
            # A few bad bytes cost their lines only (the parser refuses them); a file without
            # a single tab was never a dump.
            text = data.decode(errors="replace")
            if "\t" not in text:
                raise CaptureError("not text (a capture holds what `wg show all dump` printed)", Location(path)) from None
        if time not in exits:
            yield RawPoll(time=time, stdout=text, source=str(path), config=config)
            continue
        exit_status, stderr = read_exit(directory / f"{time}{EXIT_SUFFIX}")
        failure = exit_failure(COMMAND, exit_status, text, stderr)
        yield RawPoll(time=time, stdout=text, stderr=stderr, source=str(path), failure=failure, config=config, exit_status=exit_status)


def _exit_times(directory: Path) -> set[int]:
    with os.scandir(directory) as entries:
        return {int(stem) for e in entries if e.name.endswith(EXIT_SUFFIX) and (stem := e.name[: -len(EXIT_SUFFIX)]).isdigit()}


def read_exit(path: Path) -> tuple[int, str]:
    """How wg ended at a recorded poll: its exit status and what it printed on stderr."""
    try:
        raw = json.loads(path.read_bytes())
    except OSError as err:
        raise CaptureError(f"cannot read: {err.strerror}", Location(path)) from None
    except ValueError as err:
        raise CaptureError(f"not JSON: {err}", Location(path)) from None
    if not isinstance(raw, dict) or not set(raw) <= {"exit_status", "stderr"}:
        raise CaptureError('expected {"exit_status": <int>, "stderr": <text>}', Location(path))
    status, stderr = raw.get("exit_status", 0), raw.get("stderr", "")
    if not isinstance(status, int) or isinstance(status, bool):
        raise CaptureError(f"exit_status: {status!r} is not a number", Location(path))
    if not isinstance(stderr, str):
        raise CaptureError(f"stderr: {stderr!r} is not text", Location(path))
    return status, stderr


def exit_text(exit_status: int, stderr: str) -> str:
    """The `<unix-seconds>.exit.json` of a poll (what `read_exit` reads)."""
    return json.dumps({"exit_status": exit_status, "stderr": stderr}, indent=1) + "\n"


def write_poll(directory: Path, time: int, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time}{SUFFIX}"
    write_atomic(path, text.encode(), mode=0o640)
    return path

