"""Diff a poll against the state: the `wireguard.status` events of one poll.

`StatusDiffer.apply(poll)` is a function of the state and the poll (whose `time` is the
injected clock): it returns the poll's events and updates the state in place. Replaying
recorded polls through it gives the events the live shipper gave.

Rules that matter (docs/events.md says the same to users):
* The first poll of a new state is the baseline: interface-discovered and
  peer-discovered only, no transfer (the counters' past is unknown), no handshake.
* A peer added later counts its traffic from zero: its first transfer is its counters.
* A counter lower than before is a reset (peer re-added, interface recreated): the
  interval's traffic is the new counter value, never a negative delta.
* Each new non-zero latest-handshake value is one handshake event, timed at the handshake.
* A session runs from the handshake that found the peer idle until its latest handshake
  is `session_timeout` seconds old (default 180, the kernel's REJECT_AFTER_TIME); it ends
  at `latest handshake + session_timeout`, or at the poll that saw the peer or its
  interface go away, whichever is first.
* An interface that `wg` could not read this poll is left exactly as it was: its absence
  says nothing. An interface absent without such a report went down; its peers are
  remembered, so an interface restart adds and removes nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..wgdump.model import InterfaceStatus, PeerStatus, Poll
from . import spike
from .events import (
    Change,
    EndpointChanged,
    InterfaceChanged,
    PeerChanged,
    PresharedKeyChange,
    SessionEnded,
    SessionStarted,
    Setting,
    StatusEvent,
    Transfer,
    TransferSpike,
)
from .spike import SpikeSettings
from .state import InterfaceState, PeerState, Session, State

SESSION_TIMEOUT = 180


@dataclass(frozen=True, slots=True)
class DiffSettings:
    session_timeout: int = SESSION_TIMEOUT
    spike: SpikeSettings = field(default_factory=SpikeSettings)


@dataclass(slots=True)
class DiffResult:
    events: list[StatusEvent] = field(default_factory=list)
    # Things an operator should hear about that are not events (clock jumps, skipped polls).
    notices: list[str] = field(default_factory=list)


class StatusDiffer:
    def __init__(self, state: State, settings: DiffSettings | None = None) -> None:
        self.state = state
        self.settings = settings or DiffSettings()
        # Peers with an open session, so a poll checks only those for expiry.
        self._open: dict[tuple[str, str], PeerState] = {
            (name, key): p
            for name, ist in state.interfaces.items()
            for key, p in ist.peers.items()
            if p.session is not None
        }
        # Interfaces seen bare (no key, no peers) at the last poll: see _being_configured.
        self._bare: set[str] = set()

    def apply(self, poll: Poll) -> DiffResult:
        result = DiffResult()
        if poll.failure is not None:
            result.notices.append(f"poll at {poll.time} skipped: {poll.failure}")
            return result
        state = self.state
        now = poll.time
        baseline = state.is_new
        if state.last_poll is not None and now < state.last_poll:
            result.notices.append(
                f"the wall clock went back {state.last_poll - now} s (poll at {now} after {state.last_poll});"
                " intervals ending before they start are not rated"
            )
        for name, reason in sorted(poll.unavailable.items()):
            result.notices.append(f"interface {name} could not be read ({reason}); its state is kept as it was")

        for name, iface in poll.interfaces.items():
            if self._being_configured(name, iface, poll.peers.get(name)):
                result.notices.append(
                    f"interface {name} shows no key and no peers (being configured?); its state is kept as it was for this poll"
                )
                continue
            fresh = None if poll.fresh is None else poll.fresh.get(name, [])
            self._interface(name, iface, poll.peers.get(name, {}), fresh, poll.unreadable, now, baseline, result.events)
        for name, ist in state.interfaces.items():
            if name not in poll.interfaces and name not in poll.unavailable and ist.up:
                self._interface_down(ist, now, result.events)
        self._expire_sessions(now, result.events)
        state.last_poll = now if state.last_poll is None else max(now, state.last_poll)
        result.events.sort(key=lambda e: e.time)
        return result

    # -- interfaces -------------------------------------------------------------------

    def _being_configured(self, name: str, iface: InterfaceStatus, peers: dict[str, PeerStatus] | None) -> bool:
        """`wg-quick up` creates the interface before `wg setconf` gives it its key and peers,
        so a poll in between sees a known interface bare: that is not a key change and every
        peer removed. One such poll is passed over; a second in a row is taken as it is (a
        key really wiped must not hide)."""
        ist = self.state.interfaces.get(name)
        bare = ist is not None and ist.up and ist.last.public_key is not None and iface.public_key is None and not peers
        if not bare or name in self._bare:
            self._bare.discard(name)
            return False
        self._bare.add(name)
        return True

    def _interface(
        self,
        name: str,
        iface: InterfaceStatus,
        peers: dict[str, PeerStatus],
        fresh: list[str] | None,
        unreadable: set[tuple[str, str]],
        now: int,
        baseline: bool,
        events: list[StatusEvent],
    ) -> None:
        ist = self.state.interfaces.get(name)
        if ist is None:
            ist = InterfaceState(last=iface, up=True, last_poll=now)
            self.state.interfaces[name] = ist
            events.append(StatusEvent("interface-discovered" if baseline else "interface-up", now, iface))
        else:
            if not ist.up:
                events.append(StatusEvent("interface-up", now, iface))
                ist.up = True
            changes = _changes(ist.last, iface, ("listen_port", "fwmark", "public_key"))
            if changes:
                events.append(StatusEvent("interface-changed", now, iface, detail=InterfaceChanged(changes)))
            ist.last = iface
        self._peers(ist, peers, fresh, unreadable, now, baseline, events)
        ist.last_poll = now

    def _interface_down(self, ist: InterfaceState, now: int, events: list[StatusEvent]) -> None:
        for p in ist.peers.values():
            if p.session is not None:
                self._end_session(ist.last, p, min(now, self._expiry(p)), "interface-down", events)
        events.append(StatusEvent("interface-down", now, ist.last))
        ist.up = False

    # -- peers ------------------------------------------------------------------------

    def _peers(
        self,
        ist: InterfaceState,
        peers: dict[str, PeerStatus],
        fresh: list[str] | None,
        unreadable: set[tuple[str, str]],
        now: int,
        baseline: bool,
        events: list[StatusEvent],
    ) -> None:
        iface = ist.last
        name = iface.name
        known = ist.peers
        # The parser names the lines that changed; the others are last poll's objects.
        for key in peers if fresh is None else fresh:
            cur = peers[key]
            p = known.get(key)
            if p is None:
                known[key] = self._new_peer(ist, cur, now, baseline, events)
            elif cur is not p.last:
                if cur == p.last:
                    # Equal but not the same object (after a restart): keep one copy,
                    # the parser's, which it will hand back while the line is unchanged,
                    # and key the peer by the parser's string too.
                    p.last = cur
                    del known[key]
                    known[cur.public_key] = p
                else:
                    self._peer_changed(ist, p, cur, now, events)
                    p.saved = None
        if len(known) == len(peers):
            return  # every peer of this poll is known, so every known peer is in it
        for key in [k for k in known if k not in peers and (name, k) not in unreadable]:
            p = known.pop(key)
            if p.session is not None:
                self._end_session(iface, p, min(now, self._expiry(p)), "peer-removed", events)
            events.append(StatusEvent("peer-removed", now, iface, p.last))

    def _new_peer(
        self, ist: InterfaceState, cur: PeerStatus, now: int, baseline: bool, events: list[StatusEvent]
    ) -> PeerState:
        p = PeerState(last=cur, first_seen=now, last_handshake=cur.latest_handshake)
        iface = ist.last
        if baseline:
            events.append(StatusEvent("peer-discovered", now, iface, cur))
            # A session already running is followed from its latest handshake on.
            if cur.latest_handshake and now - cur.latest_handshake < self.settings.session_timeout:
                self._open_session(ist, p, cur.latest_handshake)
            return p
        events.append(StatusEvent("peer-added", now, iface, cur))
        if cur.latest_handshake:
            self._handshake(ist, p, cur, now, events)
        # Added since the last poll, so the counters hold exactly the traffic since then.
        self._transfer(ist, p, cur, cur.rx_bytes, cur.tx_bytes, False, now, events)
        return p

    def _peer_changed(
        self, ist: InterfaceState, p: PeerState, cur: PeerStatus, now: int, events: list[StatusEvent]
    ) -> None:
        iface = ist.last
        last = p.last
        changes: dict[str, Change | PresharedKeyChange] = dict(_changes(last, cur, ("allowed_ips", "persistent_keepalive")))
        if last.preshared_key_hash != cur.preshared_key_hash:
            if last.preshared_key_hash is None:
                changes["preshared_key"] = "set"
            elif cur.preshared_key_hash is None:
                changes["preshared_key"] = "removed"
            else:
                changes["preshared_key"] = "rotated"
        if changes:
            events.append(StatusEvent("peer-changed", now, iface, cur, PeerChanged(changes)))

        if cur.endpoint is not None and cur.endpoint != last.endpoint:
            # When the peer was last proven at the old endpoint: its latest handshake
            # there. A silent peer's endpoint stays in every poll, so the last poll
            # that showed it says nothing about a peer quiet for a month.
            seen = (last.latest_handshake or p.last_handshake or ist.last_poll) if last.endpoint else None
            events.append(StatusEvent("endpoint-changed", now, iface, cur, EndpointChanged(last.endpoint, seen)))

        if cur.latest_handshake and cur.latest_handshake != last.latest_handshake:
            self._handshake(ist, p, cur, now, events)

        reset = cur.rx_bytes < last.rx_bytes or cur.tx_bytes < last.tx_bytes
        if reset:
            rx, tx = cur.rx_bytes, cur.tx_bytes
        else:
            rx, tx = cur.rx_bytes - last.rx_bytes, cur.tx_bytes - last.tx_bytes
        p.last = cur
        if cur.latest_handshake:
            p.last_handshake = cur.latest_handshake
        self._transfer(ist, p, cur, rx, tx, reset, now, events)

    # -- handshakes and sessions ------------------------------------------------------

    def _handshake(
        self, ist: InterfaceState, p: PeerState, cur: PeerStatus, now: int, events: list[StatusEvent]
    ) -> None:
        iface = ist.last
        at = cur.latest_handshake
        events.append(StatusEvent("handshake", at, iface, cur))
        timeout = self.settings.session_timeout
        # p.last is still the previous poll's view: its handshake is the one before this.
        # A peer added in this poll has no previous view (p.last is this poll's).
        previous = (p.last.latest_handshake or p.last_handshake) if p.last is not cur else 0
        if p.session is not None:
            if previous and at - previous < timeout:
                return  # the session goes on
            # It lapsed between two polls before this handshake opened a new one.
            self._end_session(iface, p, min(now, previous + timeout), "expired", events)
        p.last = cur
        self._open_session(ist, p, at)
        # The silence before a session is what tells a dormant peer coming back.
        events.append(StatusEvent("session-started", at, iface, cur, SessionStarted(previous or None)))

    def _open_session(self, ist: InterfaceState, p: PeerState, start: int) -> None:
        p.session = Session(start=start)
        p.saved = None
        self._open[(ist.last.name, p.last.public_key)] = p

    def _expiry(self, p: PeerState) -> int:
        return p.last.latest_handshake + self.settings.session_timeout

    def _expire_sessions(self, now: int, events: list[StatusEvent]) -> None:
        timeout = self.settings.session_timeout
        interfaces = self.state.interfaces
        for (name, key), p in list(self._open.items()):
            if p.session is None:
                del self._open[(name, key)]
            elif now - p.last.latest_handshake >= timeout:
                self._end_session(interfaces[name].last, p, self._expiry(p), "expired", events)
                del self._open[(name, key)]

    def _end_session(
        self, iface: InterfaceStatus, p: PeerState, end: int, reason: str, events: list[StatusEvent]
    ) -> None:
        session = p.session
        assert session is not None
        p.session = None
        p.saved = None
        end = max(end, session.start)
        ended = SessionEnded(session.start, end, session.rx_bytes, session.tx_bytes, reason)
        events.append(StatusEvent("session-ended", end, iface, p.last, ended))

    # -- traffic ----------------------------------------------------------------------

    def _transfer(
        self,
        ist: InterfaceState,
        p: PeerState,
        cur: PeerStatus,
        rx: int,
        tx: int,
        reset: bool,
        now: int,
        events: list[StatusEvent],
    ) -> None:
        if rx == 0 and tx == 0:
            return
        iface = ist.last
        start = ist.last_poll
        seconds = now - start
        if p.session is not None:
            p.session.rx_bytes += rx
            p.session.tx_bytes += tx
        events.append(StatusEvent("transfer", now, iface, cur, Transfer(start, now, rx, tx, reset)))
        if p.history is None:
            p.history = []
        spikes = spike.observe(
            p.history,
            end=now,
            seconds=seconds,
            rx=rx,
            tx=tx,
            watched_for=start - p.first_seen,
            settings=self.settings.spike,
        )
        for s in spikes:
            events.append(StatusEvent("transfer-spike", now, iface, cur, TransferSpike(start, now, rx, tx, reset, s)))


def _changes(old: InterfaceStatus | PeerStatus, new: InterfaceStatus | PeerStatus, names: tuple[str, ...]) -> dict[str, Change]:
    """{field: (old value, new value)} for the named attributes that differ."""
    changes: dict[str, Change] = {}
    for name in names:
        before: Setting = getattr(old, name)
        after: Setting = getattr(new, name)
        if before != after:
            changes[name] = (before, after)
    return changes
