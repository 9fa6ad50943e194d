"""Drift: the running interface and its wg-quick file, compared after each poll.

A peer in the file and not running is *pending*: the next `wg-quick up` (a restart, a
reboot) adds it, which is how a peer planted in the file becomes a working backdoor. A
peer running and not in the file is *unsaved*: added with `wg set`, it is gone at the
next restart. A peer's allowed IPs, keepalive or preshared key, or the interface's key,
listen port or fwmark, can differ too. Only what the file sets is compared (a file
without ListenPort leaves the port to the kernel).

With `SaveConfig = true` wg-quick writes the running configuration over the file at
`wg-quick down`, so the running side is the one that lasts: only pending peers count
(the save will drop them).

An interface that is down, or a file wg-quick would refuse, holds its drift as it was:
nothing can be compared. Drift ends when the two agree again or the file is removed.
`config-drift-persists` is said once per drift, when it has lasted `--wg-config-drift-after`
seconds (900 by default).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol, cast

from .events import ConfigEvent, Drift, DriftKind
from .record import DriftKey, FileRecord, OpenDrift


class _Status(Protocol):  # what `wg` shows of the interface (wgdump.model.InterfaceStatus)
    @property
    def name(self) -> str: ...
    @property
    def public_key(self) -> str | None: ...
    @property
    def listen_port(self) -> int: ...
    @property
    def fwmark(self) -> int | None: ...


class _PeerStatus(Protocol):  # wgdump.model.PeerStatus
    @property
    def allowed_ips(self) -> tuple[str, ...]: ...
    @property
    def persistent_keepalive(self) -> int | None: ...
    @property
    def preshared_key_hash(self) -> str | None: ...


class _PeerState(Protocol):
    @property
    def last(self) -> _PeerStatus: ...


class RunningInterface(Protocol):
    """The running interface as the shipper's state knows it (status.state.InterfaceState)."""

    @property
    def last(self) -> _Status: ...
    @property
    def up(self) -> bool: ...
    @property
    def peers(self) -> Mapping[str, _PeerState]: ...


def differences(record: FileRecord, ist: RunningInterface) -> dict[DriftKey, tuple[str | None, str | None]]:
    """What differs between the file and the running interface: key → (running, configured)."""
    name = ist.last.name
    out: dict[DriftKey, tuple[str | None, str | None]] = {}
    running = ist.peers
    for key, peer in record.peers.items():
        live = running.get(key)
        if live is None:
            out[(name, "pending", key)] = (None, key)
            continue
        if record.save_config:
            continue
        s = live.last
        if s.allowed_ips != peer.allowed_ips and sorted(s.allowed_ips) != sorted(peer.allowed_ips):
            out[(name, "allowed_ips", key)] = (",".join(s.allowed_ips) or None, ",".join(peer.allowed_ips) or None)
        if s.persistent_keepalive != peer.persistent_keepalive:
            out[(name, "persistent_keepalive", key)] = (_text(s.persistent_keepalive), _text(peer.persistent_keepalive))
        if s.preshared_key_hash != peer.preshared_key_hash:
            # Which side has one is all that can be said: the keys are only hashes here.
            out[(name, "preshared_key", key)] = (_set(s.preshared_key_hash), _set(peer.preshared_key_hash))
    if record.save_config:
        return out
    for key in running:
        if key not in record.peers:
            out[(name, "unsaved", key)] = (key, None)
    iface = ist.last
    if record.public_key is not None and record.public_key != iface.public_key:
        out[(name, "public_key", "")] = (iface.public_key, record.public_key)
    if record.listen_port is not None and record.listen_port != iface.listen_port:
        out[(name, "listen_port", "")] = (str(iface.listen_port), str(record.listen_port))
    if record.fwmark is not None and record.fwmark != iface.fwmark:
        out[(name, "fwmark", "")] = (_text(iface.fwmark), str(record.fwmark))
    return out


def track(
    time: int,
    open_drift: dict[DriftKey, OpenDrift],
    files: Mapping[str, FileRecord],
    interfaces: Mapping[str, RunningInterface],
    after: int,
    known: dict[str, tuple[FileRecord, dict[DriftKey, tuple[str | None, str | None]]]] | None = None,
    changed: Collection[str] | None = None,
) -> list[ConfigEvent]:
    """Update `open_drift` in place for this poll; the events it gives, in order.

    `known` remembers each interface's differences with the record they were found for; an
    interface whose record is the same object and that is not in `changed` (the interfaces
    whose running configuration changed in this poll; None: any may have) keeps them, so a
    quiet poll of 100,000 peers does not compare them all again."""
    records: dict[str, FileRecord] = {}
    for record in files.values():  # the first file of an interface is the one wg-quick reads
        if record.interface is not None:
            records.setdefault(record.interface, record)
    events: list[ConfigEvent] = []
    held = set()
    now: dict[DriftKey, tuple[str | None, str | None]] = {}
    for name, record in records.items():
        ist = interfaces.get(name)
        if ist is None or not ist.up or not record.valid or not record.has_interface:
            held.add(name)
            continue
        cached = known.get(name) if known is not None else None
        if cached is not None and cached[0] is record and changed is not None and name not in changed:
            differing = cached[1]
        else:
            differing = differences(record, ist)
            if known is not None:
                known[name] = (record, differing)
        now.update(differing)
    for key, drift in list(open_drift.items()):
        name = key[0]
        if name in held or key in now:
            continue
        ended = records.get(name) or files.get(drift.path) or _gone(drift.path)
        del open_drift[key]
        events.append(_event("config-drift-ended", time, ended, key, drift))
    for key, (run, conf) in now.items():
        found = open_drift.get(key)
        if found is None:
            found = open_drift[key] = OpenDrift(time, records[key[0]].path, run, conf)
            events.append(_event("config-drift-started", time, records[key[0]], key, found))
        if not found.reported and time - found.since >= after:
            found.reported = True
            events.append(_event("config-drift-persists", time, records[key[0]], key, found))
    return events


def _event(action: str, time: int, record: FileRecord, key: DriftKey, drift: OpenDrift) -> ConfigEvent:
    _, kind, peer = key
    detail = Drift(cast(DriftKind, kind), drift.since, drift.running, drift.configured)
    return ConfigEvent(action, time, record, peer or None, record.peers.get(peer) if peer else None, detail)


def _gone(path: str) -> FileRecord:
    """A stand-in record for a file no longer there, so the drift it had can end."""
    return FileRecord(
        path=path, sha256="", size=0, mode=0, uid=0, gid=0, owner=None, group=None, problems=(), holds_keys=False,
        has_interface=False, public_key=None, listen_port=None, fwmark=None, addresses=(), dns=(), mtu=None,
        table=None, save_config=False, hooks=(), peers={},
    )  # fmt: skip


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _set(psk_hash: str | None) -> str:
    return "set" if psk_hash is not None else "none"
