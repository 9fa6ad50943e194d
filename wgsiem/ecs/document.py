"""The parts every wgsiem ECS document shares: time, identity, host, endpoint and geo."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..wgdump.model import Endpoint
from .catalogue import Action

if TYPE_CHECKING:
    from ..enrich.geoip import GeoIP, Place
    from ..enrich.registry import RegisteredPeer
    from ..enrich.windows import ChangeWindow

ECS_VERSION = "9.0.0"
MODULE = "wireguard"
NAMESPACE = "default"


@dataclass(slots=True)
class Context:
    """What a document needs beyond its event: injected, so replays equal live runs."""

    host_name: str
    names: dict[str, str] = field(default_factory=dict)
    geoip: GeoIP | None = None
    namespace: str = NAMESPACE
    # The registry's change windows; None when it has none (then no event says in or out).
    change_windows: tuple[ChangeWindow, ...] | None = None
    # The registry's entries (owner, email, role, expected places), by public key.
    registry: dict[str, RegisteredPeer] = field(default_factory=dict)


@lru_cache(maxsize=8192)  # a poll's events share a handful of times
def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_id(*content: Any) -> str:
    """Deterministic from the event's facts: a re-run or a retried delivery gives the same id."""
    return hashlib.sha256(_canonical(content).encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:  # noqa: ANN401 - the fallback of the canonical encoder
    if isinstance(value, Endpoint):
        return value.address
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "__slots__"):
        return {name: getattr(value, name) for name in value.__slots__}
    raise TypeError(f"cannot serialize {type(value).__name__}")


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_plain).encode


def base(dataset: str, action: Action, seconds: float, ctx: Context) -> dict[str, Any]:
    """The document's common part, with the action's ECS categorization from its catalogue."""
    event: dict[str, Any] = {
        "module": MODULE,
        "dataset": dataset,
        "action": action.name,
        "kind": action.kind,
        "category": list(action.category),
        "type": list(action.type),
    }
    if action.outcome:
        event["outcome"] = action.outcome
    return {
        "@timestamp": timestamp(seconds),
        "ecs": {"version": ECS_VERSION},
        "data_stream": {"type": "logs", "dataset": dataset, "namespace": ctx.namespace},
        "event": event,
        "host": {"name": ctx.host_name, "hostname": ctx.host_name},
        "observer": {
            "type": "vpn",
            "vendor": "WireGuard",
            "product": "WireGuard",
            "hostname": ctx.host_name,
        },
        "network": {"protocol": "wireguard", "transport": "udp"},
    }


def identify_peer(doc: dict[str, Any], wp: dict[str, Any], key: str, ctx: Context) -> str | None:
    """The peer's name on `wireguard.peer` (`wp`), and who it is as `user.*`: the registry's
    owner (else the name) as `user.name`, its email, and its role, tags and `always_on: true`
    on the peer (a registry entry that is only a name adds nothing). Returns the name."""
    name = ctx.names.get(key)
    if name:
        wp["name"] = name
    entry = ctx.registry.get(key)
    owner = entry.owner if entry is not None else None
    if name or owner:
        user: dict[str, Any] = {"name": owner or name}
        if entry is not None and entry.email:
            user["email"] = entry.email
        doc["user"] = user
        add_related(doc, "user", owner, name)
    if entry is not None:
        if entry.role:
            wp["role"] = entry.role
        if entry.tags:
            wp["tags"] = list(entry.tags)
        if entry.always_on:
            wp["always_on"] = True
    return name


def judge_place(wp: dict[str, Any], key: str, ctx: Context, ip: str, place: Place | None) -> None:
    """Whether the endpoint is where the registry expects the peer: inside one of its
    networks, or in one of its countries (`expected_network`, `expected_country`, and
    `expected_place` when either says yes or both that can be judged say no). Absent when
    the registry lists neither for the peer, or the country is unknown and only countries
    are listed."""
    entry = ctx.registry.get(key)
    if entry is None or not (entry.networks or entry.countries):
        return
    verdicts = []
    if entry.networks:
        address = ipaddress.ip_address(ip)
        wp["expected_network"] = any(address in net for net in entry.networks if net.version == address.version)
        verdicts.append(wp["expected_network"])
    country = place.geo.get("country_iso_code") if place is not None else None
    if entry.countries and country:
        wp["expected_country"] = country in entry.countries
        verdicts.append(wp["expected_country"])
    if verdicts:
        wp["expected_place"] = any(verdicts)


def mark_change_window(doc: dict[str, Any], seconds: float, ctx: Context) -> None:
    """A configuration event's `wireguard.change_window.inside`, when the registry has windows."""
    if ctx.change_windows is not None and "configuration" in doc["event"]["category"]:
        doc.setdefault("wireguard", {})["change_window"] = {"inside": any(w.contains(seconds) for w in ctx.change_windows)}


def endpoint_fields(endpoint: Endpoint, geoip: GeoIP | None) -> tuple[dict[str, Any], Place | None]:
    """ECS `source`-shaped fields for an endpoint, with geo and AS when a database knows it."""
    out: dict[str, Any] = {"ip": endpoint.ip, "port": endpoint.port, "address": endpoint.address}
    # Without a database there is nothing to classify an address for: no lookup at all.
    place = geoip.lookup(endpoint.ip) if geoip is not None and geoip.enabled and endpoint.zone is None else None
    if place is not None:
        if place.geo:
            out["geo"] = place.geo_dict()
        if place.as_number is not None or place.as_organization:
            asn: dict[str, Any] = {}
            if place.as_number is not None:
                asn["number"] = place.as_number
            if place.as_organization:
                asn["organization"] = {"name": place.as_organization}
            out["as"] = asn
    return out, place


def set_source(doc: dict[str, Any], endpoint: Endpoint, geoip: GeoIP | None) -> Place | None:
    """The peer's endpoint as the document's source (with geo and AS), and network.type."""
    doc["source"], place = endpoint_fields(endpoint, geoip)
    doc["network"]["type"] = "ipv6" if ":" in endpoint.ip else "ipv4"
    return place


def add_related(doc: dict[str, Any], key: str, *values: str | None) -> None:
    related = doc.setdefault("related", {})
    bucket = related.setdefault(key, [])
    for value in values:
        if value and value not in bucket:
            bucket.append(value)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def host_addresses(allowed_ips: tuple[str, ...]) -> list[str]:
    """The single-host allowed IPs (/32, /128): the tunnel addresses worth pivoting on.

    wg prints addresses in canonical form, so the text before the slash is the address."""
    out = []
    for net in allowed_ips:
        addr, _, plen = net.partition("/")
        if plen == ("128" if ":" in addr else "32"):
            out.append(addr)
    return out


def describe_changes(changes: Mapping[str, tuple[object, object] | str]) -> str:
    """`listen_port 51820 -> 51821, preshared key rotated`: settings before and after, and
    what happened to a preshared key."""
    parts = []
    for name, change in changes.items():
        if isinstance(change, tuple):
            before, after = (_setting_word(v) for v in change)
            parts.append(f"{name} {before} -> {after}")
        else:
            parts.append(f"preshared key {change}")
    return ", ".join(parts)


def peer_changes(wp: dict[str, Any], changes: Mapping[str, tuple[object, object] | str]) -> None:
    """A peer-changed event's `changed_fields`, `preshared_key_change` and `previous` (what it
    had before: allowed IPs, keepalive, whether a preshared key was set), on `wireguard.peer`."""
    wp["changed_fields"] = sorted(changes)
    previous: dict[str, Any] = {}
    match changes.get("allowed_ips"):
        case (tuple() as allowed_before, _):
            previous["allowed_ips"] = list(allowed_before)
    match changes.get("persistent_keepalive"):
        case (keepalive_before, _) if keepalive_before is not None:
            previous["persistent_keepalive"] = keepalive_before
    match changes.get("preshared_key"):
        case str() as psk:
            wp["preshared_key_change"] = psk
            previous["preshared_key_set"] = psk != "set"
    wp["previous"] = previous


def _setting_word(value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return str(value)
