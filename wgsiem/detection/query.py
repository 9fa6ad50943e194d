"""Custom query rules: one alert per matching event (query/query.ts →
utils/search_after_bulk_create.ts and search_after_bulk_create_factory.ts).

Kibana pages through the range sorted by `@timestamp` ascending, wraps every hit into an
alert whose id depends only on the event and the rule (wrap_hits.ts), and lets the
persistence wrapper drop ids the alerts index already holds (filterDuplicateAlerts in
create_persistence_rule_type_wrapper.ts). That is what keeps overlapping windows from
alerting twice. Of the remaining new alerts it writes at most max_signals, the earliest
first, and reports the max-signals warning once a page holds a new alert past the cap.
An event left out that way is only picked up by a later execution whose range still
covers it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .alerts import NewAlerts, RuleContext, build_alert, query_alert_id
from .events import EventSet
from .matching import RuleEvents
from .schedule import Execution


class QueryExecutor:
    def __init__(self, ctx: RuleContext, events: EventSet, rule_events: RuleEvents, max_signals: int) -> None:
        self.ctx = ctx
        self.events = events
        self.rule_events = rule_events
        self.alerts = NewAlerts(max_signals)

    def run(self, execution: Execution) -> tuple[list[dict[str, Any]], bool]:
        created: list[dict[str, Any]] = []
        # Keyed by position: the alert id is a function of the event alone.
        window = self.rule_events.window(execution.started_at, execution.start, execution.end)
        capped = self.alerts.add(created, ((pos, partial(self._alert, pos, execution)) for pos in window))
        return created, capped

    def _alert(self, pos: int, execution: Execution) -> dict[str, Any]:
        events = self.events
        return query_alert(self.ctx, events.docs[pos], events.index(pos), events.doc_id(pos), events.ts[pos], execution)


def query_alert(ctx: RuleContext, source: dict[str, Any], index: str, doc_id: str, ts: int, execution: Execution) -> dict[str, Any]:
    """The alert of one hit (`_source`, index, `_id`, its `@timestamp` in epoch ms)."""
    return build_alert(
        ctx,
        source,
        alert_id=query_alert_id(index, doc_id, ctx.uuid),
        parent_id=doc_id,
        parent_index=index,
        started_at=execution.started_at,
        original_time=ts,
    )
