"""`wireguard.flow` events (a peer's inner connections, wgsiem/conntrack/flows.py) → ECS documents.

`source.*` is always the peer's end (its inner address), `destination.*` the far end as it
really is after any NAT, and `network.direction` says who opened the connection; so one
query, `source.ip` or `wireguard.peer.name`, finds a peer's flows either way.
"""

from __future__ import annotations

from typing import Any

from ..conntrack.flows import FLOW_ENDED, Endpoint, FlowEvent
from . import document
from .catalogue import flow_actions
from .document import Context, add_related, human_bytes, human_duration, timestamp

DATASET = "wireguard.flow"
NS = 1_000_000_000
# ECS's network.transport is IANA's protocol keyword: conntrack's icmpv6 is ipv6-icmp there.
_TRANSPORT = {"icmpv6": "ipv6-icmp"}


def build(event: FlowEvent, ctx: Context) -> dict[str, Any]:
    action = flow_actions()[event.action]
    doc = document.base(DATASET, action, event.time, ctx)
    found = event.attribution
    peer = found.peer
    transport = _TRANSPORT.get(event.transport, event.transport)
    network: dict[str, Any] = {
        "type": "ipv6" if ":" in event.source.ip else "ipv4",
        "iana_number": str(event.protocol_number),
        "direction": found.direction,
        "community_id": event.community_id,
    }
    if transport != "unknown":
        network["transport"] = transport
    doc["network"] = network  # the inner connection's: not WireGuard's own udp
    doc["source"] = _end(event.source)
    doc["destination"] = _end(event.destination)
    doc["observer"]["ingress"] = {"interface": {"name": peer.interface}}
    flow: dict[str, Any] = {"allowed_ip": peer.prefix}
    if event.conntrack_id is not None:
        flow["conntrack_id"] = event.conntrack_id
    wp: dict[str, Any] = {"public_key": peer.public_key}
    doc["wireguard"] = {"interface": {"name": peer.interface}, "peer": wp, "flow": flow}
    name = document.identify_peer(doc, wp, peer.public_key, ctx)
    other = found.destination_peer
    if other is not None:
        flow["destination_peer"] = {"public_key": other.public_key}
        other_name = ctx.names.get(other.public_key)
        if other_name:
            flow["destination_peer"]["name"] = other_name
    add_related(doc, "ip", event.source.ip, event.destination.ip)
    words = {
        "peer": name or peer.public_key,
        "connection": _connection(event, transport),
        "duration": "an unknown time",
        "sent": "an unknown number of bytes",
        "received": "an unknown number of bytes",
    }
    if event.nat:
        flow["nat"] = True
    if event.action == FLOW_ENDED:
        _ended(doc, flow, words, event)
    doc["event"]["id"] = document.event_id(
        DATASET, event.action, ctx.host_name, event.time, event.conntrack_id, event.community_id, peer.interface, peer.public_key
    )
    doc["message"] = action.message.format(**words)
    return doc


def _end(end: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {"ip": end.ip}
    if end.port is not None:
        out["port"] = end.port
    return out


def _address(end: Endpoint) -> str:
    if end.port is None:
        return end.ip
    return f"[{end.ip}]:{end.port}" if ":" in end.ip else f"{end.ip}:{end.port}"


def _connection(event: FlowEvent, transport: str) -> str:
    what = transport if event.icmp is None else f"{transport} (type {event.icmp[0]})"
    if event.attribution.direction == "inbound":
        return f"opened {what} {_address(event.source)} -> {_address(event.destination)}"
    return f"was reached over {what} from {_address(event.destination)} at {_address(event.source)}"


def _ended(doc: dict[str, Any], flow: dict[str, Any], words: dict[str, Any], event: FlowEvent) -> None:
    ev = doc["event"]
    ev["end"] = timestamp(event.time)
    if event.start is not None:
        ev["start"] = timestamp(event.start)
    if event.duration is not None:
        ev["duration"] = round(event.duration * NS)
        words["duration"] = human_duration(event.duration)
    if event.state is not None:
        flow["state"] = event.state
    flow["unreplied"] = event.unreplied
    flow["nat"] = event.nat
    network = doc["network"]
    for side, sent, packets in (
        ("source", event.source_bytes, event.source_packets),
        ("destination", event.destination_bytes, event.destination_packets),
    ):
        if sent is not None:
            doc[side]["bytes"] = sent
            network["bytes"] = network.get("bytes", 0) + sent
        if packets is not None:
            doc[side]["packets"] = packets
            network["packets"] = network.get("packets", 0) + packets
    if event.source_bytes is not None:
        words["sent"] = human_bytes(event.source_bytes)
    if event.destination_bytes is not None:
        words["received"] = human_bytes(event.destination_bytes)
