"""What each peer did, folded from its events one at a time: the activity log of the report.

Per peer (by public key): its sessions (start, end, duration, bytes, endpoint, country,
network), its last handshake and endpoint, the countries and networks it came from with
the first time each was seen, the data it moved, and its inner flows (wireguard.flow) by
host and service. Documents stream through `Activity.add`; a peer keeps its latest
`SESSIONS_KEPT` sessions, one entry per place and at most `FLOW_TARGETS_KEPT` hosts and
services, and the connections open at one time are remembered (at most `OPEN_FLOWS_KEPT`),
so a month of a thousand peers costs the memory of its peers, not of its events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wgsiem.detection.timestamps import parse_ms_or_none

from ..conntrack.flows import FLOW_ENDED, FLOW_STARTED
from .alerts import Alert

# The sessions of a peer the report lists, newest first; older ones are counted only.
SESSIONS_KEPT = 50
# The hosts and services (direction, far end, transport, port) of a peer's inner flows that
# are itemized; the flows of any more (a peer scanning a network) are counted only.
FLOW_TARGETS_KEPT = 500
# A flow is counted once: at its flow-started, or at its flow-ended when its start is not
# among the events (it began before the period, or the host writes flow-ended only). The
# flows started and not yet ended are remembered for that, this many at most (a host's
# conntrack table holds about as many); past it they are forgotten, and the end of a
# forgotten one counts it again.
OPEN_FLOWS_KEPT = 100_000


@dataclass(slots=True)
class Endpoint:
    address: str | None
    country: str | None
    city: str | None
    network: str | None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Endpoint:
        source = doc.get("source") or {}
        geo = source.get("geo") or {}
        org = ((source.get("as") or {}).get("organization") or {}).get("name")
        return cls(source.get("address"), geo.get("country_name"), geo.get("city_name"), org)


@dataclass(slots=True)
class Session:
    start_ms: int
    end_ms: int | None  # None: still open when the events end
    endpoint: Endpoint
    bytes: int | None = None
    received: int | None = None  # source.bytes: what the peer sent us
    sent: int | None = None  # destination.bytes: what we sent the peer

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_ms is None else self.end_ms - self.start_ms


@dataclass(slots=True)
class Place:
    """A country and network a peer's key was used from."""

    country: str | None
    network: str | None
    first_ms: int
    last_ms: int
    first_address: str | None
    events: int = 0


@dataclass(slots=True)
class FlowTarget:
    """A host and service a peer's inner flows went to (inbound: the peer opened them) or
    came from (outbound: opened towards the peer)."""

    direction: str | None
    address: str | None  # destination.ip: the far end, whichever side opened the flow
    port: int | None
    transport: str | None  # network.transport, or the IP protocol number
    peer: str | None  # the far end's own peer (wireguard.flow.destination_peer), by name or key
    first_ms: int
    last_ms: int
    flows: int = 0
    unreplied: int = 0
    sent: int = 0  # source.bytes of the ended flows: what the peer sent
    received: int = 0  # destination.bytes: what it got


@dataclass(slots=True)
class PeerActivity:
    public_key: str
    name: str | None = None
    user: str | None = None
    interface: str | None = None
    host: str | None = None
    first_ms: int | None = None
    last_ms: int | None = None
    last_handshake_ms: int | None = None
    last_endpoint: Endpoint | None = None
    sessions: deque[Session] = field(default_factory=lambda: deque(maxlen=SESSIONS_KEPT))
    session_count: int = 0
    bytes: int = 0
    places: dict[tuple[str | None, str | None], Place] = field(default_factory=dict)
    alerts: int = 0
    # Bytes moved per time slot (the dashboards' auto interval): the peer's timeline, the
    # peer dashboard's "Data moved over time" with the peer chosen.
    timeline: dict[int, int] = field(default_factory=dict)
    flow_count: int = 0
    flow_sent: int = 0
    flow_received: int = 0
    flow_unreplied: int = 0  # ended without an answer: closed ports, absent hosts, scans
    flow_targets: dict[tuple[Any, ...], FlowTarget] = field(default_factory=dict)
    flows_not_itemized: int = 0  # flows to hosts and services past FLOW_TARGETS_KEPT

    @property
    def label(self) -> str:
        return self.name or self.public_key[:10] + "…"

    @property
    def last_session(self) -> Session | None:
        return self.sessions[-1] if self.sessions else None


@dataclass(slots=True)
class Totals:
    hosts: set[str] = field(default_factory=set)
    events: int = 0
    sessions: int = 0
    bytes: int = 0
    alerts: int = 0
    flows: int = 0
    first_ms: int | None = None
    last_ms: int | None = None


class Activity:
    """Feed every event with `add` (in time order, as the shipper writes them), alerts
    with `add_alert`; read `peers` and `totals`."""

    def __init__(self, start_ms: int | None = None, end_ms: int | None = None, interval_ms: int = 3_600_000) -> None:
        self.start_ms, self.end_ms, self.interval_ms = start_ms, end_ms, interval_ms
        self.peers: dict[str, PeerActivity] = {}
        self.totals = Totals()
        self._open_flows: set[tuple[Any, ...]] = set()

    def add(self, doc: Mapping[str, Any]) -> None:
        when = parse_ms_or_none(doc.get("@timestamp"))
        if when is None or not self._inside(when):
            return
        t = self.totals
        t.events += 1
        t.first_ms = when if t.first_ms is None else min(t.first_ms, when)
        t.last_ms = when if t.last_ms is None else max(t.last_ms, when)
        host = (doc.get("host") or {}).get("name")
        if host:
            t.hosts.add(host)
        wg = doc.get("wireguard") or {}
        key = (wg.get("peer") or {}).get("public_key")
        if not key:
            return
        peer = self._peer(key, doc, host, when)
        action = (doc.get("event") or {}).get("action")
        if action == "session-started":
            t.sessions += 1
            peer.session_count += 1
            peer.sessions.append(Session(when, None, Endpoint.of(doc)))
        elif action == "session-ended":
            self._ended(peer, doc, when)
        elif action == "transfer":
            moved = int((doc.get("network") or {}).get("bytes") or 0)
            peer.bytes += moved
            t.bytes += moved
            slot = when - when % self.interval_ms
            peer.timeline[slot] = peer.timeline.get(slot, 0) + moved
        elif action == "handshake":
            peer.last_handshake_ms = when
        elif action in (FLOW_STARTED, FLOW_ENDED) and isinstance(wg.get("flow"), Mapping):
            self._flow(peer, doc, wg["flow"], action, host, when)
        if (doc.get("source") or {}).get("geo") and (doc.get("event") or {}).get("dataset") == "wireguard.status":
            self._place(peer, doc, when)

    def add_alert(self, alert: Alert) -> None:
        """Count an alert (already read and placed in the period) against its peer."""
        self.totals.alerts += 1
        if alert.public_key in self.peers:
            self.peers[alert.public_key].alerts += 1

    def _inside(self, when: int) -> bool:
        return (self.start_ms is None or when >= self.start_ms) and (self.end_ms is None or when <= self.end_ms)

    def _peer(self, key: str, doc: Mapping[str, Any], host: str | None, when: int) -> PeerActivity:
        peer = self.peers.get(key)
        if peer is None:
            peer = self.peers[key] = PeerActivity(key, first_ms=when)
        wg = doc.get("wireguard") or {}
        peer.name = (wg.get("peer") or {}).get("name") or peer.name
        peer.user = (doc.get("user") or {}).get("name") or peer.user
        peer.interface = (wg.get("interface") or {}).get("name") or peer.interface
        peer.host = host or peer.host
        peer.last_ms = when
        if (doc.get("source") or {}).get("address") and (doc.get("event") or {}).get("dataset") == "wireguard.status":
            peer.last_endpoint = Endpoint.of(doc)
        return peer

    def _ended(self, peer: PeerActivity, doc: Mapping[str, Any], when: int) -> None:
        event = doc.get("event") or {}
        start = parse_ms_or_none(event.get("start")) or when
        open_session = next((s for s in reversed(peer.sessions) if s.end_ms is None and s.start_ms == start), None)
        if open_session is None:  # it began before the report's first event
            open_session = Session(start, None, Endpoint.of(doc))
            peer.sessions.append(open_session)
            peer.session_count += 1
            self.totals.sessions += 1
        open_session.end_ms = parse_ms_or_none(event.get("end")) or when
        open_session.bytes = (doc.get("network") or {}).get("bytes")
        open_session.received = (doc.get("source") or {}).get("bytes")
        open_session.sent = (doc.get("destination") or {}).get("bytes")
        open_session.endpoint = Endpoint.of(doc)

    def _flow(self, peer: PeerActivity, doc: Mapping[str, Any], flow: Mapping[str, Any], action: str, host: str | None, when: int) -> None:
        network = doc.get("network") or {}
        connection = (host, flow.get("conntrack_id"), network.get("community_id"))
        if action == FLOW_STARTED:
            if len(self._open_flows) >= OPEN_FLOWS_KEPT:
                self._open_flows.clear()
            self._open_flows.add(connection)
            new = True
        else:
            new = connection not in self._open_flows
            self._open_flows.discard(connection)
        destination = doc.get("destination") or {}
        transport = network.get("transport") or (f"protocol {network['iana_number']}" if network.get("iana_number") else None)
        key = (network.get("direction"), destination.get("ip"), destination.get("port"), transport)
        target = peer.flow_targets.get(key)
        if target is None and len(peer.flow_targets) < FLOW_TARGETS_KEPT:
            far = flow.get("destination_peer") or {}
            target = peer.flow_targets[key] = FlowTarget(*key, far.get("name") or far.get("public_key"), when, when)
        if new:
            self.totals.flows += 1
            peer.flow_count += 1
            if target is None:
                peer.flows_not_itemized += 1
        if action == FLOW_ENDED:
            sent = _count(doc.get("source"))
            received = _count(destination)
            peer.flow_sent += sent
            peer.flow_received += received
            peer.flow_unreplied += flow.get("unreplied") is True
        if target is None:
            return
        target.first_ms = min(target.first_ms, when)
        target.last_ms = max(target.last_ms, when)
        if new:
            target.flows += 1
        if action == FLOW_ENDED:
            target.sent += sent
            target.received += received
            target.unreplied += flow.get("unreplied") is True

    def _place(self, peer: PeerActivity, doc: Mapping[str, Any], when: int) -> None:
        endpoint = Endpoint.of(doc)
        key = (endpoint.country, endpoint.network)
        place = peer.places.get(key)
        if place is None:
            place = peer.places[key] = Place(endpoint.country, endpoint.network, when, when, endpoint.address)
        place.last_ms = max(place.last_ms, when)
        place.first_ms = min(place.first_ms, when)
        place.events += 1


def _count(end: Any) -> int:  # noqa: ANN401 - a document's source or destination
    """The bytes a flow's end sent (0 without accounting)."""
    value = end.get("bytes") if isinstance(end, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
