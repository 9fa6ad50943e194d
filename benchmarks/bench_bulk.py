"""How fast does `wgsiem ship --output elasticsearch` move documents? Prints figures.

A measurement, not a test: it always exits 0. Three figures, with real documents (what
`Shipper.process` builds for a synthetic fleet from dumpgen.py: a baseline poll and
then polls with peers handshaking, moving data and roaming):

1. spool write: `Spool.append` (encode each document, write, fsync per 1000) in docs/s and MB/s;
2. spool read: taking each segment, reading it, and `bulk.item` per line (parse the
   document for its data stream and event.id), as the delivery thread does;
3. delivery: `ElasticsearchOutput` against the cluster at URL, from the first batch
   written to the spool empty, in docs/s (bulk create, --bulk-docs a request).

The documents go into `logs-wireguard.*-bench<random>`; the index templates are
installed first (`wgsiem templates install`), and the data streams are deleted after
when the cluster has the data stream API.

    PYTHONPATH=. python benchmarks/bench_bulk.py http://127.0.0.1:9200 [--peers 20000] [--polls 4]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere without PYTHONPATH
sys.path.insert(0, str(HERE))

from dumpgen import Fleet  # noqa: E402

from wgsiem.adapters import bulk  # noqa: E402
from wgsiem.adapters.elasticsearch import EsSettings, bulk_sender, connect  # noqa: E402
from wgsiem.adapters.elasticsearch_output import ElasticsearchOutput  # noqa: E402
from wgsiem.adapters.output import encode  # noqa: E402
from wgsiem.adapters.spool import Spool  # noqa: E402
from wgsiem.ecs.document import Context  # noqa: E402
from wgsiem.shipper import Shipper  # noqa: E402
from wgsiem.status.state import State  # noqa: E402
from wgsiem.wgdump import PresharedKeyHasher  # noqa: E402
from wgsiem.wgdump.raw import RawPoll  # noqa: E402


def documents(peers: int, polls: int, namespace: str) -> list[dict[str, Any]]:
    fleet = Fleet(peers, seed=1, interfaces=2)
    shipper = Shipper(State(), PresharedKeyHasher(secrets.token_bytes(32)), Context(host_name="bench", names={}, namespace=namespace))
    t = 1_700_000_000
    docs = list(shipper.process(RawPoll(t, fleet.dump(t))).documents)
    for _i in range(1, polls):
        t += 30
        fleet.step(0.2, t)
        docs += shipper.process(RawPoll(t, fleet.dump(t))).documents
    return docs


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} docs/s" if seconds > 0 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="Elasticsearch URL, e.g. http://127.0.0.1:9200")
    parser.add_argument("--peers", type=int, default=20000)
    parser.add_argument("--polls", type=int, default=4)
    parser.add_argument("--bulk-docs", type=int, default=1000)
    args = parser.parse_args()
    namespace = "bench" + uuid.uuid4().hex[:8]

    docs = documents(args.peers, args.polls, namespace)
    size = sum(len(encode(d)) + 1 for d in docs)
    print(f"{len(docs):,} documents, {size / 1e6:.1f} MB encoded ({size / len(docs):.0f} bytes each), namespace {namespace}")

    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        spool = Spool(Path(tmp) / "spool", 1 << 34)
        started = time.perf_counter()
        for i in range(0, len(docs), 5000):  # poll-sized batches
            spool.append((encode(d), d.get("@timestamp")) for d in docs[i : i + 5000])
        wrote = time.perf_counter() - started
        print(f"spool write (encode, append, fsync): {rate(len(docs), wrote)}, {size / 1e6 / wrote:.0f} MB/s")

        started = time.perf_counter()
        n = 0
        segments = []
        while (segment := spool.take()) is not None:
            segments.append(segment)
            n += sum(1 for line in spool.read(segment) if bulk.item(line))
        read = time.perf_counter() - started
        print(f"spool read (read, parse for index and _id): {rate(n, read)}, {size / 1e6 / read:.0f} MB/s")
        for segment in segments:
            spool.ack(segment)
        spool.close()

    from typer.testing import CliRunner

    from wgsiem.cli import app

    result = CliRunner().invoke(app, ["templates", "install", "--es", args.url])
    if result.exit_code != 0:
        print(f"templates install failed, delivery not measured:\n{result.output}")
        return
    client = connect(EsSettings(args.url))
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        spool = Spool(Path(tmp) / "spool", 1 << 34)
        out = ElasticsearchOutput(spool, bulk_sender(client, 60), Path(tmp) / "dead-letter.ndjson", bulk_docs=args.bulk_docs, flush_timeout=600)
        started = time.perf_counter()
        for i in range(0, len(docs), 5000):
            out.write_batch(docs[i : i + 5000])
        while spool.count:
            time.sleep(0.01)
        took = time.perf_counter() - started
        out.close()
        c = out.counts
        print(
            f"delivery to {args.url} ({args.bulk_docs} a request): {rate(c.delivered + c.conflicts, took)},"
            f" {size / 1e6 / took:.1f} MB/s ({c.delivered} created, {c.conflicts} conflicts, {c.dead_lettered} dead-lettered)"
        )
    for dataset in ("wireguard.status", "wireguard.log"):
        try:
            client.perform_request("DELETE", f"/_data_stream/logs-{dataset}-{namespace}", headers={"accept": "application/json"})
        except Exception:  # noqa: BLE001 - no data stream API (integ-test distribution), or none made
            pass


if __name__ == "__main__":
    main()
