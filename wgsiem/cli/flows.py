"""The conntrack side of `wgsiem ship`: follow the connection tracker's events (live, or a
file conntrack writes), parse them, count them, and say once what goes wrong."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from ..adapters.conntrack import MAX_BYTES_PER_READ, ConntrackEvents
from ..adapters.follow import FileFollower, Follower, line_of
from ..config import ShipConfig
from ..conntrack import ConntrackParser, ConntrackProblem, ConntrackRecord
from ..ecs.document import human_duration
from ..replay.capture import flow_summary
from ..shipper import Shipper
from .setup import log


def open_conntrack(cfg: ShipConfig) -> Follower | None:
    if cfg.conntrack == "off":
        return None
    if cfg.conntrack == "live":
        return ConntrackEvents(cfg.conntrack_program)
    return FileFollower(Path(cfg.conntrack), MAX_BYTES_PER_READ, numbered=True)


class FlowWatch:
    """The conntrack lines read since the last poll → records for `Shipper.process_interval`.

    One parser for the whole run, so a live stream's lines are numbered from the start;
    a file's lines carry their number in the file from the follower (restarts and
    rotations included). Malformed lines are logged with file, line and field and counted
    with the shipper's (its health's malformed_lines)."""

    def __init__(self, follower: Follower | None) -> None:
        self.follower = follower
        self.parser = ConntrackParser(follower.name if follower is not None else "conntrack")
        self.counts: Counter[str] = Counter()  # records, malformed, undated: as convert counts them
        self.position: str | None = None
        self.failed = False
        self.warned_undated = False
        self.lost = 0

    def start(self, shipper: Shipper) -> None:
        follower = self.follower
        if follower is None:
            return
        follower.start(shipper.state.log_positions.get(follower.name))
        if isinstance(follower, FileFollower) and not follower.path.exists():
            log.warning(
                "%s does not exist (yet): waiting for `conntrack -E -o timestamp,extended,id >> %s` to write it",
                follower.path,
                follower.path,
            )
        if isinstance(follower, ConntrackEvents) and follower.gap is not None:
            since, until = follower.gap
            log.warning(
                "conntrack live: connection events from %s to %s (%s) were not seen: wgsiem ship was not"
                " running, and a live stream cannot be read back, so connections that began or ended then"
                " have no flow-started or flow-ended event. --conntrack FILE, a file `conntrack -E` writes"
                " (deploy/wgsiem-conntrack.service), keeps them across restarts",
                _iso(since),
                _iso(until),
                human_duration(until - since),
            )

    def read(self, shipper: Shipper) -> list[ConntrackRecord]:
        follower = self.follower
        if follower is None:
            return []
        lines = follower.read()
        records = []
        parser = self.parser
        for text, position in lines:
            number = line_of(position)
            if number is not None:
                parser.line = number - 1  # the file's own numbering, restarts included
            item = parser.parse(text)
            if item is None:
                continue
            if isinstance(item, ConntrackProblem):
                self.counts["malformed"] += 1
                shipper.problem_count += 1
                log.warning("malformed conntrack line skipped: %s", item)
            elif item.time is None:
                self.counts["undated"] += 1
            else:
                self.counts["records"] += 1
                records.append(item)
        if lines:
            self.position = lines[-1][1]
        self._check(follower)
        return records

    def _check(self, follower: Follower) -> None:
        if isinstance(follower, ConntrackEvents):
            if follower.position is not None:
                self.position = follower.position  # seen up to now, lines or none
            if follower.lost > self.lost:
                if not self.lost:
                    log.warning(
                        "conntrack -E is losing events (ENOBUFS: its netlink socket buffer overflowed):"
                        " some flows are missing; a shorter --interval reads the stream more often"
                    )
                self.lost = follower.lost
        if follower.failure is not None and not self.failed:
            log.error("conntrack: %s; wireguard.status events go on without flows", follower.failure)
            self.failed = True
        if self.counts["undated"] and not self.warned_undated:
            log.warning(
                "%s: conntrack lines without a time are skipped: they cannot be placed among the polls;"
                " write them with `conntrack -E -o timestamp,extended,id`",
                follower.name,
            )
            self.warned_undated = True

    def saved(self, shipper: Shipper) -> None:
        """After the documents are written: where the stream was read up to, into the state."""
        if self.follower is not None and self.position is not None:
            shipper.state.log_positions[self.follower.name] = self.position

    def summary(self, shipper: Shipper) -> str:
        said = f"; {self.follower.name if self.follower is not None else 'conntrack'}: {flow_summary(self.counts, shipper.flows.counts)}"
        return said + (f", events lost {self.lost} times (ENOBUFS)" if self.lost else "")

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()


def _iso(time: float) -> str:
    return datetime.fromtimestamp(time, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
