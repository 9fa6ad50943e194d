"""One scenario end to end: captures → the shipper → the ingest pipeline → the rules →
alerts, checked against the scenario's expectations and its golden events."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..adapters.capture import CONNTRACK_LOG, read_capture
from ..enrich.registry import Registry
from ..ingest.document import IngestDocument
from ..ingest.errors import DropDocument, IngestError
from ..ingest.pipeline import Pipeline
from ..mappings.datastreams import data_stream_index
from ..rules.exceptions import Tuning
from ..rules.model import Rule
from ..shipper import DRIFT_AFTER, Shipper
from ..status.state import State
from .capture import capture_documents, read_flows, read_logs, with_health
from .expect import Coverage, check, describe
from .scenario import SCENARIO_FILE, Scenario

# The shipper's preshared-key hashes only need to compare within a run; a fixed secret
# keeps a replay's documents identical from run to run.
REPLAY_SECRET = b"wgsiem replay: not a secret, only a constant" + bytes(20)
# The pipeline's entry point for the shipper's documents.
PIPELINE = "logs-wireguard"


@dataclass
class ReplayResult:
    scenario: Scenario
    events: list[dict[str, Any]]  # as indexed: after the ingest pipeline
    alerts: list[dict[str, Any]]
    coverage: Coverage
    golden: list[str] = field(default_factory=list)  # how the events differ from events.ndjson
    problems: list[str] = field(default_factory=list)  # malformed lines, pipeline failures, rules not run

    @property
    def ok(self) -> bool:
        return not (self.coverage.failures or self.golden or self.problems)


def replay(
    scenario: Scenario,
    rules: Sequence[Rule],
    pipeline: Pipeline,
    geoip_dir: Path | None,
    *,
    update: bool = False,
    tuning: Tuning | None = None,
) -> ReplayResult:
    """The scenario's captures through the shipper and the pipeline, the rules (with
    `tuning`'s exception lists) over the events, and the alerts judged."""
    from ..detection import run_rules

    problems: list[str] = []
    documents = shipper_documents(scenario, geoip_dir, problems)
    events = [doc for doc in (ingest(pipeline, d, problems) for d in documents) if doc is not None]
    text = "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in events)
    golden: list[str] = []
    if update:
        scenario.golden.write_text(text)
    elif not scenario.golden.exists():
        golden.append(f"{scenario.golden} is missing: run `wgsiem replay --update {scenario.path}` and review it")
    else:
        golden = golden_diff(scenario.golden.read_text(), text)
    result = run_rules(rules, events, start=scenario.rules_start, end=scenario.rules_end, tuning=tuning)
    for stats in result.stats.values():
        if stats.error:
            problems.append(f"rule {stats.name}: not run: {stats.error}")
    return ReplayResult(scenario, events, result.alerts, check(scenario.expectations, result.alerts), golden, problems)


def replay_shipper(
    host_name: str,
    names: dict[str, str],
    geoip_dir: Path | None,
    settings: Any,
    *,
    namespace: str = "default",
    interfaces: tuple[str, ...] = (),
    registry: Registry | None = None,
    drift_after: int = DRIFT_AFTER,
) -> Shipper:
    """A new install's shipper for recorded input: empty state, the fixed secret, and the
    GeoIP databases of `geoip_dir` (none without it). Close its `context.geoip` after."""
    from ..ecs.document import Context
    from ..enrich.geoip import GeoIP
    from ..wgdump import PresharedKeyHasher

    geoip = GeoIP(city=geoip_dir / "GeoLite2-City.mmdb", asn=geoip_dir / "GeoLite2-ASN.mmdb") if geoip_dir else GeoIP()
    registry = registry or Registry()
    context = Context(
        host_name=host_name, names=names, geoip=geoip, namespace=namespace, change_windows=registry.change_windows, registry=registry.peers
    )
    return Shipper(State(), PresharedKeyHasher(REPLAY_SECRET), context, settings, interfaces=interfaces, drift_after=drift_after)


def shipper_documents(scenario: Scenario, geoip_dir: Path | None, problems: list[str]) -> list[dict[str, Any]]:
    """What `wgsiem convert` makes of the scenario's capture (and kernel log), and the
    shipper-health events `ship` would have written among them if the scenario sets
    health_interval. Failed polls other than the scenario's poll_failures are problems."""
    config = scenario.config
    shipper = replay_shipper(scenario.host_name, scenario.peers, geoip_dir if scenario.geoip else None, config.diff_settings(),
                             namespace=config.namespace, interfaces=config.interfaces, registry=scenario.registry,
                             drift_after=config.wg_config_drift_after)  # fmt: skip
    polls = list(read_capture(scenario.captures))
    lines = read_logs(scenario.kernel_logs, None, polls[0].time, polls[0].time) if polls else []
    failures: list[str] = []

    def on_poll(outcome: Any) -> None:
        problems.extend(f"{scenario.captures}: {p}" for p in outcome.problems)
        if outcome.failure:
            failures.append(f"{scenario.captures}: poll at {outcome.time}: {outcome.failure}")

    conntrack = scenario.captures / CONNTRACK_LOG
    counts: Counter[str] = Counter()
    flows = read_flows(conntrack, counts, lambda p: problems.append(str(p))) if conntrack.is_file() else ()
    with shipper.context.geoip:
        if scenario.health_interval is None:
            docs = [doc for batch in capture_documents(shipper, polls, lines, on_poll, flows) for doc in batch]
        else:
            docs = list(with_health(shipper, polls, lines, scenario.health_interval, on_poll, flows=flows))
    # A failed poll is a problem unless the scenario is about them: then their number is.
    if len(failures) != scenario.poll_failures:
        if scenario.poll_failures:
            problems.append(f"{scenario.path / SCENARIO_FILE}: expect.poll_failures: {scenario.poll_failures}, but {len(failures)} polls failed")
        problems.extend(failures)
    return docs


def ingest(pipeline: Pipeline, source: dict[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """The document as Elasticsearch would index it. Ingest time is the event's own time,
    so a replay is the same every time (and event.ingested is never before @timestamp)."""
    doc = IngestDocument.from_source(source, index=data_stream_index(source), id=source["event"]["id"], now=datetime.fromisoformat(source["@timestamp"]))
    try:
        pipeline.execute(doc)
    except DropDocument:
        return None
    except IngestError as error:
        problems.append(f"pipeline {pipeline.id} failed on event {source['event']['id']}: {error}")
        return None
    out = doc.source()
    if (out.get("event") or {}).get("kind") == "pipeline_error":
        problems.append(f"pipeline {pipeline.id} on event {source['event']['id']}: {(out.get('error') or {}).get('message')}")
    return out


def golden_diff(expected: str, actual: str, limit: int = 10) -> list[str]:
    """Events added, gone or changed against the golden file, by event.id."""
    def by_id(text: str) -> dict[str, dict[str, Any]]:
        return {d["event"]["id"]: d for d in map(json.loads, text.splitlines())}

    want, got = by_id(expected), by_id(actual)
    out = [f"event {i} is new: {got[i].get('message')}" for i in got if i not in want]
    out += [f"event {i} is gone: {want[i].get('message')}" for i in want if i not in got]
    out += [f"event {i} changed: {_changed(want[i], got[i])}" for i in want if i in got and want[i] != got[i]]
    if not out and list(want) != list(got):
        out.append("the events are the same but in another order")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def _changed(want: dict[str, Any], got: dict[str, Any]) -> str:
    from ..pipelines.testing import flatten

    a, b = flatten(want), flatten(got)
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "; ".join(f"{k}: {a.get(k)!r} → {b.get(k)!r}" for k in keys[:5])


def report(result: ReplayResult, verbose: bool = False) -> str:
    """A readable account: the verdict, what failed, the alerts, and the events behind them."""
    s = result.scenario
    lines = [f"{'ok  ' if result.ok else 'FAIL'} {s.name} ({s.kind}): {len(result.events)} events, {len(result.alerts)} alerts"]
    if result.ok and not verbose:
        return lines[0]
    lines += [f"  ! {p}" for p in result.problems]
    lines += [f"  ! golden events: {g}" for g in result.golden]
    lines += [f"  ! {f}" for f in result.coverage.failures]
    if result.alerts:
        lines.append("  alerts:")
        counts = Counter(a.get("kibana.alert.rule.name") for a in result.alerts)
        for alert in result.alerts:
            lines.append(f"    - {describe(alert)}")
            lines.append(f"      event: {alert.get('kibana.alert.original_event.action')}: {alert.get('message')}")
        lines.append("  by rule: " + ", ".join(f"{n} × {c}" for n, c in sorted(counts.items())))
    return "\n".join(lines)
