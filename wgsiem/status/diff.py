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
        if state.last_poll is not None and now < state.last_poll:
            result.notices.append(
                f"the wall clock went back {state.last_poll - now} s (poll at {now} after {state.last_poll});"
                " intervals ending before they start are not rated"
            )
        for name, reason in sorted(poll.unavailable.items()):
            result.notices.append(f"interface {name} could not be read ({reason}); its state is kept as it was")

        diff = _PollDiff(state, self.settings, self._open, now, state.is_new, poll.unreadable, result.events)
        for name, iface in poll.interfaces.items():
            if self._being_configured(name, iface, poll.peers.get(name)):
                result.notices.append(
                    f"interface {name} shows no key and no peers (being configured?); its state is kept as it was for this poll"
                )
                continue
            fresh = None if poll.fresh is None else poll.fresh.get(name, [])
            diff.interface(name, iface, poll.peers.get(name, {}), fresh)
        for name, ist in state.interfaces.items():
            if name not in poll.interfaces and name not in poll.unavailable and ist.up:
                diff.interface_down(ist)
        diff.expire_sessions()
        state.last_poll = now if state.last_poll is None else max(now, state.last_poll)
        result.events.sort(key=lambda e: e.time)
        return result

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


@dataclass(slots=True)
class _PollDiff:
    """The diff rules applied to one poll. What is the same for the whole poll (its time,
    whether it is the baseline, the peer lines wg could not read, the events found so far,
    and the differ's state and settings) is held here, made once by `StatusDiffer.apply`,
    so each rule takes only the interface and peer it is about."""

    state: State
    settings: DiffSettings
    open_sessions: dict[tuple[str, str], PeerState]  # the differ's own: it outlives the poll
    now: int
    baseline: bool  # the first poll of a new state
    unreadable: set[tuple[str, str]]  # (interface, public key) of peer lines that did not parse
    events: list[StatusEvent]

    # -- interfaces -------------------------------------------------------------------

    def interface(self, name: str, iface: InterfaceStatus, peers: dict[str, PeerStatus], fresh: list[str] | None) -> None:
        now = self.now
        ist = self.state.interfaces.get(name)
        if ist is None:
            ist = InterfaceState(last=iface, up=True, last_poll=now)
            self.state.interfaces[name] = ist
            self.events.append(StatusEvent("interface-discovered" if self.baseline else "interface-up", now, iface))
        else:
            if not ist.up:
                self.events.append(StatusEvent("interface-up", now, iface))
                ist.up = True
            changes = _changes(ist.last, iface, ("listen_port", "fwmark", "public_key"))
            if changes:
                self.events.append(StatusEvent("interface-changed", now, iface, detail=InterfaceChanged(changes)))
            ist.last = iface
        self.peers(ist, peers, fresh)
        ist.last_poll = now

    def interface_down(self, ist: InterfaceState) -> None:
        now = self.now
        for p in ist.peers.values():
            if p.session is not None:
                self.end_session(ist.last, p, min(now, self.expiry(p)), "interface-down")
        self.events.append(StatusEvent("interface-down", now, ist.last))
        ist.up = False

    # -- peers ------------------------------------------------------------------------

    def peers(self, ist: InterfaceState, peers: dict[str, PeerStatus], fresh: list[str] | None) -> None:
        iface = ist.last
        name = iface.name
        known = ist.peers
        # The parser names the lines that changed; the others are last poll's objects.
        for key in peers if fresh is None else fresh:
            cur = peers[key]
            p = known.get(key)
            if p is None:
                known[key] = self.new_peer(ist, cur)
            elif cur is not p.last:
                if cur == p.last:
                    # Equal but not the same object (after a restart): keep one copy,
                    # the parser's, which it will hand back while the line is unchanged,
                    # and key the peer by the parser's string too.
                    p.last = cur
                    del known[key]
                    known[cur.public_key] = p
                else:
                    self.peer_changed(ist, p, cur)
                    p.saved = None
        if len(known) == len(peers):
            return  # every peer of this poll is known, so every known peer is in it
        unreadable = self.unreadable
        for key in [k for k in known if k not in peers and (name, k) not in unreadable]:
            p = known.pop(key)
            if p.session is not None:
                self.end_session(iface, p, min(self.now, self.expiry(p)), "peer-removed")
            self.events.append(StatusEvent("peer-removed", self.now, iface, p.last))

    def new_peer(self, ist: InterfaceState, cur: PeerStatus) -> PeerState:
        now = self.now
        p = PeerState(last=cur, first_seen=now, last_handshake=cur.latest_handshake)
        iface = ist.last
        if self.baseline:
            self.events.append(StatusEvent("peer-discovered", now, iface, cur))
            # A session already running is followed from its latest handshake on.
            if cur.latest_handshake and now - cur.latest_handshake < self.settings.session_timeout:
                self.open_session(ist, p, cur.latest_handshake)
            return p
        self.events.append(StatusEvent("peer-added", now, iface, cur))
        if cur.latest_handshake:
            self.handshake(ist, p, cur)
        # Added since the last poll, so the counters hold exactly the traffic since then.
        self.transfer(ist, p, cur, cur.rx_bytes, cur.tx_bytes, False)
        return p

    def peer_changed(self, ist: InterfaceState, p: PeerState, cur: PeerStatus) -> None:
        now = self.now
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
            self.events.append(StatusEvent("peer-changed", now, iface, cur, PeerChanged(changes)))

        if cur.endpoint is not None and cur.endpoint != last.endpoint:
            # When the peer was last proven at the old endpoint: its latest handshake
            # there. A silent peer's endpoint stays in every poll, so the last poll
            # that showed it says nothing about a peer quiet for a month.
            seen = (last.latest_handshake or p.last_handshake or ist.last_poll) if last.endpoint else None
            self.events.append(StatusEvent("endpoint-changed", now, iface, cur, EndpointChanged(last.endpoint, seen)))

        if cur.latest_handshake and cur.latest_handshake != last.latest_handshake:
            self.handshake(ist, p, cur)

        reset = cur.rx_bytes < last.rx_bytes or cur.tx_bytes < last.tx_bytes
        if reset:
            rx, tx = cur.rx_bytes, cur.tx_bytes
        else:
            rx, tx = cur.rx_bytes - last.rx_bytes, cur.tx_bytes - last.tx_bytes
        p.last = cur
        if cur.latest_handshake:
            p.last_handshake = cur.latest_handshake
        self.transfer(ist, p, cur, rx, tx, reset)

    # -- handshakes and sessions ------------------------------------------------------

    def handshake(self, ist: InterfaceState, p: PeerState, cur: PeerStatus) -> None:
        iface = ist.last
        at = cur.latest_handshake
        self.events.append(StatusEvent("handshake", at, iface, cur))
        timeout = self.settings.session_timeout
        # p.last is still the previous poll's view: its handshake is the one before this.
        # A peer added in this poll has no previous view (p.last is this poll's).
        previous = (p.last.latest_handshake or p.last_handshake) if p.last is not cur else 0
        if p.session is not None:
            if previous and at - previous < timeout:
                return  # the session goes on
            # It lapsed between two polls before this handshake opened a new one.
            self.end_session(iface, p, min(self.now, previous + timeout), "expired")
        p.last = cur
        self.open_session(ist, p, at)
        # The silence before a session is what tells a dormant peer coming back.
        self.events.append(StatusEvent("session-started", at, iface, cur, SessionStarted(previous or None)))

    def open_session(self, ist: InterfaceState, p: PeerState, start: int) -> None:
        p.session = Session(start=start)
        p.saved = None
        self.open_sessions[(ist.last.name, p.last.public_key)] = p

    def expiry(self, p: PeerState) -> int:
        return p.last.latest_handshake + self.settings.session_timeout

    def expire_sessions(self) -> None:
        now = self.now
        timeout = self.settings.session_timeout
        interfaces = self.state.interfaces
        open_sessions = self.open_sessions
        for (name, key), p in list(open_sessions.items()):
            if p.session is None:
                del open_sessions[(name, key)]
            elif now - p.last.latest_handshake >= timeout:
                self.end_session(interfaces[name].last, p, self.expiry(p), "expired")
                del open_sessions[(name, key)]

    def end_session(self, iface: InterfaceStatus, p: PeerState, end: int, reason: str) -> None:
        session = p.session
        assert session is not None
        p.session = None
        p.saved = None
        end = max(end, session.start)
        ended = SessionEnded(session.start, end, session.rx_bytes, session.tx_bytes, reason)
        self.events.append(StatusEvent("session-ended", end, iface, p.last, ended))

    # -- traffic ----------------------------------------------------------------------

    def transfer(self, ist: InterfaceState, p: PeerState, cur: PeerStatus, rx: int, tx: int, reset: bool) -> None:
        if rx == 0 and tx == 0:
            return
        now = self.now
        iface = ist.last
        start = ist.last_poll
        seconds = now - start
        if p.session is not None:
            p.session.rx_bytes += rx
            p.session.tx_bytes += tx
        self.events.append(StatusEvent("transfer", now, iface, cur, Transfer(start, now, rx, tx, reset)))
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
            self.events.append(StatusEvent("transfer-spike", now, iface, cur, TransferSpike(start, now, rx, tx, reset, s)))


def _changes(old: InterfaceStatus | PeerStatus, new: InterfaceStatus | PeerStatus, names: tuple[str, ...]) -> dict[str, Change]:
    """{field: (old value, new value)} for the named attributes that differ."""
    changes: dict[str, Change] = {}
    for name in names:
        before: Setting = getattr(old, name)
        after: Setting = getattr(new, name)
        if before != after:
            changes[name] = (before, after)
    return changes
