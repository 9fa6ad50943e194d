"""What the shipper remembers between polls, and its JSON form.

The state is what makes a restart invisible: the last status of every interface and
peer, open sessions, and each peer's transfer history for spike detection. It holds no
key material beyond public keys and the preshared key's keyed hash.

The JSON form stores a peer as a positional list: with 100,000 peers a dict per peer
would double both the file and the time to write it. And since a poll changes few
peers, each peer keeps its JSON from the last save (`PeerState.saved`), and the diff
engine clears it whenever it changes the peer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import WgsiemError
from ..wgdump.model import InterfaceStatus, PeerStatus
from ..wgdump.parse import NONE, DumpError, parse_endpoint

STATE_VERSION = 1


class StateError(WgsiemError):
    pass


@dataclass(slots=True)
class Session:
    start: int  # the handshake that opened it
    rx_bytes: int = 0
    tx_bytes: int = 0


@dataclass(slots=True)
class PeerState:
    last: PeerStatus
    first_seen: int  # poll time the peer was first observed: its history starts here
    session: Session | None = None
    # [[day, rx peak bytes/s, tx peak bytes/s], ...], oldest first (see spike.py); None
    # until the peer first moves traffic (most of a large install's peers are idle).
    history: list[list[float]] | None = None
    # The latest non-zero handshake seen. After an interface restart wg shows 0 until the
    # next handshake, but when the peer was last heard from has not changed.
    last_handshake: int = 0
    # An always-on peer's outage that peer-silent reported and no handshake has ended yet:
    # its latest handshake before the silence (0: it never had one). None: no open outage.
    # Kept in the state so a restarted shipper neither reports it again nor misses its end.
    silence: int | None = None
    # This peer's record (JSON) as last saved; None once anything above changed.
    saved: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class InterfaceState:
    last: InterfaceStatus
    up: bool
    last_poll: int  # last poll that read this interface: the start of its next interval
    peers: dict[str, PeerState] = field(default_factory=dict)


@dataclass(slots=True)
class State:
    last_poll: int | None = None  # None: nothing seen yet, the next poll is the baseline
    interfaces: dict[str, InterfaceState] = field(default_factory=dict)
    # Kernel log side: interface -> kernel peer id -> public key (kernlog/correlate.py),
    # and where each followed log was read up to (adapters/follow.py positions).
    peer_ids: dict[str, dict[int, str]] = field(default_factory=dict)
    log_positions: dict[str, str] = field(default_factory=dict)
    # The wg-quick files' part (wgconfig.record.ConfigState), in its JSON form: what they
    # said at the last read and where they part from the interfaces. None: never read.
    config: dict[str, Any] | None = None

    @property
    def is_new(self) -> bool:
        return self.last_poll is None

    def encode(self) -> str:
        return "".join(self.encode_chunks())

    def encode_chunks(self) -> Iterator[str]:
        """The JSON text of the state, in pieces, so a large state is never one big string.

        Only peers changed since the last encoding are encoded again."""
        yield f'{{"version":{STATE_VERSION},"last_poll":{json.dumps(self.last_poll)},"interfaces":{{'
        for i, (name, ist) in enumerate(self.interfaces.items()):
            head = json.dumps(_interface_head(ist), separators=(",", ":"))
            yield f'{"," if i else ""}{json.dumps(name)}:{head[:-1]},"peers":{{'
            first = True
            for key, peer in ist.peers.items():
                fragment = peer.saved
                if fragment is None:
                    fragment = peer.saved = _compact(_peer_to_json(peer))
                # A public key is base64 (checked by the parser): nothing in it needs escaping.
                yield f'"{key}":{fragment}' if first else f',"{key}":{fragment}'
                first = False
            yield "}}"
        ids = {iface: {str(i): key for i, key in table.items()} for iface, table in self.peer_ids.items() if table}
        yield f'}},"log":{json.dumps({"peer_ids": ids, "positions": self.log_positions}, separators=(",", ":"))}'
        if self.config is not None:
            yield f',"config":{json.dumps(self.config, separators=(",", ":"))}'
        yield "}"

    @classmethod
    def from_json(cls, data: Any, source: str = "state") -> State:
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"{source}: not a wgsiem state file of version {STATE_VERSION}")
        try:
            log = data.get("log", {})
            return cls(
                last_poll=data["last_poll"],
                interfaces={
                    name: _interface_from_json(name, raw) for name, raw in data["interfaces"].items()
                },
                peer_ids={
                    iface: {int(i): key for i, key in table.items()} for iface, table in log.get("peer_ids", {}).items()
                },
                log_positions=dict(log.get("positions", {})),
                config=data.get("config"),
            )
        except (KeyError, TypeError, ValueError, DumpError) as err:
            raise StateError(f"{source}: damaged state ({type(err).__name__}: {err})") from None


def _interface_head(ist: InterfaceState) -> dict[str, Any]:
    i = ist.last
    return {
        "public_key": i.public_key,
        "listen_port": i.listen_port,
        "fwmark": i.fwmark,
        "up": ist.up,
        "last_poll": ist.last_poll,
    }


_compact = json.JSONEncoder(separators=(",", ":")).encode


def _interface_from_json(name: str, raw: dict[str, Any]) -> InterfaceState:
    # Most peers share a first_seen (the baseline poll): one int object for each value.
    times: dict[int, int] = {}
    return InterfaceState(
        last=InterfaceStatus(
            name=name, public_key=raw["public_key"], listen_port=raw["listen_port"], fwmark=raw["fwmark"]
        ),
        up=raw["up"],
        last_poll=raw["last_poll"],
        peers={key: _peer_from_json(name, key, p, times) for key, p in raw["peers"].items()},
    )


def _peer_to_json(p: PeerState) -> list[Any]:
    s = p.last
    session = None if p.session is None else [p.session.start, p.session.rx_bytes, p.session.tx_bytes]
    return [
        s.preshared_key_hash,
        None if s.endpoint is None else s.endpoint.address,
        ",".join(s.allowed_ips),
        s.latest_handshake,
        s.rx_bytes,
        s.tx_bytes,
        s.persistent_keepalive,
        p.first_seen,
        session,
        p.history,
        # Only written when they say something: last_handshake when it is not latest_handshake
        # (after a restart), the open outage when there is one (and then last_handshake too:
        # the list is positional). Older state files, and older shippers, read the rest.
        *([p.last_handshake] if p.last_handshake != s.latest_handshake or p.silence is not None else []),
        *([p.silence] if p.silence is not None else []),
    ]


def _peer_from_json(iface: str, key: str, raw: list[Any], times: dict[int, int]) -> PeerState:
    psk_hash, endpoint, allowed, handshake, rx, tx, keepalive, first_seen, session, history = raw[:10]
    last_handshake = raw[10] if len(raw) > 10 else handshake
    silence = raw[11] if len(raw) > 11 else None
    # The line as wg prints it from the endpoint on, so the parser can recognise it unchanged.
    text = "\t".join(
        [endpoint or NONE, allowed or NONE, str(handshake), str(rx), str(tx), "off" if keepalive is None else str(keepalive)]
    )
    return PeerState(
        last=PeerStatus(
            interface=iface,
            public_key=key,
            preshared_key_hash=psk_hash,
            endpoint=None if endpoint is None else parse_endpoint(endpoint),
            allowed_ips=tuple(allowed.split(",")) if allowed else (),
            latest_handshake=handshake,
            rx_bytes=rx,
            tx_bytes=tx,
            persistent_keepalive=keepalive,
            text=text,
        ),
        first_seen=times.setdefault(first_seen, first_seen),
        session=None if session is None else Session(*session),
        history=history,
        last_handshake=last_handshake,
        silence=silence,
    )
