"""`wgsiem report` on a large file of events: its time and peak memory, which must stay
bounded (buckets and peers, not events).

The events are the stolen-key-abroad scenario's week (2 peers) copied to PEERS peers (each
copy its own key, name and addresses) and repeated over DAYS days, written to a temporary
NDJSON file first; then the report is made from it in a child process, as a user runs it,
so its peak RSS is the command's own. Two sizes show whether memory follows the events.

    PYTHONPATH=. python benchmarks/bench_report.py [--peers 200] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "fixtures" / "scenarios" / "stolen-key-abroad" / "events.ndjson"
WEEK_MS = 7 * 86_400_000
TARGET_RSS_MIB = 300
CHILD = """
import resource, sys, time
from wgsiem.cli import main
t = time.process_time()
try:
    main()
except SystemExit:
    pass
print(time.process_time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def write_events(path: Path, peers: int, days: int) -> int:
    from wgsiem.detection.timestamps import iso, parse_ms

    base = [json.loads(line) for line in BASE.read_text().splitlines()]
    weeks = max(1, days // 7)
    n = 0
    with path.open("w") as out:
        for week in range(weeks):
            for doc in base:  # time order: week by week, every copy of an event together
                for copy in range(peers // 2):
                    d = json.loads(json.dumps(doc))
                    d["@timestamp"] = iso(parse_ms(d["@timestamp"]) + week * WEEK_MS)
                    peer = (d.get("wireguard") or {}).get("peer")
                    if peer:
                        peer["public_key"] = f"{copy:06d}" + peer["public_key"][6:]
                        peer["name"] = f"{peer.get('name', 'peer')}-{copy}"
                    if "source" in d and "ip" in d["source"] and "." in d["source"]["ip"]:
                        d["source"]["address"] = d["source"]["address"].replace(d["source"]["ip"], d["source"]["ip"] + f"{copy % 7}")
                    out.write(json.dumps(d, separators=(",", ":")) + "\n")
                    n += 1
    return n


def measure(events: Path, out: Path) -> tuple[float, float, int]:
    wall = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "report", str(events), "-o", str(out)], capture_output=True, text=True, cwd=REPO, check=False)
    wall = time.perf_counter() - wall
    cpu, rss = proc.stderr.strip().splitlines()[-1].split()
    return float(cpu), wall, int(rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for peers in (args.peers // 4, args.peers):
            events = Path(tmp) / f"events-{peers}.ndjson"
            t = time.perf_counter()
            n = write_events(events, peers, args.days)
            size = events.stat().st_size
            print(f"{peers} peers, {args.days} days: {n:,} events, {size / 2**20:.0f} MiB (written in {time.perf_counter() - t:.0f} s)")
            cpu, wall, rss = measure(events, Path(tmp) / "report.html")
            html = (Path(tmp) / "report.html").stat().st_size
            verdict = "PASS" if rss / 1024 <= TARGET_RSS_MIB else "OVER"
            print(f"  report: {cpu:.1f} s CPU, {wall:.1f} s wall, {n / cpu:,.0f} events/s, page {html / 2**20:.1f} MiB")
            print(f"  peak RSS {rss / 1024:.0f} MiB (target <= {TARGET_RSS_MIB} MiB at any size): {verdict}")
    print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
