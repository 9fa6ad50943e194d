"""A read of the configuration directories as a capture keeps it (`wg-config/<unix-seconds>.json`
in a capture directory, written by `wgsiem record` whenever a file changed): each file's
facts and its text redacted (redact.py), with the public key its private key had.

    {"files": [{"path": "/etc/wireguard/wg0.conf", "sha256": "…", "size": 312,
                "mode": "0600", "uid": 0, "gid": 0, "owner": "root", "group": "root",
                "public_key": "…", "text": "[Interface]\\nPrivateKey = (redacted)\\n…"}],
     "unknown": []}

`sha256` and `size` are of the file on disk, so a replay reports the hashes the host had.
"""

from __future__ import annotations

from typing import Any

from ..errors import WgsiemError
from ..wgdump.psk import PresharedKeyHasher
from ..wgdump.raw import ConfigRead, FileMeta, RawConfigFile
from .parse import parse_config
from .redact import redact_config


class SnapshotError(WgsiemError):
    pass


def encode_snapshot(read: ConfigRead, hasher: PresharedKeyHasher) -> dict[str, Any]:
    files = []
    for raw in read.files:
        interface = parse_config(raw.text, raw.path, hasher).interface
        m = raw.meta
        files.append({
            "path": raw.path, "sha256": m.sha256, "size": m.size, "mode": f"{m.mode:04o}", "uid": m.uid, "gid": m.gid,
            "owner": m.owner, "group": m.group, "public_key": interface.public_key if interface else None,
            "text": redact_config(raw.text, hasher),
        })  # fmt: skip
    return {"files": files, "unknown": list(read.unknown)}


def decode_snapshot(data: Any, source: str) -> ConfigRead:  # noqa: ANN401 - JSON
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise SnapshotError(f"{source}: not a configuration snapshot (an object with a list of files)")
    files = []
    for i, item in enumerate(data["files"]):
        where = f"{source}: files[{i}]"
        if not isinstance(item, dict):
            raise SnapshotError(f"{where}: expected an object")
        try:
            path, text = item["path"], item["text"]
            mode = item.get("mode", "0600")
            meta = FileMeta(
                sha256=str(item["sha256"]), size=int(item.get("size", len(text.encode()))), mode=int(mode, 8),
                uid=int(item.get("uid", 0)), gid=int(item.get("gid", 0)), owner=item.get("owner"), group=item.get("group"),
            )  # fmt: skip
        except KeyError as err:
            raise SnapshotError(f"{where}: missing {err.args[0]!r}") from None
        except (TypeError, ValueError) as err:
            raise SnapshotError(f"{where}: {err}") from None
        if not isinstance(path, str) or not isinstance(text, str):
            raise SnapshotError(f"{where}: path and text are strings")
        files.append(RawConfigFile(path, meta, text, item.get("public_key")))
    unknown = data.get("unknown", [])
    return ConfigRead(tuple(files), tuple(str(u) for u in unknown))


def same_files(a: ConfigRead | None, b: ConfigRead) -> bool:
    """Whether two reads found the same files with the same facts (what makes a new snapshot)."""
    if a is None:
        return False
    return [(f.path, f.meta) for f in a.files] == [(f.path, f.meta) for f in b.files] and a.unknown == b.unknown
