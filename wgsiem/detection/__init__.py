"""A detection engine for the project's Elastic Security rules (query, threshold,
new_terms): offline over ECS events (`run_rules`), the way Kibana's detection engine
would if the events were in Elasticsearch and each rule ran on its schedule, or with
Kibana's searches sent to a real cluster (`run_rules_on_cluster`), with the same alerts.
docs/detection-engine.md maps it to Kibana's executors."""

from .alerts import MAX_SIGNALS_WARNING
from .cluster import run_rules_on_cluster
from .engine import RuleStats, RunResult, run_rules
from .events import EventSet, LoadedEvents, load_events

__all__ = ["MAX_SIGNALS_WARNING", "EventSet", "LoadedEvents", "RuleStats", "RunResult", "load_events", "run_rules", "run_rules_on_cluster"]
