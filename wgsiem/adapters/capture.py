"""Capture directories: one `<unix-seconds>.dump` file per poll, as `wg show all dump` printed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .files import write_atomic
from .wg import RawPoll

SUFFIX = ".dump"


class CaptureError(ValueError):
    pass


def capture_files(directory: Path) -> list[tuple[int, Path]]:
    if not directory.is_dir():
        raise CaptureError(f"{directory}: not a directory")
    files = []
    for path in directory.iterdir():
        if path.suffix != SUFFIX:
            continue
        if not path.stem.isdigit():
            raise CaptureError(f"{path}: a capture file is named <unix-seconds>{SUFFIX}")
        files.append((int(path.stem), path))
    if not files:
        raise CaptureError(f"{directory}: no <unix-seconds>{SUFFIX} files")
    return sorted(files)


def read_capture(directory: Path) -> Iterator[RawPoll]:
    for time, path in capture_files(directory):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise CaptureError(f"{path}: not text (a capture holds what `wg show all dump` printed)") from None
        yield RawPoll(time=time, stdout=text, source=str(path))


def write_poll(directory: Path, time: int, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time}{SUFFIX}"
    write_atomic(path, text.encode(), mode=0o640)
    return path

