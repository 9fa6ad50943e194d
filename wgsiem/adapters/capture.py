"""Capture directories: one `<unix-seconds>.dump` file per poll, as `wg show all dump` printed it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import Location, WgsiemError
from ..wgdump.raw import RawPoll
from .files import write_atomic

SUFFIX = ".dump"


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


def read_capture(directory: Path) -> Iterator[RawPoll]:
    """The polls of a capture in time order, each file read when its poll is asked for."""
    for time, name in _capture_names(directory):
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
        yield RawPoll(time=time, stdout=text, source=str(path))


def write_poll(directory: Path, time: int, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time}{SUFFIX}"
    write_atomic(path, text.encode(), mode=0o640)
    return path

