"""`network.community_id`: the Community ID flow hash, version 1 (corelight/community-id-spec),
so a flow event joins the same connection in Zeek, Suricata, Packetbeat or an Elastic
Agent's records.

`1:` + base64(SHA-1(seed, lower endpoint address, higher endpoint address, protocol, a
zero byte, lower port, higher port)): the two ends ordered by address then port, so both
directions give one id. Ports are there for tcp, udp, sctp, icmp and icmpv6 only: for
icmp the type and code, and for a type that has a counterpart (echo and echo reply, ...)
the counterpart's type in place of the code, which makes the request and its reply one
flow; a type without a counterpart is one-way and never reordered.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import struct

ICMP, TCP, UDP, ICMPV6, SCTP = 1, 6, 17, 58, 132
_PORTED = frozenset({TCP, UDP, SCTP})
# The spec's pairs: echo, timestamp, info, router solicitation/advertisement, address mask.
_ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
# echo, multicast listener query/report, router/neighbor solicitation/advertisement,
# node information query/response, home agent address discovery request/reply.
_ICMP6_PAIRS = {128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133, 135: 136, 136: 135, 139: 140, 140: 139, 144: 145, 145: 144}


def community_id(src: str, dst: str, protocol: int, sport: int | None = None, dport: int | None = None, seed: int = 0) -> str:
    """The flow's Community ID; `sport`/`dport` are the icmp type and code for icmp and icmpv6."""
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    ports: tuple[int, int] | None = None
    one_way = False
    if protocol in (ICMP, ICMPV6) and sport is not None:
        pairs = _ICMP4_PAIRS if protocol == ICMP else _ICMP6_PAIRS
        counterpart = pairs.get(sport)
        one_way = counterpart is None
        ports = (sport, dport or 0) if one_way else (sport, counterpart)  # type: ignore[assignment]
    elif protocol in _PORTED and sport is not None and dport is not None:
        ports = (sport, dport)
    if not one_way and (a, ports[0] if ports else 0) > (b, ports[1] if ports else 0):
        a, b = b, a
        ports = (ports[1], ports[0]) if ports else None
    data = struct.pack("!H", seed) + a + b + struct.pack("!BB", protocol, 0)
    if ports is not None:
        data += struct.pack("!HH", *ports)
    return "1:" + base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()
