"""One poll, from what `wg` printed to ECS documents: parse → diff → events → ECS → enrich.

`Shipper.process` is the single code path of `wgsiem ship` (live polls) and `wgsiem
convert` (recorded polls). It does no I/O: the poll's text and time come in, documents
and what went wrong come out, and the state it holds is saved by the caller.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from .adapters.wg import RawPoll
from .ecs import status as status_docs
from .ecs.document import Context
from .status.diff import DiffSettings, StatusDiffer
from .status.state import State
from .wgdump import DumpParser, ParseProblem, Poll, PresharedKeyHasher, read_stderr


@dataclass(slots=True)
class PollOutcome:
    time: int
    # Built one at a time as they are consumed, so a baseline of 100,000 peers is never
    # 100,000 documents in memory at once. Consume before the next process().
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
    ) -> None:
        self.parser = DumpParser(hasher)
        # After a restart, unchanged lines are recognised from the first poll on.
        self.parser.remember({name: {k: p.last for k, p in ist.peers.items()} for name, ist in state.interfaces.items()})
        self.differ = StatusDiffer(state, settings)
        self.context = context
        self.interfaces = frozenset(interfaces)
        self.polls = 0
        self.problem_count = 0

    @property
    def state(self) -> State:
        return self.differ.state

    def process(self, raw: RawPoll) -> PollOutcome:
        # The state is 100,000s of long-lived objects that hold no reference cycles; left
        # to the cyclic GC they are rescanned over and over while a poll allocates, which
        # cost more than the poll itself. So: no collection during the poll, and what
        # survives it is frozen out of the collector's sight.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._process(raw)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()

    def _process(self, raw: RawPoll) -> PollOutcome:
        poll = Poll(time=raw.time)
        read_stderr(raw.stderr, poll)
        if poll.failure is None and raw.failure is not None:
            poll.failure = raw.failure
        if poll.failure is None:
            self.parser.parse(raw.stdout, raw.time, source=raw.source, poll=poll)
            if self.interfaces:
                _keep_only(poll, self.interfaces)
        result = self.differ.apply(poll)
        self.polls += 1
        self.problem_count += len(poll.problems)
        ctx = self.context
        return PollOutcome(
            time=raw.time,
            documents=(status_docs.build(event, ctx) for event in result.events),
            problems=poll.problems,
            notices=result.notices,
            failure=poll.failure,
        )


def _keep_only(poll: Poll, interfaces: frozenset[str]) -> None:
    for name in [n for n in poll.interfaces if n not in interfaces]:
        del poll.interfaces[name]
        poll.peers.pop(name, None)
    for name in [n for n in poll.unavailable if n not in interfaces]:
        del poll.unavailable[name]
