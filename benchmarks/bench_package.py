"""`wgsiem package build` and `package validate`: time, size and peak memory. Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside the targets.
The package is built in CI on every run and by `package install` before each upload, so
building and validating it must stay a matter of seconds. The zip goes to Kibana in one
request: Fleet's upload route takes up to 100 MB, but proxies in front of Kibana often cap
a request body far lower, and every agent policy change carries nothing of it, so the
target is a small package (1 MB).

    PYTHONPATH=. python benchmarks/bench_package.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wgsiem.package.build import assemble, write_zip, zip_bytes  # noqa: E402
from wgsiem.package.validate import validate_package  # noqa: E402

BUILD_TARGET = 5.0  # seconds: assemble + zip
VALIDATE_TARGET = 10.0  # seconds: validate the zip
SIZE_TARGET = 1_000_000  # bytes of zip


def _best(rounds: int, work) -> float:  # noqa: ANN001 - a callable
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each step; the best is printed")
    args = parser.parse_args()

    build = _best(args.rounds, lambda: zip_bytes(assemble()))
    package = assemble()
    data = zip_bytes(package)
    unpacked = sum(len(b) for b in package.files.values())
    with tempfile.TemporaryDirectory() as scratch:
        path = write_zip(package, Path(scratch))
        validate = _best(args.rounds, lambda: validate_package(path))
        tracemalloc.start()
        zip_bytes(assemble())
        validate_package(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"package {package.name} {package.version}: {len(package.files)} files, {unpacked:,} bytes unpacked")
    print(f"build (assemble + zip), best of {args.rounds}: {build:.2f} s   target <= {BUILD_TARGET:.0f} s  {_verdict(build, BUILD_TARGET)}")
    print(f"validate the zip, best of {args.rounds}:       {validate:.2f} s   target <= {VALIDATE_TARGET:.0f} s  {_verdict(validate, VALIDATE_TARGET)}")
    print(f"zip size: {len(data):,} bytes   target <= {SIZE_TARGET:,}  {_verdict(len(data), SIZE_TARGET)}")
    print(f"peak Python memory of one build + validate: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
