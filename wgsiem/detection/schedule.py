"""When a rule executes in a replay, and what time range each execution searches.

Kibana's task manager starts a rule every `interval`; each execution searches
[`from`, `to`] resolved against its start (`now-6m` .. `now`, get_rule_range_tuples in
rule_types/utils/utils.ts). A replay starts the first execution at `start` and keeps
going until one reaches `end`, so the last event is always inside some execution's
range. No execution is ever late or missed offline, so Kibana's gap catch-up tuples
(getCatchupTuples) never come into play.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from wgsiem.rules.model import Rule

from .timestamps import timedelta_ms


@dataclass(frozen=True, slots=True)
class Execution:
    started_at: int  # epoch ms; also `now` for the rule's date math and the alerts' @timestamp
    start: int  # `from` resolved: started_at - lookback
    end: int  # `to` resolved (`now`)


def executions(rule: Rule, start: int, end: int) -> Iterator[Execution]:
    """start, start + interval, ... up to and including the first at or after `end`."""
    interval = timedelta_ms(rule.interval)
    lookback = timedelta_ms(rule.lookback)
    if interval <= 0:
        raise ValueError(f"rule {rule.rule_id}: interval must be positive")
    at = start
    while True:
        yield Execution(started_at=at, start=at - lookback, end=at)
        if at >= end:
            return
        at += interval


class Outcome(NamedTuple):
    """What one execution of a rule gave: the alerts it created (an alert it suppressed
    into an earlier one updates that one in place), the max-signals warning it reported
    if any, and how many alerts it suppressed (Kibana's suppressedAlertsCount)."""

    created: list[dict[str, Any]]
    warning: str | None = None
    suppressed: int = 0
