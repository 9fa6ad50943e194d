"""The Community ID flow hash, version 1 (corelight/community-id-spec): `network.community_id`
of the conntrack flow events and the ingest engine's `community_id` processor, one algorithm.

`1:` + base64(SHA-1(seed, lower endpoint address, higher endpoint address, protocol, a
zero byte, lower port, higher port)): the two ends ordered by address (as a number) then
port, so both directions give one id. Ports are there for tcp, udp, sctp, icmp and icmpv6
only: for icmp the type and code, and for a type that has a counterpart (echo and echo
reply, ...) the counterpart's type in place of the code, which makes the request and its
reply one flow; a type without a counterpart is one-way and never reordered.

Which types have a counterpart is a parameter: the spec's table by default; Elasticsearch's
processor passes its own, which lacks two of the spec's pairs (see processors/network.py).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import struct
from collections.abc import Mapping

ICMP, TCP, UDP, ICMPV6, SCTP = 1, 6, 17, 58, 132
PORTED = frozenset({TCP, UDP, SCTP, ICMP, ICMPV6})
# The spec's pairs: echo, timestamp, info, router solicitation/advertisement, address mask.
_ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
# echo, multicast listener query/report, router/neighbor solicitation/advertisement,
# node information query/response, home agent address discovery request/reply.
_ICMP6_PAIRS = {128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133, 135: 136, 136: 135, 139: 140, 140: 139, 144: 145, 145: 144}
SPEC_ICMP_PAIRS: Mapping[int, Mapping[int, int]] = {ICMP: _ICMP4_PAIRS, ICMPV6: _ICMP6_PAIRS}

Address = str | ipaddress.IPv4Address | ipaddress.IPv6Address


def community_id(
    src: Address,
    dst: Address,
    protocol: int,
    sport: int | None = None,
    dport: int | None = None,
    seed: int = 0,
    icmp_pairs: Mapping[int, Mapping[int, int]] = SPEC_ICMP_PAIRS,
) -> str:
    """The flow's Community ID; `sport`/`dport` are the icmp type and code for icmp and icmpv6.

    Ports (or type and code) left out hash a flow without them; every value must fit 16 bits.
    """
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    ports: tuple[int, int] | None = None
    one_way = False
    if protocol in (ICMP, ICMPV6) and sport is not None:
        counterpart = icmp_pairs[protocol].get(sport)
        one_way = counterpart is None
        ports = (sport, dport or 0) if counterpart is None else (sport, counterpart)
    elif protocol in PORTED and sport is not None and dport is not None:
        ports = (sport, dport)
    # Addresses compare as unsigned numbers (Elasticsearch's BigInteger), so a mixed
    # IPv4/IPv6 flow orders as it does there.
    if not one_way and (int(a), ports[0] if ports else 0) > (int(b), ports[1] if ports else 0):
        a, b = b, a
        ports = (ports[1], ports[0]) if ports else None
    data = struct.pack("!H", seed) + a.packed + b.packed + struct.pack("!BB", protocol, 0)
    if ports is not None:
        data += struct.pack("!HH", *ports)
    return "1:" + base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()
