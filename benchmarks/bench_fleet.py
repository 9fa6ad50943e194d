"""A synthetic fleet (wgsiem/replay/fleet.py) through the shipper, the ingest pipeline and
every rule: how many alerts ordinary life raises, and which planted attacks are found.

A measurement, not a test: it always exits 0 and prints the targets beside the figures.

* without --attacks: alerts per day, overall and per rule (target: 0), each alert put down
  to the ordinary change behind it where there is one (an onboarded peer's first
  connection), and the first few of the others shown;
* with --attacks: for each planted attack, whether an alert of one of its rules about its
  peer or source came within its time (an hour; three for the site outage) of it (target:
  all found), which of its rules fired, and the alerts no attack explains (target: the
  same as without attacks);
* runtime per stage (CPU seconds, one core; `flows` is making and parsing the inner flows'
  conntrack lines) and peak memory. `--no-flows` runs the same fleet without its inner
  flows (no conntrack), to see what they cost; its flow attacks then go unfound.

The rules execute from --warmup-days after the start (default: 7 for a month, see
fleet.default_warmup): the days before are history for the new-terms rules (30 days),
the transfer baselines and the sessions. docs/fleet.md describes the fleet and the figures.

    PYTHONPATH=. python benchmarks/bench_fleet.py [--peers 1000] [--days 30] [--seed 1] [--attacks] [--no-flows]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wgsiem.geoworld import DEFAULT_SOURCE, build_world  # noqa: E402
from wgsiem.replay.fleet import (  # noqa: E402
    alert_key,
    alert_source,
    default_warmup,
    fleet_story,
    life_changes,
    match_plants,
    per_day,
    run_fleet,
)
from wgsiem.rules.model import load_rules  # noqa: E402

TARGET_SECONDS = 600


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--attacks", action="store_true")
    parser.add_argument("--warmup-days", type=int, default=None, help="days of history before the rules run (default: 7 for a month)")
    parser.add_argument("--poll-every", type=int, default=300, help="seconds between polls (default 300)")
    parser.add_argument("--show", type=int, default=10, help="unexplained alerts to show (default 10)")
    parser.add_argument("--no-flows", action="store_true", help="no inner flows (conntrack): the fleet as it was before them")
    args = parser.parse_args()
    warmup = default_warmup(args.days) if args.warmup_days is None else args.warmup_days

    wall = time.perf_counter()
    cpu = time.process_time()
    story, planted = fleet_story(args.peers, args.days, args.seed, args.attacks, poll_every=args.poll_every, warmup_days=warmup)
    story_cpu = time.process_time() - cpu
    rules = load_rules()
    changes = life_changes(story)
    print(f"fleet: {args.peers} peers x {args.days} days, seed {args.seed}, attacks: {'yes' if args.attacks else 'no'}")
    print(f"  polls every {args.poll_every} s; rules run from day {warmup} (days before are history); {len(rules)} rules")
    print(f"  story: {len(story['peers'])} peers in the story, {len(story['timeline'])} timeline entries,"
          f" {sum(1 for v in changes.values() if v == 'onboarding')} onboardings,"
          f" {sum(1 for v in changes.values() if v == 'key rotation')} key rotations")  # fmt: skip
    sites = {k for k, v in story["peers"].items() if str(v.get("name", "")).startswith("site-")}
    pulling = {e["peer"] for e in story["timeline"] if "tx" in e and e.get("peer") in sites}
    blips = sum(1 for e in story["timeline"] if "silent" in e and e.get("peer") in sites) - sum(p.kind == "site-outage" for p in planted)
    down, up = (int(seg["until"].removesuffix("s")) for seg in story["polls"][:2])  # the shipper outage's polls
    print(f"  {len(sites)} always-on sites, {len(pulling)} of them replicating nightly (tagged backup), {blips} site blips;"
          f" shipper stopped on day {down // 86400} {down % 86400 // 3600:02d}:{down % 3600 // 60:02d} for {(up - down) // 60} min")  # fmt: skip

    def progress(done: int, total: int) -> None:
        print(f"  ... {done}/{total} polls, {time.perf_counter() - wall:.0f} s", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        geo = Path(tmp)
        build_world(DEFAULT_SOURCE, geo)
        run = run_fleet(story, geo, warmup_days=warmup, rules=rules, progress=progress, flows=not args.no_flows)
    elapsed = time.perf_counter() - wall

    days = (run.rules_end - run.rules_start).total_seconds() / 86400
    print(f"events: {run.polls:,} polls and {run.log_lines:,} kernel lines -> {run.documents:,} shipper documents"
          f" -> {run.events:,} events; {run.kept:,} match some rule's query; {run.failed_polls} polls where wg failed")  # fmt: skip
    print(f"  inner flows: {run.flow_lines:,} conntrack lines -> {run.flow_events:,} wireguard.flow events" if run.flow_lines else "  inner flows: none")
    for problem in run.problems[:10]:
        print(f"  ! {problem}")

    by_plant, rest = match_plants(planted, run.alerts)
    print(f"alerts: {len(run.alerts)} over {days:.1f} judged days = {per_day(run.alerts, run.rules_start, run.rules_end):.2f}/day")
    if planted:
        print(f"  of which {len(run.alerts) - len(rest)} about the planted attacks")
    verdict = "PASS" if not rest else "OVER"
    print(f"  not about an attack (ordinary life): {len(rest)} = {per_day(rest, run.rules_start, run.rules_end):.2f}/day"
          f"  (target 0) {verdict}")  # fmt: skip
    counts = Counter(a["kibana.alert.rule.name"] for a in rest)
    causes = Counter((a["kibana.alert.rule.name"], changes.get(alert_key(a) or "", "unexplained")) for a in rest)
    for rule in sorted(r.name for r in rules):
        n = counts.get(rule, 0)
        why = ", ".join(f"{c} {cause}" for (r, cause), c in sorted(causes.items()) if r == rule)
        print(f"    {n:5d}  {n / days:6.2f}/day  {rule}" + (f"  ({why})" if why else ""))
    unexplained = [a for a in rest if alert_key(a) not in changes]
    if unexplained:
        print(f"  unexplained alerts, the first {min(args.show, len(unexplained))} of {len(unexplained)}:")
        for a in unexplained[: args.show]:
            print(f"    {a['kibana.alert.original_time']} {a['kibana.alert.rule.name']}: {a.get('message')}"
                  f" [key {alert_key(a)}, source {alert_source(a)}]")  # fmt: skip

    if planted:
        found = 0
        print("planted attacks:")
        for i, p in enumerate(planted):
            fired = {a["kibana.alert.rule.name"] for a in by_plant[i]}
            found += bool(fired)
            who = p.peer or p.source
            print(f"  {'found' if fired else 'MISSED'} {p.kind} ({who}) at {p.when:%Y-%m-%d %H:%M:%S}:"
                  f" {len(fired & set(p.rules))}/{len(p.rules)} of its rules fired")  # fmt: skip
            for rule in p.rules:
                print(f"      {'+' if rule in fired else '-'} {rule}")
        share = found / len(planted)
        print(f"found: {found}/{len(planted)} = {share:.0%} (target: all) {'PASS' if found == len(planted) else 'OVER'}")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in {"story": story_cpu, **run.seconds}.items())
    print(f"runtime: {elapsed:.1f} s wall (target <= {TARGET_SECONDS} s for 1000 peers x 30 days:"
          f" {'PASS' if elapsed <= TARGET_SECONDS else 'OVER'}); CPU {stages}; peak RSS {peak:,.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
