"""An offline detection engine: runs the project's Elastic Security rules (query,
threshold, new_terms) over ECS events the way Kibana's detection engine would if the
events were in Elasticsearch and each rule ran on its schedule. docs/detection-engine.md
maps it to Kibana's executors."""

from .engine import MAX_SIGNALS_WARNING, RuleStats, RunResult, run_rules
from .events import EventSet, LoadedEvents, load_events

__all__ = ["MAX_SIGNALS_WARNING", "EventSet", "LoadedEvents", "RuleStats", "RunResult", "load_events", "run_rules"]
