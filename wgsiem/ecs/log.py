"""`wireguard.log` events (kernel and wg-quick lines) → ECS documents."""

from __future__ import annotations

from typing import Any

from ..kernlog.events import LogEvent
from . import document
from .catalogue import log_actions
from .document import Context, add_related

DATASET = "wireguard.log"

# placeholder of messages.yaml -> where it goes under wireguard.log
_LOG_FIELDS = {
    "peer_id": "peer_id",
    "keypair_id": "keypair_id",
    "inner_source": "inner_source_ip",
    "seconds": "seconds",
    "attempt": "attempt",
    "nonce": "nonce",
    "nonce_max": "nonce_max",
    "version": "module_version",
    "text": "text",
}


def build(event: LogEvent, ctx: Context) -> dict[str, Any]:
    msg = event.message
    action = log_actions()[msg.action]
    record = event.record
    doc = document.base(DATASET, action, event.time, ctx)
    ev = doc["event"]
    ev["original"] = record.original
    fields = msg.fields
    wglog: dict[str, Any] = {"source": msg.source}
    if msg.variant:
        wglog["variant"] = msg.variant
    for name, target in _LOG_FIELDS.items():
        if name in fields:
            wglog[target] = fields[name]
    wg: dict[str, Any] = {"log": wglog}
    doc["wireguard"] = wg
    words: dict[str, Any] = {
        "interface": msg.interface or "wireguard",
        "peer": f"peer {fields['peer_id']}" if "peer_id" in fields else "an unknown peer",
        "endpoint": "no endpoint",
        "variant": msg.variant or "",
        "version": fields.get("version", ""),
        **{k: v for k, v in fields.items() if k not in ("endpoint",)},
    }
    if msg.interface:
        doc["observer"]["ingress"] = {"interface": {"name": msg.interface}}
        wg["interface"] = {"name": msg.interface}
    endpoint = fields.get("endpoint")
    place = None
    if endpoint is not None:
        place = document.set_source(doc, endpoint, ctx.geoip)
        add_related(doc, "ip", endpoint.ip)
        words["endpoint"] = endpoint.address
    if "inner_source" in fields:
        add_related(doc, "ip", fields["inner_source"])
    if "inner_destination" in fields:
        doc["destination"] = {"ip": fields["inner_destination"]}
        add_related(doc, "ip", fields["inner_destination"])
    if "error_code" in fields:
        doc["error"] = {"code": str(fields["error_code"])}
    if event.peer is not None:
        wg["peer"] = {"public_key": event.peer}
        peer_name = document.identify_peer(doc, wg["peer"], event.peer, ctx)
        words["peer"] = peer_name or event.peer
        if endpoint is not None:
            document.judge_place(wg["peer"], event.peer, ctx, endpoint.ip, place)
    if msg.source == "wg-quick":
        process: dict[str, Any] = {"name": "wg-quick"}
        if record.pid is not None:
            process["pid"] = record.pid
        if "command" in fields:
            process["command_line"] = fields["command"]
        doc["process"] = process
    if record.host:
        doc["log"] = {"syslog": {"hostname": record.host}}
    doc["message"] = action.message.format_map(_Words(words))
    ev["id"] = document.event_id(ctx.host_name, DATASET, event.time, record.original, event.occurrence)
    return doc


class _Words(dict[str, Any]):
    """Message names a line does not have print as nothing rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""
