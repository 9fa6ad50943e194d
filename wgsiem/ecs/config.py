"""Configuration file events → ECS documents, in `wireguard.status` (docs/events.md).

They live with the polls' events because they are the same facts read from the other
side: the polls read the running interface, these read what wg-quick will bring up. The
file is ECS `file.*`; what it says is `wireguard.interface.*` / `wireguard.peer.*` as for
the running interface, and `wireguard.config.*` for what only a file has.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, assert_never

from ..wgconfig.events import (
    ConfigEvent,
    ConfigPeerAdded,
    ConfigPeerChanged,
    Drift,
    Exposed,
    FileChanged,
    HookChanged,
    InterfaceConfigChanged,
)
from ..wgconfig.record import FileRecord, PeerRecord
from . import document
from .catalogue import status_actions
from .document import Context, describe_changes, host_addresses, human_duration, timestamp
from .status import DATASET, NS

_INTERFACE_PREVIOUS = ("public_key", "listen_port", "fwmark")


def build(event: ConfigEvent, ctx: Context) -> dict[str, Any]:
    action = status_actions()[event.action]
    doc = document.base(DATASET, action, event.time, ctx)
    del doc["network"]  # a file is not a connection
    record = event.file
    doc["file"] = _file(record)
    name = record.interface
    config: dict[str, Any] = {"valid": record.valid, "save_config": record.save_config, "peer_count": len(record.peers)}
    if record.problems:
        doc["error"] = {"message": record.problems[0]}
        config["problems"] = list(record.problems)
    wg: dict[str, Any] = {"config": config}
    doc["wireguard"] = wg
    if name is not None:
        doc["observer"]["ingress"] = {"interface": {"name": name}}
        wg["interface"] = _interface(record, name)
    words: dict[str, Any] = {"file": record.path, "interface": name or "no interface: not a name wg-quick takes", "peer": ""}
    if event.peer_key is not None:
        wg["peer"] = _peer(event.peer_key, event.peer)
        peer_name = document.identify_peer(doc, wg["peer"], event.peer_key, ctx)
        words["peer"] = peer_name or event.peer_key
        if event.peer is not None:
            document.add_related(doc, "ip", *host_addresses(event.peer.allowed_ips))
            if event.peer.endpoint:
                config["peer"] = {"endpoint": event.peer.endpoint}
    detail = event.detail
    match detail:
        case None:
            pass
        case FileChanged():
            config["changed_fields"] = sorted(detail.changes)
            config["previous"] = {k: _meta(k, before) for k, (before, _) in detail.changes.items() if before is not None}
            words["changes"] = ", ".join(_file_change(k, b, a) for k, (b, a) in detail.changes.items())
        case InterfaceConfigChanged():
            _interface_changed(wg, config, words, detail)
        case ConfigPeerAdded():
            config.setdefault("peer", {})["running"] = detail.running
            words["whether_running"] = "already running" if detail.running else "not running: the next wg-quick up adds it"
        case ConfigPeerChanged():
            _peer_changed(wg, config, words, detail)
        case HookChanged():
            hook: dict[str, Any] = {"type": detail.kind, "change": detail.change, "commands": list(detail.after)}
            if detail.before:
                hook["previous_commands"] = list(detail.before)
            config["hook"] = hook
            words.update(hook=detail.kind, change=detail.change)
        case Exposed():
            config["exposure"] = list(detail.reasons)
            words["reasons"] = ", ".join(detail.reasons)
        case Drift():
            _drift(doc, config, words, detail, event.time)
        case _:
            assert_never(detail)
    document.mark_change_window(doc, event.time, ctx)
    doc["message"] = action.message.format(**words)
    doc["event"]["id"] = document.event_id(
        ctx.host_name, DATASET, event.action, event.time, record.path, record.sha256, event.peer_key, {} if detail is None else detail
    )
    return doc


def _file(record: FileRecord) -> dict[str, Any]:
    path = PurePosixPath(record.path)
    out: dict[str, Any] = {"path": record.path, "name": path.name, "directory": str(path.parent), "type": "file"}
    if path.suffix:
        out["extension"] = path.suffix.lstrip(".")
    if record.sha256:  # else the file is gone, and drift's stand-in for it knows only the path
        out.update({key: _meta(key, getattr(record, key)) for key in ("mode", "uid", "gid", "size")}, hash={"sha256": record.sha256})
    if record.owner:
        out["owner"] = record.owner
    if record.group:
        out["group"] = record.group
    return out


def _meta(key: str, value: Any) -> Any:  # noqa: ANN401 - a file fact
    if key == "mode":
        return f"{value:04o}"
    if key in ("uid", "gid"):
        return str(value)
    return value


def _file_change(key: str, before: Any, after: Any) -> str:  # noqa: ANN401
    if key == "sha256":
        return "content"
    return f"{key} {_meta(key, before)} -> {_meta(key, after)}"


def _interface(record: FileRecord, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if record.public_key:
        out["public_key"] = record.public_key
    if record.listen_port is not None:
        out["listen_port"] = record.listen_port
    if record.fwmark is not None:
        out["fwmark"] = record.fwmark
    return out


def _peer(key: str, peer: PeerRecord | None) -> dict[str, Any]:
    out: dict[str, Any] = {"public_key": key}
    if peer is not None:
        out["allowed_ips"] = list(peer.allowed_ips)
        out["preshared_key_set"] = peer.preshared_key_hash is not None
        if peer.persistent_keepalive is not None:
            out["persistent_keepalive"] = peer.persistent_keepalive
    return out


def _interface_changed(wg: dict[str, Any], config: dict[str, Any], words: dict[str, Any], detail: InterfaceConfigChanged) -> None:
    changes = detail.changes
    wi = wg.setdefault("interface", {})
    wi["changed_fields"] = sorted(changes)
    previous = {k: before for k, (before, _) in changes.items() if k in _INTERFACE_PREVIOUS and before is not None}
    if previous:
        wi["previous"] = previous
    ci: dict[str, Any] = {}
    for key in ("addresses", "dns", "mtu", "table"):
        if key in changes:
            before, after = changes[key]
            ci[key] = list(after) if isinstance(after, tuple) else after
            if before:
                ci.setdefault("previous", {})[key] = list(before) if isinstance(before, tuple) else before
    if ci:
        config["interface"] = ci
    words["changes"] = describe_changes(changes)


def _peer_changed(wg: dict[str, Any], config: dict[str, Any], words: dict[str, Any], detail: ConfigPeerChanged) -> None:
    document.peer_changes(wg["peer"], detail.changes)
    match detail.changes.get("endpoint"):
        case (str() as endpoint_before, _):
            config.setdefault("peer", {})["previous_endpoint"] = endpoint_before
    words["changes"] = describe_changes(detail.changes)


def _drift(doc: dict[str, Any], config: dict[str, Any], words: dict[str, Any], detail: Drift, time: int) -> None:
    drift: dict[str, Any] = {"kind": detail.kind, "since": timestamp(detail.since)}
    if detail.running is not None:
        drift["running"] = detail.running
    if detail.configured is not None:
        drift["configured"] = detail.configured
    config["drift"] = drift
    ev = doc["event"]
    ev["start"] = timestamp(detail.since)
    ev["duration"] = max(time - detail.since, 0) * NS
    words.update(what=_drift_words(detail, words["peer"]), duration=human_duration(max(time - detail.since, 0)))


def _drift_words(detail: Drift, peer: str) -> str:
    if detail.kind == "pending":
        return f"peer {peer} is in the file and not running (pending: the next wg-quick up adds it)"
    if detail.kind == "unsaved":
        return f"peer {peer} is running and not in the file (unsaved: the next restart drops it)"
    whose = f" of peer {peer}" if peer else ""
    return f"{detail.kind}{whose} is {detail.running or 'off'} running, {detail.configured or 'off'} in the file"
