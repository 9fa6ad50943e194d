"""Write `wg show all dump` text for tests, one poll at a time, from a small description."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from wgsiem.wgdump.x25519 import public_key_of


def fake_key(label: str) -> str:
    """A valid-looking WireGuard key derived from a label, stable across runs."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


@dataclass
class FakePeer:
    public_key: str
    endpoint: str = "(none)"
    allowed_ips: str = "(none)"
    handshake: int = 0
    rx: int = 0
    tx: int = 0
    keepalive: str = "off"
    psk: str = "(none)"

    def line(self, iface: str) -> str:
        return "\t".join(
            [iface, self.public_key, self.psk, self.endpoint, self.allowed_ips,
             str(self.handshake), str(self.rx), str(self.tx), self.keepalive]
        )  # fmt: skip


@dataclass
class FakeInterface:
    name: str = "wg0"
    private_key: str = field(default_factory=lambda: fake_key("private wg0"))
    public_key: str = ""  # what `wg` prints: the private key's public key, when not given
    listen_port: int = 51820
    fwmark: str = "off"
    peers: dict[str, FakePeer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.public_key:
            self.public_key = public_key_of(self.private_key) or "(none)"

    def new_key(self, label: str) -> None:
        """`wg set wg0 private-key`: a new private key, and the public key it gives."""
        self.private_key = fake_key(label)
        self.public_key = public_key_of(self.private_key) or "(none)"

    def peer(self, label: str, **kw) -> FakePeer:
        p = FakePeer(public_key=fake_key(label), **kw)
        self.peers[label] = p
        return p

    def text(self) -> str:
        head = "\t".join([self.name, self.private_key, self.public_key, str(self.listen_port), self.fwmark])
        return "\n".join([head] + [p.line(self.name) for p in self.peers.values()])


def dump(*interfaces: FakeInterface) -> str:
    return "\n".join(i.text() for i in interfaces) + "\n"
