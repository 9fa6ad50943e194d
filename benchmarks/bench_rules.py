"""Events per second through the offline detection engine (`wgsiem rules run`). Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside the targets.
The events are a synthetic fleet written as the shipper writes them: PEERS peers on 4 hosts
polled every 30 s, each with handshakes every 2 minutes, a transfer event per poll while
active, sessions, an occasional roam, and kernel log lines (keepalives, initiations,
invalid handshakes from scanners). Timestamps advance through the set, so every rule runs
on its schedule over the whole span (thousands of executions per rule).

Four runs over the same events, after decoding them from NDJSON once:

* query rules only (target: >= 100,000 events/s per core);
* every rule (target: the whole set within 60 s);
* every rule with an exception list on each (a keyword value list of 10,000 names, an
  ip_range list of 5,000 CIDR blocks and 100 ranges, a wildcard and a match): the cost of
  exceptions (same 60 s target);
* `wgsiem rules run FILE` as a user runs it: decoding included (reported, same 60 s target).

    PYTHONPATH=. python benchmarks/bench_rules.py [--events 1000000] [--peers 2000]
"""

from __future__ import annotations

import argparse
import gc
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402

from wgsiem.detection import load_events, run_rules  # noqa: E402
from wgsiem.rules.exceptions import Entry, ExceptionItem, ExceptionList, Tuning, ValueList  # noqa: E402
from wgsiem.rules.model import load_rules  # noqa: E402

QUERY_TARGET = 100_000  # events/s per core
TOTAL_TARGET = 60.0  # seconds for the whole set
T0 = datetime(2026, 11, 1, tzinfo=UTC)
COUNTRIES = [("198.51.100.", "NL", 64497), ("203.0.113.", "ES", 64499), ("81.2.69.", "GB", 64500), ("89.160.20.", "SE", 64501)]


def fleet(n_events: int, n_peers: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    peers = [
        {
            "key": f"{i:040d}Peer+Key=",
            "name": f"peer{i}" if i % 10 else None,
            "host": f"vpn{i % 4 + 1}",
            "home": COUNTRIES[i % len(COUNTRIES)],
            "octet": 10 + i % 240,
        }
        for i in range(n_peers)
    ]
    out: list[dict] = []
    t = T0
    step = timedelta(seconds=30)
    while len(out) < n_events:
        t += step
        stamp = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for p in rnd.sample(peers, k=min(len(peers), 150)):
            prefix, country, asn = p["home"]
            ip = f"{prefix}{p['octet']}"
            roll = rnd.random()
            if roll < 0.55:
                volume = {"source": {"bytes": rnd.randrange(10**6)}, "destination": {"bytes": rnd.randrange(10**6)}}
                out.append(_status(p, stamp, "transfer", ip, country, asn, volume))
            elif roll < 0.75:
                out.append(_status(p, stamp, "handshake", ip, country, asn))
            elif roll < 0.78:
                silence = {"wireguard": {"peer": {"public_key": p["key"], "silence_seconds": rnd.randrange(86400)}}}
                out.append(_status(p, stamp, "session-started", ip, country, asn, silence))
            elif roll < 0.80:
                out.append(_status(p, stamp, "endpoint-changed", f"{prefix}{rnd.randrange(256)}", country, asn))
            elif roll < 0.95:
                out.append(_log(p, stamp, rnd.choice(["keepalive-received", "handshake-initiation-received", "keypair-created"]), ip))
            else:
                out.append(_log(p, stamp, "handshake-invalid", f"67.43.156.{rnd.randrange(8)}"))
    return out[:n_events]


def _status(p, stamp, action, ip, country, asn, extra=None):  # noqa: ANN001, ANN202
    doc = {
        "@timestamp": stamp,
        "event": {"dataset": "wireguard.status", "module": "wireguard", "action": action, "kind": "event", "id": f"{stamp}{p['key']}{action}"},
        "host": {"name": p["host"]},
        "source": {"ip": ip, "geo": {"country_iso_code": country}, "as": {"number": asn}},
        "wireguard": {"peer": {"public_key": p["key"]}},
    }
    if p["name"]:
        doc["wireguard"]["peer"]["name"] = p["name"]
    for key, value in (extra or {}).items():
        doc.setdefault(key, {}).update(value)
    return doc


def _log(p, stamp, action, ip):  # noqa: ANN001, ANN202
    return {
        "@timestamp": stamp,
        "event": {"dataset": "wireguard.log", "module": "wireguard", "action": action, "kind": "event", "id": f"{stamp}{p['key']}{action}"},
        "host": {"name": p["host"]},
        "source": {"ip": ip},
        "wireguard": {"peer": {"public_key": p["key"]}},
    }


def heavy_tuning(rules) -> Tuning:  # noqa: ANN001
    """One shared list on every rule: names in a large keyword list, sources in a large
    ip_range list, or a host pattern with a peer; each item takes out some of the events."""
    names = ValueList(Path("names.toml"), "names", "names", "d", "keyword", tuple(f"peer{i}" for i in range(1, 20000, 2)))
    blocks = [f"10.{i // 256}.{i % 256}.0/24" for i in range(5000)] + [f"172.16.{i}.1-172.16.{i}.200" for i in range(100)]
    blocks.append("198.51.100.0/28")
    nets = ValueList(Path("nets.toml"), "nets", "nets", "d", "ip_range", tuple(blocks))
    items = (
        ExceptionItem("a", "a", "", "single", (Entry("wireguard.peer.name", "list", "included", list_id="names", list_type="keyword"),
                                                Entry("host.name", "match", "included", "vpn1")), None, None, (), ()),
        ExceptionItem("b", "b", "", "single", (Entry("source.ip", "list", "included", list_id="nets", list_type="ip_range"),), None, None, (), ()),
        ExceptionItem("c", "c", "", "single", (Entry("host.name", "wildcard", "included", "vpn?"),
                                                Entry("wireguard.peer.name", "match_any", "included", ("peer2", "peer4"))), None, None, (), ()),
    )  # fmt: skip
    shared = ExceptionList(Path("bench.toml"), "bench", "bench", "", "detection", "single", (), tuple(r.rule_id for r in rules), items)
    return Tuning((shared,), {"names": names, "nets": nets})


def timed(rules, events) -> tuple[float, int]:  # noqa: ANN001
    gc.collect()
    start = time.process_time()
    result = run_rules(rules, events)
    return time.process_time() - start, len(result.alerts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--peers", type=int, default=2000)
    args = parser.parse_args()

    rules = load_rules()
    query_rules = [r for r in rules if r.type == "query"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.ndjson"
        path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in fleet(args.events, args.peers)))
        events = load_events(path).events
        span = (datetime.fromisoformat(events[-1]["@timestamp"]) - datetime.fromisoformat(events[0]["@timestamp"]))
        print(f"{len(events):,} events over {span}, {len(rules)} rules ({len(query_rules)} query)")

        seconds, alerts = timed(query_rules, events)
        rate = len(events) / seconds
        print(f"query rules only: {seconds:.1f} s CPU, {rate:,.0f} events/s, {alerts} alerts "
              f"(target >= {QUERY_TARGET:,}/s: {'PASS' if rate >= QUERY_TARGET else 'OVER'})")

        seconds, alerts = timed(rules, events)
        print(f"every rule: {seconds:.1f} s CPU, {len(events) / seconds:,.0f} events/s, {alerts} alerts "
              f"(target <= {TOTAL_TARGET:.0f} s: {'PASS' if seconds <= TOTAL_TARGET else 'OVER'})")

        tuning = heavy_tuning(rules)
        gc.collect()
        start = time.process_time()
        tuned = run_rules(rules, events, tuning=tuning)
        seconds = time.process_time() - start
        print(f"every rule, exceptions applied: {seconds:.1f} s CPU, {len(events) / seconds:,.0f} events/s, {len(tuned.alerts)} alerts "
              f"(target <= {TOTAL_TARGET:.0f} s: {'PASS' if seconds <= TOTAL_TARGET else 'OVER'})")

        del events, tuned
        gc.collect()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "wgsiem", "rules", "run", str(path)], capture_output=True, cwd=REPO)
        wall = time.perf_counter() - start
        lines = proc.stdout.count(b"\n")
        print(f"`wgsiem rules run` (decoding included): {wall:.1f} s wall, exit {proc.returncode}, "
              f"{lines} alerts (target <= {TOTAL_TARGET:.0f} s: {'PASS' if wall <= TOTAL_TARGET else 'OVER'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
