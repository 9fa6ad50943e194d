"""Conntrack records → a peer's flow events: `flow-started` at NEW, `flow-ended` at DESTROY.

A connection is followed by its conntrack id from NEW to DESTROY. The events are the
peer's side of it: for a flow the peer opened (`inbound`), the original direction is the
peer's (`source.*` = the peer's inner address, `source.bytes` what the peer sent); for a
flow opened towards the peer (`outbound`), the reply direction is. A DESTROY carries the
totals each way when accounting is on; its duration is conntrack's `delta-time` when
timestamps are on (the kernel may reap a connection well after it ended), else DESTROY's
time less NEW's, else unknown (a connection that began before the stream did).

Pure: the records and the routes come in, events come out. Records that are no peer's
(the tunnel's outer UDP, connections of no peer) and UPDATEs are counted, not events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from ..community_id import community_id
from .attribute import NO_PEER, Attribution, Routes
from .model import ConntrackRecord

FLOW_STARTED = "flow-started"
FLOW_ENDED = "flow-ended"
# Open connections remembered at most: a NEW whose DESTROY never comes (the stream was cut)
# must not grow the tracker without end; the oldest are forgotten first.
MAX_OPEN = 1_000_000


class Endpoint(NamedTuple):
    ip: str
    port: int | None


@dataclass(frozen=True, slots=True)
class FlowEvent:
    action: str  # flow-started or flow-ended
    time: float  # the record's time (unix seconds)
    conntrack_id: int | None
    attribution: Attribution
    transport: str  # tcp, udp, icmp, ... as conntrack names it
    protocol_number: int
    # The peer's end of the connection, and the far end as it really is (after any NAT):
    # for inbound, the original source and the reply's source; for outbound, the reply's
    # source and the original source. Ports are None for protocols without them.
    source: Endpoint
    destination: Endpoint
    community_id: str  # of the original tuple, as the packets carried it
    icmp: tuple[int, int] | None = None  # (type, code) of an icmp or icmpv6 flow, as first sent
    start: float | None = None  # flow-ended: when it began, if known
    duration: float | None = None  # flow-ended: seconds, if known
    source_bytes: int | None = None  # flow-ended with accounting: what the source side sent
    source_packets: int | None = None
    destination_bytes: int | None = None
    destination_packets: int | None = None
    state: str | None = None  # tcp state at the end
    unreplied: bool = False  # flow-ended: the far side never answered
    nat: bool = False  # the host translated an address or port of the connection


class FlowTracker:
    """Follows connections from NEW to DESTROY; `counts` says what was not a peer's flow."""

    def __init__(self) -> None:
        self.open: dict[int, tuple[float, Attribution]] = {}
        self.counts: Counter[str] = Counter()
        self.unaccounted = 0  # DESTROY events of a peer's flow that came without counters

    def events(self, records: Iterable[ConntrackRecord], routes: Routes, later: Routes | None = None) -> Iterator[FlowEvent]:
        for record in records:
            event = self.event(record, routes, later)
            if event is not None:
                yield event

    def event(self, record: ConntrackRecord, routes: Routes, later: Routes | None = None) -> FlowEvent | None:
        """The record's event, attributed with `routes` (the poll before it) or, where those
        have no peer for it, with `later` (the poll after it: a peer added in between)."""
        if record.event not in ("NEW", "DESTROY"):
            self.counts["update" if record.event == "UPDATE" else "listing"] += 1
            return None
        key = record.id
        opened = self.open.pop(key, None) if record.event == "DESTROY" and key is not None else None
        # A flow keeps the peer it was attributed to at NEW, as the connection keeps its tuples.
        found = opened[1] if opened is not None else routes.attribute(record)
        if later is not None and opened is None and (found == NO_PEER or (isinstance(found, Attribution) and found.peer.default)):
            # A peer added since the poll before: the next poll's routes have it (and its
            # specific prefix beats another peer's default route).
            ahead = later.attribute(record)
            if found == NO_PEER or (isinstance(ahead, Attribution) and not ahead.peer.default):
                found = ahead
        if isinstance(found, str):
            self.counts[found] += 1
            return None
        time = record.time if record.time is not None else 0.0
        inbound = found.direction == "inbound"
        o, r = record.original, record.reply
        opener, answerer = Endpoint(o.src, o.sport), Endpoint(r.src, r.sport)
        started = FlowEvent(
            FLOW_STARTED,
            time,
            key,
            found,
            record.protocol,
            record.protocol_number,
            opener if inbound else answerer,
            answerer if inbound else opener,
            _community_id(record),
            (o.icmp_type, o.icmp_code or 0) if o.icmp_type is not None else None,
            nat=record.nat,
        )
        if record.event == "NEW":
            if key is not None:
                if len(self.open) >= MAX_OPEN:
                    del self.open[next(iter(self.open))]
                    self.counts["forgotten"] += 1
                self.open[key] = (time, found)
            return started
        if not record.accounting:
            self.unaccounted += 1
        start = opened[0] if opened is not None else None
        duration: float | None = None
        if record.delta_time is not None:
            duration = float(record.delta_time)
            start = start if start is not None else time - duration
        elif start is not None:
            duration = time - start
        # Each way's totals, the source side's first: the peer's for inbound, the reply's else.
        ways = [(record.original_bytes, record.original_packets), (record.reply_bytes, record.reply_packets)]
        sent, got = ways if inbound else ways[::-1]
        return replace(
            started,
            action=FLOW_ENDED,
            start=start,
            duration=duration,
            source_bytes=sent[0],
            source_packets=sent[1],
            destination_bytes=got[0],
            destination_packets=got[1],
            state=record.state,
            unreplied=record.unreplied,
        )


def _community_id(record: ConntrackRecord) -> str:
    o = record.original
    if o.icmp_type is not None:
        return community_id(o.src, o.dst, record.protocol_number, o.icmp_type, o.icmp_code)
    return community_id(o.src, o.dst, record.protocol_number, o.sport, o.dport)
