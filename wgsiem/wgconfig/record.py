"""A configuration file as the shipper remembers it: its file facts and what it says in
WireGuard terms (public keys and preshared-key hashes only), in a JSON-able form for the
state file. `record_of` is where a read file meets the parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..wgdump.psk import PresharedKeyHasher
from ..wgdump.raw import RawConfigFile
from .parse import interface_of, parse_config

# The most problem sentences a record keeps: enough to say why `wg-quick up` would fail.
_PROBLEMS_KEPT = 5


@dataclass(frozen=True, slots=True)
class PeerRecord:
    preshared_key_hash: str | None
    allowed_ips: tuple[str, ...]
    endpoint: str | None  # as written: where the host first sends, not where the peer is
    persistent_keepalive: int | None


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    mode: int
    uid: int
    gid: int
    owner: str | None
    group: str | None
    problems: tuple[str, ...]  # what wg-quick or wg would refuse (no key is ever quoted)
    holds_keys: bool
    has_interface: bool
    public_key: str | None
    listen_port: int | None
    fwmark: int | None
    addresses: tuple[str, ...]
    dns: tuple[str, ...]
    mtu: str | None
    table: str | None
    save_config: bool
    hooks: tuple[tuple[str, str], ...]  # (PreUp|PostUp|PreDown|PostDown, command), in file order
    peers: dict[str, PeerRecord] = field(hash=False)

    @property
    def interface(self) -> str | None:
        """The interface wg-quick brings up from it (`wg0.conf` → `wg0`)."""
        return interface_of(self.path)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _SCALARS}
        out["hooks"] = [list(h) for h in self.hooks]
        out["peers"] = {
            key: [p.preshared_key_hash, list(p.allowed_ips), p.endpoint, p.persistent_keepalive] for key, p in self.peers.items()
        }
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FileRecord:
        values = {name: raw[name] for name in _SCALARS}
        for name in ("problems", "addresses", "dns"):
            values[name] = tuple(values[name])
        return cls(
            **values,
            hooks=tuple((kind, command) for kind, command in raw["hooks"]),
            peers={key: PeerRecord(psk, tuple(allowed), endpoint, keepalive) for key, (psk, allowed, endpoint, keepalive) in raw["peers"].items()},
        )


_SCALARS = (
    "path", "sha256", "size", "mode", "uid", "gid", "owner", "group", "problems", "holds_keys", "has_interface",
    "public_key", "listen_port", "fwmark", "addresses", "dns", "mtu", "table", "save_config",
)  # fmt: skip


# An open drift: (interface, kind, peer public key or "") -> since when, and what differs.
DriftKey = tuple[str, str, str]


@dataclass(slots=True)
class OpenDrift:
    since: int
    path: str
    running: str | None
    configured: str | None
    reported: bool = False  # config-drift-persists said


@dataclass(slots=True)
class ConfigState:
    """The configuration files part of the shipper's state."""

    files: dict[str, FileRecord] | None = None  # None: never read, so the next read is the baseline
    drift: dict[DriftKey, OpenDrift] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": None if self.files is None else [r.to_json() for r in self.files.values()],
            "drift": [[*key, d.since, d.path, d.running, d.configured, d.reported] for key, d in self.drift.items()],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ConfigState:
        files = raw.get("files")
        return cls(
            files=None if files is None else {r["path"]: FileRecord.from_json(r) for r in files},
            drift={(i, k, p): OpenDrift(since, path, run, conf, reported) for i, k, p, since, path, run, conf, reported in raw.get("drift", [])},
        )


def record_of(raw: RawConfigFile, hasher: PresharedKeyHasher) -> FileRecord:
    config = parse_config(raw.text, raw.path, hasher, redacted_public_key=raw.public_key)
    peers: dict[str, PeerRecord] = {}
    for p in config.peers:
        earlier = peers.get(p.public_key)
        if earlier is None:
            peers[p.public_key] = PeerRecord(p.preshared_key_hash, p.allowed_ips, p.endpoint, p.persistent_keepalive)
        else:  # a key given twice is one peer to wg: later settings win, allowed IPs add up
            allowed = earlier.allowed_ips + tuple(a for a in p.allowed_ips if a not in earlier.allowed_ips)
            peers[p.public_key] = PeerRecord(
                p.preshared_key_hash or earlier.preshared_key_hash,
                allowed,
                p.endpoint or earlier.endpoint,
                p.persistent_keepalive if p.persistent_keepalive is not None else earlier.persistent_keepalive,
            )
    iface = config.interface
    m = raw.meta
    return FileRecord(
        path=raw.path,
        sha256=m.sha256,
        size=m.size,
        mode=m.mode,
        uid=m.uid,
        gid=m.gid,
        owner=m.owner,
        group=m.group,
        problems=tuple(str(p) for p in config.problems[:_PROBLEMS_KEPT]),
        holds_keys=config.holds_keys,
        has_interface=iface is not None,
        public_key=iface.public_key if iface else None,
        listen_port=iface.listen_port if iface else None,
        fwmark=iface.fwmark if iface else None,
        addresses=iface.addresses if iface else (),
        dns=iface.dns if iface else (),
        mtu=iface.mtu if iface else None,
        table=iface.table if iface else None,
        save_config=iface.save_config if iface else False,
        hooks=tuple((h.kind, h.command) for h in iface.hooks) if iface else (),
        peers=peers,
    )


def exposure(record: FileRecord) -> tuple[str, ...]:
    """Why the file is open to more than root: its keys readable, or its hooks (run as root
    by wg-quick) writable, by someone else."""
    reasons = []
    mode = record.mode
    if record.holds_keys and mode & 0o004:
        reasons.append("keys-readable-by-others")
    if record.holds_keys and mode & 0o040 and record.gid != 0:
        reasons.append("keys-readable-by-group")
    if mode & 0o002:
        reasons.append("writable-by-others")
    if mode & 0o020 and record.gid != 0:
        reasons.append("writable-by-group")
    if record.uid != 0:
        reasons.append("owner-not-root")
    return tuple(reasons)
