"""What one poll read, before the parsers: the text of `wg show all dump` (live, or a
capture file) and when it ran, and the wg-quick configuration files as read just before.

Both texts still hold the private and preshared keys; only the parsers (parse.py,
wgconfig/parse.py) read them, and nothing else may log, store or print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FileMeta:
    sha256: str  # of the file as it is on disk
    size: int
    mode: int  # permission bits (st_mode & 0o7777)
    uid: int
    gid: int
    owner: str | None = None  # the uid's user name, where the host knows it
    group: str | None = None


@dataclass(frozen=True, slots=True)
class RawConfigFile:
    path: str
    meta: FileMeta
    text: str = field(repr=False)
    # A capture's copy has `PrivateKey = (redacted)`; this is the public key it had.
    public_key: str | None = None


@dataclass(frozen=True, slots=True)
class ConfigRead:
    files: tuple[RawConfigFile, ...]
    # Directories or files whose content is unknown this time (unreadable): what the state
    # knows about them stands, rather than reading as removed.
    unknown: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # why, one sentence each


@dataclass(frozen=True, slots=True)
class RawPoll:
    time: int
    stdout: str
    stderr: str = ""
    source: str = "wg show all dump"
    failure: str | None = None  # wg could not be run at all
    # The wg-quick files as read just before the poll; None when they are not watched.
    config: ConfigRead | None = None
    exit_status: int | None = None  # wg's; None when it did not run, or a capture does not say (no .exit.json)

    def __repr__(self) -> str:
        # A repr in a traceback or a debug log must not carry the keys in `stdout`.
        files = "" if self.config is None else f", {len(self.config.files)} config files"
        return f"RawPoll(time={self.time}, source={self.source!r}, {len(self.stdout)} characters{files}, failure={self.failure!r})"


def exit_failure(command: str, exit_status: int | None, stdout: str, stderr: str) -> str | None:
    """Whether wg, having run, failed the poll: a non-zero exit with nothing on stdout. With
    some output the poll stands, and what wg said on stderr is judged line by line. One
    verdict for a live poll (adapters/wg.py) and a recorded one (adapters/capture.py)."""
    if not exit_status or stdout:
        return None
    said = "; ".join(line.strip() for line in stderr.splitlines() if line.strip())[:500]
    return f"'{command}' exited with status {exit_status}" + (f": {said}" if said else "")
