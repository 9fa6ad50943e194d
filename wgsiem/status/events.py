"""The events the diff engine finds, before they become ECS documents.

A `StatusEvent` says what happened (`action`, one of `STATUS_ACTIONS`), when (`time`,
unix seconds: the poll, or the handshake / session end where that is the fact), to
which interface and peer (their status at that moment), and the action's own facts in
`detail`: one class per action that has any, named after it (`transfer` carries a
`Transfer`); the other actions carry `None`.

A detail's fields are part of the event's identity: `event.id` hashes the detail as a
JSON object of its fields (`ecs.document.event_id`), so renaming, adding or dropping one
changes the id of every such event, and a re-run's documents would no longer replace the
ones shipped before. Hence no inheritance between these classes (the encoder sees only a
class's own slots), and tests/test_event_ids.py pins each class's encoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..wgdump.model import Endpoint, InterfaceStatus, PeerStatus
from .spike import Spike

STATUS_ACTIONS = (
    "interface-discovered",
    "interface-up",
    "interface-down",
    "interface-changed",
    "peer-discovered",
    "peer-added",
    "peer-removed",
    "peer-changed",
    "endpoint-changed",
    "handshake",
    "session-started",
    "session-ended",
    "transfer",
    "transfer-spike",
    "peer-silent",
    "peer-back",
)

# A setting as `wg` shows it: a port, fwmark, public key, allowed IPs or keepalive; None is off.
Setting = int | str | tuple[str, ...] | None
Change = tuple[Setting, Setting]  # (before, after)
# What happened to a peer's preshared key; the key itself is never known past the parser.
PresharedKeyChange = Literal["set", "removed", "rotated"]


@dataclass(frozen=True, slots=True)
class InterfaceChanged:
    changes: Mapping[str, Change]  # listen_port, fwmark, public_key: those that changed


@dataclass(frozen=True, slots=True)
class PeerChanged:
    # allowed_ips, persistent_keepalive: (before, after); preshared_key: what happened to it
    changes: Mapping[str, Change | PresharedKeyChange]


@dataclass(frozen=True, slots=True)
class EndpointChanged:
    previous: Endpoint | None
    previous_seen: int | None  # the peer's last handshake at the previous endpoint


@dataclass(frozen=True, slots=True)
class SessionStarted:
    previous_handshake: int | None  # None: the peer's first session


@dataclass(frozen=True, slots=True)
class SessionEnded:
    start: int
    end: int
    rx_bytes: int
    tx_bytes: int
    reason: str  # expired, peer-removed, interface-down


@dataclass(frozen=True, slots=True)
class Transfer:
    start: int  # the interval since the interface's previous poll
    end: int
    rx_bytes: int
    tx_bytes: int
    counter_reset: bool


@dataclass(frozen=True, slots=True)
class TransferSpike:
    # The transfer's fields again rather than a subclass of Transfer: see the module docstring.
    start: int
    end: int
    rx_bytes: int
    tx_bytes: int
    counter_reset: bool
    spike: Spike


@dataclass(frozen=True, slots=True)
class PeerSilent:
    previous_handshake: int | None  # the peer's latest handshake; None: it never had one
    since: int  # when the silence began: that handshake, else when the peer was first seen
    silent_after: int  # the registry's limit for the peer, seconds


@dataclass(frozen=True, slots=True)
class PeerBack:
    previous_handshake: int | None  # the silence's, as PeerSilent's
    since: int


Detail = (
    InterfaceChanged | PeerChanged | EndpointChanged | SessionStarted | SessionEnded | Transfer | TransferSpike
    | PeerSilent | PeerBack
)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    action: str
    time: int
    interface: InterfaceStatus
    peer: PeerStatus | None = None
    detail: Detail | None = None
