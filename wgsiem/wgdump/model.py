"""What one `wg show all dump` poll says, with every secret already gone.

These types are what the parser hands on. They hold no private key and no preshared
key: the interface private key is never read into them, and a preshared key is only
present as a keyed hash (see `wgsiem.wgdump.psk`), good for noticing that it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A peer's UDP endpoint as `wg` prints it (`1.2.3.4:51820`, `[2001:db8::1%eth0]:51820`)."""

    ip: str
    port: int
    zone: str | None = None

    @property
    def address(self) -> str:
        if ":" in self.ip:
            zone = f"%{self.zone}" if self.zone else ""
            return f"[{self.ip}{zone}]:{self.port}"
        return f"{self.ip}:{self.port}"

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True, slots=True)
class InterfaceStatus:
    name: str
    public_key: str | None
    listen_port: int
    fwmark: int | None


@dataclass(frozen=True, slots=True)
class PeerStatus:
    interface: str
    public_key: str
    # HMAC of the preshared key under the install's secret; None when no key is set.
    preshared_key_hash: str | None
    endpoint: Endpoint | None
    allowed_ips: tuple[str, ...]
    latest_handshake: int  # unix seconds, 0 = never
    rx_bytes: int
    tx_bytes: int
    persistent_keepalive: int | None  # seconds, None = off
    # The dump columns from endpoint on, as printed (no key material): lets the parser
    # see at a glance that the next poll's line is unchanged.
    text: str = field(default="", compare=False, repr=False)

    @property
    def preshared_key_set(self) -> bool:
        return self.preshared_key_hash is not None


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A line the parser could not use. Names the field, never echoes a secret."""

    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.reason}"


@dataclass(slots=True)
class Poll:
    """One poll: interfaces by name, their peers by public key, and what went wrong.

    `unavailable` names interfaces that `wg` could not read this time (or whose line did
    not parse); their absence from `interfaces` says nothing about whether they are up.
    """

    time: int
    interfaces: dict[str, InterfaceStatus] = field(default_factory=dict)
    peers: dict[str, dict[str, PeerStatus]] = field(default_factory=dict)
    problems: list[ParseProblem] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    # (interface, public key) of peer lines that did not parse: not removed, just unread.
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    # Per interface, the peers whose line differs from the parser's last poll (new or
    # changed). Every other peer is the very PeerStatus object of the last poll. None
    # when unknown (a Poll built by hand): then every peer must be compared.
    fresh: dict[str, list[str]] | None = None
    # Set when `wg` could not be run or read nothing at all (no CAP_NET_ADMIN, missing
    # binary): the poll tells nothing and must not be diffed.
    failure: str | None = None
