"""`wgsiem ship --output elasticsearch`: the output with a fake cluster (outage, partial
failures, rejects, drops, a slow cluster), credentials kept out of every message, the
settings' errors, and, marked `es`, real nodes: delivery into the data streams, an outage
of the node while ship runs, and kill -9 in the middle of delivering a spool."""

from __future__ import annotations

import base64
import http.server
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from elasticsearch import ApiError

from tests.support.dumps import FakeInterface, dump, fake_key
from tests.support.es import install_templates, unique_namespace
from wgsiem.adapters.bulk import Backoff
from wgsiem.adapters.elasticsearch import EsSettings, EsUnavailableError, connect, redact, secret_values
from wgsiem.adapters.elasticsearch_output import ElasticsearchOutput
from wgsiem.adapters.spool import Spool
from wgsiem.wgdump.x25519 import public_key_of

REPO = Path(__file__).resolve().parents[1]
SECRET = "c2VjcmV0LWlkOnRvcC1zZWNyZXQta2V5LTQ4MTU="  # base64("secret-id:top-secret-key-4815")
PASSWORD = "pw-never-shown-1623"


def doc(n: int, namespace: str = "test", **extra) -> dict:
    return {
        "@timestamp": f"2024-05-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "event": {"id": f"id-{n:06d}", "dataset": "wireguard.status"},
        "data_stream": {"type": "logs", "dataset": "wireguard.status", "namespace": namespace},
        **extra,
    }


class FakeCluster:
    """`send` for the output: answers a bulk body as Elasticsearch would, per document.
    `down` refuses connections; ids in `reject` get a 400, in `busy` one 429 each."""

    def __init__(self) -> None:
        self.docs: dict[str, int] = {}
        self.down = False
        self.reject: set[str] = set()
        self.busy: set[str] = set()
        self.requests: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.lock = threading.Lock()

    def send(self, body: bytes):
        if self.gate is not None:
            self.gate.wait()
        lines = body.split(b"\n")[:-1]
        ids = [orjson.loads(a)["create"]["_id"] for a in lines[0::2]]
        with self.lock:
            self.requests.append(ids)
            if self.down:
                raise EsUnavailableError(f"HTTPConnection(host='127.0.0.1', port=1): Connection refused ({SECRET})")
            items = []
            for i in ids:
                if i in self.reject:
                    items.append({"create": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": f"bad {i} {SECRET}"}}})
                elif i in self.busy:
                    self.busy.discard(i)
                    items.append({"create": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}})
                elif i in self.docs:
                    self.docs[i] += 1
                    items.append({"create": {"status": 409, "error": {"type": "version_conflict_engine_exception"}}})
                else:
                    self.docs[i] = 1
                    items.append({"create": {"status": 201}})
            return {"items": items}


def make_output(tmp_path, cluster, *, max_bytes=1 << 24, policy="drop-oldest", flush=5.0, **kw) -> ElasticsearchOutput:
    spool = Spool(tmp_path / "spool", max_bytes, policy, segment_bytes=kw.pop("segment_bytes", None))
    secrets = (SECRET, base64.b64decode(SECRET).decode().split(":")[1])
    return ElasticsearchOutput(
        spool, cluster.send, tmp_path / "dead-letter.ndjson", url="http://es.test:9200", flush_timeout=flush,
        backoff=Backoff(base=0.01, cap=0.05), scrub=lambda text: redact(text, secrets), **kw,
    )  # fmt: skip


def wait_until(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


# --- the output, with a fake cluster ----------------------------------------------------


def test_outage_spools_then_delivers_everything_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, "wgsiem")
    cluster = FakeCluster()
    cluster.down = True
    out = make_output(tmp_path, cluster)
    for batch in range(5):
        assert out.write_batch(doc(n) for n in range(batch * 20, batch * 20 + 20)) == 20
    wait_until(lambda: len(cluster.requests) >= 3, what="retries")
    assert out.spool.count == 100 and not cluster.docs
    down = [m for m in messages(caplog) if "unreachable" in m]
    assert len(down) == 1  # rate-limited: one message, however many retries
    assert "Elasticsearch unreachable (HTTPConnection(host='127.0.0.1', port=1): Connection refused ((redacted)))" in down[0]
    assert "documents spooled (" in down[0]
    cluster.down = False
    wait_until(lambda: out.spool.count == 0, what="the spool to empty")
    out.close()
    assert sorted(cluster.docs) == [f"id-{n:06d}" for n in range(100)] and set(cluster.docs.values()) == {1}
    text = "\n".join(messages(caplog))
    assert "takes documents again after" in text
    assert "delivered 100 spooled documents, spool empty" in text
    assert "elasticsearch output: 100 documents delivered, 0 already there (409), 0 spooled" in text
    assert not list((tmp_path / "spool").glob("*.ndjson"))


def test_only_the_documents_that_failed_are_sent_again(tmp_path, caplog):
    cluster = FakeCluster()
    cluster.busy = {"id-000002", "id-000005"}
    out = make_output(tmp_path, cluster)
    out.write_batch(doc(n) for n in range(8))
    wait_until(lambda: out.spool.count == 0)
    out.close()
    assert cluster.requests[0] == [f"id-{n:06d}" for n in range(8)]
    assert cluster.requests[1] == ["id-000002", "id-000005"]
    assert len(cluster.requests) == 2 and set(cluster.docs.values()) == {1}
    assert any("Elasticsearch overloaded (HTTP 429: es_rejected_execution_exception: queue full)" in m for m in messages(caplog))


def test_rejected_documents_go_to_the_dead_letter_file_and_do_not_block(tmp_path, caplog):
    cluster = FakeCluster()
    cluster.reject = {"id-000001"}
    out = make_output(tmp_path, cluster)
    out.write_batch(doc(n) for n in range(3))
    wait_until(lambda: out.spool.count == 0)
    out.write_batch([doc(3)])
    wait_until(lambda: out.spool.count == 0)
    out.close()
    assert sorted(cluster.docs) == ["id-000000", "id-000002", "id-000003"]
    dead = [json.loads(line) for line in (tmp_path / "dead-letter.ndjson").read_text().splitlines()]
    assert len(dead) == 1 and dead[0]["document"] == doc(1) and dead[0]["_index"] == "logs-wireguard.status-test"
    assert dead[0]["error"] == {"status": 400, "reason": "mapper_parsing_exception: bad id-000001 (redacted)"}
    assert out.counts.dead_lettered == 1
    text = "\n".join(messages(caplog))
    assert "rejected 1 documents for good (mapper_parsing_exception: bad id-000001 (redacted))" in text
    assert "1 dead-lettered" in text
    assert SECRET not in text and SECRET not in (tmp_path / "dead-letter.ndjson").read_text()


def test_a_damaged_spool_line_is_dead_lettered_and_the_rest_delivered(tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    lines = [orjson.dumps(doc(0)), b"\x00\x00garbage", orjson.dumps(doc(1))]
    (spool_dir / "0000000000000001.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    cluster = FakeCluster()
    out = make_output(tmp_path, cluster)
    wait_until(lambda: out.spool.count == 0)
    out.close()
    assert sorted(cluster.docs) == ["id-000000", "id-000001"]
    dead = json.loads((tmp_path / "dead-letter.ndjson").read_text())
    assert "damaged in the spool (0000000000000001.ndjson:2)" in dead["error"]["reason"]


def test_documents_delivered_before_a_crash_count_as_delivered(tmp_path, caplog):
    caplog.set_level(logging.INFO, "wgsiem")
    cluster = FakeCluster()
    cluster.docs = {f"id-{n:06d}": 1 for n in range(5)}  # a first attempt got them in, then the process died
    out = make_output(tmp_path, cluster)
    out.write_batch(doc(n) for n in range(10))
    wait_until(lambda: out.spool.count == 0)
    out.close()
    assert out.counts.conflicts == 5 and out.counts.delivered == 5 and out.counts.dead_lettered == 0
    assert set(cluster.docs.values()) == {2, 1}  # the five were offered twice, indexed once
    assert "5 documents delivered, 5 already there (409)" in "\n".join(messages(caplog))


def test_a_hanging_cluster_does_not_hold_up_the_poll_loop(tmp_path):
    cluster = FakeCluster()
    cluster.gate = threading.Event()  # every request hangs until the gate opens
    out = make_output(tmp_path, cluster, flush=0.2)
    for batch in range(20):
        started = time.monotonic()
        out.write_batch(doc(n) for n in range(batch * 50, batch * 50 + 50))
        assert time.monotonic() - started < 0.5
    assert out.spool.count == 1000
    cluster.gate.set()
    out.close()


def test_stopping_while_the_cluster_is_away_keeps_the_spool_for_the_next_start(tmp_path, caplog):
    caplog.set_level(logging.INFO, "wgsiem")
    cluster = FakeCluster()
    cluster.down = True
    out = make_output(tmp_path, cluster, flush=0.3)
    out.write_batch(doc(n) for n in range(30))
    started = time.monotonic()
    out.close()
    assert time.monotonic() - started < 3
    assert "stopping with 30 documents" in "\n".join(messages(caplog))
    cluster.down = False
    again = make_output(tmp_path, cluster)
    wait_until(lambda: again.spool.count == 0)
    again.close()
    assert sorted(cluster.docs) == [f"id-{n:06d}" for n in range(30)]
    text = "\n".join(messages(caplog))
    assert "30 documents (" in text and "by an earlier run: delivering them first" in text
    assert "delivered 30 spooled documents, spool empty" in text


def test_a_summary_now_and_then_while_something_happens(tmp_path, caplog):
    caplog.set_level(logging.INFO, "wgsiem")
    now = [0.0]
    cluster = FakeCluster()
    out = make_output(tmp_path, cluster, summary_every=3600, clock=lambda: now[0])
    out.write_batch(doc(n) for n in range(3))
    wait_until(lambda: out.spool.count == 0)
    now[0] = 3600.0
    out._wake.set()
    wait_until(lambda: any("elasticsearch output: 3 documents delivered" in m for m in messages(caplog)))
    now[0] = 7200.0  # nothing new since: no second summary until the one at stop
    out._wake.set()
    time.sleep(0.2)
    out.close()
    assert sum("elasticsearch output:" in m for m in messages(caplog)) == 2


@pytest.mark.parametrize("policy", ["drop-oldest", "drop-newest"])
def test_a_full_spool_drops_and_says_how_many_and_when(tmp_path, caplog, policy):
    caplog.set_level(logging.INFO, "wgsiem")
    cluster = FakeCluster()
    cluster.down = True
    size = len(orjson.dumps(doc(0, message="m" * 400))) + 1
    out = make_output(tmp_path, cluster, max_bytes=50 * size, policy=policy, segment_bytes=5 * size, flush=0.1)
    written = sum(out.write_batch(doc(n, message="m" * 400) for n in range(b * 25, b * 25 + 25)) for b in range(8))
    assert out.spool.bytes <= 50 * size
    dropped = out.counts.dropped
    assert dropped.count == 200 - out.spool.count
    assert written == (200 if policy == "drop-oldest" else 200 - dropped.count)
    if policy == "drop-oldest":  # all but the newest, and the segment out for delivery, may go
        assert doc(0)["@timestamp"] <= dropped.first < dropped.last < doc(175)["@timestamp"]
    else:
        assert dropped.last == doc(199)["@timestamp"] and dropped.first > doc(25)["@timestamp"]
    out.close()
    text = "\n".join(messages(caplog))
    assert text.count("is full (spool_max_bytes") == 1
    assert f"(spool_full: {policy})" in text
    assert "spool full: dropped" in text and f"{dropped.count} dropped since start" in text
    assert f"{dropped.count} dropped (spool full)" in text


# --- credentials ------------------------------------------------------------------------


def test_secret_values_and_redact(tmp_path, monkeypatch):
    key_file = tmp_path / "api-key"
    key_file.write_text(SECRET + "\n")
    values = secret_values(EsSettings("http://x", api_key_file=key_file))
    assert SECRET in values and "top-secret-key-4815" in values
    text = f"failed: ApiKey {SECRET} / secret-id:top-secret-key-4815 / top-secret-key-4815"
    assert SECRET not in redact(text, values) and "top-secret-key-4815" not in redact(text, values)
    monkeypatch.setenv("WGSIEM_ES_PASSWORD", PASSWORD)
    values = secret_values(EsSettings("http://x", user="shipper"))
    token = base64.b64encode(f"shipper:{PASSWORD}".encode()).decode()
    assert PASSWORD in values and token in values


class EchoAuth(http.server.BaseHTTPRequestHandler):
    """An Elasticsearch impostor that refuses every request, quoting the credentials it got."""

    seen: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        auth = self.headers.get("authorization", "")
        EchoAuth.seen.append(auth)
        body = json.dumps({"error": {"type": "security_exception", "reason": f"unable to authenticate [{auth}]"}, "status": 401})
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_PUT = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoAuth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    EchoAuth.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def one_dump_wg(tmp_path) -> str:
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=int(time.time()) - 20, rx=10, tx=10)
    (tmp_path / "current.dump").write_text(dump(wg0))
    script = tmp_path / "wg"
    script.write_text(f"#!/bin/sh\ncat '{tmp_path / 'current.dump'}'\n")
    script.chmod(0o755)
    return str(script)


def ship(tmp_path, *args, env=None, check=False, timeout=60) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "wgsiem", "ship", "--state-dir", str(tmp_path / "state"), "--host-name", "vpn1",
            "--wg-config-dir", str(tmp_path / "no-configs"), "--kernel-log", "off", *args]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"ship exited {proc.returncode}:\n{proc.stderr}")
    return proc


class BulkOk(http.server.BaseHTTPRequestHandler):
    """A cluster that creates every document of a bulk request."""

    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        BulkOk.received.append(body)
        items = [{"create": {"status": 201}} for line in body.splitlines()[::2] if line.strip()]
        reply = json.dumps({"errors": False, "items": items}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_PUT = do_POST  # the client sends _bulk as PUT

    def log_message(self, *args):
        pass


def test_tls_is_verified_unless_given_the_ca(tmp_path, tls_certificate):
    import ssl

    cert, key = tls_certificate
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BulkOk)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    BulkOk.received = []
    try:
        args = ["--once", "--wg", one_dump_wg(tmp_path), "--output", "elasticsearch", "--es-url", url,
                "--es-flush-timeout", "2", "--es-backoff-max", "1"]  # fmt: skip
        untrusted = ship(tmp_path, *args)
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr and BulkOk.received == []
        assert list((tmp_path / "state" / "spool").glob("*.ndjson")), "the documents wait in the spool"
        trusted = ship(tmp_path, *args, "--es-ca-file", str(cert), check=True)
        assert len(BulkOk.received) >= 1 and b'"create"' in BulkOk.received[0], trusted.stderr
        assert not list((tmp_path / "state" / "spool").glob("*.ndjson")), trusted.stderr
    finally:
        server.shutdown()


@pytest.mark.parametrize("how", ["api-key-file", "api-key-env", "password-file", "password-env"])
def test_credentials_reach_the_cluster_but_no_message(tmp_path, echo_server, how):
    secret_file = tmp_path / "secret"
    args = ["--once", "--wg", one_dump_wg(tmp_path), "--output", "elasticsearch", "--es-url", echo_server, "--es-flush-timeout", "1.5",
            "--es-backoff-max", "1", "--verbose"]  # fmt: skip
    env = {"WGSIEM_ES_API_KEY": "", "WGSIEM_ES_PASSWORD": ""}
    secret = SECRET if how.startswith("api-key") else PASSWORD
    if how == "api-key-file":
        secret_file.write_text(SECRET)
        args += ["--es-api-key-file", str(secret_file)]
    elif how == "api-key-env":
        env["WGSIEM_ES_API_KEY"] = SECRET
    elif how == "password-file":
        secret_file.write_text(PASSWORD)
        args += ["--es-user", "shipper", "--es-password-file", str(secret_file)]
    else:
        env["WGSIEM_ES_PASSWORD"] = PASSWORD
        args += ["--es-user", "shipper"]
    proc = ship(tmp_path, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert EchoAuth.seen, proc.stderr
    if how.startswith("api-key"):
        assert EchoAuth.seen[0] == f"ApiKey {SECRET}"
    else:
        assert EchoAuth.seen[0] == "Basic " + base64.b64encode(f"shipper:{PASSWORD}".encode()).decode()
    output = proc.stdout + proc.stderr
    assert "refusing the writes (check the credentials" in output and "HTTP 401" in output
    assert "(redacted)" in output  # the server quoted the credentials back; they were scrubbed
    for form in (secret, base64.b64encode(f"shipper:{PASSWORD}".encode()).decode(), "top-secret-key-4815"):
        assert form not in output
    assert "2 spooled" in output  # kept for the next start, not lost
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["--output", "elasticsearch"], "es_url: output 'elasticsearch' needs the cluster's URL"),
        (["--output", "elasticsearch", "--es-url", f"https://elastic:{PASSWORD}@es.example:9200"], "es_url: put no user name or password in the URL"),
        (["--output", "elasticsearch", "--es-url", f"elastic:{PASSWORD}@es.example:9200"], "es_url: put no user name or password in the URL"),
        (["--output", "elasticsearch", "--es-url", "es.example:9200"], "es_url: 'es.example:9200' is not an http:// or https:// URL"),
        (["--output", "elasticsearch", "--es-url", "http://h:port"], "es_url: not a URL"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--spool-full", "drop-middle"], "spool_full must be 'drop-oldest' or 'drop-newest'"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--spool-max-bytes", "1000"], "spool_max_bytes must be at least 65536"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--es-api-key-file", "/nonexistent/key"], "es_api_key_file: /nonexistent/key: no such file"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--es-user", "u", "--es-api-key-file", "/etc/hostname"], "give one, an API key or a user"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--es-password-file", "/etc/hostname"], "es_password_file: a password needs es_user"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--es-timeout", "0", "--es-bulk-docs", "0"], "es_timeout must be more than 0 seconds; es_bulk_docs must be at least 1"),
        (["--output", "elasticsearch", "--es-url", "http://h", "--es-user", "u"], "es_user u: the password comes from es_password_file (--es-password-file) or $WGSIEM_ES_PASSWORD"),
        (["--output", "kafka"], "output must be 'file' or 'stdout' or 'elasticsearch', not 'kafka'"),
    ],
)  # fmt: skip
def test_settings_errors_name_the_key(tmp_path, args, message):
    proc = ship(tmp_path, "--once", "--wg", "/bin/false", *args, env={"WGSIEM_ES_PASSWORD": "", "WGSIEM_ES_API_KEY": ""})
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert PASSWORD not in proc.stderr


def test_settings_from_the_config_file(tmp_path):
    from wgsiem.config import ConfigError, load_config

    config = tmp_path / "ship.yaml"
    config.write_text("output: elasticsearch\nes_url: https://es.example:9200\nspool_max_bytes: 1048576\nspool_full: drop-newest\nes_insecure: true\n")
    cfg = load_config(config, {"spool_full": None})
    assert (cfg.es_url, cfg.spool_max_bytes, cfg.spool_full, cfg.es_insecure) == ("https://es.example:9200", 1048576, "drop-newest", True)
    assert cfg.spool_dir == Path("/var/lib/wgsiem/spool") and cfg.dead_letter_file == Path("/var/lib/wgsiem/dead-letter.ndjson")
    config.write_text("output: elasticsearch\nes_url: http://h\nspool_max_bytes: lots\n")
    with pytest.raises(ConfigError, match="spool_max_bytes: expected int"):
        load_config(config, {})
    config.write_text("output: elasticsearch\nes_url: http://h\nes_api_key: abc\n")
    with pytest.raises(ConfigError, match="es_api_key: unknown setting"):  # a secret is never a setting
        load_config(config, {})


def test_a_second_shipper_on_the_same_spool_is_refused(tmp_path):
    spool = Spool(tmp_path / "state" / "spool", 1 << 20)
    try:
        proc = ship(tmp_path, "--once", "--wg", one_dump_wg(tmp_path), "--output", "elasticsearch", "--es-url", "http://127.0.0.1:1")
    finally:
        spool.close()
    assert proc.returncode == 2 and "another wgsiem ship is using this spool" in proc.stderr


# --- a real node ------------------------------------------------------------------------


def es_client(url: str):
    return connect(EsSettings(url))


def searchable(client, pattern: str):  # noqa: ANN001, ANN201
    """Wait until the namespace's shards are started: a data stream the shipper's first
    bulk request has just created answers a search with 503 until its primary is up."""
    client.cluster.health(index=pattern, wait_for_status="yellow", timeout="30s")
    client.indices.refresh(index=pattern)
    return client


def indexed(url: str, namespace: str) -> tuple[int, list[tuple[str, str, str]]]:
    """(total hits, [(_index, _id, event.id)]) of every document in the namespace's
    wireguard data streams, paged by event.id: the total counts duplicates, the pages
    do not need to."""
    pattern = f"logs-wireguard.*-{namespace}"
    client = searchable(es_client(url), pattern)
    total, hits, after = None, [], None
    while True:
        body = {"size": 5000, "sort": [{"event.id": "asc"}], "_source": ["event.id"], "track_total_hits": True}
        if after is not None:
            body["search_after"] = after
        page = client.search(index=pattern, body=body).body
        if total is None:
            total = page["hits"]["total"]["value"]
        batch = page["hits"]["hits"]
        hits += [(h["_index"], h["_id"], h["_source"]["event"]["id"]) for h in batch]
        if len(batch) < 5000:
            return total, hits
        after = batch[-1]["sort"]


def count(url: str, namespace: str) -> int:
    """Documents in the namespace so far. While the shipper delivers, its first document of
    the other dataset can create that data stream between the health check and the count,
    which then answers 503 until the new primary is up: wait for it and count again."""
    pattern = f"logs-wireguard.*-{namespace}"
    for _ in range(20):
        try:
            return searchable(es_client(url), pattern).count(index=pattern).body["count"]
        except ApiError as error:
            if error.status_code != 503:
                raise
            time.sleep(0.5)
    raise AssertionError(f"{pattern}: the count answered 503 for 10 s")


@pytest.mark.es
def test_ship_indexes_into_the_data_streams_with_the_event_id(es_templates, tmp_path):
    namespace = unique_namespace()
    wg = one_dump_wg(tmp_path)
    args = ["--once", "--wg", wg, "--output", "elasticsearch", "--es-url", es_templates, "--namespace", namespace]
    first = ship(tmp_path, *args, check=True)
    assert "2 documents delivered" in first.stderr
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.8:4000", handshake=int(time.time()) - 2, rx=500, tx=700)
    (tmp_path / "current.dump").write_text(dump(wg0))
    ship(tmp_path, *args, check=True)
    total, hits = indexed(es_templates, namespace)
    assert total == len(hits) >= 5  # discovered x2, then a roam, a handshake (session) and transfer
    assert all(index.startswith(f".ds-logs-wireguard.status-{namespace}-") for index, _, _ in hits)
    assert all(_id == event_id for _, _id, event_id in hits)
    assert not list((tmp_path / "state" / "spool").glob("*.ndjson"))
    assert not (tmp_path / "state" / "dead-letter.ndjson").exists()


@pytest.mark.es
def test_real_conflicts_and_rejects(es_templates, tmp_path):
    from wgsiem.adapters.elasticsearch import bulk_sender

    namespace = unique_namespace()
    spool = Spool(tmp_path / "spool", 1 << 24)
    out = ElasticsearchOutput(spool, bulk_sender(es_client(es_templates), 30), tmp_path / "dead-letter.ndjson", flush_timeout=20)
    docs = [doc(n, namespace) for n in range(50)]
    homeless = {k: v for k, v in doc(99, namespace).items() if k != "@timestamp"}  # a data stream needs @timestamp
    out.write_batch([*docs[:30], homeless])
    out.write_batch(docs)  # 30 of them a second time: a re-send after a crash
    out.close()
    assert (out.counts.delivered, out.counts.conflicts, out.counts.dead_lettered) == (50, 30, 1)
    total, hits = indexed(es_templates, namespace)
    assert total == 50 and {h[1] for h in hits} == {d["event"]["id"] for d in docs}
    dead = json.loads((tmp_path / "dead-letter.ndjson").read_text())
    assert dead["_id"] == "id-000099" and dead["error"]["status"] == 400 and "@timestamp" in dead["error"]["reason"]


FAKE_WG = r"""#!{python}
# A `wg` whose every answer is a new dump, kept in capture/<second>.dump before it is
# printed: the record of what ship was given, for `wgsiem convert` to turn into events.
# ship stamps a poll with int(time.time()) taken just before it runs wg, so an answer
# is given only 0.3 s or more into a second (then ship's second is this one) and once a
# second (a capture holds one dump a second); other calls fail as `wg` fails without
# CAP_NET_ADMIN, which ship takes as a failed poll that changes nothing. So does every
# call while `paused` exists.
import os, sys, time, pathlib
base = pathlib.Path({base!r})
now = time.time()
with open(base / "calls", "a") as f:
    f.write(f"{{now}}\n")
capture = base / "capture"
second = int(now)
if (base / "paused").exists() or now - second < 0.3 or (capture / f"{{second}}.dump").exists():
    sys.stderr.write("Unable to access interface: fake wg answers once a second\n")
    sys.exit(1)
k = len(list(capture.glob("*.dump")))
keys = {keys!r}
n = min(len(keys), {peers} + k * {growth})
lines = ["wg0\t{private}\t{public}\t51820\toff"]
for i in range(n):
    port = 40000 + (k // 4 if i == 0 else 0)  # the first peer roams every fourth poll
    lines.append(
        f"wg0\t{{keys[i]}}\t(none)\t198.51.100.{{i % 250 + 1}}:{{port}}\t10.{{i // 250}}.0.{{i % 250 + 2}}/32"
        f"\t{{second - 5}}\t{{(k + 1) * 1000 * (i + 1)}}\t{{(k + 1) * 300 * (i + 1)}}\toff"
    )
text = "\n".join(lines) + "\n"
tmp = capture / f".{{second}}.tmp"
tmp.write_text(text)
os.rename(tmp, capture / f"{{second}}.dump")
sys.stdout.write(text)
"""


class ShipRun:
    """`wgsiem ship --output elasticsearch` as a real process with FAKE_WG, and the
    independent record of what it was given: FAKE_WG's capture, through `wgsiem convert`
    (the same Shipper code path, fed the same dumps at the same poll times)."""

    def __init__(self, tmp_path: Path, url: str, namespace: str, peers: int = 4, growth: int = 1, *extra: str) -> None:
        self.tmp = tmp_path
        self.base = tmp_path / "fakewg"
        (self.base / "capture").mkdir(parents=True)
        keys = [fake_key(f"peer{i}") for i in range(max(peers, 1) + 200 * growth)]
        self.wg = self.base / "wg"
        self.wg.write_text(FAKE_WG.format(python=sys.executable, base=str(self.base), keys=keys, peers=peers, growth=growth,
                                          private=fake_key("private wg0"), public=public_key_of(fake_key("private wg0"))))  # fmt: skip
        self.wg.chmod(0o755)
        self.namespace = namespace
        self.url = url
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.log = tmp_path / "ship.log"

    def start(self, url: str | None = None, *extra: str) -> None:
        argv = [sys.executable, "-m", "wgsiem", "ship", "--wg", str(self.wg), "--state-dir", str(self.tmp / "state"),
                "--host-name", "vpn1", "--namespace", self.namespace, "--wg-config-dir", str(self.tmp / "no-configs"),
                "--kernel-log", "off", "--interval", "0.25", "--output", "elasticsearch", "--es-url", url or self.url,
                "--es-backoff-max", "2", "--health-interval", "0", *self.extra, *extra]  # fmt: skip
        # No shipper-health: what is indexed is compared with what convert makes of the capture.
        with open(self.log, "a") as log:  # a file, not a pipe: a full pipe would stall ship
            self.proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=log)

    def stderr(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """ship's exit status: after pause() 1, as its last poll failed."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code

    def alive(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.stderr()

    def served(self) -> int:
        return len(list((self.base / "capture").glob("*.dump")))

    def calls(self) -> int:
        path = self.base / "calls"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def wait_served(self, n: int, timeout: float = 60) -> None:
        target = self.served() + n
        deadline = time.monotonic() + timeout
        while self.served() < target:
            self.alive()
            assert time.monotonic() < deadline, f"fake wg served {self.served()} dumps, wanted {target}"
            time.sleep(0.05)

    def pause(self) -> None:
        """No more dumps; returns once ship has asked again, so every dump served is in the spool."""
        (self.base / "paused").touch()
        calls = self.calls()
        deadline = time.monotonic() + 30
        while self.calls() < calls + 2:
            self.alive()
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def spool_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.tmp / "state" / "spool").glob("*.ndjson"))

    def expected_ids(self) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "wgsiem", "convert", str(self.base / "capture"), "--host-name", "vpn1", "--namespace", self.namespace],
            capture_output=True, text=True, cwd=REPO, check=True,
        )  # fmt: skip
        ids = [json.loads(line)["event"]["id"] for line in proc.stdout.splitlines()]
        assert len(ids) == len(set(ids))
        return set(ids)

    def wait_indexed(self, expected: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while count(self.url, self.namespace) < expected:
            self.alive()
            assert time.monotonic() < deadline, f"{count(self.url, self.namespace)} of {expected} indexed:\n{self.stderr()[-3000:]}"
            time.sleep(0.2)


@pytest.mark.es
def test_outage_of_the_node_loses_nothing_and_doubles_nothing(own_es_node, tmp_path):
    install_templates(own_es_node.url)
    namespace = unique_namespace()
    run = ShipRun(tmp_path, own_es_node.url, namespace)
    run.start()
    try:
        run.wait_served(4)
        deadline = time.monotonic() + 30
        while count(own_es_node.url, namespace) == 0:
            run.alive()
            assert time.monotonic() < deadline, run.stderr()
            time.sleep(0.1)
        up_before = count(own_es_node.url, namespace)

        own_es_node.stop()  # the cluster goes away while ship polls
        run.wait_served(2)
        spooled_early = run.spool_bytes()
        run.wait_served(6)
        assert run.spool_bytes() > spooled_early > 0  # the spool grows while the node is away
        # A node going down refuses connections, or first answers 503 while it closes.
        began = re.findall(r"Elasticsearch (?:unreachable|failing) \(.*\), \d+ documents spooled \(", run.stderr())
        assert len(began) == 1  # said once, however many retries

        own_es_node.start()  # same data, same port
        run.wait_served(4)
        run.pause()
        expected = run.expected_ids()
        run.wait_indexed(len(expected))
        time.sleep(1)  # room for a stray duplicate to show up, if there were one
        assert run.stop() == 1
    finally:
        if run.proc is not None:
            run.stop(signal.SIGKILL)
    total, hits = indexed(own_es_node.url, namespace)
    ids = [h[1] for h in hits]
    assert set(ids) == expected  # none missing, none extra
    assert total == len(expected) == len(ids)  # none twice
    assert all(_id == event_id for _, _id, event_id in hits)
    assert up_before < len(expected)
    text = run.stderr()
    assert "takes documents again after" in text and "spooled documents, spool empty" in text
    assert "0 spooled" in text.splitlines()[-1] and "0 dropped" in text.splitlines()[-1]
    assert not list((tmp_path / "state" / "spool").glob("*.ndjson"))


@pytest.mark.es
def test_kill_9_in_the_middle_of_delivering_loses_nothing_and_doubles_nothing(es_templates, tmp_path):
    namespace = unique_namespace()
    run = ShipRun(tmp_path, es_templates, namespace, 1500, 0, "--es-bulk-docs", "50", "--es-flush-timeout", "0")
    # Spool a backlog: a cluster nobody listens on.
    run.start("http://127.0.0.1:9")
    run.wait_served(4)
    run.pause()
    assert run.stop() == 1
    expected = run.expected_ids()
    assert len(expected) > 10000
    spooled = run.spool_bytes()
    assert spooled > 0

    run.start()  # the real cluster: delivering the backlog ...
    try:
        deadline = time.monotonic() + 60
        while not 0 < count(es_templates, namespace) < len(expected) // 2:
            run.alive()
            assert time.monotonic() < deadline, run.stderr()
            time.sleep(0.02)
        run.stop(signal.SIGKILL)  # ... killed in the middle of it
        at_kill = count(es_templates, namespace)
        assert 0 < at_kill < len(expected) and run.spool_bytes() > 0

        run.start()
        run.wait_indexed(len(expected))
        time.sleep(1)
        assert run.stop() == 1
    finally:
        if run.proc is not None:
            run.stop(signal.SIGKILL)
    total, hits = indexed(es_templates, namespace)
    assert {h[1] for h in hits} == expected and total == len(expected) == len(hits)
    last = run.stderr().splitlines()[-1]
    assert "already there (409)" in last and " 0 already there" not in last  # the re-send met what was in
    assert "0 spooled" in last
