"""The events of the configuration files: what changed on disk, and where disk and the
running interface part (drift). Like `status.events`, a detail's fields are part of the
event's identity (`event.id`), so each class names its own fields, without inheritance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .record import FileRecord, PeerRecord

# A setting before and after (None: not set), as the file gives it.
Change = tuple[object, object]

CONFIG_ACTIONS = (
    "config-file-discovered",
    "config-file-added",
    "config-file-changed",
    "config-file-removed",
    "config-file-exposed",
    "config-interface-changed",
    "config-peer-added",
    "config-peer-removed",
    "config-peer-changed",
    "config-hook-changed",
    "config-drift-started",
    "config-drift-persists",
    "config-drift-ended",
)

# Where file and running interface part: a peer only on disk (`wg-quick up` would add it),
# a peer only running (added with `wg set`; the next restart drops it), or a setting of a
# peer or the interface that differs.
DriftKind = Literal[
    "pending", "unsaved", "allowed_ips", "persistent_keepalive", "preshared_key", "public_key", "listen_port", "fwmark",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class FileChanged:
    changes: Mapping[str, Change]  # sha256, size, mode, uid, gid, owner, group: those that changed


@dataclass(frozen=True, slots=True)
class InterfaceConfigChanged:
    changes: Mapping[str, Change]  # public_key, listen_port, fwmark, addresses, dns, mtu, table, save_config


@dataclass(frozen=True, slots=True)
class ConfigPeerAdded:
    running: bool  # the running interface already has it (the file caught up): not a planted peer


@dataclass(frozen=True, slots=True)
class ConfigPeerChanged:
    # allowed_ips, endpoint, persistent_keepalive: (before, after); preshared_key: set, removed, rotated
    changes: Mapping[str, Change | str]


@dataclass(frozen=True, slots=True)
class HookChanged:
    kind: str  # PreUp, PostUp, PreDown, PostDown
    change: Literal["added", "changed", "removed"]
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Exposed:
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Drift:
    kind: DriftKind
    since: int  # when it was first seen
    running: str | None  # the running value, where a setting differs (as `wg` shows it)
    configured: str | None  # the file's


ConfigDetail = FileChanged | InterfaceConfigChanged | ConfigPeerAdded | ConfigPeerChanged | HookChanged | Exposed | Drift


@dataclass(frozen=True, slots=True)
class ConfigEvent:
    action: str
    time: int
    file: FileRecord
    peer_key: str | None = None
    peer: PeerRecord | None = None  # the file's view of it (the earlier one when removed)
    detail: ConfigDetail | None = None
