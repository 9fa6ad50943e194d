"""The disk spool and the bulk bookkeeping of `ship --output elasticsearch`, with no cluster:
append / read / acknowledge, crash recovery, the bound and its drop policies, what each
bulk answer means, and the backoff."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from wgsiem.adapters import bulk
from wgsiem.adapters.elasticsearch import EsUnavailableError
from wgsiem.adapters.spool import Spool, SpoolError

REPO = Path(__file__).resolve().parents[1]


def doc(n: int, namespace: str = "test", dataset: str = "wireguard.status", pad: int = 0) -> dict:
    return {
        "@timestamp": f"2024-05-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z" if n < 3600 else f"2024-05-01T{n // 3600:02d}:00:00.000Z",
        "event": {"id": f"id-{n:06d}", "dataset": dataset, "action": "transfer"},
        "data_stream": {"type": "logs", "dataset": dataset, "namespace": namespace},
        "message": "x" * pad,
    }


def entries(docs):
    return [(orjson.dumps(d), d["@timestamp"]) for d in docs]


def spooled_ids(spool: Spool) -> list[str]:
    """Every id in the spool, oldest first, by taking and giving back each segment."""
    taken = []
    while (segment := spool.take()) is not None:
        taken.append(segment)
    ids = [orjson.loads(line)["event"]["id"] for s in taken for line in spool.read(s)]
    for segment in reversed(taken):
        spool.release(segment)
    return ids


# --- append, read back, acknowledge -----------------------------------------------------


def test_append_take_read_ack(tmp_path):
    spool = Spool(tmp_path / "spool", 1 << 20)
    result = spool.append(entries(doc(n) for n in range(3)))
    assert result.written == 3 and result.dropped.count == 0
    assert spool.count == 3 and spool.bytes == sum(len(orjson.dumps(doc(n))) + 1 for n in range(3))
    segment = spool.take()
    assert segment is not None and segment.count == 3
    assert [orjson.loads(line) for line in spool.read(segment)] == [doc(n) for n in range(3)]
    assert spool.take() is None  # nothing else waits
    spool.append(entries([doc(3)]))  # goes to a new segment while the first is out
    spool.ack(segment)
    assert not segment.path.exists() and spool.count == 1
    second = spool.take()
    assert second is not None and second.seq > segment.seq
    spool.ack(second)
    assert spool.count == 0 and spool.bytes == 0
    spool.close()


def test_segments_keep_their_order_and_survive_a_restart(tmp_path):
    spool = Spool(tmp_path / "spool", 1 << 20, segment_bytes=300)
    spool.append(entries(doc(n) for n in range(10)))  # several segments of ~2 documents
    assert len(list((tmp_path / "spool").glob("*.ndjson"))) > 3
    first = spool.take()
    spool.release(first)  # given back: the next take is the same one
    assert spool.take().seq == first.seq
    spool.close()  # a stop (or a crash) with a segment taken but not acknowledged

    again = Spool(tmp_path / "spool", 1 << 20, segment_bytes=300)
    assert again.count == 10
    assert spooled_ids(again) == [f"id-{n:06d}" for n in range(10)]
    again.append(entries([doc(10)]))
    assert spooled_ids(again)[-1] == "id-000010"


def test_one_spool_per_directory(tmp_path):
    spool = Spool(tmp_path / "spool", 1 << 20)
    with pytest.raises(SpoolError, match="another wgsiem ship is using this spool"):
        Spool(tmp_path / "spool", 1 << 20)
    spool.close()
    Spool(tmp_path / "spool", 1 << 20).close()


def test_a_torn_last_line_is_cut_at_open(tmp_path):
    directory = tmp_path / "spool"
    directory.mkdir()
    whole = orjson.dumps(doc(1)) + b"\n" + orjson.dumps(doc(2)) + b"\n"
    (directory / "0000000000000007.ndjson").write_bytes(whole + orjson.dumps(doc(3))[:25])
    (directory / "0000000000000008.ndjson").write_bytes(b'{"@timestamp":"2024')  # only a torn line
    spool = Spool(directory, 1 << 20)
    assert len(spool.repaired) == 2 and "torn last line" in spool.repaired[0]
    assert (directory / "0000000000000007.ndjson").read_bytes() == whole
    assert not (directory / "0000000000000008.ndjson").exists()
    assert spool.count == 2 and spooled_ids(spool) == ["id-000001", "id-000002"]
    spool.append(entries([doc(4)]))
    assert sorted(p.name for p in directory.glob("*.ndjson")) == ["0000000000000007.ndjson", "0000000000000009.ndjson"]


WRITER = """
import sys, orjson
from wgsiem.adapters.spool import Spool
spool = Spool(__import__("pathlib").Path(sys.argv[1]), 1 << 30, segment_bytes=1 << 20)
n = 0
print("ready", flush=True)
while True:
    spool.append((orjson.dumps({"@timestamp": "2024-05-01T00:00:00.000Z", "event": {"id": f"id-{n + i}"}, "message": "m" * 3000}), None) for i in range(200))
    n += 200
"""


def test_kill_9_while_appending_leaves_only_whole_documents(tmp_path):
    directory = tmp_path / "spool"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.8)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    spool = Spool(directory, 1 << 30)
    ids = spooled_ids(spool)
    assert len(ids) > 200
    assert ids == [f"id-{n}" for n in range(len(ids))]  # each line whole, none missing in between
    for path in directory.glob("*.ndjson"):
        assert path.read_bytes().endswith(b"\n")


# --- the bound --------------------------------------------------------------------------


def test_drop_oldest_keeps_the_newest_within_the_bound(tmp_path):
    size = len(orjson.dumps(doc(0, pad=200))) + 1
    spool = Spool(tmp_path / "spool", 40 * size, "drop-oldest", segment_bytes=5 * size)
    dropped = 0
    first_dropped = last_dropped = None
    for batch in range(10):
        result = spool.append(entries(doc(n, pad=200) for n in range(batch * 10, batch * 10 + 10)))
        assert result.written == 10
        assert spool.bytes <= 40 * size
        if result.dropped.count:
            dropped += result.dropped.count
            first_dropped = first_dropped or result.dropped.first
            last_dropped = result.dropped.last
    ids = spooled_ids(spool)
    assert dropped == 100 - len(ids) and dropped >= 60
    assert ids == [f"id-{n:06d}" for n in range(100 - len(ids), 100)]  # the newest, nothing in between lost
    assert first_dropped == doc(0)["@timestamp"] and last_dropped == doc(dropped - 1)["@timestamp"]


def test_drop_newest_keeps_the_oldest_and_counts_the_rest(tmp_path):
    size = len(orjson.dumps(doc(0, pad=200))) + 1
    spool = Spool(tmp_path / "spool", 40 * size, "drop-newest", segment_bytes=5 * size)
    result = spool.append(entries(doc(n, pad=200) for n in range(100)))
    assert result.written == 40 and result.dropped.count == 60
    assert result.dropped.first == doc(40)["@timestamp"] and result.dropped.last == doc(99)["@timestamp"]
    assert spooled_ids(spool) == [f"id-{n:06d}" for n in range(40)]
    segment = spool.take()  # room again once something is delivered
    spool.ack(segment)
    assert spool.append(entries([doc(100, pad=200)])).written == 1


def test_drop_oldest_never_drops_the_segment_being_delivered(tmp_path):
    size = len(orjson.dumps(doc(0, pad=200))) + 1
    spool = Spool(tmp_path / "spool", 20 * size, "drop-oldest", segment_bytes=5 * size)
    spool.append(entries(doc(n, pad=200) for n in range(5)))
    out = spool.take()  # the deliverer holds ids 0-4
    result = spool.append(entries(doc(n, pad=200) for n in range(5, 60)))
    assert result.dropped.count > 0 and spool.bytes <= 20 * size
    assert out.path.exists()
    assert [orjson.loads(line)["event"]["id"] for line in spool.read(out)] == [f"id-{n:06d}" for n in range(5)]
    spool.ack(out)
    assert spooled_ids(spool)[-1] == "id-000059"


def test_bad_settings():
    with pytest.raises(SpoolError, match="spool_full must be one of drop-oldest, drop-newest"):
        Spool(Path("/nonexistent"), 100, "drop-middle")


# --- bulk -------------------------------------------------------------------------------


def items(n: int, **kw) -> list[bulk.Item]:
    return [bulk.item(orjson.dumps(doc(i, **kw))) for i in range(n)]


def test_item_index_and_id_come_from_the_document():
    it = bulk.item(orjson.dumps(doc(5, namespace="prod", dataset="wireguard.log")))
    assert it.index == "logs-wireguard.log-prod" and it.id == "id-000005"
    assert bulk.item(b'{"event":{},"message":"m"}').id is None
    for damaged in (b'{"event":', b"[1,2]", b"\x00\x00"):
        with pytest.raises(bulk.Damaged):
            bulk.item(damaged)


def test_bulk_body_is_create_with_the_event_id():
    body = bulk.bulk_body(items(2))
    lines = body.split(b"\n")
    assert len(lines) == 5 and lines[-1] == b""
    assert orjson.loads(lines[0]) == {"create": {"_index": "logs-wireguard.status-test", "_id": "id-000000"}}
    assert orjson.loads(lines[1]) == doc(0)
    assert orjson.loads(lines[2])["create"]["_id"] == "id-000001"


def answer(*statuses: int) -> dict:
    out = []
    for status in statuses:
        op = {"status": status}
        if status >= 300:
            op["error"] = {"type": "some_exception", "reason": f"because {status}", "caused_by": {"reason": "deeper"}}
        out.append({"create": op})
    return {"items": out}


@pytest.mark.parametrize(
    "status,outcome",
    [(200, bulk.DELIVERED), (201, bulk.DELIVERED), (409, bulk.CONFLICT), (429, bulk.RETRY), (500, bulk.RETRY),
     (503, bulk.RETRY), (403, bulk.RETRY), (401, bulk.RETRY), (400, bulk.REJECTED), (404, bulk.REJECTED)],
)  # fmt: skip
def test_item_status_outcomes(status, outcome):
    assert bulk.outcome_of(status) == outcome


def test_an_attempt_sorts_each_document_by_its_answer():
    sent = items(6)
    bodies = []

    def send(body):
        bodies.append(body)
        return answer(201, 409, 429, 503, 400, 201)

    result = bulk.attempt(send, sent)
    assert result.delivered == 2 and result.conflicts == 1
    assert [it.id for it in result.retry] == ["id-000002", "id-000003"]  # only these are sent again
    assert [(it.id, status) for it, status, _ in result.rejected] == [("id-000004", 400)]
    assert result.rejected[0][2] == "some_exception: because 400 (caused by: deeper)"
    assert result.status == 429 and "because 429" in result.failure and not result.split
    again = bulk.attempt(lambda body: bodies.append(body) or answer(201, 201), result.retry)
    assert again.delivered == 2 and not again.retry
    assert [orjson.loads(line)["create"]["_id"] for line in bodies[1].split(b"\n")[0::2] if line] == ["id-000002", "id-000003"]


def test_whole_request_failures():
    docs = items(4)

    def failing(status):
        def send(body):
            raise EsUnavailableError("nope", status)

        return send

    unreachable = bulk.attempt(failing(None), docs)
    assert unreachable.retry == docs and unreachable.status is None and unreachable.failure == "nope"
    for status in (429, 502, 401, 404):
        assert bulk.attempt(failing(status), docs).retry == docs
    too_big = bulk.attempt(failing(413), docs)
    assert too_big.split and not too_big.retry and not too_big.rejected
    alone = bulk.attempt(failing(400), docs[:1])
    assert [(it.id, status) for it, status, _ in alone.rejected] == [("id-000000", 400)]
    short = bulk.attempt(lambda body: answer(201), docs)  # an answer that does not account for all
    assert short.retry == docs and "1 items for 4 documents" in short.failure
    assert bulk.halves(docs) == (docs[:2], docs[2:])


def test_chunks_by_count_and_size():
    docs = items(10, pad=1000)
    assert [len(c) for c in bulk.chunks(docs, 4, 1 << 20)] == [4, 4, 2]
    cost = len(docs[0].line) + len(docs[0].index) + 80  # about what the body takes per document
    assert [len(c) for c in bulk.chunks(docs, 100, 3 * cost + 10)] == [3, 3, 3, 1]
    assert [len(c) for c in bulk.chunks(docs, 100, 10)] == [1] * 10  # a large document goes alone


@pytest.mark.parametrize("seed", range(5))
def test_backoff_is_exponential_jittered_and_capped(seed):
    backoff = bulk.Backoff(base=0.5, cap=30.0, rng=random.Random(seed))
    delays = [backoff.delay(n) for n in range(60)]
    for n, d in enumerate(delays):
        step = min(30.0, 0.5 * 2**n)
        assert step / 2 <= d <= step
    assert max(delays) <= 30.0 and min(delays[10:]) >= 15.0
    assert len({round(d, 6) for d in delays[10:]}) > 40  # jittered, not in lockstep


def test_torn_spool_line_is_a_damaged_item(tmp_path):
    with pytest.raises(bulk.Damaged, match="not JSON"):
        bulk.item(orjson.dumps(doc(1))[:-3])


def test_kill_leaves_no_stray_files(tmp_path):
    spool = Spool(tmp_path / "spool", 1 << 20)
    spool.append(entries([doc(1)]))
    spool.close()
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == [".lock", "0000000000000001.ndjson"]
    assert oct((tmp_path / "spool" / "0000000000000001.ndjson").stat().st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "spool").st_mode & 0o777) == "0o700"
