"""The events the diff engine finds, before they become ECS documents.

A `StatusEvent` says what happened (`action`, one of `STATUS_ACTIONS`), when (`time`,
unix seconds: the poll, or the handshake / session end where that is the fact), to
which interface and peer (their status at that moment), and the action's own facts in
`detail`. The keys of `detail` per action are listed in `wgsiem/ecs/actions.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..wgdump.model import InterfaceStatus, PeerStatus

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
)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    action: str
    time: int
    interface: InterfaceStatus
    peer: PeerStatus | None = None
    detail: dict[str, Any] = field(default_factory=dict)
