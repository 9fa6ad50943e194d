"""Configuration files compared read to read: which were added, changed or removed, and
what changed in WireGuard terms. Pure: the records come in, events come out, and the
caller keeps `files` in the state.

Before each poll `wgsiem ship` reads every `*.conf` of `--wg-config-dir` (on by default;
`--wg-config-watch off`): its SHA-256, size, mode, owner and group, and what it says,
parsed as wg-quick and `wg setconf` read it (wgconfig/parse.py). Private keys are known
only as the public key they give, preshared keys only as a keyed hash, and a key-shaped
run in a hook, endpoint or comment as its keyed-hash stand-in, so no event can carry a
key. A file's events have the poll's time and come before the poll's own; drift is
judged after the poll. A directory or file that cannot be read removes nothing (its
files keep their last state) and is reported once on stderr, as is each problem wg-quick
would refuse the file for.

The first read of a new install is the baseline (config-file-discovered), as the first
poll is for the running interfaces; a file exposed to others is reported then too, since
that is a finding whenever it is first seen. `wgsiem record` keeps the files in a capture
(wg-config/<unix-seconds>.json, whenever one changed, redacted like the dumps), and
`convert` and `replay` feed them to the same code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Literal

from .events import (
    ConfigEvent,
    ConfigPeerAdded,
    ConfigPeerChanged,
    Exposed,
    FileChanged,
    HookChanged,
    InterfaceConfigChanged,
)
from .record import FileRecord, exposure

HOOK_KINDS = ("PreUp", "PostUp", "PreDown", "PostDown")
_FILE_FACTS = ("sha256", "size", "mode", "uid", "gid", "owner", "group")
_INTERFACE_SETTINGS = ("public_key", "listen_port", "fwmark", "addresses", "dns", "mtu", "table", "save_config")


def compare(
    time: int,
    before: Mapping[str, FileRecord] | None,
    now: Mapping[str, FileRecord],
    unknown: Iterable[str] = (),
    running: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[ConfigEvent], dict[str, FileRecord]]:
    """The events from `before` (None: nothing read yet, so this read is the baseline) to
    `now`, and the records to remember. A path under `unknown` (a directory or file that
    could not be read this time) keeps its record and gives no event. `running`: the peers
    each interface runs (or ran when last seen up), to say whether a peer added to a file
    already runs."""
    running = running or {}
    events: list[ConfigEvent] = []
    if before is None:
        for record in now.values():
            events.append(ConfigEvent("config-file-discovered", time, record))
            reasons = exposure(record)
            if reasons:
                events.append(ConfigEvent("config-file-exposed", time, record, detail=Exposed(reasons)))
        return events, dict(now)
    unknown = tuple(unknown)
    kept = dict(now)
    for path, old in before.items():
        current = now.get(path)
        if current is None:
            if any(path == u or path.startswith(u.rstrip("/") + "/") for u in unknown):
                kept[path] = old
            else:
                events.append(ConfigEvent("config-file-removed", time, old))
        elif current != old:
            events.extend(_changed(time, old, current, running))
    for path, record in now.items():
        if path not in before:
            events.append(ConfigEvent("config-file-added", time, record))
            events.extend(_changed(time, None, record, running))
    return events, kept


def _changed(time: int, old: FileRecord | None, new: FileRecord, running: Mapping[str, Collection[str]]) -> list[ConfigEvent]:
    events = []
    if old is not None:
        facts = _changes(old, new, _FILE_FACTS)
        if facts:
            events.append(ConfigEvent("config-file-changed", time, new, detail=FileChanged(facts)))
        if old.has_interface or new.has_interface:
            settings = _changes(old, new, _INTERFACE_SETTINGS)
            if settings:
                events.append(ConfigEvent("config-interface-changed", time, new, detail=InterfaceConfigChanged(settings)))
    reasons = exposure(new)
    if reasons and (old is None or not set(reasons) <= set(exposure(old))):
        events.append(ConfigEvent("config-file-exposed", time, new, detail=Exposed(reasons)))
    events.extend(_hooks(time, old, new))
    live = running.get(new.interface or "", ())
    old_peers = old.peers if old is not None else {}
    for key, peer in new.peers.items():
        was = old_peers.get(key)
        if was is None:
            events.append(ConfigEvent("config-peer-added", time, new, key, peer, ConfigPeerAdded(running=key in live)))
        elif was != peer:
            changes: dict[str, Any] = {
                name: (getattr(was, name), getattr(peer, name))
                for name in ("allowed_ips", "endpoint", "persistent_keepalive")
                if getattr(was, name) != getattr(peer, name)
            }
            if was.preshared_key_hash != peer.preshared_key_hash:
                changes["preshared_key"] = (
                    "set" if was.preshared_key_hash is None else "removed" if peer.preshared_key_hash is None else "rotated"
                )
            events.append(ConfigEvent("config-peer-changed", time, new, key, peer, ConfigPeerChanged(changes)))
    for key, was in old_peers.items():
        if key not in new.peers:
            events.append(ConfigEvent("config-peer-removed", time, new, key, was))
    return events


def _hooks(time: int, old: FileRecord | None, new: FileRecord) -> list[ConfigEvent]:
    events = []
    for kind in HOOK_KINDS:
        before = tuple(c for k, c in (old.hooks if old is not None else ()) if k == kind)
        after = tuple(c for k, c in new.hooks if k == kind)
        if before == after:
            continue
        change: Literal["added", "changed", "removed"] = "added" if not before else "removed" if not after else "changed"
        events.append(ConfigEvent("config-hook-changed", time, new, detail=HookChanged(kind, change, before, after)))
    return events


def _changes(old: FileRecord, new: FileRecord, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (getattr(old, name), getattr(new, name)) for name in names if getattr(old, name) != getattr(new, name)}
