"""Read the wg-quick configuration directories: each `*.conf` file's text, SHA-256, size,
mode and owner. A file unchanged since the last read (same inode, size, times, mode and
owner) is not read again."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from collections.abc import Iterable
from pathlib import Path

from ..wgdump.raw import ConfigRead, FileMeta, RawConfigFile


class ConfigDirReader:
    def __init__(self, directories: Iterable[Path]) -> None:
        self.directories = tuple(directories)
        self._cache: dict[str, tuple[tuple[int, ...], RawConfigFile]] = {}

    def read(self) -> ConfigRead:
        files: list[RawConfigFile] = []
        unknown: list[str] = []
        problems: list[str] = []
        cache: dict[str, tuple[tuple[int, ...], RawConfigFile]] = {}
        for directory in self.directories:
            try:
                names = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".conf"))
            except FileNotFoundError:
                continue  # no such directory: no files (a host without wg-quick)
            except OSError as err:
                unknown.append(str(directory))
                problems.append(f"{directory}: cannot read the wg-quick files: {err.strerror} (the shipper runs as root to watch them)")
                continue
            for name in names:
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid, st.st_gid)
                    known = self._cache.get(path)
                    if known is not None and known[0] == key:
                        raw = known[1]
                    else:
                        with open(path, "rb") as f:
                            data = f.read()
                        raw = RawConfigFile(path, _meta(data, st), data.decode(errors="replace"))
                except FileNotFoundError:
                    continue  # removed between listing and reading
                except OSError as err:
                    unknown.append(path)
                    problems.append(f"{path}: cannot read: {err.strerror}")
                    continue
                cache[path] = (key, raw)
                files.append(raw)
        self._cache = cache
        return ConfigRead(tuple(files), tuple(unknown), tuple(problems))


def _meta(data: bytes, st: os.stat_result) -> FileMeta:
    return FileMeta(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        owner=_name(pwd.getpwuid, st.st_uid),
        group=_name(grp.getgrgid, st.st_gid),
    )


def _name(lookup: object, ident: int) -> str | None:
    try:
        return lookup(ident)[0]  # type: ignore[operator,no-any-return]
    except (KeyError, OverflowError):
        return None
