"""The community_id and network_direction processors (wgsiem/ingest/processors/network.py)
against Elasticsearch.

Each test names what it follows: CommunityIdProcessorTests (whose testBeats* copy the Beats
processor's vectors) and CommunityIdProcessorFactoryTests, NetworkDirectionProcessorTests and
NetworkDirectionProcessorFactoryTests, and the sources behind them (CommunityIdProcessor's
buildFlow, Transport and IcmpType; NetworkDirectionProcessor's named networks with
java.net.InetAddress's predicates; CIDRUtils and InetAddresses.parseCidr).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.ingest import config_error, failure, output
from wgsiem.community_id import ICMP, community_id

# --- community_id --------------------------------------------------------------------------

EVENT: dict[str, Any] = {
    "source": {"ip": "128.232.110.120", "port": 34855},
    "destination": {"ip": "66.35.250.204", "port": 80},
    "network": {"transport": "TCP"},
}


def event(**changes: Any) -> dict[str, Any]:
    """CommunityIdProcessorTests.buildEvent with `section={key: value}` changes; None removes a key."""
    doc = copy.deepcopy(EVENT)
    for section, values in changes.items():
        target = doc.setdefault(section, {})
        for key, value in values.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    return doc


def community(doc: dict[str, Any], **options: Any) -> Any:
    return output({"community_id": {"ignore_missing": False, **options}}, doc).get("network", {}).get("community_id")


def community_failure(doc: dict[str, Any], **options: Any) -> tuple[str, str]:
    return failure({"community_id": {"ignore_missing": False, **options}}, doc)


NO_PORTS = {"source": {"port": None}, "destination": {"port": None}}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),  # testBeatsValid
        ({"network": {"transport": "icmp"}, "icmp": {"type": 3, "code": 3}}, "1:KF3iG9XD24nhlSy4r1TcYIr5mfE="),  # testBeatsIcmp
        ({"network": {"transport": "icmp"}}, "1:PAE85ZfR4SbNXl5URZwWYyDehwU="),  # testBeatsIcmpWithoutTypeOrCode
        ({**NO_PORTS, "network": {"transport": "igmp"}}, "1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI="),  # testBeatsIgmp
        ({**NO_PORTS, "network": {"transport": "2"}}, "1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI="),  # testBeatsProtocolNumberAsString
        ({**NO_PORTS, "network": {"transport": 2}}, "1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI="),  # testBeatsProtocolNumber
        ({"network": {"transport": None, "iana_number": 6}}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),  # testBeatsIanaNumberProtocolTCP
        ({"network": {"transport": None, "iana_number": "6"}}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),  # testStringAndNumber
        (
            {"network": {"transport": None, "iana_number": "4"}, "source": {"ip": "192.168.1.2", "port": None}, "destination": {"ip": "10.1.2.3", "port": None}},
            "1:KXQzmk3bdsvD6UXj7dvQ4bM6Zvw=",
        ),  # testBeatsIanaNumberProtocolIPv4
        (
            {"source": {"ip": "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}, "destination": {"ip": "2001:0:9d38:6ab8:1c48:3a1c:a95a:b1c2"}},
            "1:YC1+javPJ2LpK5xVyw1udfT83Qs=",
        ),  # testIpv6
        ({"network": {"transport": "icmp"}, "icmp": {"type": 10, "code": 3}}, "1:L8wnzpmRHIESLqLBy+zTqW3Pmqs="),  # testIcmpWithCodeEquivalent
        ({"source": {"port": "34855"}, "destination": {"port": "80"}}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),  # testStringAndNumber
        ({"network": {"transport": "icmp"}, "icmp": {"type": "3", "code": "3"}}, "1:KF3iG9XD24nhlSy4r1TcYIr5mfE="),  # testStringAndNumber
        ({"source": {"port": 34855.0}}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),  # testFloatsForNumericValues
    ],
)
def test_community_id_vectors(changes, expected):
    # pins: CommunityIdProcessorTests (the test named beside each case)
    assert community(event(**changes)) == expected


def test_community_id_seed():
    # pins: CommunityIdProcessorTests.testBeatsSeed, CommunityIdProcessorFactoryTests.testCreate (seed as a string)
    assert community(event(), seed=123) == "1:hTSGlFQnR58UCk+NfKRZzA32dPg="
    assert community(event(), seed="123") == "1:hTSGlFQnR58UCk+NfKRZzA32dPg="


def test_community_id_target_and_fields():
    # pins: CommunityIdProcessorFactoryTests.testCreate (every field name is an option)
    doc = {"a": "128.232.110.120", "b": 34855, "c": "66.35.250.204", "d": 80, "e": 6}
    options = {"source_ip": "a", "source_port": "b", "destination_ip": "c", "destination_port": "d", "iana_number": "e", "target_field": "id"}
    assert output({"community_id": options}, doc)["id"] == "1:LQU9qZlK+B5F3KDmev6m5PMibrg="


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"source": {"ip": 2162716280}}, "field [source.ip] of type [java.lang.Long] cannot be cast to [java.lang.String]"),  # testBeatsInvalidSourceIp
        ({"source": {"port": 0}}, "invalid source port [0]"),  # testBeatsInvalidSourcePort / testInvalidPort
        ({"source": {"port": 65536}}, "invalid source port [65536]"),  # testInvalidPort
        ({"destination": {"port": 0}}, "invalid destination port [0]"),  # testInvalidPort
        ({"destination": {"port": 65536}}, "invalid destination port [65536]"),  # testInvalidPort
        ({"destination": {"ip": "308.111.1.2.3"}}, "'308.111.1.2.3' is not an IP string literal."),  # testBeatsInvalidDestinationIp
        ({"network": {"transport": "xyz"}}, "could not convert string [xyz] to transport protocol"),  # testBeatsUnknownProtocol
        ({"network": {"transport": 255}}, "invalid transport protocol number [255]"),  # Transport.fromNumber
        ({"network": {"transport": True}}, "could not convert value of type [java.lang.Boolean] to transport protocol"),  # Transport.fromObject
        ({"source": {"port": "http"}}, "unable to parse source port [http]"),  # parseIntFromObjectOrString
        ({"network": {"transport": "icmp"}, "icmp": {"type": "echo"}}, "unable to parse icmp type [echo]"),
        ({"source": {"ip": None}}, "field [ip] not present as part of path [source.ip]"),  # testIgnoreMissingIsFalse
    ],
)
def test_community_id_errors(changes, reason):
    # pins: CommunityIdProcessorTests (the test named beside each case) and CommunityIdProcessor's sources
    assert community_failure(event(**changes)) == ("illegal_argument_exception", reason)


def test_community_id_null_port_is_reported_as_null():
    # pins: CommunityIdProcessorTests.testBeatsInvalidDestinationPort (a null port parses to 0 and is refused)
    doc = event()
    doc["destination"]["port"] = None
    assert community_failure(doc) == ("illegal_argument_exception", "invalid destination port [null]")


def test_community_id_missing_values():
    # pins: CommunityIdProcessorTests.testIgnoreMissing; CommunityIdProcessor.execute ("unable to
    # construct flow from document" when a needed value is null and ignore_missing is false)
    doc = event(network={"transport": None})
    assert output({"community_id": {}}, doc) == doc  # ignore_missing defaults to true
    doc = event()
    doc["network"]["transport"] = None
    assert community_failure(doc) == ("illegal_argument_exception", "unable to construct flow from document")


def test_community_id_icmp_values_must_fit_16_bits():
    # pins: CommunityIdProcessor.toUint16 (an IllegalStateException while the flow is written)
    doc = event(network={"transport": "icmp"}, icmp={"type": 3, "code": 70000})
    assert community_failure(doc) == ("illegal_state_exception", "number [70000] must be a value between 0 and 65535")


def test_community_id_icmp_pairs_are_elasticsearch_s():
    # pins: CommunityIdProcessor.IcmpType's ICMP_V4_CODE_EQUIVALENTS: info reply (16) has no
    # counterpart there, so its two directions are two flows, where the spec pairs it with 15
    forward = community(event(network={"transport": "icmp"}, icmp={"type": 16, "code": 0}))
    backward = community(
        event(network={"transport": "icmp"}, icmp={"type": 16, "code": 0}, source={"ip": "66.35.250.204"}, destination={"ip": "128.232.110.120"})
    )
    assert forward != backward
    assert forward == community_id("128.232.110.120", "66.35.250.204", ICMP, 16, 0, icmp_pairs={ICMP: {}})
    assert forward != community_id("128.232.110.120", "66.35.250.204", ICMP, 16, 0)
    # Echo request and reply are one flow, as in the spec.
    request = community(event(network={"transport": "icmp"}, icmp={"type": 8, "code": 0}))
    reply = community(
        event(network={"transport": "icmp"}, icmp={"type": 0, "code": 0}, source={"ip": "66.35.250.204"}, destination={"ip": "128.232.110.120"})
    )
    assert request == reply


def test_community_id_factory():
    # pins: CommunityIdProcessorFactoryTests.testSeed, testRequiredFields (defaults need no options)
    for seed in (-1, 65536):
        error = config_error({"community_id": {"seed": seed}})
        assert (error["reason"], error["property_name"]) == ("[seed] must be a value between 0 and 65535", "seed")
    assert config_error({"community_id": {"seed": "x"}})["reason"] == "[seed] property cannot be converted to an int [x]"
    assert output({"community_id": {}}, {"a": 1}) == {"a": 1}


# --- network_direction -------------------------------------------------------------------------


def direction(source: Any, destination: Any, networks: list[str] | None, **options: Any) -> Any:
    doc = {"source": {"ip": source}, "destination": {"ip": destination}}
    config = {"ignore_missing": False, **options}
    if networks is not None:
        config["internal_networks"] = networks
    result = output({"network_direction": config}, doc)
    return result.get("network", {}).get("direction")


def direction_failure(source: Any, destination: Any, networks: list[str]) -> tuple[str, str]:
    doc = {"source": {"ip": source}, "destination": {"ip": destination}}
    return failure({"network_direction": {"internal_networks": networks, "ignore_missing": False}}, doc)


def test_direction_cidr():
    # pins: NetworkDirectionProcessorTests.testCIDR
    assert direction("10.0.1.1", "192.168.1.2", ["10.0.0.0/8"]) == "outbound"
    assert direction("192.168.1.2", "10.0.1.1", ["10.0.0.0/8"]) == "inbound"
    assert direction("10.0.1.1", "10.0.1.2", ["10.0.0.0/8"]) == "internal"
    assert direction("8.8.8.8", "1.1.1.1", ["10.0.0.0/8"]) == "external"
    assert direction("10.0.1.1", "8.8.8.8", ["10.0.1.1"]) == "outbound"  # an address alone is a network of one


def test_direction_named_networks():
    # pins: NetworkDirectionProcessorTests.testUnspecified, testNetworkPrivate, testNetworkPublic
    assert direction("0.0.0.0", "0.0.0.0", ["unspecified"]) == "internal"
    assert direction("::", "::", ["unspecified"]) == "internal"
    for source, destination in [("192.168.1.1", "192.168.1.2"), ("10.0.1.1", "192.168.1.2"), ("192.168.1.1", "172.16.0.1"), ("192.168.1.1", "fd12:3456:789a:1::1")]:
        assert direction(source, destination, ["private"]) == "internal"
        assert direction(source, destination, ["public"]) == "external"


@pytest.mark.parametrize(
    ("network", "inside", "outside"),
    [
        ("loopback", ["127.0.0.1", "127.255.0.9", "::1"], ["::2", "10.0.0.1"]),
        ("link_local_unicast", ["169.254.3.4", "fe80::1", "febf::1"], ["fec0::1", "169.253.0.1"]),
        ("multicast", ["224.0.0.1", "239.1.2.3", "ff05::1"], ["223.255.255.255", "fe80::1"]),
        ("link_local_multicast", ["224.0.0.251", "ff02::fb"], ["224.0.1.1", "ff05::1"]),
        ("interface_local_multicast", ["ff01::1"], ["224.0.0.1", "ff02::1"]),
        ("unicast", ["8.8.8.8", "10.0.0.1", "2001:db8::1"], ["255.255.255.255", "0.0.0.0", "127.0.0.1", "224.0.0.1", "169.254.0.1"]),
        ("global_unicast", ["8.8.8.8"], ["::1"]),
        ("private", ["10.1.1.1", "172.31.0.1", "192.168.0.1", "fd00::1"], ["172.32.0.1", "fc00::1", "8.8.8.8"]),
        ("public", ["8.8.8.8", "239.1.1.1", "2001:db8::1", "fc00::1"], ["10.0.0.1", "127.0.0.1", "0.0.0.0", "169.254.1.1", "224.0.0.5", "ff01::1", "255.255.255.255"]),
    ],
)
def test_direction_named_network_members(network, inside, outside):
    # pins: NetworkDirectionProcessor.inNetwork (InetAddress.isLoopbackAddress, isLinkLocalAddress,
    # isMulticastAddress, isMCLinkLocal, isMCNodeLocal; isUnicast, isPrivate, isPublic)
    partner = {"public": "10.9.9.9", "unicast": "255.255.255.255", "global_unicast": "255.255.255.255"}.get(network, "203.0.113.9")
    for ip in inside:
        assert direction(ip, partner, [network]) == "outbound", (network, ip)
    for ip in outside:
        assert direction(ip, partner, [network]) == "external", (network, ip)


def test_direction_ipv4_against_ipv6_ranges():
    # pins: CIDRUtils.isBetween (an IPv4 address meets an IPv6 range as ::ffff:a.b.c.d)
    assert direction("10.1.2.3", "2001:db8::1", ["::fffe:0:0/95"]) == "outbound"
    assert direction("10.1.2.3", "2001:db8::1", ["::/0"]) == "internal"


def test_direction_missing_values():
    # pins: NetworkDirectionProcessorTests.testNoSource, testNoDestination, testIgnoreMissing
    assert direction_failure(None, "66.35.250.204", ["10.0.0.0/8"]) == ("illegal_argument_exception", "unable to calculate network direction from document")
    assert direction_failure("192.168.1.1", None, ["10.0.0.0/8"]) == ("illegal_argument_exception", "unable to calculate network direction from document")
    assert direction(None, "66.35.250.204", ["10.0.0.0/8"], ignore_missing=True) is None
    assert output({"network_direction": {"internal_networks": ["private"]}}, {"a": 1}) == {"a": 1}  # ignore_missing defaults to true
    assert failure({"network_direction": {"internal_networks": ["private"], "ignore_missing": False}}, {}) == (
        "illegal_argument_exception",
        "field [source] not present as part of path [source.ip]",
    )


@pytest.mark.parametrize(
    ("source", "destination", "networks", "expected"),
    [
        ("invalid", "66.35.250.204", ["10.0.0.0/8"], ("illegal_argument_exception", "'invalid' is not an IP string literal.")),  # testInvalidSource
        ("192.168.1.1", "invalid", ["10.0.0.0/8"], ("illegal_argument_exception", "'invalid' is not an IP string literal.")),  # testInvalidDestination
        ("192.168.1.1", "192.168.1.1", ["10.0.0.0/8", "invalid"], ("illegal_argument_exception", "'invalid' is not an IP string literal.")),  # testInvalidNetwork
        (
            "192.168.1.1",
            "10.0.0.1",
            ["10.0.0.0/33"],
            ("illegal_argument_exception", "Illegal prefix length [33] in [10.0.0.0/33]. Must be 0-32 for IPv4 ranges, 0-128 for IPv6 ranges"),
        ),
        ("192.168.1.1", "10.0.0.1", ["10.0.0.0/x"], ("number_format_exception", 'For input string: "x"')),
        ("192.168.1.1", "10.0.0.1", ["10.0.0.0/8/8"], ("illegal_argument_exception", "Expected [ip/prefix] but was [10.0.0.0/8/8]")),
        (
            "192.168.1.1",
            "10.0.0.1",
            ["::ffff:10.0.0.0/104"],
            (
                "illegal_argument_exception",
                "CIDR notation is not allowed with IPv6-mapped IPv4 address [::ffff:10.0.0.0 as it introduces ambiguity as to whether "
                "the prefix length should be interpreted as a v4 prefix length or a v6 prefix length",
            ),
        ),
    ],
)
def test_direction_errors(source, destination, networks, expected):
    # pins: NetworkDirectionProcessorTests.testInvalidSource/Destination/Network; InetAddresses.parseCidr
    assert direction_failure(source, destination, networks) == expected


def test_direction_from_field_and_templates():
    # pins: NetworkDirectionProcessorTests.testReadFromField; NetworkDirectionProcessor.Factory
    # (internal_networks entries are templates)
    doc = {"source": {"ip": "192.168.1.1"}, "destination": {"ip": "192.168.1.2"}, "some_field": ["public"]}
    assert output({"network_direction": {"internal_networks_field": "some_field"}}, doc)["network"] == {"direction": "external"}
    doc = {"source": {"ip": "10.0.0.1"}, "destination": {"ip": "8.8.8.8"}, "net": "10.0.0.0/8"}
    assert output({"network_direction": {"internal_networks": ["{{net}}"], "target_field": "dir"}}, doc)["dir"] == "outbound"
    doc = {"source": {"ip": "10.0.0.1"}, "destination": {"ip": "8.8.8.8"}, "some_field": "private"}
    assert failure({"network_direction": {"internal_networks_field": "some_field"}}, doc) == (
        "illegal_argument_exception",
        "field [some_field] of type [java.lang.String] cannot be cast to [java.util.ArrayList]",
    )


def test_direction_factory():
    # pins: NetworkDirectionProcessorFactoryTests.testRequiredFields, NetworkDirectionProcessorTests.testInternalNetworksAndField
    error = config_error({"network_direction": {}})
    assert (error["reason"], error["property_name"]) == ("[internal_networks] or [internal_networks_field] must be specified", "internal_networks")
    error = config_error({"network_direction": {"internal_networks": ["public"], "internal_networks_field": "f"}})
    assert error["reason"] == "[internal_networks] and [internal_networks_field] cannot both be used in the same processor"


def test_community_id_reads_transport_and_ports_only_when_needed():
    # pins: CommunityIdProcessor.execute (transport and ports are Suppliers, read with
    # ignore_missing only when the flow needs them)
    doc = event(network={"transport": None, "iana_number": 2}, source={"port": None}, destination={"port": None})
    assert community(doc) == "1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI="  # neither transport nor ports read
    assert community_failure(event(source={"port": None})) == ("illegal_argument_exception", "field [port] not present as part of path [source.port]")
    # With ignore_missing a missing port reads as null, which is 0, which is refused all the same.
    assert failure({"community_id": {}}, event(source={"port": None})) == ("illegal_argument_exception", "invalid source port [null]")
