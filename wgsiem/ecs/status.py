"""`wireguard.status` events → ECS documents (docs/events.md lists every field)."""

from __future__ import annotations

from typing import Any, assert_never

from ..enrich.geoip import GeoIP, Place, distance_km
from ..status.events import (
    EndpointChanged,
    InterfaceChanged,
    PeerBack,
    PeerChanged,
    PeerSilent,
    SessionEnded,
    SessionStarted,
    StatusEvent,
    Transfer,
    TransferSpike,
)
from ..wgdump.model import InterfaceStatus, PeerStatus
from . import document
from .catalogue import status_actions
from .document import Context, add_related, describe_changes, endpoint_fields, host_addresses, human_bytes, human_duration, timestamp

DATASET = "wireguard.status"
NS = 1_000_000_000


def build(event: StatusEvent, ctx: Context) -> dict[str, Any]:
    action = status_actions()[event.action]
    doc = document.base(DATASET, action, event.time, ctx)
    ev = doc["event"]
    iface = event.interface
    doc["observer"]["ingress"] = {"interface": {"name": iface.name}}
    wg: dict[str, Any] = {"interface": _interface(iface)}
    doc["wireguard"] = wg
    words: dict[str, Any] = {
        "interface": iface.name,
        "listen_port": iface.listen_port,
        "peer": "",
        "endpoint": "(no endpoint)",
    }
    place = None
    if iface.listen_port:
        doc["destination"] = {"port": iface.listen_port}
    peer = event.peer
    if peer is not None:
        wg["peer"] = _peer(peer)
        name = document.identify_peer(doc, wg["peer"], peer.public_key, ctx)
        words["peer"] = name or peer.public_key
        ips = host_addresses(peer.allowed_ips)
        endpoint = peer.endpoint
        if endpoint is not None:
            place = document.set_source(doc, endpoint, ctx.geoip)
            document.judge_place(wg["peer"], peer.public_key, ctx, endpoint.ip, place)
            words["endpoint"] = endpoint.address
            if endpoint.ip not in ips:
                ips.insert(0, endpoint.ip)
        if ips:
            doc.setdefault("related", {})["ip"] = ips
    detail = event.detail
    # The cases are tried in order: the common ones (handshakes, transfers) come first.
    match detail:
        case None:
            pass
        case Transfer():
            _transfer(doc, words, detail)
        case SessionStarted():
            _session_started(doc, detail, event.time)
        case SessionEnded():
            _session_ended(doc, words, detail)
        case EndpointChanged():
            _endpoint_changed(doc, words, detail, event.time, place, ctx.geoip)
        case TransferSpike():
            _transfer_spike(doc, words, detail)
        case PeerChanged():
            _peer_changed(doc, words, detail)
        case InterfaceChanged():
            _interface_changed(doc, words, detail)
        case PeerSilent():
            _peer_silent(doc, words, detail, event.time)
        case PeerBack():
            _peer_back(doc, words, detail, event.time)
        case _:
            assert_never(detail)
    document.mark_change_window(doc, event.time, ctx)
    doc["message"] = action.message.format(**words)
    ev["id"] = document.event_id(
        ctx.host_name,
        DATASET,
        event.action,
        event.time,
        iface.name,
        peer.public_key if peer else None,
        # Ids were first made from details as dicts, an action without any giving {}:
        # an id must not change, so neither may that.
        {} if detail is None else detail,
    )
    return doc


def _interface(iface: InterfaceStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"name": iface.name, "listen_port": iface.listen_port}
    if iface.public_key:
        out["public_key"] = iface.public_key
    if iface.fwmark is not None:
        out["fwmark"] = iface.fwmark
    return out


def _peer(peer: PeerStatus) -> dict[str, Any]:
    out: dict[str, Any] = {
        "public_key": peer.public_key,
        "allowed_ips": list(peer.allowed_ips),
        "preshared_key_set": peer.preshared_key_set,
        "rx_bytes": peer.rx_bytes,
        "tx_bytes": peer.tx_bytes,
    }
    if peer.latest_handshake:
        out["latest_handshake"] = timestamp(peer.latest_handshake)
    if peer.persistent_keepalive is not None:
        out["persistent_keepalive"] = peer.persistent_keepalive
    return out


def _interval(doc: dict[str, Any], start: int, end: int) -> None:
    ev = doc["event"]
    if start <= end:
        ev["start"] = timestamp(start)
        ev["duration"] = (end - start) * NS
    ev["end"] = timestamp(end)


def _bytes(doc: dict[str, Any], rx: int, tx: int) -> None:
    doc.setdefault("source", {})["bytes"] = rx
    doc.setdefault("destination", {})["bytes"] = tx
    doc["network"]["bytes"] = rx + tx


# -- per-action details (the actions without any have only the common fields) ----------


def _interface_changed(doc: dict[str, Any], words: dict[str, Any], detail: InterfaceChanged) -> None:
    changes = detail.changes
    wi = doc["wireguard"]["interface"]
    wi["changed_fields"] = sorted(changes)
    wi["previous"] = {name: before for name, (before, _after) in changes.items() if before is not None}
    words["changes"] = describe_changes(changes)


def _peer_changed(doc: dict[str, Any], words: dict[str, Any], detail: PeerChanged) -> None:
    document.peer_changes(doc["wireguard"]["peer"], detail.changes)
    words["changes"] = describe_changes(detail.changes)


def _endpoint_changed(
    doc: dict[str, Any], words: dict[str, Any], detail: EndpointChanged, time: int, place: Place | None, geoip: GeoIP | None
) -> None:
    previous = detail.previous
    words["previous_endpoint"] = "(no endpoint)"
    words["distance"] = ""
    if previous is None:
        return
    prev_fields, prev_place = endpoint_fields(previous, geoip)
    seen = detail.previous_seen
    if seen is not None:
        prev_fields["last_seen"] = timestamp(seen)
    doc["wireguard"]["peer"]["previous_endpoint"] = prev_fields
    add_related(doc, "ip", previous.ip)
    words["previous_endpoint"] = previous.address
    if place is None or prev_place is None:
        return
    km = distance_km(place.geo.get("location"), prev_place.geo.get("location"))
    if km is None:
        return
    roam: dict[str, Any] = {"distance_km": round(km, 1)}
    words["distance"] = f" ({km:.0f} km"
    if seen is not None:
        seconds = max(time - seen, 0)
        roam["seconds"] = seconds
        if seconds > 0:
            roam["speed_kmh"] = round(km / (seconds / 3600), 1)
            words["distance"] += f" in {human_duration(seconds)}"
    words["distance"] += ")"
    doc["wireguard"]["peer"]["roam"] = roam


def _session_ended(doc: dict[str, Any], words: dict[str, Any], detail: SessionEnded) -> None:
    _interval(doc, detail.start, detail.end)
    _bytes(doc, detail.rx_bytes, detail.tx_bytes)
    doc["wireguard"]["session"] = {"end_reason": detail.reason}
    words.update(
        reason=detail.reason,
        duration=human_duration(detail.end - detail.start),
        rx=human_bytes(detail.rx_bytes),
        tx=human_bytes(detail.tx_bytes),
    )


def _session_started(doc: dict[str, Any], detail: SessionStarted, time: int) -> None:
    doc["event"]["start"] = timestamp(time)
    previous = detail.previous_handshake
    if previous:
        wp = doc["wireguard"]["peer"]
        wp["previous_handshake"] = timestamp(previous)
        wp["silence_seconds"] = max(time - previous, 0)


def _silence(doc: dict[str, Any], words: dict[str, Any], previous_handshake: int | None, since: int, time: int) -> None:
    """The silence of an always-on peer, from `since` to `time`: event.start and
    event.duration, and silence_seconds and previous_handshake as session-started has them."""
    seconds = max(time - since, 0)
    doc["event"]["start"] = timestamp(since)
    doc["event"]["duration"] = seconds * NS
    wp = doc["wireguard"]["peer"]
    if previous_handshake:
        wp["previous_handshake"] = timestamp(previous_handshake)
    wp["silence_seconds"] = seconds
    words["duration"] = human_duration(seconds)


def _peer_silent(doc: dict[str, Any], words: dict[str, Any], detail: PeerSilent, time: int) -> None:
    _silence(doc, words, detail.previous_handshake, detail.since, time)
    doc["wireguard"]["peer"]["silent_after"] = detail.silent_after
    words["silent_after"] = human_duration(detail.silent_after)


def _peer_back(doc: dict[str, Any], words: dict[str, Any], detail: PeerBack, time: int) -> None:
    _silence(doc, words, detail.previous_handshake, detail.since, time)
    doc["event"]["end"] = timestamp(time)


def _transfer(doc: dict[str, Any], words: dict[str, Any], detail: Transfer | TransferSpike) -> None:
    _interval(doc, detail.start, detail.end)
    _bytes(doc, detail.rx_bytes, detail.tx_bytes)
    doc["wireguard"]["transfer"] = {"counter_reset": detail.counter_reset}
    words.update(rx=human_bytes(detail.rx_bytes), tx=human_bytes(detail.tx_bytes))


def _transfer_spike(doc: dict[str, Any], words: dict[str, Any], detail: TransferSpike) -> None:
    _transfer(doc, words, detail)
    spike = detail.spike
    transfer = doc["wireguard"]["transfer"]
    transfer.update(
        direction=spike.direction,
        bytes=spike.bytes,
        bytes_per_second=round(spike.rate, 1),
        baseline_bytes_per_second=round(spike.baseline, 1),
    )
    if spike.baseline > 0:
        transfer["ratio"] = round(spike.rate / spike.baseline, 1)
    words.update(
        direction=spike.direction,
        rate=f"{human_bytes(spike.rate)}/s",
        baseline=f"{human_bytes(spike.baseline)}/s",
    )
