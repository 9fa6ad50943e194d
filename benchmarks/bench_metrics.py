"""What does `ship --metrics-listen` cost with a large fleet? Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside each target.

It runs the real pieces in this process: a `Shipper` polls a `dumpgen.py` fleet, the
poll loop's `_update_metrics` hands the peers to a `MetricsServer` on loopback, and its
render thread renders them. Then scrapes come from another process (`curl`-like: a child
Python reading GET /metrics), and the CPU this process spends while answering is read
from `time.process_time()` (every thread of the process: the HTTP thread writing the
text, the health and process metrics rendered per scrape). Last, polls run while a child
scrapes as fast as it can, to show what scrapes take from the poll.

Targets: a scrape with 100,000 peers <= 0.2 s CPU. Also printed: the render after the
baseline poll (every peer new) and after a steady poll (1 % changed), which the render
thread does once per poll, outside both the poll and the scrapes.

    PYTHONPATH=. python benchmarks/bench_metrics.py [--peers 100000] [--scrapes 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere without PYTHONPATH
sys.path.insert(0, str(HERE))

from dumpgen import START, Fleet  # noqa: E402

from wgsiem.adapters.metrics_http import MetricsServer  # noqa: E402
from wgsiem.adapters.output import StreamOutput  # noqa: E402
from wgsiem.cli.setup import make_shipper  # noqa: E402
from wgsiem.cli.ship import _update_metrics  # noqa: E402
from wgsiem.config import ShipConfig  # noqa: E402
from wgsiem.metrics.health import Health  # noqa: E402
from wgsiem.metrics.peers import LabelOptions, PeerMetrics  # noqa: E402
from wgsiem.status.state import State  # noqa: E402
from wgsiem.wgdump.raw import RawPoll  # noqa: E402

SCRAPE_TARGET = 0.2

SCRAPER = r"""
import sys, time, urllib.request
url, count, forever = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
n = 0
while forever or n < count:
    with urllib.request.urlopen(url, timeout=120) as answer:
        size = len(answer.read())
    n += 1
    if not forever:
        print(size, flush=True)
        sys.stdin.readline()  # the parent reads its CPU clock between scrapes
"""


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "OVER"


def poll(shipper, fleet: Fleet, t: int) -> float:
    started = time.process_time()
    outcome = shipper.process(RawPoll(t, fleet.dump(t)))
    with open(os.devnull, "w") as sink:
        StreamOutput(sink).write_batch(outcome.documents)
    return time.process_time() - started


def wait_render(server: MetricsServer, before: int) -> float:
    """CPU of the render thread for the snapshot just published (it has the process to itself)."""
    started = time.process_time()
    deadline = time.monotonic() + 600
    while server.peers.rendered_peers == before and time.monotonic() < deadline:
        time.sleep(0.01)
    while server._pending is not None or server._wake.is_set():  # noqa: SLF001 - measuring the thread
        time.sleep(0.01)
    time.sleep(0.05)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", type=int, default=100_000, help="peers in the fleet [100000]")
    ap.add_argument("--changed", type=float, default=0.01, help="fraction of peers changed per steady poll [0.01]")
    ap.add_argument("--scrapes", type=int, default=5, help="scrapes measured [5]")
    ap.add_argument("--remote", action="store_true", help="with remote_ip/remote_port labels (--metrics-remote-endpoint)")
    args = ap.parse_args(argv)

    fleet = Fleet(args.peers)
    cfg = ShipConfig()
    shipper = make_shipper(cfg, os.urandom(32), {}, State())
    server = MetricsServer(("127.0.0.1", 0), PeerMetrics(LabelOptions(remote_endpoint=args.remote)), Health()).start()
    url = f"http://127.0.0.1:{server.address[1]}/metrics"
    out = StreamOutput(open(os.devnull, "w"))  # noqa: SIM115 - for the process's life
    print(f"{args.peers:,} peers, {'with' if args.remote else 'without'} remote_ip/remote_port labels\n")

    t = START
    poll(shipper, fleet, t)
    _update_metrics(server, shipper, out, True, float(t), 0)
    cold = wait_render(server, 0)
    print(f"render after the baseline poll (every peer new): {cold:.3f} s CPU, in the render thread")
    t += 30
    fleet.step(args.changed, t)
    steady_poll = poll(shipper, fleet, t)
    before = server.peers.rendered_peers
    started = time.process_time()
    _update_metrics(server, shipper, out, True, float(t), 0)
    handover = time.process_time() - started
    warm = wait_render(server, before)
    print(f"a steady poll ({args.changed:.0%} of the peers changed): {steady_poll:.3f} s CPU;"
          f" handing its peers to the endpoint {handover * 1000:.1f} ms in the poll")  # fmt: skip
    print(f"render after it: {warm:.3f} s CPU in the render thread ({server.peers.rendered_peers - before:,} peers written again)\n")

    child = subprocess.Popen([sys.executable, "-c", SCRAPER, url, str(args.scrapes), "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    costs, sizes = [], []
    for _ in range(args.scrapes):
        started = time.process_time()
        line = child.stdout.readline() if child.stdout else ""
        costs.append(time.process_time() - started)
        sizes.append(int(line))
        if child.stdin:
            child.stdin.write("\n")
            child.stdin.flush()
    child.wait()
    worst = max(costs)
    print(f"scrape: {sizes[0] / 1e6:.1f} MB; CPU of this process per scrape: median {statistics.median(costs):.3f} s,"
          f" max {worst:.3f} s [{verdict(worst, SCRAPE_TARGET)}]  (target <= {SCRAPE_TARGET} s)")  # fmt: skip

    quiet = [poll_and_hand(shipper, server, fleet, out, t := t + 30, args.changed) for _ in range(3)]
    busy_child = subprocess.Popen([sys.executable, "-c", SCRAPER, url, "0", "1"], stdout=subprocess.DEVNULL)
    time.sleep(1.0)
    busy = [poll_and_hand(shipper, server, fleet, out, t := t + 30, args.changed) for _ in range(3)]
    busy_child.kill()
    busy_child.wait()
    print(f"steady poll wall time, no scrapes: {statistics.median(quiet):.3f} s; while a client scrapes without pause:"
          f" {statistics.median(busy):.3f} s (the poll shares the interpreter with the scrapes, never waits on them)")  # fmt: skip
    server.close()
    return 0


def poll_and_hand(shipper, server: MetricsServer, fleet: Fleet, out: StreamOutput, t: int, changed: float) -> float:
    fleet.step(changed, t)
    started = time.monotonic()
    outcome = shipper.process(RawPoll(t, fleet.dump(t)))
    out.write_batch(outcome.documents)
    _update_metrics(server, shipper, out, True, float(t), 0)
    return time.monotonic() - started


if __name__ == "__main__":
    threading.excepthook = lambda args: print(f"thread failed: {args.exc_value}", file=sys.stderr)
    sys.exit(main())
