"""Processors about network flows: community_id, network_direction.

community_id hashes with the same code as the conntrack flow events (wgsiem/community_id.py);
what is Elasticsearch's own here is how the flow is read from the document and the table of
ICMP types that have a counterpart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wgsiem.community_id import ICMP, ICMPV6, SCTP, TCP, UDP, community_id
from wgsiem.ingest.document import IngestDocument, java_str, java_type
from wgsiem.ingest.errors import IngestError, invalid
from wgsiem.ingest.formats.convert import IPAddress, java_parse_integer, parse_ip
from wgsiem.ingest.mustache import template
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

# CommunityIdProcessor.IcmpType: the spec's pairs except info reply -> info request (16) and
# multicast listener report -> query (131), which Elasticsearch leaves one-way.
ES_ICMP_PAIRS = {
    ICMP: {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 10: 9, 9: 10, 17: 18, 18: 17},
    ICMPV6: {128: 129, 129: 128, 133: 134, 134: 133, 136: 135, 135: 136, 130: 131, 139: 140, 140: 139, 144: 145, 145: 144},
}
# Transport.Type's names (looked up lower-cased) and the numbers it knows.
_TRANSPORT_NAMES = {
    "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "ipv6-icmp": 58, "icmpv6": 58,
    "eigrp": 88, "ospf": 89, "pim": 103, "sctp": 132,
}  # fmt: skip


def java_int_value(value: Any) -> int:
    """`Number.intValue()` of a JSON number: a long wraps to 32 bits, a double truncates
    toward zero and saturates (NaN gives 0)."""
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return 2**31 - 1 if value > 0 else -(2**31)
        return max(-(2**31), min(2**31 - 1, int(value)))
    return int((value + 2**31) % 2**32 - 2**31)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_int(value: Any, what: str) -> int:
    """CommunityIdProcessor.parseIntFromObjectOrString: null is 0."""
    if value is None:
        return 0
    if _is_number(value):
        return java_int_value(value)
    if isinstance(value, str):
        try:
            return java_parse_integer(value, 10, 32)
        except ValueError:
            pass
    raise invalid(f"unable to parse {what} [{java_str(value)}]")


def _transport_number(value: Any) -> int:
    """Transport.fromObject: a name, or a number (as a number or a string) below 255."""
    if _is_number(value):
        number = java_int_value(value)
    elif isinstance(value, str):
        known = _TRANSPORT_NAMES.get(value.lower())
        if known is not None:
            return known
        try:
            number = java_parse_integer(value, 10, 32)
        except ValueError:
            raise invalid(f"could not convert string [{value}] to transport protocol") from None
    else:
        raise invalid(f"could not convert value of type [{java_type(value)}] to transport protocol")
    if not 0 <= number < 255:
        raise invalid(f"invalid transport protocol number [{number}]")
    return number


def _uint16(number: int) -> None:
    if not 0 <= number <= 65535:
        raise IngestError(f"number [{number}] must be a value between 0 and 65535", "illegal_state_exception")


def _ip(text: str) -> IPAddress:
    try:
        return parse_ip(text)
    except ValueError as error:
        raise invalid(str(error)) from None


def flow_community_id(  # noqa: PLR0913 - the arguments of CommunityIdProcessor.apply
    source: str | None,
    destination: str | None,
    iana_number: Any,
    transport: Callable[[], Any],
    source_port: Callable[[], Any],
    destination_port: Callable[[], Any],
    icmp_type: Any,
    icmp_code: Any,
    seed: int = 0,
) -> str | None:
    """CommunityIdProcessor.buildFlow and Flow.toBytes, in their order of reads and checks
    (what Painless's Processors.communityId calls too): None when an address or the protocol
    is missing. The transport and the ports are read only when needed, as Elasticsearch's
    suppliers are, so a missing one fails only then."""
    if source is None or destination is None:
        return None
    src, dst = _ip(source), _ip(destination)
    protocol = iana_number if iana_number is not None else transport()
    if protocol is None:
        return None
    number = _transport_number(protocol)
    if number in (TCP, UDP, SCTP):
        ports = []
        for read, what in ((source_port, "source port"), (destination_port, "destination port")):
            raw = read()
            port = _parse_int(raw, what)
            if not 1 <= port <= 65535:
                raise invalid(f"invalid {what} [{java_str(raw)}]")
            ports.append(port)
        return community_id(src, dst, number, ports[0], ports[1], seed, ES_ICMP_PAIRS)
    if number in (ICMP, ICMPV6):
        kind, code = _parse_int(icmp_type, "icmp type"), _parse_int(icmp_code, "icmp code")
        counterpart = ES_ICMP_PAIRS[number].get(kind)
        second = code if counterpart is None else counterpart
        ordered = (int(src), kind) < (int(dst), second)
        # Elasticsearch checks each 16-bit value as it writes it, the lower end first.
        for value in (kind, second) if counterpart is None or ordered else (second, kind):
            _uint16(value)
        return community_id(src, dst, number, kind, code, seed, ES_ICMP_PAIRS)
    return community_id(src, dst, number, seed=seed)


class CommunityId(Processor):
    type = "community_id"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.source_ip = opts.string("source_ip", "source.ip")
        self.source_port = opts.string("source_port", "source.port")
        self.destination_ip = opts.string("destination_ip", "destination.ip")
        self.destination_port = opts.string("destination_port", "destination.port")
        self.iana_number = opts.string("iana_number", "network.iana_number")
        self.transport = opts.string("transport", "network.transport")
        self.icmp_type = opts.string("icmp_type", "icmp.type")
        self.icmp_code = opts.string("icmp_code", "icmp.code")
        self.target = opts.string("target_field", "network.community_id")
        self.seed = opts.integer("seed", 0)
        if not 0 <= self.seed <= 65535:
            raise opts.error("must be a value between 0 and 65535", "seed")
        self.ignore_missing = opts.boolean("ignore_missing", True)

    def _text(self, doc: IngestDocument, field: str) -> str | None:
        value = doc.get(field, self.ignore_missing)
        if value is not None and not isinstance(value, str):
            raise invalid(f"field [{field}] of type [{java_type(value)}] cannot be cast to [java.lang.String]")
        return value

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        community = self._community_id(doc)
        if community is None:
            if self.ignore_missing:
                return
            raise invalid("unable to construct flow from document")
        doc.set(self.target, community)

    def _community_id(self, doc: IngestDocument) -> str | None:
        source, destination = self._text(doc, self.source_ip), self._text(doc, self.destination_ip)
        return flow_community_id(
            source,
            destination,
            doc.get(self.iana_number, True),
            lambda: doc.get(self.transport, self.ignore_missing),
            lambda: doc.get(self.source_port, self.ignore_missing),
            lambda: doc.get(self.destination_port, self.ignore_missing),
            doc.get(self.icmp_type, True),
            doc.get(self.icmp_code, True),
            self.seed,
        )

    def produced_fields(self) -> list[str]:
        return [self.target]


# --- network_direction ---------------------------------------------------------------------

_PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8")
_BROADCAST = parse_ip("255.255.255.255")


def _mapped(address: IPAddress) -> int:
    """The address as a 128-bit number, IPv4 as ::ffff:a.b.c.d (CIDRUtils compares so)."""
    return int(address) | (0xFFFF << 32) if address.version == 4 else int(address)


def _cidr_bounds(cidr: str) -> tuple[int, int]:
    """InetAddresses.parseCidr and CIDRUtils' lower and upper address, mapped."""
    fields = cidr.split("/")
    while fields and fields[-1] == "":
        fields.pop()  # Java's split drops trailing empty strings
    if len(fields) != 2:
        raise invalid(f"Expected [ip/prefix] but was [{cidr}]")
    text = fields[0]
    address = _ip(text)
    if ":" in text and address.version == 4:
        raise invalid(
            f"CIDR notation is not allowed with IPv6-mapped IPv4 address [{text} as it introduces ambiguity as to "
            "whether the prefix length should be interpreted as a v4 prefix length or a v6 prefix length"
        )
    try:
        prefix = java_parse_integer(fields[1], 10, 32)
    except ValueError:
        raise IngestError(f'For input string: "{fields[1]}"', "number_format_exception") from None
    bits = 32 if address.version == 4 else 128
    if not 0 <= prefix <= bits:
        raise invalid(f"Illegal prefix length [{prefix}] in [{cidr}]. Must be 0-32 for IPv4 ranges, 0-128 for IPv6 ranges")
    host = (1 << (bits - prefix)) - 1
    value = int(address)
    lower, upper = value & ~host, value | host
    if bits == 32:
        return lower | (0xFFFF << 32), upper | (0xFFFF << 32)
    return lower, upper


def _in_range(address: IPAddress, *networks: str) -> bool:
    """CIDRUtils.isInRange: a CIDR block, or one address."""
    value = _mapped(address)
    for network in networks:
        if "/" in network:
            lower, upper = _cidr_bounds(network)
        else:
            lower = upper = _mapped(_ip(network))
        if lower <= value <= upper:
            return True
    return False


def _loopback(a: IPAddress) -> bool:  # InetAddress.isLoopbackAddress
    return (int(a) >> 24) == 127 if a.version == 4 else int(a) == 1


def _link_local_unicast(a: IPAddress) -> bool:  # isLinkLocalAddress
    return (int(a) >> 16) == 0xA9FE if a.version == 4 else (int(a) >> 118) == 0x3FA


def _interface_local_multicast(a: IPAddress) -> bool:  # isMCNodeLocal: IPv6 ffx1::, never IPv4
    return a.version == 6 and (int(a) >> 120) == 0xFF and (int(a) >> 112) & 0x0F == 0x01


def _link_local_multicast(a: IPAddress) -> bool:  # isMCLinkLocal
    if a.version == 4:
        return (int(a) >> 8) == 0xE00000
    return (int(a) >> 120) == 0xFF and (int(a) >> 112) & 0x0F == 0x02


def _multicast(a: IPAddress) -> bool:  # isMulticastAddress
    return (int(a) >> 28) == 0xE if a.version == 4 else (int(a) >> 120) == 0xFF


def _unspecified(a: IPAddress) -> bool:
    return int(a) == 0


def _unicast(a: IPAddress) -> bool:
    return not (a == _BROADCAST or _unspecified(a) or _loopback(a) or _multicast(a) or _link_local_unicast(a))


def _private(a: IPAddress) -> bool:
    return _in_range(a, *_PRIVATE)


def _public(a: IPAddress) -> bool:
    return not (
        _private(a)
        or _loopback(a)
        or _unspecified(a)
        or _link_local_unicast(a)
        or _link_local_multicast(a)
        or _interface_local_multicast(a)
        or a == _BROADCAST
    )


NAMED_NETWORKS = {
    "loopback": _loopback,
    "global_unicast": _unicast,
    "unicast": _unicast,
    "link_local_unicast": _link_local_unicast,
    "interface_local_multicast": _interface_local_multicast,
    "link_local_multicast": _link_local_multicast,
    "multicast": _multicast,
    "unspecified": _unspecified,
    "private": _private,
    "public": _public,
}


class NetworkDirection(Processor):
    type = "network_direction"

    def __init__(self, opts: Options, builder: Any) -> None:
        self.source_ip = opts.string("source_ip", "source.ip")
        self.destination_ip = opts.string("destination_ip", "destination.ip")
        self.target = opts.string("target_field", "network.direction")
        self.ignore_missing = opts.boolean("ignore_missing", True)
        networks = opts.list("internal_networks", None)
        self.networks_field = opts.string("internal_networks_field", None)
        if networks is None and self.networks_field is None:
            raise opts.error("or [internal_networks_field] must be specified", "internal_networks")
        if networks is not None and self.networks_field is not None:
            raise opts.error("and [internal_networks_field] cannot both be used in the same processor", "internal_networks")
        self.networks = None
        if networks is not None:
            for network in networks:
                if not isinstance(network, str):
                    raise opts.error(f"every entry must be a string, not [{java_type(network)}]", "internal_networks")
            self.networks = [template(network) for network in networks]

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        direction = self._direction(doc)
        if direction is None:
            if self.ignore_missing:
                return
            raise invalid("unable to calculate network direction from document")
        doc.set(self.target, direction)

    def _text(self, doc: IngestDocument, field: str) -> str | None:
        value = doc.get(field, self.ignore_missing)
        if value is not None and not isinstance(value, str):
            raise invalid(f"field [{field}] of type [{java_type(value)}] cannot be cast to [java.lang.String]")
        return value

    def _direction(self, doc: IngestDocument) -> str | None:
        if self.networks_field is not None:
            listed = doc.get(self.networks_field, self.ignore_missing)
            if listed is None:
                return None
            if not isinstance(listed, list):
                raise invalid(f"field [{self.networks_field}] of type [{java_type(listed)}] cannot be cast to [java.util.ArrayList]")
            networks = listed
        else:
            networks = [network.render(doc) for network in self.networks or []]
        source = self._text(doc, self.source_ip)
        if source is None:
            return None
        destination = self._text(doc, self.destination_ip)
        if destination is None:
            return None
        source_internal = self._internal(networks, source)
        destination_internal = self._internal(networks, destination)
        if source_internal and destination_internal:
            return "internal"
        if source_internal:
            return "outbound"
        if destination_internal:
            return "inbound"
        return "external"

    @staticmethod
    def _internal(networks: list[Any], ip: str) -> bool:
        for network in networks:
            if not isinstance(network, str):
                raise IngestError(
                    f"class {java_type(network)} cannot be cast to class java.lang.String ({java_type(network)} and "
                    "java.lang.String are in module java.base of loader 'bootstrap')",
                    "class_cast_exception",
                )
            address = _ip(ip)  # parsed per network, as Elasticsearch does: no network, no check
            named = NAMED_NETWORKS.get(network)
            if named(address) if named is not None else _in_range(address, network):
                return True
        return False

    def produced_fields(self) -> list[str]:
        return [self.target]
