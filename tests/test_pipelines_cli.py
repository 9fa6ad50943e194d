"""`wgsiem pipelines ...` and `wgsiem templates install` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wgsiem.content import INGEST_PIPELINES
from wgsiem.mappings.templates import PIPELINE_MODULES, TYPE_MODULES

REPO = Path(__file__).resolve().parents[1]


def wgsiem(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgsiem", *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_simulate_reads_request_on_stdin_and_answers_like_elasticsearch() -> None:
    body = {
        "pipeline": {"processors": [{"set": {"field": "event.kind", "value": "event"}}, {"uppercase": {"field": "foo"}}]},
        "docs": [{"_index": "i", "_id": "1", "_source": {"foo": "bar"}}, {"_source": {"nofoo": 1}}],
    }
    done = wgsiem("pipelines", "simulate", stdin=json.dumps(body))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["docs"][0]["doc"]["_source"] == {"foo": "BAR", "event": {"kind": "event"}}
    assert out["docs"][1]["error"]["reason"] == "field [foo] not present as part of path [foo]"
    verbose = json.loads(wgsiem("pipelines", "simulate", "--verbose", stdin=json.dumps(body)).stdout)
    assert [r["processor_type"] for r in verbose["docs"][0]["processor_results"]] == ["set", "uppercase"]


def test_simulate_bad_pipeline_is_the_400_body_and_exit_1() -> None:
    done = wgsiem("pipelines", "simulate", stdin=json.dumps({"pipeline": {"processors": [{"set": {"value": 1}}]}, "docs": [{"_source": {}}]}))
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert out["status"] == 400 and out["error"]["root_cause"][0]["property_name"] == "field"


def test_simulate_pipeline_id_from_the_pipeline_dir() -> None:
    body = {"pipeline_id": "logs-wireguard-raw", "docs": [{"_source": {"message": "wireguard: wg0: Peer 4 created"}}]}
    done = wgsiem("pipelines", "simulate", stdin=json.dumps(body))
    assert done.returncode == 0, done.stderr
    source = json.loads(done.stdout)["docs"][0]["doc"]["_source"]
    assert source["event"]["action"] == "peer-created" and source["wireguard"]["log"]["peer_id"] == 4
    assert "event.ingested" not in source and source["event"]["ingested"]


def test_simulate_pipeline_dir_with_a_pipeline_es_would_refuse(tmp_path: Path) -> None:
    # Elasticsearch refuses such a pipeline at PUT (Pipeline.create: "pipeline [x] cannot have
    # an empty on_failure option defined"), so it is never stored: simulating it by id answers
    # that 400 body (exit 1), and a pipeline processor calling it finds no such pipeline, in
    # verbose mode too (TrackingResultProcessor). `validate` still names the file.
    (tmp_path / "broken.yml").write_text("processors:\n  - set: {field: a, value: 1}\non_failure: []\n")
    (tmp_path / "caller.yml").write_text("processors:\n  - pipeline: {name: broken}\n")
    done = wgsiem("pipelines", "simulate", "--pipeline-dir", str(tmp_path), stdin=json.dumps({"pipeline_id": "broken", "docs": [{"_source": {}}]}))
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == {
        "error": {
            "root_cause": [{"type": "parse_exception", "reason": "pipeline [broken] cannot have an empty on_failure option defined"}],
            "type": "parse_exception",
            "reason": "pipeline [broken] cannot have an empty on_failure option defined",
        },
        "status": 400,
    }
    call = json.dumps({"pipeline_id": "caller", "docs": [{"_source": {}}]})
    done = wgsiem("pipelines", "simulate", "--pipeline-dir", str(tmp_path), stdin=call)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["docs"][0]["error"]["type"] == "illegal_state_exception"
    done = wgsiem("pipelines", "simulate", "--verbose", "--pipeline-dir", str(tmp_path), stdin=call)
    (result,) = json.loads(done.stdout)["docs"][0]["processor_results"]
    assert result["status"] == "error" and result["error"]["reason"] == "Pipeline processor configured for non-existent pipeline [broken]"
    done = wgsiem("pipelines", "validate", "--pipeline-dir", str(tmp_path))
    assert done.returncode == 2 and f"{tmp_path / 'broken.yml'}: pipeline [broken] cannot have an empty on_failure" in done.stderr
    (tmp_path / "broken.yml").write_text("processors: [\n")  # not YAML: a CLI error naming file and line
    done = wgsiem("pipelines", "simulate", "--pipeline-dir", str(tmp_path), stdin=call)
    assert done.returncode == 2 and f"{tmp_path / 'broken.yml'}:2:" in done.stderr and not done.stdout


def test_simulate_help_documents_the_exit_statuses() -> None:
    done = wgsiem("pipelines", "simulate", "--help")
    text = " ".join(done.stdout.split())
    assert "Exit status: 0 when Elasticsearch would answer 200" in text
    assert "1 when it would answer an error body" in text and "2 when the command itself fails" in text


def test_simulate_garbage_stdin_is_a_clear_error() -> None:
    done = wgsiem("pipelines", "simulate", stdin="{not json")
    assert done.returncode == 2 and "stdin: line 1" in done.stderr


def test_validate_and_test_pass_on_the_shipped_pipelines() -> None:
    done = wgsiem("pipelines", "validate")
    assert done.returncode == 0, done.stderr
    assert "logs-wireguard" in done.stdout and "logs-wireguard-raw" in done.stdout
    done = wgsiem("pipelines", "test")
    assert done.returncode == 0, done.stdout
    assert "0 failed" in done.stdout


def test_validate_finds_undefined_fields_missing_pipelines_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(
        "processors:\n  - set: {field: wireguard.no_such_field, value: 1}\n  - pipeline: {name: not-there}\n"
    )
    done = wgsiem("pipelines", "validate", "--pipeline-dir", str(tmp_path))
    assert done.returncode == 1
    assert "writes [wireguard.no_such_field], which ecs_mappings/ does not define" in done.stderr
    assert "calls pipeline [not-there]" in done.stderr
    (tmp_path / "p.yml").write_text("processors:\n  - set: {field: a, value: 1, bogus: 2}\n")
    done = wgsiem("pipelines", "validate", "--pipeline-dir", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path / 'p.yml'}: processor [set]: processor [set] doesn't support" in done.stderr
    (tmp_path / "p.yml").write_text("processors:\n  - set: {field: a\n")
    done = wgsiem("pipelines", "validate", "--pipeline-dir", str(tmp_path))
    assert done.returncode == 2 and f"{tmp_path / 'p.yml'}:3:" in done.stderr


def test_pipeline_test_fails_when_output_changes(tmp_path: Path) -> None:
    copy = tmp_path / "pipelines"
    shutil.copytree(INGEST_PIPELINES, copy)
    raw = copy / "logs-wireguard-raw.yml"
    raw.write_text(raw.read_text().replace("field: network.transport, value: udp", "field: network.transport, value: tcp"))
    done = wgsiem("pipelines", "test", "--pipeline-dir", str(copy))
    assert done.returncode == 1
    assert "network.transport = 'tcp', expected 'udp'" in done.stdout


# --- install, against a stand-in that checks each request --------------------------------
# The real node comes with the Elasticsearch issue; here the stand-in records what arrives
# and answers as Elasticsearch's APIs do (404 for what is not there, the stored body on GET).


class FakeCluster(BaseHTTPRequestHandler):
    store: dict[str, Any] = {}
    log: list[tuple[str, str]] = []

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.log.append(("GET", self.path))
        if self.path.startswith("/_nodes/plugins"):  # a node of the default distribution
            modules = [{"name": m} for m in (*TYPE_MODULES.values(), *PIPELINE_MODULES)]
            self._send(200, {"nodes": {"n1": {"modules": modules}}})
            return
        kind, _, name = self.path.strip("/").rpartition("/")
        body = self.store.get(self.path.strip("/"))
        if body is None:
            self._send(404, {"error": "not found", "status": 404})
        elif kind == "_ingest/pipeline":
            self._send(200, {name: body})
        elif kind == "_component_template":
            self._send(200, {"component_templates": [{"name": name, "component_template": body}]})
        else:
            self._send(200, {"index_templates": [{"name": name, "index_template": body}]})

    def do_PUT(self) -> None:  # noqa: N802
        self.log.append(("PUT", self.path))
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        assert isinstance(body, dict) and body.get("_meta", {}).get("wgsiem_digest")
        self.store[self.path.strip("/")] = body
        self._send(200, {"acknowledged": True})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cluster():
    FakeCluster.store, FakeCluster.log = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_pipelines_install_is_idempotent_and_versioned(cluster: str) -> None:
    done = wgsiem("pipelines", "install", "--es", cluster)
    assert done.returncode == 0, done.stderr
    assert "pipeline logs-wireguard: created" in done.stdout and "pipeline logs-wireguard-raw: created" in done.stdout
    assert FakeCluster.store["_ingest/pipeline/logs-wireguard"]["processors"]
    puts = [p for m, p in FakeCluster.log if m == "PUT"]
    done = wgsiem("pipelines", "install", "--es", cluster)
    assert done.stdout.count("unchanged") == 2
    assert [p for m, p in FakeCluster.log if m == "PUT"] == puts
    FakeCluster.store["_ingest/pipeline/logs-wireguard"] = {"version": 99, "processors": [], "_meta": {"wgsiem_digest": "other"}}
    assert "pipeline logs-wireguard: kept newer" in wgsiem("pipelines", "install", "--es", cluster).stdout
    assert "pipeline logs-wireguard: updated" in wgsiem("pipelines", "install", "--es", cluster, "--force").stdout


def test_templates_install(cluster: str) -> None:
    done = wgsiem("templates", "install", "--es", cluster)
    assert done.returncode == 0, done.stderr
    assert "index template logs-wireguard.status: created" in done.stdout
    assert FakeCluster.store["_index_template/logs-wireguard.log"]["index_patterns"] == ["logs-wireguard.log-*"]
    package = FakeCluster.store["_component_template/logs-wireguard.log@package"]["template"]
    assert package["settings"]["index.default_pipeline"] == "logs-wireguard" and "warning" not in done.stderr
    assert "created" not in wgsiem("templates", "install", "--es", cluster).stdout


def test_install_unreachable_cluster_is_a_clear_error() -> None:
    done = wgsiem("pipelines", "install", "--es", "http://127.0.0.1:9")
    assert done.returncode == 2 and "GET /_ingest/pipeline/" in done.stderr and "Connection refused" in done.stderr


def test_credentials_never_on_the_command_line(cluster: str, tmp_path: Path) -> None:
    done = wgsiem("pipelines", "install", "--help")
    assert "--api-key-file" in done.stdout and "--password-file" in done.stdout and "--api-key " not in done.stdout
    key = tmp_path / "key"
    key.write_text("c2VjcmV0OnNlY3JldA==\n")
    done = wgsiem("pipelines", "install", "--es", cluster, "--api-key-file", str(key))
    assert done.returncode == 0 and "c2VjcmV0" not in done.stdout + done.stderr
