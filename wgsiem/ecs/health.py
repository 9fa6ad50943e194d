"""The shipper's own health: the tally `ship` keeps, and the `shipper-health` document of it.

A broken monitor is silent, and silence also looks like a quiet VPN. So `ship` writes one
`shipper-health` event at start-up and every --health-interval seconds, into
`wireguard.status` with the rest: what went wrong since the previous one (failed polls,
wg's errors, malformed lines, dropped documents) makes its `event.outcome` a failure, and
a host whose health events stop has stopped sending (docs/operate.md, "When a host stops
sending"). The Prometheus endpoint serves the same tally as `wgsiem_*` (metrics/health.py).

The event is built from numbers only: two snapshots of the tally and their times. It has
no peer, key, endpoint or configuration in it, so it cannot carry key material.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .. import __version__
from . import document
from .catalogue import status_actions
from .document import Context, timestamp
from .status import DATASET, NS


class Counted(Protocol):
    """What the tally reads of the shipper (wgsiem.shipper.Shipper), which sits above this layer."""

    polls: int
    wg_errors: int
    problem_count: int
    log_counts: Mapping[str, int]

ACTION = "shipper-health"
SHIPPER_ACTIONS = (ACTION,)


@dataclass(slots=True)
class Health:
    """Totals since the shipper started, and gauges as of the latest poll."""

    polls: int = 0
    poll_failures: int = 0  # polls where wg could not be run or read nothing
    wg_errors: int = 0  # polls where wg ran and complained: something on stderr, or a non-zero exit
    malformed_lines: int = 0  # dump and conntrack lines skipped, with file, line and field in the log
    documents_written: int = 0  # handed to the output (the file, stdout, or the spool)
    log_lines: int = 0  # kernel and wg-quick lines about WireGuard
    last_success: float = 0.0  # unix time of the last poll that read wg (0: none yet)
    spooled_documents: int = 0  # --output elasticsearch: waiting in the spool
    spooled_bytes: int = 0
    dropped_documents: int = 0  # lost because the spool was full


# What a health event counts over its interval (the difference of two snapshots), and which
# of those counts make the interval a failure: each is monitoring that did not happen.
COUNTS = ("polls", "poll_failures", "wg_errors", "malformed_lines", "documents_written", "dropped_documents")
FAILURES = ("poll_failures", "wg_errors", "malformed_lines", "dropped_documents")


def build(since: Health, since_time: float, now: Health, time: float, ctx: Context) -> dict[str, Any]:
    """The health event at `time` for the interval from `since_time` (the previous health
    event, or the shipper's start) to `time`: `since` and `now` are the tally then and now."""
    counts = {name: getattr(now, name) - getattr(since, name) for name in COUNTS}
    shipper: dict[str, Any] = {
        **counts,
        "spool_documents": now.spooled_documents,
        "spool_bytes": now.spooled_bytes,
        "version": __version__,
    }
    if now.last_success:
        shipper["last_successful_poll"] = timestamp(now.last_success)
    failed = any(counts[name] > 0 for name in FAILURES)
    action = status_actions()[ACTION]
    doc = document.base(DATASET, action, time, ctx)
    del doc["network"]  # the shipper's own numbers: no connection
    ev = doc["event"]
    ev["outcome"] = "failure" if failed else "success"
    start = min(since_time, time)
    ev["start"] = timestamp(start)
    ev["end"] = timestamp(time)
    ev["duration"] = round((time - start) * NS)
    doc["wireguard"] = {"shipper": shipper}
    doc["message"] = action.message.format(**counts, spool_documents=now.spooled_documents, outcome=ev["outcome"])
    ev["id"] = document.event_id(ctx.host_name, DATASET, ACTION, time, shipper)
    return doc


def tally(health: Health, shipper: Counted, ok: bool, started: float, written: int) -> None:
    """The tally after a poll that began at `started`: the shipper's own counts, whether the
    poll read wg, and the documents written for it (the spool is the output's to add)."""
    health.polls = shipper.polls
    health.poll_failures += 0 if ok else 1
    health.wg_errors = shipper.wg_errors
    health.malformed_lines = shipper.problem_count
    health.documents_written += written
    health.log_lines = shipper.log_counts["wireguard"]
    if ok:
        health.last_success = started


class HealthEvents:
    """When the shipper writes shipper-health, and what each counts: the first after the first
    poll, then one every `every` seconds, each with the counts since the one before (a
    snapshot of the tally). `ship` runs it on the wall clock; `replay` on the capture's poll
    times, as a clock that moves only by waiting (ship's loop, polls taking no time)."""

    def __init__(self, health: Health, every: float, started: float) -> None:
        self.health = health
        self.every = every
        self.since = replace(health)
        self.since_time = started
        self.due = started  # the first is due at once: the start-up event

    def is_due(self, now: float, next_poll: float | None = None) -> bool:
        """Whether one is to be written at `now`: after a poll, once due; while waiting for
        `next_poll`, only before it: one due with a poll waits for that poll, to count it."""
        return self.due <= now and (next_poll is None or now < next_poll)

    def take(self, now: float, ctx: Context) -> dict[str, Any]:
        """The event at `now`, and the next one due `every` seconds later. The caller adds
        what writing it wrote to the tally, after this snapshot: the next event counts it."""
        doc = build(self.since, self.since_time, self.health, now, ctx)
        self.since, self.since_time = replace(self.health), now
        self.due = now + self.every
        return doc
