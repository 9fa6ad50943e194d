"""How fast and how big is one poll of `wgsiem ship` with a large fleet? Prints figures.

This is a measurement, not a test: it always exits 0, and prints PASS or OVER next to
each target so a reader sees at once where the shipper stands.

What it runs is the per-poll work of `wgsiem ship` (`cli/ship.py` `run_loop`): the poll's
text goes through `Shipper.process` (parse → diff → events), the documents are built and
written by the real `NdjsonFileOutput.write_batch` (`output.encode`, written and fsynced
to a file in a temporary directory), and the state is saved with `statefile.save_state`
(serialize the state, then `write_atomic`: write, fsync, rename). Running `wg` itself is
not measured.

The polls come from a capture directory written by `dumpgen.py` in a child process
(or `--capture DIR`), so the generator's memory is not counted in this process's RSS;
reading a poll's file is not timed (the live shipper gets the same text from `wg`).

Stages are timed by wrapping the real functions (`DumpParser.parse`,
`StatusDiffer.apply`, `statefile.write_atomic`) in this process only; "documents" is the
rest of `Shipper.process` (`ecs.status.build` per event), "serialize state" the rest of
`save_state` (however the state is turned into JSON). "(of which cyclic GC)" is the time
the cyclic garbage collector ran during the poll (from `gc.callbacks`), already counted
in whichever stage it interrupted.

Targets: baseline poll (Shipper.process + save_state) <= 3 s CPU; a steady poll with 1 %
of the peers changed (process + encode + write + save_state) <= 0.5 s CPU; RSS in
steady state <= 200 MB.

    PYTHONPATH=. python benchmarks/bench_poll.py [--peers 100000] [--polls 5] [--restart]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere without PYTHONPATH

from wgsiem.adapters import output, statefile  # noqa: E402
from wgsiem.adapters.capture import capture_files  # noqa: E402
from wgsiem.adapters.memory import release_free_memory  # noqa: E402
from wgsiem.ecs import status as ecs_status  # noqa: E402
from wgsiem.ecs.document import Context  # noqa: E402
from wgsiem.shipper import Shipper  # noqa: E402
from wgsiem.status.diff import DiffSettings  # noqa: E402
from wgsiem.status.state import State  # noqa: E402
from wgsiem.wgdump import PresharedKeyHasher  # noqa: E402
from wgsiem.wgdump.raw import RawPoll  # noqa: E402

TARGET_BASELINE_CPU = 3.0
TARGET_STEADY_CPU = 0.5
TARGET_STEADY_RSS_MB = 200.0
PAGE = os.sysconf("SC_PAGE_SIZE")

STAGES = ("parse", "diff", "process, other", "documents*", "encode*", "write+fsync", "serialize state", "write_atomic")
BASELINE_STAGES = ("parse", "diff", "process, other", "documents*", "serialize state", "write_atomic")
GC = "(of which cyclic GC)"


# -- measuring ----------------------------------------------------------------------------


class Clock:
    """CPU (process_time) and wall (perf_counter) seconds, per stage, for the current poll."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        # Time in the cyclic garbage collector, whatever stage it interrupted.
        self.gc_cpu = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            self.gc_cpu += time.process_time() - self._gc_started

    def reset(self) -> None:
        self.cpu.clear()
        self.wall.clear()
        self.gc_cpu = 0.0

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Time each call in CPU and wall seconds (for calls made a few times a poll)."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            c, w = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[stage] += time.process_time() - c
                self.wall[stage] += time.perf_counter() - w

        return timed

    def wrap_each(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Time each call with perf_counter only (for calls made once per document: cheap
        to time; the work is CPU-bound, so wall seconds stand for CPU seconds)."""
        wall = self.wall
        cpu = self.cpu

        def timed(*args: Any, **kwargs: Any) -> Any:
            w = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                d = time.perf_counter() - w
                wall[stage] += d
                cpu[stage] += d

        return timed


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def peak_rss_mb() -> float:
    """ru_maxrss (KiB on Linux). After exec it starts from the parent's peak (Linux keeps
    the pre-exec high-water mark), so the restarted process reads VmHWM instead."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mb() -> float:
    """This process image's own high-water RSS (VmHWM of /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "OVER"


# -- the poll -----------------------------------------------------------------------------


class Bench:
    """One shipper and its output, run as `run_loop` runs them, with the stages timed."""

    def __init__(self, state: State, work: Path) -> None:
        self.clock = clock = Clock()
        # The install secret lives beside the state, as in `wgsiem ship`: a restarted
        # shipper must hash the preshared keys as before or every one looks rotated.
        secret_file = work / "state" / "secret"
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_bytes(secrets.token_bytes(32))
        self.shipper = Shipper(
            state, PresharedKeyHasher(secret_file.read_bytes()), Context(host_name="bench"), DiffSettings()
        )
        # Instance attributes shadow the methods: only this shipper is timed.
        self.shipper.parser.parse = clock.wrap("parse", self.shipper.parser.parse)
        self.shipper.differ.apply = clock.wrap("diff", self.shipper.differ.apply)
        # Module attributes, wrapped where their callers look them up at call time.
        ecs_status.build = clock.wrap_each("documents*", _BUILD)
        output.encode = clock.wrap_each("encode*", _ENCODE)
        statefile.write_atomic = clock.wrap("write_atomic", _WRITE_ATOMIC)
        self.state_file = work / "state" / "state.json"
        self.output_file = work / "out" / "wireguard-status.ndjson"
        self.out = output.NdjsonFileOutput(self.output_file)
        self.profiler: cProfile.Profile | None = None

    def poll(self, path: Path, when: int) -> tuple[int, dict[str, float], dict[str, float]]:
        """One poll as `run_loop` does it: process, write the documents, save the state."""
        raw = RawPoll(time=when, stdout=path.read_text(), source=str(path))
        clock = self.clock
        cpu, wall = clock.cpu, clock.wall
        clock.reset()
        if self.profiler is not None:
            self.profiler.enable()
        c0, w0 = time.process_time(), time.perf_counter()
        outcome = self.shipper.process(raw)
        c1, w1 = time.process_time(), time.perf_counter()
        del raw
        built_in_process = wall["documents*"]  # documents built eagerly, if any
        n = self.out.write_batch(outcome.documents)
        c2, w2 = time.process_time(), time.perf_counter()
        statefile.save_state(self.state_file, self.shipper.state)
        release_free_memory()  # as run_loop does after each poll
        c3, w3 = time.process_time(), time.perf_counter()
        if self.profiler is not None:
            self.profiler.disable()
        built_in_write = wall["documents*"] - built_in_process
        for d, start, mid, end, last in ((cpu, c0, c1, c2, c3), (wall, w0, w1, w2, w3)):
            d["process, other"] = (mid - start) - d["parse"] - d["diff"] - built_in_process
            d["write+fsync"] = (end - mid) - built_in_write - d["encode*"]
            d["serialize state"] = (last - end) - d["write_atomic"]
            d["TOTAL"] = last - start
            d[GC] = clock.gc_cpu
        if outcome.failure or outcome.problems:
            print(f"  warning: poll {when}: failure={outcome.failure!r}, {len(outcome.problems)} problems")
        return n, dict(cpu), dict(wall)

    def close(self) -> None:
        self.out.close()


_BUILD = ecs_status.build
_ENCODE = output.encode
_WRITE_ATOMIC = statefile.write_atomic


# -- reporting ----------------------------------------------------------------------------

Rows = list[tuple[dict[str, float], dict[str, float]]]


def stage_rows(rows: Rows) -> None:
    many = len(rows) > 1
    print(f"    {'stage':<22}{'CPU s':>9}" + (f"{'CPU max':>9}" if many else "") + f"{'wall s':>9}")

    def line(label: str, pick: Callable[[dict[str, float]], float]) -> None:
        cpu = [pick(c) for c, _w in rows]
        wall = [pick(w) for _c, w in rows]
        text = f"    {label:<22}{sum(cpu) / len(cpu):>9.3f}"
        if many:
            text += f"{max(cpu):>9.3f}"
        print(text + f"{sum(wall) / len(wall):>9.3f}")

    for stage in STAGES:
        line(stage, lambda d, s=stage: d.get(s, 0.0))
    line("TOTAL", lambda d: d["TOTAL"])
    line(GC, lambda d: d.get(GC, 0.0))


def show_profile(profiler: cProfile.Profile, path: Path, what: str, top: int = 30) -> None:
    profiler.dump_stats(path)
    print(f"  profile of the {what}: {path} (top {top} by own time)")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)


def generate(args: argparse.Namespace, directory: Path, polls: int) -> None:
    argv = [
        sys.executable, str(HERE / "dumpgen.py"), str(args.peers), str(directory),
        "--seed", str(args.seed), "--interfaces", str(args.interfaces), "--polls", str(polls),
        "--interval", str(args.interval), "--changed", str(args.changed),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL)
    print(f"capture: {polls} polls written by dumpgen.py in {time.perf_counter() - started:.1f} s (not measured)")


Rows = list[tuple[dict[str, float], dict[str, float]]]


def run_polls(bench: Bench, files: list[tuple[int, Path]]) -> tuple[Rows, list[int]]:
    rows: Rows = []
    docs = []
    for when, path in files:
        n, cpu, wall = bench.poll(path, when)
        rows.append((cpu, wall))
        docs.append(n)
    return rows, docs


def report_steady(rows: Rows, docs: list[int], title: str, indent: str = "") -> None:
    print(title)
    print(f"{indent}  documents per poll: {min(docs):,}-{max(docs):,}")
    stage_rows(rows)
    totals = [c["TOTAL"] for c, _w in rows]
    avg, top = sum(totals) / len(totals), max(totals)
    print(f"{indent}  steady poll CPU: avg {avg:.3f} s [{verdict(avg, TARGET_STEADY_CPU)}], "
          f"max {top:.3f} s [{verdict(top, TARGET_STEADY_CPU)}]  (target <= {TARGET_STEADY_CPU} s)")  # fmt: skip


# -- the runs -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", type=int, default=100_000, help="peers in the fleet [100000]")
    ap.add_argument("--interfaces", type=int, default=1, help="interfaces they are spread over [1]")
    ap.add_argument("--seed", type=int, default=0, help="dumpgen seed [0]")
    ap.add_argument("--changed", type=float, default=0.01, help="fraction of peers changed per steady poll [0.01]")
    ap.add_argument("--interval", type=int, default=30, help="seconds between polls [30]")
    ap.add_argument("--warmup", type=int, default=2, help="steady polls run before measuring [2]")
    ap.add_argument("--polls", type=int, default=5, help="steady polls measured [5]")
    ap.add_argument("--capture", type=Path, help="use this capture directory (dumpgen.py output) instead of generating one")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="also profile with cProfile: DIR/baseline.prof and DIR/steady.prof, top functions "
                         "printed (the figures then include the profiler's overhead)")  # fmt: skip
    ap.add_argument("--restart", action="store_true",
                    help="also measure a restarted shipper: a new process loads the saved state, then polls")
    # Internal: the restarted process.
    ap.add_argument("--resume", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.resume is not None:
        return resume(args)

    print(f"wgsiem poll benchmark: {args.peers:,} peers, {args.interfaces} interface(s), "
          f"{args.changed:.1%} changed per poll, seed {args.seed}, Python {sys.version.split()[0]}")  # fmt: skip
    steady_polls = args.warmup + args.polls
    with tempfile.TemporaryDirectory(prefix="wgsiem-bench-") as tmp:
        work = Path(tmp)
        capture = args.capture
        if capture is None:
            capture = work / "capture"
            generate(args, capture, 1 + steady_polls * (2 if args.restart else 1))
        files = capture_files(capture)
        if len(files) < 1 + steady_polls:
            print(f"{capture}: {len(files)} polls, need at least {1 + steady_polls}")
            return 0
        gc.collect()
        rss_start = rss_mb()

        # 1) the baseline
        bench = Bench(State(), work)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            bench.profiler = cProfile.Profile()
        when, path = files[0]
        ndocs, cpu, wall = bench.poll(path, when)
        rss_peak_baseline = peak_rss_mb()
        gc.collect()
        rss_baseline = rss_mb()
        size = bench.output_file.stat().st_size
        print()
        print(f"1) baseline poll: {ndocs:,} documents")
        stage_rows([(cpu, wall)])
        base = sum(cpu[s] for s in BASELINE_STAGES)
        total = cpu["TOTAL"]
        print(f"  baseline CPU, the whole poll as `wgsiem ship` does it (with its {size / 2**20:.1f} MB of NDJSON): "
              f"{total:.3f} s [{verdict(total, TARGET_BASELINE_CPU)}]  (target <= {TARGET_BASELINE_CPU} s)")  # fmt: skip
        print(f"    of which Shipper.process with its documents built + save_state: {base:.3f} s")
        if bench.profiler is not None:
            show_profile(bench.profiler, args.profile / "baseline.prof", "baseline poll")
            bench.profiler = cProfile.Profile()

        # 2) steady state
        print()
        rows, docs = run_polls(bench, files[1 : 1 + steady_polls])
        report_steady(rows[args.warmup :], docs[args.warmup :],
                      f"2) steady poll, {args.changed:.1%} of the peers changed: avg and max over "
                      f"{args.polls} polls after {args.warmup} warm-up polls")  # fmt: skip
        if bench.profiler is not None:
            show_profile(bench.profiler, args.profile / "steady.prof", f"{steady_polls} steady polls (warm-up included)")
            bench.profiler = None
        gc.collect()
        rss_steady = rss_mb()

        # 3) memory
        print()
        print("3) memory (RSS)")
        print(f"    after imports, before the first poll   {rss_start:>8.1f} MB")
        print(f"    peak during the baseline poll          {rss_peak_baseline:>8.1f} MB")
        print(f"    after the baseline poll                {rss_baseline:>8.1f} MB")
        print(f"    steady state (after the last poll)     {rss_steady:>8.1f} MB  "
              f"[{verdict(rss_steady, TARGET_STEADY_RSS_MB)}]  (target <= {TARGET_STEADY_RSS_MB:.0f} MB)")  # fmt: skip
        print(f"    peak over the whole run (ru_maxrss)    {peak_rss_mb():>8.1f} MB")
        print(f"    state file {bench.state_file.stat().st_size / 2**20:.1f} MB, "
              f"one poll's dump text {files[1][1].stat().st_size / 2**20:.1f} MB")  # fmt: skip
        bench.close()

        # 4) a restart
        if args.restart:
            print()
            print("4) restart: a new process loads the state file, then runs the next polls")
            if len(files) < 1 + 2 * steady_polls:
                print(f"    the capture has too few polls left ({len(files) - 1 - steady_polls}, need {steady_polls})")
                return 0
            sys.stdout.flush()
            subprocess.run(
                [sys.executable, __file__, "--resume", str(work), "--capture", str(capture),
                 "--warmup", str(args.warmup), "--polls", str(args.polls), "--skip", str(1 + steady_polls)],
                check=False,
            )  # fmt: skip
    return 0


def resume(args: argparse.Namespace) -> int:
    """The restarted shipper: load_state, then polls (the first one re-parses every line)."""
    work = args.resume
    files = capture_files(args.capture)[args.skip : args.skip + args.warmup + args.polls]
    gc.collect()
    rss_start = rss_mb()
    c, w = time.process_time(), time.perf_counter()
    state = statefile.load_state(work / "state" / "state.json")
    load_cpu, load_wall = time.process_time() - c, time.perf_counter() - w
    bench = Bench(state, work)
    release_free_memory()  # as `wgsiem ship` does after loading
    gc.collect()
    rss_loaded = rss_mb()
    rows, docs = run_polls(bench, files)
    first = rows[0][0]["TOTAL"]
    print(f"    load_state: {load_cpu:.3f} s CPU ({load_wall:.3f} s wall)")
    print(f"    first poll after it ({docs[0]:,} documents; the parser starts from the loaded peers): "
          f"{first:.3f} s CPU")  # fmt: skip
    report_steady(rows[args.warmup :], docs[args.warmup :],
                  f"    the next polls (avg and max over {args.polls} after {args.warmup} warm-up polls)", "  ")  # fmt: skip
    bench.close()
    gc.collect()
    rss_steady = rss_mb()
    print(f"    RSS: after imports {rss_start:.1f} MB, after load_state {rss_loaded:.1f} MB, "
          f"steady {rss_steady:.1f} MB [{verdict(rss_steady, TARGET_STEADY_RSS_MB)}], "
          f"peak (VmHWM) {hwm_mb():.1f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
