"""Which peer an inner flow belongs to: WireGuard's cryptokey routing, read backwards.

A packet a peer sends is accepted only if its inner source address is inside that peer's
allowed-ips, and the host routes a packet to the peer whose allowed-ips hold its
destination, the longest prefix winning (allowedips.c). So a connection whose original
source is inside a peer's allowed-ips was opened by that peer (`inbound`: from the VPN
into the host's networks), and one whose destination is inside them was opened towards it
(`outbound`). A peer reaching another peer's address is both: the flow is the source
peer's, and the other peer is named as its destination_peer. For a connection the host
rewrote (DNAT to a peer's address), the reply tuple's source is where it really went.

What is no peer's flow: the tunnel's own outer UDP packets (from a peer's endpoint to an
interface's listen port, or the other way), and connections none of whose addresses is
inside any allowed-ips. `Routes` is built from the latest poll; its answers are pure
functions of the record.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .model import ConntrackRecord

Direction = Literal["inbound", "outbound"]
_CACHE_LIMIT = 100_000
# Why a record is no peer's flow.
TUNNEL = "tunnel"  # the tunnel's own outer packets
NO_PEER = "no-peer"  # no address inside any peer's allowed-ips


@dataclass(frozen=True, slots=True)
class RoutedPeer:
    interface: str
    public_key: str
    prefix: str  # the allowed-ips entry that matched, as printed
    default: bool = False  # that entry is a default route (0.0.0.0/0, ::/0)


@dataclass(frozen=True, slots=True)
class Attribution:
    peer: RoutedPeer  # whose flow it is
    direction: Direction  # inbound: the peer opened it; outbound: it was opened towards the peer
    inner_address: str  # the peer's inner address in the flow
    destination_peer: RoutedPeer | None = None  # inbound to another peer's address: that peer


@dataclass(frozen=True, slots=True)
class PeerLine:
    """What a poll says of one peer that attribution needs."""

    interface: str
    public_key: str
    allowed_ips: tuple[str, ...]
    endpoint: tuple[str, int] | None  # (ip, port) of the peer's outer address


class Routes:
    """Longest-prefix lookup over every peer's allowed-ips, and the tunnel's outer ends."""

    def __init__(self, peers: Iterable[PeerLine], listen_ports: Mapping[str, int]) -> None:
        # Per family and prefix length, the network number → the peer; lengths longest first.
        self._tables: dict[int, dict[int, dict[int, RoutedPeer]]] = {4: {}, 6: {}}
        self._outer: set[tuple[str, int]] = set()
        self._ports = frozenset(listen_ports.values())
        peers = list(peers)
        for peer in peers:
            for prefix in peer.allowed_ips:
                try:
                    network = ipaddress.ip_network(prefix, strict=False)
                except ValueError:
                    continue  # the dump parser reports such a line; it routes nothing
                table = self._tables[network.version].setdefault(network.prefixlen, {})
                # Within an interface a prefix is one peer's; across interfaces the first wins.
                table.setdefault(int(network.network_address), RoutedPeer(peer.interface, peer.public_key, prefix, network.prefixlen == 0))
        self._lengths = {v: sorted(t, reverse=True) for v, t in self._tables.items()}
        self._cache: dict[str, RoutedPeer | None] = {}
        self.set_endpoints(peer.endpoint for peer in peers)

    def set_endpoints(self, endpoints: Iterable[tuple[str, int] | None]) -> None:
        """The peers' outer addresses, which roaming changes poll after poll: replaced
        without rebuilding the prefix tables, which only a change of allowed-ips needs."""
        self._outer = {(_canonical(e[0]), e[1]) for e in endpoints if e is not None}

    def lookup(self, address: str) -> RoutedPeer | None:
        """The peer the host would route `address` to, or None. A gateway's flows come from
        its peers' few addresses over and over: answers are remembered (a bounded cache)."""
        cache = self._cache
        if address in cache:
            return cache[address]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        found = cache[address] = self._route(address)
        return found

    def _route(self, address: str) -> RoutedPeer | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        bits = 32 if ip.version == 4 else 128
        n = int(ip)
        table = self._tables[ip.version]
        for length in self._lengths[ip.version]:
            found = table[length].get((n >> (bits - length)) << (bits - length) if length else 0)
            if found is not None:
                return found
        return None

    def is_tunnel(self, record: ConntrackRecord) -> bool:
        """The outer UDP of a tunnel: between a peer's endpoint and a listen port of the host."""
        if record.protocol != "udp":
            return False
        o = record.original
        ports = self._ports
        return (o.dport in ports and (_canonical(o.src), o.sport) in self._outer) or (
            o.sport in ports and (_canonical(o.dst), o.dport) in self._outer
        )

    def attribute(self, record: ConntrackRecord) -> Attribution | str:
        """The flow's peer and direction, or why it is none (TUNNEL, NO_PEER)."""
        if self.is_tunnel(record):
            return TUNNEL
        o = record.original
        source = self.lookup(o.src)
        # Where the connection really went: DNAT shows in the reply tuple's source.
        target_address = o.dst if record.reply.src == o.dst else record.reply.src
        target = self.lookup(target_address)
        # A default route (0.0.0.0/0, ::/0) in a peer's allowed-ips says where the host would
        # send what no route of its own claims, not that an address is behind that peer: the
        # host's LAN stays on its LAN (`wg set` adds no route). So it names no destination
        # peer, and loses to a specific prefix on the other end of the connection.
        if source is not None:
            if target is None:
                return Attribution(source, "inbound", o.src)
            if source.default and not target.default:
                return Attribution(target, "outbound", target_address)
            return Attribution(source, "inbound", o.src, None if target.default else target)
        if target is not None:
            return Attribution(target, "outbound", target_address)
        return NO_PEER


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        return address
