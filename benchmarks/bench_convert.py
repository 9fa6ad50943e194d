"""How fast and how big is `wgsiem convert`, run as a user runs it? Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside each target.

1. The first poll of a large fleet: `dumpgen.py` writes a one-poll capture of --peers
   peers (in a child), then `python -m wgsiem convert CAPTURE > file` runs as a process of
   its own; its CPU (user + system, process start and imports included) and peak resident
   memory are read from the kernel when it ends (`wait4`). Targets for 100,000 peers:
   <= 3 s CPU, <= 200 MB.
2. Streaming: captures of --stream-peers peers over 15 and over 30 days, a poll every
   --stream-interval seconds, converted the same way; the peak memory must not grow with
   the capture's length (target: the 30-day run within 5 % of the 15-day run). The state
   does grow for the first 14 days: each peer's daily transfer history, the spike
   baseline (spike_window_days), is full from then on.

    PYTHONPATH=. python benchmarks/bench_convert.py [--peers 100000] [--skip-stream]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CPU_TARGET, RSS_TARGET_MB, GROWTH_TARGET = 3.0, 200.0, 0.05


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "OVER"


def generate(peers: int, directory: Path, polls: int = 1, interval: int = 30, changed: float = 0.01) -> None:
    argv = [sys.executable, str(HERE / "dumpgen.py"), str(peers), str(directory), "--polls", str(polls), "--interval", str(interval),
            "--changed", str(changed)]  # fmt: skip
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def convert(capture: Path, out: Path) -> tuple[float, float, float, int]:
    """CPU seconds, peak RSS in MB and wall seconds of one `wgsiem convert` process, and its documents."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "wgsiem", "convert", str(capture), "--host-name", "vpn1"], stdout=sink,
                                stderr=subprocess.DEVNULL, env=env)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"wgsiem convert {capture} failed")
    with out.open("rb") as f:
        docs = sum(1 for _ in f)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, wall, docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", type=int, default=100_000, help="peers of the one-poll capture [100000]")
    ap.add_argument("--runs", type=int, default=3, help="conversions of it measured [3]")
    ap.add_argument("--stream-peers", type=int, default=1000, help="peers of the streaming captures [1000]")
    ap.add_argument("--stream-interval", type=int, default=600, help="seconds between their polls [600]")
    ap.add_argument("--skip-stream", action="store_true", help="only the one-poll capture")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        work = Path(tmp)
        generate(args.peers, work / "first")
        size = sum(p.stat().st_size for p in (work / "first").iterdir())
        print(f"1) a one-poll capture of {args.peers:,} peers ({size / 1e6:.1f} MB), `wgsiem convert` as a process, {args.runs} runs")
        runs = [convert(work / "first", work / "first.ndjson") for _ in range(args.runs)]
        cpu, rss = min(r[0] for r in runs), max(r[1] for r in runs)
        print(f"   documents {runs[0][3]:,}; wall {min(r[2] for r in runs):.2f} s")
        print(f"   CPU (best of {args.runs}, process start included): {cpu:.2f} s [{verdict(cpu, CPU_TARGET)}]  (target <= {CPU_TARGET} s)")
        print(f"   peak RSS (worst of {args.runs}): {rss:.0f} MB [{verdict(rss, RSS_TARGET_MB)}]  (target <= {RSS_TARGET_MB:.0f} MB)")
        if args.skip_stream:
            return 0
        day = 86400 // args.stream_interval
        print(f"\n2) {args.stream_peers:,} peers, a poll every {args.stream_interval} s, 1 % changed per poll")
        figures = {}
        for days in (15, 30):
            capture = work / f"days{days}"
            generate(args.stream_peers, capture, polls=days * day, interval=args.stream_interval)
            size = sum(p.stat().st_size for p in capture.iterdir())
            cpu, rss, wall, docs = convert(capture, work / f"days{days}.ndjson")
            figures[days] = rss
            print(f"   {days:2d} days: {days * day:,} polls ({size / 1e6:.0f} MB of dumps), {docs:,} documents, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB")
            for path in capture.iterdir():
                path.unlink()
        growth = figures[30] / figures[15] - 1
        print(f"   peak memory growth from 15 to 30 days: {growth:+.1%} [{verdict(growth, GROWTH_TARGET)}]  (target <= {GROWTH_TARGET:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
