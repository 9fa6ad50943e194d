"""The detection engine on a cluster (`wgsiem rules run --es`) against the offline engine,
at fleet scale. Prints figures.

A measurement, not a test: it always exits 0. The events are bench_rules.py's synthetic
fleet, put in a namespace of their own (`logs-wireguard.*-bench<random>`) after the index
templates are installed. Then every rule runs twice over the same span, restricted to that
namespace: offline (`run_rules`) and with the searches sent to the cluster
(`run_rules_on_cluster`), and the two alert lists are compared document by document.

    PYTHONPATH=. python benchmarks/bench_rules_cluster.py http://127.0.0.1:9200 [--events 200000]

`python -m wgsiem.lab es-node` runs a test node to point it at.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import orjson  # noqa: E402
from bench_rules import fleet  # noqa: E402
from elasticsearch.helpers import streaming_bulk  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from wgsiem.adapters.elasticsearch import EsSettings, connect  # noqa: E402
from wgsiem.adapters.rule_searches import es_send  # noqa: E402
from wgsiem.cli import app  # noqa: E402
from wgsiem.detection import run_rules, run_rules_on_cluster  # noqa: E402
from wgsiem.mappings.datastreams import data_stream_index  # noqa: E402
from wgsiem.rules.model import load_rules  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--peers", type=int, default=2000)
    args = parser.parse_args()

    installed = CliRunner().invoke(app, ["templates", "install", "--es", args.url])
    if installed.exit_code != 0:
        print(f"templates install failed: {installed.output}")
        return 0
    client = connect(EsSettings(args.url)).options(request_timeout=300)
    namespace = f"bench{secrets.token_hex(4)}"
    events = fleet(args.events, args.peers)
    for doc in events:
        doc["data_stream"] = {"type": "logs", "dataset": doc["event"]["dataset"], "namespace": namespace}
    started = time.perf_counter()
    actions = ({"_op_type": "create", "_index": data_stream_index(d), "_id": d["event"]["id"], "_source": d} for d in events)
    indexed = sum(ok for ok, _ in streaming_bulk(client, actions, chunk_size=2000, raise_on_error=False))
    client.indices.refresh(index=f"logs-wireguard.*-{namespace}")
    seconds = time.perf_counter() - started
    print(f"{indexed:,} of {len(events):,} events indexed in {seconds:.1f} s ({indexed / seconds:,.0f}/s), namespace {namespace}")

    rules = load_rules()
    indices = [f"logs-wireguard.*-{namespace}"]
    started = time.perf_counter()
    offline = run_rules(rules, events, indices=indices)
    print(f"offline: {time.perf_counter() - started:.1f} s, {len(offline.alerts)} alerts, executions {offline.start} .. {offline.end}")

    sent: Counter[str] = Counter()
    send = es_send(client)

    def counting(call):  # noqa: ANN001, ANN202
        sent[call.api] += 1
        return send(call)

    for every_search in (False, True):
        sent.clear()
        started = time.perf_counter()
        cluster = run_rules_on_cluster(rules, counting, indices=indices, every_search=every_search)
        wall = time.perf_counter() - started
        same = _comparable(cluster.alerts) == _comparable(offline.alerts)
        errors = [f"{s.name}: {s.error}" for s in cluster.stats.values() if s.error]
        print(f"cluster{' --every-search' if every_search else ''}: {wall:.1f} s wall, {len(cluster.alerts)} alerts, "
              f"{sum(sent.values()):,} requests ({', '.join(f'{k} {v:,}' for k, v in sorted(sent.items()))}); "
              f"alerts {'IDENTICAL to' if same else 'DIFFERENT from'} offline" + (f"; errors: {errors}" if errors else ""))
        if not same:
            _explain(offline.alerts, cluster.alerts)
    return 0


def _comparable(alerts: list[dict]) -> list[bytes]:
    return [orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in alerts]


def _explain(offline: list[dict], cluster: list[dict]) -> None:
    ids_offline = Counter(a["kibana.alert.rule.name"] for a in offline)
    ids_cluster = Counter(a["kibana.alert.rule.name"] for a in cluster)
    for name in sorted(set(ids_offline) | set(ids_cluster)):
        if ids_offline[name] != ids_cluster[name]:
            print(f"  {name}: offline {ids_offline[name]}, cluster {ids_cluster[name]}")


if __name__ == "__main__":
    sys.exit(main())
