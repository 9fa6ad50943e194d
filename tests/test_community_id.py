"""network.community_id (wgsiem/community_id.py) against the Community ID spec's
published baseline values (corelight/community-id-spec, as Zeek's and Vector's tests pin them)."""

from __future__ import annotations

import pytest

from wgsiem.community_id import ICMP, ICMPV6, TCP, UDP, community_id

V6_A, V6_B = "fe80:1:203:405:607:809:a0b:c0d", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d"


@pytest.mark.parametrize(
    ("flow", "seed", "expected"),
    [
        (("1.2.3.4", "5.6.7.8", TCP, 1122, 3344), 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="),
        (("1.2.3.4", "5.6.7.8", UDP, 1122, 3344), 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
        (("1.2.3.4", "5.6.7.8", ICMP, 8, 0), 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
        ((V6_A, V6_B, ICMPV6, 128, 0), 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="),
        (("1.2.3.4", "5.6.7.8", 46, None, None), 0, "1:ikv3kmf89luf73WPz1jOs49S768="),  # RSVP: no ports
        (("1.2.3.4", "5.6.7.8", TCP, 1122, 3344), 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
        (("1.2.3.4", "5.6.7.8", UDP, 1122, 3344), 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
        (("1.2.3.4", "5.6.7.8", ICMP, 8, 0), 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="),
    ],
    ids=["tcp", "udp", "icmp echo", "icmpv6 echo", "no ports", "tcp seed 1", "udp seed 1", "icmp seed 1"],
)
def test_the_spec_baseline(flow, seed, expected):
    assert community_id(*flow, seed=seed) == expected


def test_both_directions_are_one_flow():
    assert community_id("5.6.7.8", "1.2.3.4", TCP, 3344, 1122) == "1:wCb3OG7yAFWelaUydu0D+125CLM="
    assert community_id("5.6.7.8", "1.2.3.4", UDP, 3344, 1122) == "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="
    # An echo reply is the echo request's flow.
    assert community_id("5.6.7.8", "1.2.3.4", ICMP, 0, 0) == "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="
    assert community_id(V6_B, V6_A, ICMPV6, 129, 0) == "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="


def test_a_one_way_icmp_type_is_not_reordered():
    # Destination unreachable (3) has no counterpart: each direction is its own flow.
    assert community_id("1.2.3.4", "5.6.7.8", ICMP, 3, 1) != community_id("5.6.7.8", "1.2.3.4", ICMP, 3, 1)
