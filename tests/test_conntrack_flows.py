"""Conntrack records → a peer's flow events (wgsiem/conntrack/flows.py), on the recording of
fixtures/conntrack/acct-on.log: the client namespace (10.98.0.2, fd98::2) is taken for a peer."""

from __future__ import annotations

from pathlib import Path

from wgsiem.conntrack.attribute import PeerLine, Routes
from wgsiem.conntrack.flows import FLOW_ENDED, FLOW_STARTED, MAX_OPEN, FlowTracker
from wgsiem.conntrack.model import ConntrackRecord
from wgsiem.conntrack.parse import parse_lines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conntrack"
PEER = "ezL96DgW4CbhUCTlxxBbT70UlXgIiqnf885hpcGf6vk="
ROUTES = Routes([PeerLine("wg0", PEER, ("10.98.0.2/32", "fd98::2/128"), None)], {"wg0": 51820})


def records(name: str) -> list[ConntrackRecord]:
    return [r for r in parse_lines((FIXTURES / name).read_text().splitlines()) if isinstance(r, ConntrackRecord)]


def test_each_connection_of_the_peer_starts_and_ends_once_with_its_totals():
    tracker = FlowTracker()
    recorded = records("acct-on.log")
    events = list(tracker.events(recorded, ROUTES))
    started = {e.conntrack_id for e in events if e.action == FLOW_STARTED}
    ended = {e.conntrack_id: e for e in events if e.action == FLOW_ENDED}
    assert started and started <= set(ended)  # every connection that began here ended here
    assert tracker.counts["update"] == sum(r.event == "UPDATE" for r in recorded)
    # The TCP connection that sent 100,000 bytes and got 50,000 back (acct-on.log line 38):
    # the peer opened it, so the original direction is the source's.
    big = ended[794240106]
    assert (big.source.ip, big.destination.port, big.transport) == ("10.98.0.2", 5432, "tcp")
    assert (big.source_bytes, big.source_packets, big.destination_bytes, big.destination_packets) == (100744, 14, 50632, 12)
    assert big.duration == 2 and big.start is not None and big.state == "TIME_WAIT"
    assert big.attribution.peer.public_key == PEER and big.attribution.direction == "inbound"
    # One community id for the flow from start to end.
    first = next(e for e in events if e.conntrack_id == 794240106 and e.action == FLOW_STARTED)
    assert first.community_id == big.community_id and big.community_id.startswith("1:")


def test_an_unreplied_flow_ends_with_nothing_back_and_a_flow_begun_before_the_stream_still_ends():
    recorded = records("acct-on.log")
    unreplied = next(r for r in recorded if r.event == "DESTROY" and r.protocol == "udp" and r.unreplied)
    # Only its DESTROY: the stream started after the connection did.
    (event,) = FlowTracker().events([unreplied], ROUTES)
    assert event.action == FLOW_ENDED and event.destination_bytes == 0 and event.source_bytes
    assert event.duration == unreplied.delta_time and event.start == unreplied.time - unreplied.delta_time


def test_without_accounting_the_totals_are_unknown_not_zero():
    events = list(FlowTracker().events(records("acct-off.log"), ROUTES))
    ended = [e for e in events if e.action == FLOW_ENDED]
    assert ended and all(e.source_bytes is None and e.destination_bytes is None for e in ended)


def test_what_is_no_peers_flow_is_counted_not_an_event():
    nobody = Routes([PeerLine("wg0", PEER, ("10.200.0.2/32",), None)], {"wg0": 51820})
    tracker = FlowTracker()
    recorded = records("acct-on.log")
    assert list(tracker.events(recorded, nobody)) == []
    assert tracker.counts["no-peer"] == sum(r.event in ("NEW", "DESTROY") for r in recorded)


def test_open_connections_are_bounded(monkeypatch):
    import wgsiem.conntrack.flows as flows

    monkeypatch.setattr(flows, "MAX_OPEN", 2)
    tracker = FlowTracker()
    news = [r for r in records("acct-on.log") if r.event == "NEW"][:3]
    list(tracker.events(news, ROUTES))
    assert len(tracker.open) == 2 and tracker.counts["forgotten"] == 1
    assert MAX_OPEN >= 100_000
