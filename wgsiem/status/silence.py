"""Always-on peers: `peer-silent` when one has gone without a handshake for longer than
the registry allows it, `peer-back` at the handshake that ends that silence.

A site tunnel (the registry's `always_on`) renews its session every two minutes while it
works, so a long silence means it is down. `SilenceWatch.apply` runs after the diff of
each poll that worked, and is a function of the state (each peer's latest handshake, when
it was first seen, the outage already reported), the registry's limits (`silent_after`, by
public key, for the always-on peers only) and the poll's time.

* peer-silent: once per outage, at the first poll where the peer's latest handshake (when
  it never had one: the poll that first saw it) is more than its limit old. Timed at that
  poll; `event.start` is when the silence began.
* peer-back: the first handshake seen after peer-silent, timed at that handshake; the
  silence ran from its start to it. A peer back and silent again before the next poll
  gives both at that poll.
* An interface that is down cannot carry a handshake: its always-on peers are silent and
  reported like any other, after its interface-down. An interface `wg` could not read at
  this poll (or one passed over as being configured), or a peer line that did not parse,
  says nothing: they are judged at the next poll that reads them.
* A removed peer is no longer watched: it gives no peer-silent, and an outage open when
  it went ends without peer-back (its peer-removed says why). Re-added, it starts afresh.
* A peer the registry no longer marks always-on is no longer watched either: its open
  outage is forgotten without peer-back. A changed limit applies from the next poll on;
  an outage already reported stays open until a handshake, whatever the new limit says.
* The open outage is kept in the state (`PeerState.silence`), so a restarted shipper
  neither reports it again nor misses its end.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .events import PeerBack, PeerSilent, StatusEvent
from .state import InterfaceState, PeerState, State


class SilenceWatch:
    def __init__(self, state: State) -> None:
        self.state = state
        # The peers with an open outage, so one that stops being watched is found without a
        # look at every peer of a large install.
        self._open: dict[tuple[str, str], PeerState] = {
            (name, key): p
            for name, ist in state.interfaces.items()
            for key, p in ist.peers.items()
            if p.silence is not None
        }

    def apply(self, now: int, limits: Mapping[str, int], unreadable: Collection[tuple[str, str]] = ()) -> list[StatusEvent]:
        """The poll's peer-silent and peer-back events; the state updated. `limits`: each
        always-on peer's `silent_after`, by public key; `unreadable`: (interface, public
        key) of the peer lines of this poll that did not parse."""
        events: list[StatusEvent] = []
        interfaces = self.state.interfaces
        for (name, key), silent in list(self._open.items()):
            known = interfaces.get(name)
            if known is None or known.peers.get(key) is not silent:
                del self._open[(name, key)]  # removed: the outage went with it
            elif key not in limits:
                del self._open[(name, key)]
                _set(silent, None)
        for key, limit in limits.items():
            for name, ist in interfaces.items():
                p = ist.peers.get(key)
                # Up but not read at this poll (ist.last_poll is the last poll that read it).
                if p is None or (ist.up and ist.last_poll != now) or (name, key) in unreadable:
                    continue
                self._judge(ist, p, now, limit, events)
        return events

    def _judge(self, ist: InterfaceState, p: PeerState, now: int, limit: int, events: list[StatusEvent]) -> None:
        iface = ist.last
        where = (iface.name, p.last.public_key)
        before = p.silence
        if before is not None and p.last_handshake > before:
            events.append(StatusEvent("peer-back", p.last_handshake, iface, p.last, PeerBack(before or None, before or p.first_seen)))
            _set(p, None)
            self._open.pop(where, None)
        if p.silence is None:
            since = p.last_handshake or p.first_seen
            if now - since > limit:
                events.append(StatusEvent("peer-silent", now, iface, p.last, PeerSilent(p.last_handshake or None, since, limit)))
                _set(p, p.last_handshake)
                self._open[where] = p


def _set(p: PeerState, silence: int | None) -> None:
    p.silence = silence
    p.saved = None  # the peer's JSON changed
