"""One poll, from what `wg` printed to ECS documents: parse → diff → events → ECS → enrich.

After the diff, the always-on peers are judged (status/silence.py) against the limits of
the registry as the context holds it at that poll, so a reloaded registry counts from the
next poll on, and a replay with the same registry gives the same events.

`Shipper.process` is the single code path of `wgsiem ship` (live polls) and `wgsiem
convert` (recorded polls). It does no I/O: the poll's text and time come in, documents
and what went wrong come out, and the state it holds is saved by the caller.
`Shipper.diff` is the same path up to the events, for callers that want those.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .conntrack import ACCOUNTING_OFF, ConntrackRecord
from .conntrack.attribute import PeerLine, Routes
from .conntrack.flows import FLOW_STARTED, FlowTracker
from .ecs import config as config_docs
from .ecs import flow as flow_docs
from .ecs import log as log_docs
from .ecs import status as status_docs
from .ecs.document import Context
from .kernlog.correlate import Endpoints, PeerIds
from .kernlog.events import LogEvent
from .kernlog.framing import LogRecord
from .kernlog.messages import UNRECOGNIZED, LogMessage, MessageParser
from .status.diff import DiffSettings, StatusDiffer
from .status.events import StatusEvent
from .status.silence import SilenceWatch
from .status.state import State
from .wgconfig import drift, watch
from .wgconfig.events import ConfigEvent
from .wgconfig.parse import interface_of
from .wgconfig.record import ConfigState, FileRecord, record_of
from .wgdump import DumpParser, ParseProblem, Poll, PresharedKeyHasher, read_stderr
from .wgdump.model import Endpoint
from .wgdump.raw import ConfigRead, FileMeta, RawPoll

# How long the running interface and its file may disagree before config-drift-persists.
DRIFT_AFTER = 900


@dataclass(slots=True)
class PollEvents:
    """One poll parsed and diffed: its `wireguard.status` events, before any document."""

    time: int
    events: list[StatusEvent]
    notices: list[str]
    problems: list[ParseProblem]
    failure: str | None
    # The wg-quick files' events: before the poll's (what changed on disk), then drift after it.
    config_events: list[ConfigEvent] = field(default_factory=list)
    drift_events: list[ConfigEvent] = field(default_factory=list)


@dataclass(slots=True)
class PollOutcome:
    time: int
    # In time order, built one at a time as they are consumed, so a baseline of 100,000
    # peers is never 100,000 documents in memory at once. Consume before the next process().
    documents: Iterator[dict[str, Any]] = field(default_factory=lambda: iter(()))
    problems: list[ParseProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    failure: str | None = None


class Shipper:
    def __init__(
        self,
        state: State,
        hasher: PresharedKeyHasher,
        context: Context,
        settings: DiffSettings | None = None,
        interfaces: Collection[str] = (),
        drift_after: int = DRIFT_AFTER,
        flow_events: str = "all",
    ) -> None:
        self.parser = DumpParser(hasher)
        self.hasher = hasher
        self.drift_after = drift_after
        self._records: dict[tuple[str, str, str | None], FileRecord] = {}  # parsed files by path and content
        self._config_notices: frozenset[str] = frozenset()
        self._drift_known: dict[str, Any] = {}  # drift.track's memo: differences per interface
        self.config = ConfigState() if state.config is None else ConfigState.from_json(state.config)
        # After a restart, unchanged lines are recognised from the first poll on.
        self.parser.remember({name: {k: p.last for k, p in ist.peers.items()} for name, ist in state.interfaces.items()})
        self.differ = StatusDiffer(state, settings)
        self.silence = SilenceWatch(state)
        # The always-on peers' silent_after, by key, and the registry they were read from.
        self._limits: tuple[Any, dict[str, int]] = (None, {})
        self.context = context
        self.interfaces = frozenset(interfaces)
        self.polls = 0
        self.problem_count = 0
        self.wg_errors = 0  # polls where wg ran and complained (stderr, a non-zero exit): its health counts them
        self.handshakes = 0  # handshake events seen: with none in the kernel log, debug is off
        self.messages = MessageParser()
        self.peer_ids = PeerIds(state.peer_ids)
        # lines read, lines about WireGuard, unrecognized ones, and kernel debug lines
        # (only printed with dynamic debug on: their absence says it is off).
        self.log_counts = {"lines": 0, "wireguard": 0, "unrecognized": 0, "debug": 0}
        self._seen_lines: dict[tuple[float, str], int] = {}
        self._seen_time = 0.0
        # Inner flows: connections followed from NEW to DESTROY, attributed with the routes
        # (allowed-ips) of the latest poll, rebuilt only after a poll that changed them.
        self.flows = FlowTracker()
        self.flow_started = flow_events == "all"
        self._routes: Routes | None = None
        self._endpoints_moved = False

    @property
    def state(self) -> State:
        return self.differ.state

    def process(self, raw: RawPoll) -> PollOutcome:
        with _gc_paused():
            return self._process(raw)

    def _process(self, raw: RawPoll) -> PollOutcome:
        polled = self.diff(raw)
        ctx = self.context
        # In time order (a stable sort, so events of one second keep the diff's order): a
        # handshake or a session's end falls before the poll that saw it, and convert merges
        # the documents with the log lines' as streams.
        events = sorted(polled.events, key=_time)
        if polled.config_events or polled.drift_events:
            # On disk first, the poll's own, then the drift the poll shows: a file's change is
            # read before the poll, drift is judged after it.
            merged = sorted(
                [(e.time, 0, e) for e in polled.config_events]
                + [(e.time, 1, e) for e in events]
                + [(e.time, 2, e) for e in polled.drift_events],
                key=lambda item: item[:2],
            )
            documents = (
                config_docs.build(e, ctx) if isinstance(e, ConfigEvent) else status_docs.build(e, ctx) for _, _, e in merged
            )
        else:
            documents = (status_docs.build(event, ctx) for event in events)
        return PollOutcome(
            time=polled.time,
            documents=documents,
            problems=polled.problems,
            notices=polled.notices,
            failure=polled.failure,
        )

    def diff(self, raw: RawPoll) -> PollEvents:
        """The poll's events, the state updated: `process` without the documents, so tests
        see the events of the very code path `ship` and `convert` run."""
        poll = Poll(time=raw.time)
        read_stderr(raw.stderr, poll)
        if poll.failure is None and raw.failure is not None:
            poll.failure = raw.failure
        if poll.failure is None:
            self.parser.parse(raw.stdout, raw.time, source=raw.source, poll=poll)
            if self.interfaces:
                _keep_only(poll, self.interfaces)
        # The files with a poll that worked only: a failed poll's documents are not written,
        # so its read is left for the next poll to make. Read against the interfaces as the
        # previous poll left them, the poll's own diff after.
        watched = raw.config is not None and poll.failure is None
        notices: list[str] = []
        config_events = self._read_config(raw.time, raw.config, notices) if watched and raw.config is not None else []
        result = self.differ.apply(poll)
        if poll.failure is None:
            silent = self.silence.apply(raw.time, self.always_on_limits(), poll.unreadable)
            if silent:
                result.events.extend(silent)
                result.events.sort(key=_time)
        drift_events = []
        config = self.config
        if watched and config.files is not None:
            changed = {e.interface.name for e in result.events if e.action in _RUNNING_CONFIGURATION}
            drift_events = drift.track(raw.time, config.drift, config.files, self.state.interfaces, self.drift_after, self._drift_known, changed)
        if watched and (config_events or drift_events or self.state.config is None):
            self.state.config = config.to_json()
        self.polls += 1
        if raw.exit_status or raw.stderr.strip():
            self.wg_errors += 1
        self.handshakes += sum(1 for e in result.events if e.action == "handshake")
        if self._routes is not None:
            if any(e.action in _RUNNING_CONFIGURATION for e in result.events):
                self._routes = None
            elif any(e.action == "endpoint-changed" for e in result.events):
                self._endpoints_moved = True
        self.problem_count += len(poll.problems)
        return PollEvents(raw.time, result.events, notices + result.notices, poll.problems, poll.failure, config_events, drift_events)

    def always_on_limits(self) -> dict[str, int]:
        """Each always-on peer's silent_after, by public key, from the context's registry.
        Read again only when the registry is another object: a reload replaces it whole."""
        registry = self.context.registry
        if self._limits[0] is not registry:
            self._limits = (registry, {key: entry.silent_after for key, entry in registry.items() if entry.always_on})
        return self._limits[1]

    def _read_config(self, time: int, read: ConfigRead, notices: list[str]) -> list[ConfigEvent]:
        """The files as read → records (parsed once per content) → what changed since the last read."""
        records: dict[str, FileRecord] = {}
        cache: dict[tuple[str, str, str | None], FileRecord] = {}
        for raw in read.files:
            if self.interfaces and interface_of(raw.path) not in self.interfaces:
                continue
            key = (raw.path, raw.meta.sha256, raw.public_key)
            record = self._records.get(key)
            if record is None:
                record = record_of(raw, self.hasher)
            cache[key] = record
            records[raw.path] = _with_meta(record, raw.meta)
        self._records = cache
        problems = frozenset(read.problems) | frozenset(p for r in records.values() for p in r.problems)
        notices.extend(sorted(problems - self._config_notices))
        self._config_notices = problems
        config = self.config
        # Down interfaces too: their peers are remembered, and `wg-quick down` of a SaveConfig
        # interface is what writes its running peers to the file.
        running = {name: ist.peers for name, ist in self.state.interfaces.items()}
        events, config.files = watch.compare(time, config.files, records, read.unknown, running)
        return events

    def process_interval(
        self, items: Sequence[tuple[LogRecord, float]], raw: RawPoll, flows: Sequence[ConntrackRecord] = ()
    ) -> tuple[list[dict[str, Any]], PollOutcome]:
        """The log lines and conntrack records read since the last poll, and the poll that
        follows them: the poll's outcome, and the lines' and flows' documents (in time
        order) tied to peers with the poll before them or, where that poll had no peer for
        them, with this one. So the first handshake of a peer added between two polls
        carries its key and name, and its first connection is its own. `ship` and
        `convert` both go through here."""
        with _gc_paused():
            read = self._read_log(items)
        # The endpoints of the poll before the lines, of the interfaces whose lines may need
        # them (a line with an endpoint and an id not known, or any id once one is forgotten
        # in the interval), kept before the poll changes them: at 100,000 peers an index is
        # worth building only when a line will look in it.
        known = self.peer_ids.ids
        forgets = any(m.action in _FORGETTING for _, _, m in read)
        wanted = {
            m.interface for _, _, m in read
            if m.interface is not None and m.fields.get("endpoint") is not None and "peer_id" in m.fields
            and (forgets or m.fields["peer_id"] not in known.get(m.interface, {}))
        }  # fmt: skip
        interfaces = self.state.interfaces
        earlier = self.peer_ids.endpoints({n: (interfaces[n].peers, interfaces[n].last_poll) for n in wanted if n in interfaces})
        routes = self.routes() if flows else None
        outcome = self.process(raw)
        with _gc_paused():
            docs = self._log_documents(read, earlier)
            if routes is not None:
                flow_documents = self._flow_documents(flows, routes, self.routes(), outcome.notices)
                docs = sorted(docs + flow_documents, key=_at) if docs else flow_documents
            return docs, outcome

    def process_flows(self, flows: Iterable[ConntrackRecord], notices: list[str]) -> list[dict[str, Any]]:
        """Conntrack records → flow documents, attributed with the latest poll's routes
        (records after the last poll of a capture: no later poll to look ahead to)."""
        with _gc_paused():
            return self._flow_documents(flows, self.routes(), None, notices)

    def routes(self) -> Routes:
        """Every peer's allowed-ips and endpoint, and the listen ports, as the latest poll has them."""
        interfaces = {name: ist for name, ist in self.state.interfaces.items() if ist.up}
        if self._routes is None:
            self._routes = Routes(
                (
                    PeerLine(name, key, ps.last.allowed_ips, _outer(ps.last.endpoint))
                    for name, ist in interfaces.items()
                    for key, ps in ist.peers.items()
                ),
                {name: ist.last.listen_port for name, ist in interfaces.items() if ist.last.listen_port},
            )
        elif self._endpoints_moved:  # roaming phones: two polls in three at a large install
            self._routes.set_endpoints(_outer(ps.last.endpoint) for ist in interfaces.values() for ps in ist.peers.values())
        self._endpoints_moved = False
        return self._routes

    def _flow_documents(
        self, flows: Iterable[ConntrackRecord], routes: Routes, later: Routes | None, notices: list[str]
    ) -> list[dict[str, Any]]:
        tracker = self.flows
        unaccounted = tracker.unaccounted
        ctx = self.context
        docs = [
            flow_docs.build(event, ctx)
            for event in tracker.events(flows, routes, later)
            if self.flow_started or event.action != FLOW_STARTED
        ]
        if tracker.unaccounted and not unaccounted:  # said once: the first DESTROY without counters
            notices.append(ACCOUNTING_OFF)
        return docs

    def process_log(self, items: Iterable[tuple[LogRecord, float]]) -> list[dict[str, Any]]:
        """Kernel / wg-quick lines (framed and timed) → documents, tied to peers with the
        state as it is now (the latest poll before these lines)."""
        with _gc_paused():
            return self._log_documents(self._read_log(items), None)

    def _read_log(self, items: Iterable[tuple[LogRecord, float]]) -> list[tuple[LogRecord, float, LogMessage]]:
        """The lines about WireGuard, each with what its message says; every line counted."""
        read = []
        counts = self.log_counts
        for record, time in items:
            counts["lines"] += 1
            msg = self.messages.parse(record.message, record.program)
            if msg is None:
                continue
            counts["wireguard"] += 1
            if msg.action == UNRECOGNIZED:
                counts["unrecognized"] += 1
            elif msg.source == "kernel" and msg.action not in _NOT_DEBUG:
                counts["debug"] += 1
            read.append((record, time, msg))
        return read

    def _log_documents(self, read: list[tuple[LogRecord, float, LogMessage]], earlier: Endpoints | None) -> list[dict[str, Any]]:
        docs = []
        seen = self._seen_lines
        state = self.state
        for record, time, msg in read:
            peer = None
            iface = msg.interface
            if msg.source == "kernel" and iface is not None:
                if "peer_id" in msg.fields:
                    ist = state.interfaces.get(iface)
                    peer = self.peer_ids.resolve(
                        iface,
                        msg.fields["peer_id"],
                        msg.fields.get("endpoint"),
                        ist.peers if ist is not None else {},
                        ist.last_poll if ist is not None else 0,
                        earlier,
                    )
                if msg.action == "peer-destroyed":
                    self.peer_ids.forget_peer(iface, msg.fields["peer_id"])
                elif msg.action == "interface-destroyed":
                    self.peer_ids.forget_interface(iface)
            elif msg.action == "module-loaded":
                self.peer_ids.forget_all()
            if time > self._seen_time:  # only lines of the newest time can still repeat
                seen.clear()
                self._seen_time = time
            occurrence = seen.get((time, record.original), 0)
            seen[(time, record.original)] = occurrence + 1
            docs.append(log_docs.build(LogEvent(msg, record, time, occurrence, peer), self.context))
        return docs


def _with_meta(record: FileRecord, meta: FileMeta) -> FileRecord:
    if (record.mode, record.uid, record.gid, record.owner, record.group, record.size) == (meta.mode, meta.uid, meta.gid, meta.owner, meta.group, meta.size):
        return record
    return replace(record, mode=meta.mode, uid=meta.uid, gid=meta.gid, owner=meta.owner, group=meta.group, size=meta.size)


def _time(event: StatusEvent) -> int:
    return event.time


def _outer(endpoint: Endpoint | None) -> tuple[str, int] | None:
    return (endpoint.ip, endpoint.port) if endpoint is not None else None


def _at(doc: dict[str, Any]) -> str:
    return doc["@timestamp"]  # type: ignore[no-any-return]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The state is 100,000s of long-lived objects that hold no reference cycles; left to
    the cyclic GC they are rescanned over and over while a poll allocates, which cost
    more than the poll itself. So: no collection during the work, and what survives it
    is frozen out of the collector's sight."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# The status actions that change what drift compares: an interface's key, port, fwmark or
# being up, its peers and their allowed IPs, keepalive and preshared key. After any of
# them the routes flows are attributed with are built again.
_RUNNING_CONFIGURATION = frozenset({
    "interface-discovered", "interface-up", "interface-down", "interface-changed",
    "peer-discovered", "peer-added", "peer-removed", "peer-changed",
})  # fmt: skip

# What makes the peer ids forget: after it, an id known before the interval may be another peer's.
_FORGETTING = frozenset({"peer-destroyed", "interface-destroyed", "module-loaded"})

# Kernel lines printed without dynamic debug (pr_info / pr_err in main.c and socket.c).
_NOT_DEBUG = frozenset({"module-loaded", "socket-failed"})


def _keep_only(poll: Poll, interfaces: frozenset[str]) -> None:
    for name in [n for n in poll.interfaces if n not in interfaces]:
        del poll.interfaces[name]
        poll.peers.pop(name, None)
    for name in [n for n in poll.unavailable if n not in interfaces]:
        del poll.unavailable[name]
