"""What a read of the configuration directories gave, before the parser: each file's text
and what `stat` and SHA-256 say about it (live, or a capture's snapshot).

Like a dump's text, a file's text still holds the private and preshared keys: only the
parser (parse.py) reads it, and its repr never shows it.
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
