"""How many journald JSON kernel lines a second does `kernlog.framing.frame` unwrap? Prints figures.

This is a measurement, not a test: it always exits 0, and prints PASS or OVER next to
the target. It generates `journalctl -k -o json` records in memory (WireGuard debug
lines for many peers and endpoints, IPv4 and IPv6, with every field journald writes
for a kernel record), then times `frame()` over them with `time.process_time`, on one
core (the shipper is single-threaded). Generating the records is not timed.

Target: the whole kernel-line path (framing + message parsing) at >= 200,000 lines/s,
so framing alone should stay well above that: >= 500,000 lines/s.

    PYTHONPATH=. python benchmarks/bench_kernlog_framing.py [--lines 200000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without PYTHONPATH

import orjson  # noqa: E402

from wgsiem.kernlog.framing import frame  # noqa: E402

TARGET = 500_000
WHOLE_PATH_TARGET = 200_000

_TEMPLATES = [
    "{i}: Receiving keepalive packet from peer {p} ({e})",
    "{i}: Sending keepalive packet to peer {p} ({e})",
    "{i}: Receiving handshake initiation from peer {p} ({e})",
    "{i}: Sending handshake response to peer {p} ({e})",
    "{i}: Sending handshake initiation to peer {p} ({e})",
    "{i}: Receiving handshake response from peer {p} ({e})",
    "{i}: Keypair {k} created for peer {p}",
    "{i}: Keypair {k} destroyed for peer {p}",
    "{i}: Invalid handshake initiation from {e}",
    "{i}: Packet has unallowed src IP (10.9.{a}.{b}) from peer {p} ({e})",
    "{i}: Handshake for peer {p} ({e}) did not complete after 5 seconds, retrying (try 2)",
    "{i}: Retrying handshake with peer {p} ({e}) because we stopped hearing back after 15 seconds",
]


def _endpoint(rng: random.Random) -> str:
    port = rng.choice((51820, 51821, rng.randrange(1024, 65536)))
    if rng.random() < 0.25:
        return f"[2001:db8:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}]:{port}/0%0"
    return f"{rng.choice((198, 203, 192))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}:{port}"


def journal_records(n: int, seed: int = 0) -> list[str]:
    """`journalctl -k -o json` lines: WireGuard debug messages, varied peers and endpoints."""
    rng = random.Random(seed)
    seqnum_id, boot_id = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(128):032x}"
    machine_id = f"{rng.getrandbits(128):032x}"
    boot_us = 1_795_306_650_750_000  # 2026-11-22T00:17:30.75Z
    mono_us = 12_000_000
    seqnum = 0x1A2B3
    peers = [(f"wg{rng.randrange(3)}", rng.randrange(1, 5000), _endpoint(rng)) for _ in range(2000)]
    lines = []
    for _ in range(n):
        mono_us += rng.randrange(50, 20_000)
        seqnum += 1
        iface, peer, endpoint = rng.choice(peers)
        text = rng.choice(_TEMPLATES).format(
            i=iface, p=peer, e=endpoint, k=rng.randrange(1, 100_000), a=rng.randrange(256), b=rng.randrange(256)
        )
        received = mono_us + rng.randrange(5, 200)
        record = {
            "__CURSOR": f"s={seqnum_id};i={seqnum:x};b={boot_id};m={received:x};t={boot_us + received:x};x={rng.getrandbits(64):x}",
            "__REALTIME_TIMESTAMP": str(boot_us + received),
            "__MONOTONIC_TIMESTAMP": str(received),
            "__SEQNUM": str(seqnum),
            "__SEQNUM_ID": seqnum_id,
            "_BOOT_ID": boot_id,
            "_MACHINE_ID": machine_id,
            "_HOSTNAME": "vpn1",
            "_RUNTIME_SCOPE": "system",
            "_TRANSPORT": "kernel",
            "PRIORITY": "7",
            "SYSLOG_FACILITY": "0",
            "SYSLOG_IDENTIFIER": "kernel",
            "_SOURCE_MONOTONIC_TIMESTAMP": str(mono_us),
            "MESSAGE": "wireguard: " + text,
        }
        items = list(record.items())
        rng.shuffle(items)  # journalctl writes the fields in hash-table order
        lines.append(orjson.dumps(dict(items)).decode() + "\n")
    return lines


def run(lines: list[str]) -> float:
    """CPU seconds to frame every line once."""
    gc.collect()
    start = time.process_time()
    for line in lines:
        frame(line)
    return time.process_time() - start


def run_loads(lines: list[str]) -> float:
    """CPU seconds for orjson.loads alone: the floor under the JSON framing."""
    gc.collect()
    loads = orjson.loads
    start = time.process_time()
    for line in lines:
        loads(line)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    parser.add_argument("--profile", action="store_true", help="also a cProfile run: top functions by own time")
    args = parser.parse_args()

    lines = journal_records(args.lines, args.seed)
    size = sum(map(len, lines)) / len(lines)
    print(f"{len(lines):,} journald JSON kernel records, {size:.0f} characters each on average")
    records = [frame(line) for line in lines]
    assert all(r is not None and r.program == "kernel" and r.message.startswith("wireguard: ") for r in records)
    del records

    best = min(run(lines) for _ in range(max(1, args.repeat)))
    rate = len(lines) / best
    verdict = "PASS" if rate >= TARGET else "OVER"
    print(f"frame(): {best:.3f} s CPU, {rate:,.0f} lines/s per core ({best / len(lines) * 1e6:.2f} us a line)")
    print(f"  target >= {TARGET:,} lines/s: {verdict}")
    floor = min(run_loads(lines) for _ in range(max(1, args.repeat)))
    print(f"  of which orjson.loads alone: {floor / len(lines) * 1e6:.2f} us a line "
          f"(a ceiling of {len(lines) / floor:,.0f} lines/s here)")
    print(f"  leaves {1 / WHOLE_PATH_TARGET * 1e6 - best / len(lines) * 1e6:.2f} us a line for message parsing "
          f"within the whole-path target of {WHOLE_PATH_TARGET:,} lines/s")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run, lines)
        print("\nprofile (includes the profiler's overhead), top functions by own time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
