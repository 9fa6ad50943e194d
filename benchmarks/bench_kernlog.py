"""Kernel lines per second through the whole parse path: framing + message parsing. Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside the target.
Records are journald JSON kernel records (bench_kernlog_framing.journal_records):

* as `wgsiem ship` reads them: journalctl --output-fields (adapters/follow.py) keeps
  only the fields the framing reads, plus the cursor, timestamps and boot id journald
  always adds. The target applies to these.
* whole: every field journald writes, as in a `journalctl -o json` export given to
  `wgsiem convert` (for comparison).

It also times the rest of the way to a document (correlation, ECS) for information.

Target: >= 200,000 lines/s per core (the shipper is single-threaded).

    PYTHONPATH=. python benchmarks/bench_kernlog.py [--lines 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
from bench_kernlog_framing import journal_records  # noqa: E402

from wgsiem.adapters.follow import _FIELDS  # noqa: E402
from wgsiem.ecs.document import Context  # noqa: E402
from wgsiem.kernlog.framing import frame  # noqa: E402
from wgsiem.kernlog.messages import MessageParser  # noqa: E402
from wgsiem.shipper import Shipper  # noqa: E402
from wgsiem.status.state import State  # noqa: E402
from wgsiem.wgdump import PresharedKeyHasher  # noqa: E402

TARGET = 200_000
ALWAYS = ("__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID")


def as_shipped(lines: list[str]) -> list[str]:
    keep = set(_FIELDS.split(",")) | set(ALWAYS)
    return [orjson.dumps({k: v for k, v in orjson.loads(line).items() if k in keep}).decode() for line in lines]


def parse_path(lines: list[str], repeat: int) -> float:
    """Best CPU seconds of framing + message parsing over all lines."""
    best = float("inf")
    for _ in range(repeat):
        parser = MessageParser()
        gc.collect()
        gc.disable()
        t = time.process_time()
        for line in lines:
            record = frame(line)
            if record is not None:
                parser.parse(record.message, record.program)
        best = min(best, time.process_time() - t)
        gc.enable()
    return best


def documents(lines: list[str]) -> float:
    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="bench"))
    items = [(r, r.time or 0.0) for r in (frame(line) for line in lines) if r is not None]
    gc.collect()
    t = time.process_time()
    shipper.process_log(items)
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    whole = journal_records(args.lines)
    shipped = as_shipped(whole)
    n = len(whole)
    print(f"{n:,} journald JSON kernel records (WireGuard debug lines); best of {args.repeat}, one core")
    for label, lines in (("as ship reads them (--output-fields)", shipped), ("whole records (convert of an export)", whole)):
        size = sum(map(len, lines)) / n
        cpu = parse_path(lines, args.repeat)
        rate = n / cpu
        verdict = ("PASS" if rate >= TARGET else "OVER") if lines is shipped else "for comparison"
        print(f"  {label:<40} {size:4.0f} chars: {rate:>9,.0f} lines/s ({cpu / n * 1e6:.2f} us)  [{verdict}]")
    cpu = documents(shipped)
    print(f"  and on to ECS documents (correlation, geo off): {n / cpu:,.0f} lines/s ({cpu / n * 1e6:.2f} us)")
    print(f"target: framing + message parsing >= {TARGET:,} lines/s per core")


if __name__ == "__main__":
    main()
