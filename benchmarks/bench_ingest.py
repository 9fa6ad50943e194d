"""Documents per second through the shipper pipeline (ingest_pipelines/logs-wireguard.yml),
run by the offline ingest engine. Prints figures.

A measurement, not a test: it always exits 0 and prints PASS or OVER beside the target.
The documents are what `wgsiem convert` makes of the lab-story capture and its kernel
log, repeated to the count asked for, in two mixes:

* enriched: the shipper had GeoIP databases (the usual deployment), so the pipeline's
  geoip processors are skipped by their conditions;
* bare: the shipper had none, so every document with a source IP gets two lookups
  (through the engine's per-IP cache, as a busy fleet repeats its endpoints).

Each document is decoded from its NDJSON line (orjson) before it runs, as the engine
receives it; the time to decode is included.

Target: >= 50,000 documents/s per core.

    PYTHONPATH=. python benchmarks/bench_ingest.py [--docs 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402

from wgsiem.content import INGEST_PIPELINES  # noqa: E402
from wgsiem.geoworld import DEFAULT_SOURCE, build_world  # noqa: E402
from wgsiem.ingest.document import IngestDocument  # noqa: E402
from wgsiem.pipelines.files import load_pipelines  # noqa: E402

TARGET = 50_000
STORY = REPO / "fixtures" / "captures" / "lab-story"


def story_lines(geo: Path | None) -> list[bytes]:
    command = [sys.executable, "-m", "wgsiem", "convert", str(STORY), "--kernel-log", str(STORY / "kernel.log"),
               "--peers", str(STORY / "peers.yaml"), "--host-name", "vpn1"]  # fmt: skip
    if geo is not None:
        command += ["--geoip-city", str(geo / "GeoLite2-City.mmdb"), "--geoip-asn", str(geo / "GeoLite2-ASN.mmdb")]
    out = subprocess.run(command, check=True, capture_output=True, cwd=REPO).stdout
    return [line for line in out.splitlines() if line]


def run(pipeline, lines: list[bytes], count: int) -> float:
    batch = (lines * (count // len(lines) + 1))[:count]
    gc.collect()
    gc.disable()
    start = time.process_time()
    for line in batch:
        doc = IngestDocument.from_source(orjson.loads(line), index="logs-wireguard.status-default")
        pipeline.execute(doc)
    elapsed = time.process_time() - start
    gc.enable()
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        geo = Path(tmp)
        build_world(DEFAULT_SOURCE, geo)
        pipeline = load_pipelines(INGEST_PIPELINES, [geo])["logs-wireguard"]
        mixes = {"enriched": story_lines(geo), "bare": story_lines(None)}
        print(f"shipper pipeline, {args.docs:,} documents, best of {args.repeat} (one core)")
        for name, lines in mixes.items():
            rate = max(run(pipeline, lines, args.docs) for _ in range(args.repeat))
            verdict = "PASS" if rate >= TARGET else "OVER"
            print(f"  {name:9} {rate:10,.0f} docs/s  ({1e6 / rate:5.1f} µs each)  target >= {TARGET:,}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
