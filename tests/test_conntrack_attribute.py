"""Attribution of conntrack records to peers: cryptokey routing read backwards
(wgsiem/conntrack/attribute.py), on lines as conntrack prints them."""

from __future__ import annotations

import pytest

from wgsiem.conntrack.attribute import NO_PEER, TUNNEL, PeerLine, Routes
from wgsiem.conntrack.model import ConntrackRecord
from wgsiem.conntrack.parse import parse_lines

ALICE = "ezL96DgW4CbhUCTlxxBbT70UlXgIiqnf885hpcGf6vk="
SITE = "K9gGyX8OAK8aH8Myj6djqSaXI8jbj6xPk69x2xhtbpA="
BOB = "bobbobbobbobbobbobbobbobbobbobbobbobbobbob0="
ROUTES = Routes(
    [
        PeerLine("wg0", ALICE, ("10.8.0.2/32", "fd00:8::2/128"), ("198.51.100.10", 40001)),
        # A site: its LAN behind it, and one host of that LAN routed to bob instead (longer prefix).
        PeerLine("wg0", SITE, ("10.8.0.3/32", "192.168.50.0/24"), ("203.0.113.9", 51820)),
        PeerLine("wg0", BOB, ("10.8.0.4/32", "192.168.50.77/32"), None),
    ],
    {"wg0": 51820},
)


def record(text: str) -> ConntrackRecord:
    (out,) = parse_lines([text])
    assert isinstance(out, ConntrackRecord), out
    return out


def destroy(proto: str, src: str, dst: str, sport: int, dport: int, reply_src: str | None = None) -> ConntrackRecord:
    family, number = ("ipv6", 10) if ":" in src else ("ipv4", 2)
    pnum = {"tcp": 6, "udp": 17}[proto]
    state = " TIME_WAIT" if proto == "tcp" else ""
    rsrc = reply_src or dst
    return record(
        f"[1796448699.873114]\t[DESTROY] {family:<8} {number} {proto:<8} {pnum}{state} src={src} dst={dst} sport={sport} dport={dport} "
        f"packets=8 bytes=2432 src={rsrc} dst={src} sport={dport} dport={sport} packets=6 bytes=20320 [ASSURED] id=1"
    )


def test_a_flow_from_a_peers_inner_address_is_that_peers_inbound_flow():
    found = ROUTES.attribute(destroy("tcp", "10.8.0.2", "10.0.5.20", 41000, 5432))
    assert not isinstance(found, str)
    assert (found.peer.public_key, found.direction, found.inner_address, found.peer.prefix) == (ALICE, "inbound", "10.8.0.2", "10.8.0.2/32")
    assert found.destination_peer is None


def test_ipv6_and_the_site_lan_behind_a_peer():
    v6 = ROUTES.attribute(destroy("tcp", "fd00:8::2", "fd00:99::5", 41000, 443))
    lan = ROUTES.attribute(destroy("tcp", "192.168.50.12", "10.0.5.20", 41000, 445))
    assert not isinstance(v6, str) and v6.peer.public_key == ALICE
    assert not isinstance(lan, str) and (lan.peer.public_key, lan.peer.prefix) == (SITE, "192.168.50.0/24")


def test_the_longest_prefix_wins_as_wireguard_routes():
    found = ROUTES.attribute(destroy("tcp", "192.168.50.77", "10.0.5.20", 41000, 22))
    assert not isinstance(found, str) and (found.peer.public_key, found.peer.prefix) == (BOB, "192.168.50.77/32")


def test_an_internal_host_opening_a_connection_to_a_peer_is_outbound():
    found = ROUTES.attribute(destroy("tcp", "10.0.5.20", "10.8.0.2", 50000, 22))
    assert not isinstance(found, str) and (found.peer.public_key, found.direction, found.inner_address) == (ALICE, "outbound", "10.8.0.2")


def test_a_peer_reaching_andestination_peer_is_the_first_peers_flow_naming_the_other():
    found = ROUTES.attribute(destroy("tcp", "10.8.0.2", "10.8.0.4", 41000, 22))
    assert not isinstance(found, str)
    assert (found.peer.public_key, found.direction) == (ALICE, "inbound")
    assert found.destination_peer is not None and found.destination_peer.public_key == BOB


def test_a_port_forward_to_a_peer_is_attributed_by_where_it_really_went():
    # DNAT: the original destination is the host's public address, the reply comes from alice.
    found = ROUTES.attribute(destroy("tcp", "203.0.113.50", "198.51.100.1", 40000, 8080, reply_src="10.8.0.2"))
    assert not isinstance(found, str) and (found.peer.public_key, found.direction, found.inner_address) == (ALICE, "outbound", "10.8.0.2")


@pytest.mark.parametrize(
    ("flow", "why"),
    [
        (destroy("udp", "198.51.100.10", "192.0.2.1", 40001, 51820), TUNNEL),  # a peer's handshakes and data, outer
        (destroy("udp", "192.0.2.1", "203.0.113.9", 51820, 51820), TUNNEL),  # the host to a site's endpoint
        (destroy("tcp", "10.0.5.20", "10.0.5.21", 41000, 22), NO_PEER),  # the LAN's own traffic
        (destroy("udp", "198.51.100.10", "192.0.2.1", 40001, 53), NO_PEER),  # alice's outer address, not to the listen port
    ],
    ids=["peer to listen port", "listen port to endpoint", "internal", "not the tunnel"],
)
def test_what_is_no_peers_flow(flow, why):
    assert ROUTES.attribute(flow) == why


def test_the_real_recording_finds_its_peer_when_the_namespace_is_one():
    """On the recorded fixture (fixtures/conntrack/acct-on.log) the client namespace is 10.98.0.2:
    as a peer's address every one of its flows is that peer's, and nothing else is."""
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[1] / "fixtures" / "conntrack" / "acct-on.log").read_text().splitlines()
    records = [r for r in parse_lines(lines) if isinstance(r, ConntrackRecord)]
    routes = Routes([PeerLine("wg0", ALICE, ("10.98.0.2/32",), None)], {"wg0": 51820})
    ours = [r for r in records if r.family == "ipv4" and "10.98.0.2" in (r.original.src, r.original.dst)]
    assert ours
    for r in ours:
        found = routes.attribute(r)
        assert not isinstance(found, str) and found.peer.public_key == ALICE, r.text
        assert found.direction == ("inbound" if r.original.src == "10.98.0.2" else "outbound")


def test_a_peer_with_a_default_route_names_no_destination_and_loses_to_a_specific_prefix():
    # An exit-node peer with 0.0.0.0/0 (a `wg set` that adds no route): the host's own LAN
    # stays on its LAN, so a flow into the LAN is no flow to that peer.
    exit_node = "exitexitexitexitexitexitexitexitexitexitexi0="
    routes = Routes(
        [PeerLine("wg0", ALICE, ("10.8.0.2/32",), None), PeerLine("wg0", exit_node, ("10.8.0.9/32", "0.0.0.0/0"), None)],
        {"wg0": 51820},
    )
    into_lan = routes.attribute(destroy("tcp", "10.8.0.2", "10.0.5.20", 41000, 5432))
    assert not isinstance(into_lan, str)
    assert (into_lan.peer.public_key, into_lan.direction, into_lan.destination_peer) == (ALICE, "inbound", None)
    # A LAN host opening a connection to alice: the default route explains its source, but
    # alice's /32 is the specific end, so it is alice's outbound flow.
    to_alice = routes.attribute(destroy("tcp", "10.0.5.20", "10.8.0.2", 55000, 22))
    assert not isinstance(to_alice, str)
    assert (to_alice.peer.public_key, to_alice.direction) == (ALICE, "outbound")
    # Its own tunnel address is still its own flow.
    own = routes.attribute(destroy("tcp", "10.8.0.9", "10.0.5.20", 41000, 443))
    assert not isinstance(own, str) and own.peer.public_key == exit_node and own.peer.prefix == "10.8.0.9/32"


def test_endpoints_replaced_without_rebuilding_the_prefixes():
    routes = Routes([PeerLine("wg0", ALICE, ("10.8.0.2/32",), ("198.51.100.10", 40001))], {"wg0": 51820})
    outer = destroy("udp", "198.51.100.77", "192.0.2.1", 40001, 51820)
    assert routes.attribute(outer) == NO_PEER
    routes.set_endpoints([("198.51.100.77", 40001)])  # the peer roamed
    assert routes.attribute(outer) == TUNNEL
    assert routes.lookup("10.8.0.2") is not None and routes.lookup("10.8.0.2").public_key == ALICE  # type: ignore[union-attr]
