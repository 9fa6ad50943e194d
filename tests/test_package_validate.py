"""`validate_package`: a small valid `wireguard` package passes, as a folder and as a zip;
each way of breaking it is reported once, naming the file inside the package and the key.

The package is written by the test (YAML and JSON as a person would write them), so each
case changes one thing and says what it expects.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from wgsiem.dashboards.model import Dashboard, Grid, Metric, Panel
from wgsiem.dashboards.saved_objects import dashboard_object
from wgsiem.kql import FieldTypes
from wgsiem.package.images import image_info
from wgsiem.package.pipelines import fleet_rewrite
from wgsiem.package.problems import Problem
from wgsiem.package.schema_checks import SCHEMAS, schema_path, validator
from wgsiem.package.validate import semver_key, validate_package

RULE_ID = "8a0f3e62-4b8e-4d5c-9a52-3f1f0d6c2b11"
STATUS = "data_stream/status"
LOG = "data_stream/log"


def png(width: int, height: int) -> bytes:
    """A valid PNG of width x height (grey, one byte a pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32"><circle cx="16" cy="16" r="12"/></svg>\n'

MANIFEST: dict[str, Any] = {
    "format_version": "3.4.0",
    "name": "wireguard",
    "title": "WireGuard",
    "description": "Collect WireGuard peer status and kernel logs with Elastic Agent.",
    "version": "1.0.0",
    "type": "integration",
    "source": {"license": "Apache-2.0"},
    "categories": ["security", "network", "vpn_security"],
    "conditions": {"kibana": {"version": "^8.19.0 || ^9.1.0"}, "elastic": {"subscription": "basic"}},
    "owner": {"github": "wgsiem/maintainers", "type": "community"},
    "icons": [{"src": "/img/wireguard-logo.svg", "title": "WireGuard logo", "size": "32x32", "type": "image/svg+xml"}],
    "screenshots": [{"src": "/img/overview.png", "title": "Overview", "size": "4x3", "type": "image/png"}],
    "policy_templates": [
        {
            "name": "wireguard",
            "title": "WireGuard",
            "description": "WireGuard peer status and kernel logs.",
            "data_streams": ["status", "log"],
            "inputs": [
                {"type": "filestream", "title": "Collect wgsiem status documents", "description": "Read the NDJSON files wgsiem ship writes."},
                {
                    "type": "journald",
                    "title": "Collect kernel and wg-quick logs",
                    "description": "Read WireGuard's kernel messages from the journal.",
                    "vars": [{"name": "units", "type": "text", "title": "Units", "multi": True, "required": False, "default": ["wg-quick@wg0.service"]}],
                },
            ],
        }
    ],
}

CHANGELOG = [
    {"version": "1.0.0", "changes": [{"description": "First release.", "type": "enhancement", "link": "https://github.com/wgsiem/wgsiem/pull/2"}]},
    {"version": "0.9.0", "changes": [{"description": "Preview.", "type": "enhancement", "link": "https://github.com/wgsiem/wgsiem/pull/1"}]},
]

BASE_FIELDS = [
    {"name": "data_stream.type", "type": "constant_keyword", "description": "Data stream type."},
    {"name": "data_stream.dataset", "type": "constant_keyword", "description": "Data stream dataset."},
    {"name": "data_stream.namespace", "type": "constant_keyword", "description": "Data stream namespace."},
    {"name": "@timestamp", "type": "date", "description": "Event timestamp."},
]

ECS_FIELDS = [{"name": name, "external": "ecs"} for name in ("event.action", "event.kind", "message", "source.ip")]

STATUS_FIELDS = [
    {
        "name": "wireguard",
        "type": "group",
        "fields": [
            {"name": "interface.name", "type": "keyword", "description": "The interface."},
            {
                "name": "peer",
                "type": "group",
                "fields": [
                    {"name": "name", "type": "keyword", "description": "The peer's name.", "multi_fields": [{"name": "text", "type": "match_only_text"}]},
                    {"name": "public_key", "type": "keyword", "description": "The peer's public key."},
                ],
            },
            {"name": "transfer.rx_bytes", "type": "long", "description": "Bytes received."},
        ],
    }
]

STATUS_MANIFEST = {
    "title": "WireGuard peer status",
    "type": "logs",
    "dataset": "wireguard.status",
    "streams": [
        {
            "input": "filestream",
            "title": "WireGuard peer status",
            "description": "Collect wgsiem's status documents with Elastic Agent.",
            "template_path": "filestream.yml.hbs",
            "vars": [{"name": "paths", "type": "text", "title": "Paths", "multi": True, "required": True, "default": ["/var/lib/wgsiem/*.ndjson"]}],
        }
    ],
}

DEFAULT_PIPELINE = {
    "description": "WireGuard status documents.",
    "processors": [
        {"set": {"field": "event.kind", "value": "event"}},
        {"pipeline": {"name": '{{ IngestPipeline "peer" }}'}},
    ],
    "on_failure": [
        {"set": {"field": "event.kind", "value": "pipeline_error"}},
        {"pipeline": {"name": "global@custom", "ignore_missing_pipeline": True}},
    ],
}

PEER_PIPELINE = {"description": "The peer's fields.", "processors": [{"lowercase": {"field": "wireguard.peer.name", "ignore_missing": True}}]}

SAMPLE_EVENT = {
    "@timestamp": "2026-11-22T00:32:18.000Z",
    "data_stream": {"type": "logs", "dataset": "wireguard.status", "namespace": "default"},
    "event": {"action": "peer-handshake", "kind": "event"},
    "message": "peer alice completed a handshake",
    "source": {"ip": "89.160.20.130"},
    "wireguard": {"interface": {"name": "wg0"}, "peer": {"name": "alice", "public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="}},
}

RULE = {
    "attributes": {
        "rule_id": RULE_ID,
        "version": 1,
        "name": "WireGuard handshake from a new peer",
        "description": "A peer completed a handshake.",
        "risk_score": 21,
        "severity": "low",
        "type": "query",
        "language": "kuery",
        "query": 'event.action: "peer-handshake" and wireguard.peer.name.text: alice',
        "index": ["logs-wireguard.status-*"],
        "interval": "5m",
        "from": "now-6m",
        "author": ["wgsiem"],
        "license": "Apache-2.0",
    },
    "id": f"{RULE_ID}_1",
    "type": "security-rule",
}


def files() -> dict[str, Any]:
    """The valid package: path -> content (dict/list as YAML or JSON by the suffix, str, bytes)."""
    return {
        "manifest.yml": MANIFEST,
        "changelog.yml": CHANGELOG,
        "LICENSE.txt": "Apache License 2.0\n",
        "docs/README.md": "# WireGuard\n\nWireGuard peer status and kernel logs.\n",
        "img/wireguard-logo.svg": SVG,
        "img/overview.png": png(4, 3),
        "_dev/build/build.yml": {"dependencies": {"ecs": {"reference": "git@v9.0.0"}}},
        f"{STATUS}/manifest.yml": STATUS_MANIFEST,
        f"{STATUS}/lifecycle.yml": {"data_retention": "30d"},
        f"{STATUS}/fields/base-fields.yml": BASE_FIELDS,
        f"{STATUS}/fields/ecs.yml": ECS_FIELDS,
        f"{STATUS}/fields/fields.yml": STATUS_FIELDS,
        f"{STATUS}/agent/stream/filestream.yml.hbs": "paths:\n{{#each paths}}\n  - {{this}}\n{{/each}}\n",
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml": DEFAULT_PIPELINE,
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml": PEER_PIPELINE,
        f"{STATUS}/sample_event.json": SAMPLE_EVENT,
        f"{STATUS}/_dev/test/pipeline/test-common-config.yml": {"dynamic_fields": {"event.ingested": ".*"}},
        f"{STATUS}/_dev/test/pipeline/test-status.json": {"events": [{"wireguard": {"peer": {"name": "Alice"}}}]},
        f"{STATUS}/_dev/test/pipeline/test-status.json-expected.json": {"expected": [{"event": {"kind": "event"}, "wireguard": {"peer": {"name": "alice"}}}, None]},
        f"{LOG}/manifest.yml": {
            "title": "WireGuard kernel logs",
            "type": "logs",
            "streams": [{"input": "journald", "title": "WireGuard kernel logs", "description": "Collect WireGuard's kernel messages with Elastic Agent."}],
        },
        f"{LOG}/fields/base-fields.yml": BASE_FIELDS,
        f"{LOG}/fields/fields.yml": [{"name": "wireguard.log.text", "type": "keyword", "description": "The kernel's message."}],
        f"{LOG}/agent/stream/stream.yml.hbs": "include_matches.match:\n  - _TRANSPORT=kernel\n",
        f"kibana/security_rule/{RULE_ID}_1.json": RULE,
    }


def write(root: Path, content: dict[str, Any]) -> Path:
    for rel, value in content.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            path.write_bytes(value)
        elif isinstance(value, str):
            path.write_text(value)
        elif rel.endswith(".json"):
            path.write_text(json.dumps(value, indent=2) + "\n")
        else:  # a pipeline's YAML begins with `---` (package-spec: require-document-dashes)
            path.write_text(yaml.safe_dump(value, sort_keys=False, explicit_start="/ingest_pipeline/" in rel))
    return root


def package(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    content = json.loads(json.dumps({k: v for k, v in files().items() if not isinstance(v, bytes)}))
    content.update({k: v for k, v in files().items() if isinstance(v, bytes)})
    if change is not None:
        change(content)
    return write(tmp_path / "wireguard", content)


def zip_of(folder: Path, into: Path, root: str = "wireguard-1.0.0") -> Path:
    archive = into / f"{root}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{root}/{path.relative_to(folder).as_posix()}")
    return archive


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# -- the valid package ---------------------------------------------------------------------


def test_the_valid_package_passes_as_a_folder_and_as_a_zip(tmp_path):
    folder = package(tmp_path)
    assert validate_package(folder) == []
    assert validate_package(zip_of(folder, tmp_path)) == []


def test_the_schemas_are_valid_and_each_names_the_package_spec_file_it_follows():
    for name in SCHEMAS:
        schema = json.loads(schema_path(name).read_text())
        validator(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "package-spec 3.x (format_version 3.x)" in schema["description"]
        assert "spec/integration/" in schema["description"], name


def test_a_problem_reads_file_line_key_and_message(tmp_path):
    folder = package(tmp_path, lambda c: c["manifest.yml"].pop("title"))
    problem = only(validate_package(folder))
    assert (problem.file, problem.key) == ("manifest.yml", "title")
    assert str(problem) == f"manifest.yml:{problem.line}: title: missing (required)"


# -- each way of breaking it ---------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(content: dict[str, Any]) -> None:
        content[path] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    return lambda content: content.pop(path)


def _edit(path: str, edit: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
    return lambda content: edit(content[path])


def _dashboard(object_id: str) -> dict[str, Any]:
    """A valid one-panel dashboard (a count) with the id given, reading Fleet's logs-* data
    view (the package here ships none)."""
    panel = Panel("count", "Events", "Every event.", "metric", "", Grid(0, 0, 12, 6), Metric("count"))
    board = Dashboard(Path("overview.yml"), "overview", "WireGuard", "The WireGuard events.", "", "now-7d", "now", panels=(panel,))
    text = json.dumps(dashboard_object(board, FieldTypes({}))).replace('"wireguard-logs"', '"logs-*"').replace('\\"wireguard-logs\\"', '\\"logs-*\\"')
    return {**json.loads(text), "id": object_id}


def _rename(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def change(content: dict[str, Any]) -> None:
        content[new] = content.pop(old)

    return change


def _rule_query(query: str) -> Callable[[dict[str, Any]], None]:
    return _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda rule: rule["attributes"].update(query=query))


CASES = {
    "a missing manifest field": (
        _edit("manifest.yml", lambda m: m.pop("owner")),
        "manifest.yml", "owner", "missing (required)",
    ),
    "a wrong category": (
        _edit("manifest.yml", lambda m: m["categories"].append("vpn")),
        "manifest.yml", "categories[3]", "'vpn' is not one of the categories package-spec lists",
    ),
    "a format version outside 3.x": (
        _edit("manifest.yml", lambda m: m.update(format_version="2.12.0")),
        "manifest.yml", "format_version", "is not a package-spec version of the 3.x line",
    ),
    "a misspelt input key": (
        _edit("manifest.yml", lambda m: m["policy_templates"][0]["inputs"][1].update(titel="x")),
        "manifest.yml", "policy_templates[0].inputs[1].titel", "not a key package-spec allows here",
    ),
    "a variable type package-spec does not know": (
        _edit("manifest.yml", lambda m: m["policy_templates"][0]["inputs"][1]["vars"][0].update(type="list")),
        "manifest.yml", "policy_templates[0].inputs[1].vars[0].type", "is not one of the variable types Fleet knows",
    ),
    "a secret variable not marked": (
        _edit("manifest.yml", lambda m: m["policy_templates"][0]["inputs"][1]["vars"].append({"name": "api_token", "type": "text"})),
        "manifest.yml", "policy_templates[0].inputs[1].vars[1].secret", "must say whether it is secret",
    ),
    "a Kibana version that is no range": (
        _edit("manifest.yml", lambda m: m["conditions"]["kibana"].update(version="8.x")),
        "manifest.yml", "conditions.kibana.version", "is not a version range",
    ),
    "an icon of another size": (
        _edit("manifest.yml", lambda m: m["icons"][0].update(size="64x64")),
        "manifest.yml", "icons[0].size", "is 64x64, but img/wireguard-logo.svg is 32x32 pixels",
    ),
    "a screenshot of another type": (
        _edit("manifest.yml", lambda m: m["screenshots"][0].update(type="image/jpeg")),
        "manifest.yml", "screenshots[0].type", "is image/jpeg, but img/overview.png is image/png",
    ),
    "an icon that is not there": (
        _drop("img/wireguard-logo.svg"),
        "manifest.yml", "icons[0].src", "no file img/wireguard-logo.svg in the package",
    ),
    "a licence named without its text": (
        _drop("LICENSE.txt"),
        "LICENSE.txt", None, "source.license Apache-2.0",
    ),
    "no README": (
        _rename("docs/README.md", "docs/setup.md"),
        "docs/README.md", None, "missing: the package's README",
    ),
    "a file package-spec does not allow in a data stream": (
        _set(f"{STATUS}/notes.txt", "hello\n"),
        f"{STATUS}/notes.txt", None, "not expected here",
    ),
    "a data stream without fields": (
        lambda c: [c.pop(k) for k in list(c) if k.startswith(f"{LOG}/fields/")],
        f"{LOG}/fields", None, "missing: the field definitions",
    ),
    "a missing changelog entry for the version": (
        _edit("changelog.yml", lambda ch: ch.pop(0)),
        "changelog.yml", None, "no entry for version 1.0.0, the manifest's version (the newest is 0.9.0)",
    ),
    "a changelog entry newer than the manifest": (
        _edit("changelog.yml", lambda ch: ch.insert(0, {**ch[0], "version": "1.1.0"})),
        "changelog.yml", "[0].version", "version 1.1.0 is newer than the manifest's version 1.0.0",
    ),
    "a change type package-spec does not know": (
        _edit("changelog.yml", lambda ch: ch[0]["changes"][0].update(type="feature")),
        "changelog.yml", "[0].changes[0].type", "is not a change type",
    ),
    "a data stream type package-spec does not know": (
        _edit(f"{STATUS}/manifest.yml", lambda m: m.update(type="log")),
        f"{STATUS}/manifest.yml", "type", "is not a data stream type",
    ),
    "an index setting package-spec does not allow": (
        _edit(f"{STATUS}/manifest.yml", lambda m: m.update(elasticsearch={"index_template": {"settings": {"index": {"number_of_replicas": 0}}}})),
        f"{STATUS}/manifest.yml", "elasticsearch.index_template.settings.index.number_of_replicas", "not a key package-spec allows here",
    ),
    "a lifecycle that Elasticsearch cannot read": (
        _set(f"{STATUS}/lifecycle.yml", {"data_retention": "30 days"}),
        f"{STATUS}/lifecycle.yml", "data_retention", "is not a time such as 30d",
    ),
    "an input whose stream template is missing": (
        _drop(f"{STATUS}/agent/stream/filestream.yml.hbs"),
        f"{STATUS}/manifest.yml", "streams[0].template_path", "the stream's template filestream.yml.hbs is not in data_stream/status/agent/stream/",
    ),
    "a stream whose input no policy template declares": (
        _edit(f"{LOG}/manifest.yml", lambda m: m["streams"][0].update(input="winlog")),
        f"{LOG}/manifest.yml", "streams[0].input", "input type winlog is not declared by a policy template offering data stream log",
    ),
    "a policy template naming a data stream that is not there": (
        _edit("manifest.yml", lambda m: m["policy_templates"][0]["data_streams"].append("peers")),
        "manifest.yml", "policy_templates[0].data_streams[2]", "no data stream peers in data_stream/",
    ),
    "a duplicate field": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "wireguard.interface.name", "type": "keyword", "description": "Again."})),
        f"{STATUS}/fields/fields.yml", "[1].name", "field wireguard.interface.name is defined twice: also in data_stream/status/fields/fields.yml at [0].fields[0]",
    ),
    "a bad field type": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f[0]["fields"][0].update(type="string")),
        f"{STATUS}/fields/fields.yml", "[0].fields[0].type", "'string' is not a field type package-spec knows",
    ),
    "a field under a field that holds a value": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "wireguard.interface.name.kind", "type": "keyword", "description": "x"})),
        f"{STATUS}/fields/fields.yml", "[1].name", "is under wireguard.interface.name, a keyword field",
    ),
    "an option on a type that does not take it": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f[0]["fields"][2].update(scaling_factor=100)),
        f"{STATUS}/fields/fields.yml", "[0].fields[2].scaling_factor", "scaling_factor is an option of scaled_float fields, not of long",
    ),
    "a group without fields": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "flow", "type": "group"})),
        f"{STATUS}/fields/fields.yml", "[1].fields", "missing: a group holds its fields under `fields`",
    ),
    "a limit on an object whose members are no keywords": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "labels", "type": "object", "object_type": "long", "ignore_above": 100})),
        f"{STATUS}/fields/fields.yml", "[1].ignore_above", "ignore_above is an option of keyword or wildcard fields, not of object (labels)",
    ),
    "a field without a type": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "flow.id", "description": "x"})),
        f"{STATUS}/fields/fields.yml", "[1].type", "missing: a field names its type unless it is external",
    ),
    "an object field that does not say how its members are mapped": (
        _edit(f"{STATUS}/fields/fields.yml", lambda f: f.append({"name": "labels", "type": "object"})),
        f"{STATUS}/fields/fields.yml", "[1]", "an object field says how its members are mapped",
    ),
    "an external field that is not ECS": (
        _edit(f"{STATUS}/fields/ecs.yml", lambda f: f.append({"name": "wireguard.peer.country", "external": "ecs"})),
        f"{STATUS}/fields/ecs.yml", "[4].external", "wireguard.peer.country is not an ECS field wgsiem knows",
    ),
    "external fields without the ECS reference": (
        _drop("_dev/build/build.yml"),
        "_dev/build/build.yml", "dependencies.ecs.reference", "the package has external: ecs fields (the first: event.action",
    ),
    "an undefined field in a sample event": (
        _edit(f"{STATUS}/sample_event.json", lambda e: e["wireguard"]["peer"].update(nickname="al")),
        f"{STATUS}/sample_event.json", "wireguard.peer.nickname", "field wireguard.peer.nickname is not defined in data_stream/status/fields/",
    ),
    "a sample event value of the wrong type": (
        _edit(f"{STATUS}/sample_event.json", lambda e: e["source"].update(ip="not-an-ip")),
        f"{STATUS}/sample_event.json", "source.ip", "'not-an-ip' is not an IPv4 or IPv6 address",
    ),
    "a sample event of another data stream": (
        _edit(f"{STATUS}/sample_event.json", lambda e: e["data_stream"].update(dataset="wireguard.log")),
        f"{STATUS}/sample_event.json", "data_stream.dataset", "the data stream's dataset is 'wireguard.status'",
    ),
    "an undefined field in a pipeline test's expected output": (
        _edit(f"{STATUS}/_dev/test/pipeline/test-status.json-expected.json", lambda e: e["expected"][0].update(tags=["x"])),
        f"{STATUS}/_dev/test/pipeline/test-status.json-expected.json", "expected[0].tags", "field tags is not defined",
    ),
    "a pipeline calling a missing pipeline": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", lambda p: p["processors"][1]["pipeline"].update(name='{{ IngestPipeline "peers" }}')),
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", "processors[1].pipeline.name",
        "calls pipeline 'peers', but the data stream has no peers.yml or peers.json in elasticsearch/ingest_pipeline/ (it has default, peer)",
    ),
    "a pipeline naming a sibling by its installed name": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", lambda p: p["processors"][1]["pipeline"].update(name="logs-wireguard.status-1.0.0-peer")),
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", "processors[1].pipeline.name", """write '{{ IngestPipeline "peer" }}'""",
    ),
    "a pipeline calling a pipeline the package does not install": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", lambda p: p["processors"][1]["pipeline"].update(name="logs-wireguard")),
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", "processors[1].pipeline.name",
        "calls pipeline logs-wireguard, which the package does not install (Fleet installs this data stream's default, peer as logs-wireguard.status-1.0.0[-<name>])",
    ),
    "a YAML pipeline without its document start": (
        lambda c: c.update({f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml": "# the peer pipeline\n" + yaml.safe_dump(c[f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml"])}),
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", None, "a YAML pipeline file begins with a `---` line",
    ),
    "a pipeline calling a sibling twice": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", lambda p: p["processors"].append(dict(p["processors"][1]))),
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml", "processors[2].pipeline.name",
        "calls pipeline 'peer' a second time in this file: Fleet fills in only the first call of each pipeline",
    ),
    "a pipeline the offline engine cannot build": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", lambda p: p["processors"].append({"set": {"value": "x"}})),
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", "processors[1].set.field", "does not build in the offline ingest engine",
    ),
    "a processor package-spec does not allow": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", lambda p: p["processors"].append({"enrich": {"policy_name": "p", "field": "a", "target_field": "b"}})),
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", "processors[1].enrich", "not a processor package-spec allows",
    ),
    "a rename of message to event.original that would overwrite it": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", lambda p: p.update(processors=[
            {"rename": {"field": "message", "target_field": "event.original", "ignore_missing": True}},
            {"remove": {"field": "message", "ignore_missing": True, "if": "ctx.event?.original != null"}},
            *p["processors"],
        ])),
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", "processors[0].rename.if", "needs `if: ctx.event?.original == null`",
    ),
    "a pipeline with a version": (
        _edit(f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", lambda p: p.update(version=1)),
        f"{STATUS}/elasticsearch/ingest_pipeline/peer.yml", "version", "not a key package-spec allows here",
    ),
    "a rule file named wrong": (
        _rename(f"kibana/security_rule/{RULE_ID}_1.json", f"kibana/security_rule/{RULE_ID}_2.json"),
        f"kibana/security_rule/{RULE_ID}_2.json", None,
        f"a rule asset is named <rule_id>.json (or <rule_id>_<version>.json) as in Kibana's prebuilt rules package, here {RULE_ID}.json",
    ),
    "a rule whose id is not its rule's": (
        _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda r: r.update(id="another-rule_1")),
        f"kibana/security_rule/{RULE_ID}_1.json", "id", f"a rule asset's id is <rule_id> or <rule_id>_<version>, here '{RULE_ID}'",
    ),
    "a rule whose id is not its file's name": (
        _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda r: r.update(id=RULE_ID)),
        f"kibana/security_rule/{RULE_ID}_1.json", "id", "a Kibana object's id is its file name",
    ),
    "a rule Kibana would not import": (
        _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda r: r["attributes"].update(severity="urgent")),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.severity", "urgent",
    ),
    "a rule query using an undefined field": (
        _rule_query('event.action: "peer-handshake" and wireguard.peer.country: SE'),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.query",
        "the query uses field wireguard.peer.country, which is not defined in data_stream/status/fields/",
    ),
    "a rule query using a field of a data stream it does not read": (
        _rule_query("wireguard.transfer.rx_bytes > 10 and wireguard.log.text: handshake*"),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.query",
        "the query uses field wireguard.log.text, which is not defined in data_stream/status/fields/",
    ),
    "a rule query giving a value its field's type cannot hold": (
        _rule_query("wireguard.transfer.rx_bytes > lots"),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.query", "wireguard.transfer.rx_bytes",
    ),
    "a threshold rule grouping by an undefined field": (
        _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda r: r["attributes"].update(type="threshold", threshold={"field": ["wireguard.peer.nick"], "value": 5})),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.threshold.field[0]", "field wireguard.peer.nick is not defined",
    ),
    "a rule query that is no KQL": (
        _rule_query("event.action: (peer-handshake"),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.query", "not valid KQL",
    ),
    "a rule reading none of the package's data streams": (
        _edit(f"kibana/security_rule/{RULE_ID}_1.json", lambda r: r["attributes"].update(index=["logs-openvpn.*"])),
        f"kibana/security_rule/{RULE_ID}_1.json", "attributes.index", "covers none of the package's data streams",
    ),
    "a dashboard whose id is not its file name": (
        _set("kibana/dashboard/wireguard-overview.json", _dashboard("wireguard-peers")),
        "kibana/dashboard/wireguard-overview.json", "id", "is 'wireguard-peers', but the file is named wireguard-overview.json",
    ),
    "a dashboard not named after the package": (
        _set("kibana/dashboard/overview.json", _dashboard("overview")),
        "kibana/dashboard/overview.json", None, "package-spec allows only a Kibana asset named wireguard-<id>.json here",
    ),
    "a manifest that is a list": (
        _set("manifest.yml", [MANIFEST]),
        "manifest.yml", None, "expected a mapping, found a list",
    ),
    "a manifest that is no YAML": (
        _set("manifest.yml", "name: wireguard\ntitle: [WireGuard\n"),
        "manifest.yml", None, "not valid YAML",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_break_is_reported_with_its_file_and_key(tmp_path, case):
    change, file, key, message = CASES[case]
    problems = validate_package(package(tmp_path, change))
    problem = only(problems)
    assert (problem.file, problem.key) == (file, key), str(problem)
    assert message in problem.message, str(problem)


def test_a_yaml_problem_names_its_line(tmp_path):
    folder = package(tmp_path, _edit(f"{STATUS}/fields/fields.yml", lambda f: f[0]["fields"][0].update(type="string")))
    problem = only(validate_package(folder))
    lines = (folder / problem.file).read_text().splitlines()
    assert "type: string" in lines[problem.line - 1]


def test_the_pipeline_calls_are_built_as_fleet_installs_them(tmp_path):
    """The default pipeline calls its sibling through {{ IngestPipeline }}; rewritten to the
    installed name, both build into one set, so a call to a missing one is also caught
    when spelt in Beats' {< >} style."""
    folder = package(tmp_path, _edit(
        f"{STATUS}/elasticsearch/ingest_pipeline/default.yml",
        lambda p: p["processors"].append({"pipeline": {"name": "{< IngestPipeline 'geo' >}"}}),
    ))  # fmt: skip
    problem = only(validate_package(folder))
    assert problem.key == "processors[2].pipeline.name" and "calls pipeline 'geo'" in problem.message


# -- zips ----------------------------------------------------------------------------------


def test_fleet_fills_in_the_first_call_of_each_pipeline_in_either_spelling():
    text = """a: '{{ IngestPipeline "x" }}'\nb: "{{IngestPipeline 'x'}}"\nc: '{< IngestPipeline "y" >}'\nd: '{{ IngestPipeline "z" }}'\n"""
    rewritten = fleet_rewrite(text, ["x", "y"], lambda n: f"logs-d-1.0.0-{n}")
    assert yaml.safe_load(rewritten) == {"a": "logs-d-1.0.0-x", "b": "{{IngestPipeline 'x'}}", "c": "logs-d-1.0.0-y", "d": '{{ IngestPipeline "z" }}'}


def test_a_broken_zip_is_one_problem_naming_it(tmp_path):
    archive = tmp_path / "wireguard-1.0.0.zip"
    archive.write_bytes(b"PK\x03\x04 this is not the rest of a zip")
    problem = only(validate_package(archive))
    assert problem.file == "wireguard-1.0.0.zip" and "not a zip archive" in problem.message


def test_a_truncated_zip_is_reported_not_raised(tmp_path):
    archive = zip_of(package(tmp_path), tmp_path)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    problem = only(validate_package(archive))
    assert problem.file == archive.name


def test_a_zip_whose_folder_is_not_name_and_version(tmp_path):
    archive = zip_of(package(tmp_path), tmp_path, root="wireguard")
    problem = only(validate_package(archive))
    assert (problem.file, problem.key) == ("wireguard.zip", "wireguard/")
    assert "a package zip holds wireguard-1.0.0/" in problem.message


def test_a_zip_with_an_entry_outside_its_folder_is_not_unpacked(tmp_path):
    archive = zip_of(package(tmp_path), tmp_path)
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("wireguard-1.0.0/../../evil.txt", "x")
    problems = validate_package(archive)
    assert any(p.key == "wireguard-1.0.0/../../evil.txt" and "outside the package folder" in p.message for p in problems)
    assert not (tmp_path / "evil.txt").exists()


def test_a_zip_of_two_folders(tmp_path):
    folder = package(tmp_path)
    archive = zip_of(folder, tmp_path)
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("other/manifest.yml", "name: other\n")
    problem = only(validate_package(archive))
    assert "holds 2 entries at its root" in problem.message


def test_a_missing_path(tmp_path):
    problem = only(validate_package(tmp_path / "nowhere"))
    assert "no such folder or zip" in problem.message


# -- pieces --------------------------------------------------------------------------------


def test_image_sizes_and_types_are_read_from_the_bytes():
    assert image_info(png(4, 3)).size == "4x3"
    assert (image_info(SVG.encode()).mime, image_info(SVG.encode()).size) == ("image/svg+xml", "32x32")
    assert image_info(b'<svg viewBox="0 0 10 10"/>').size is None  # no width and height: not checked
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\x00\x02\x00\x05\x03\x01\x22\x00"
    assert (image_info(jpeg).mime, image_info(jpeg).size) == ("image/jpeg", "5x2")
    assert image_info(b"hello") is None


def test_versions_sort_as_semantic_versioning_says():
    ordered = ["0.9.0", "1.0.0-beta.2", "1.0.0-beta.10", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0"]
    assert sorted(ordered, key=semver_key) == ordered
    assert semver_key("1.0") is None


def test_a_real_integrations_style_rule_file_shape_is_accepted(tmp_path):
    """The prebuilt rules package's form: extra attributes such as related_integrations,
    required_fields and setup pass, and a rule reading all of logs-wireguard.* sees the
    fields of both data streams."""

    def change(content):
        rule = content[f"kibana/security_rule/{RULE_ID}_1.json"]["attributes"]
        rule.update(
            index=["logs-wireguard.*"],
            query="event.action: peer-handshake or wireguard.transfer.rx_bytes >= 100 or wireguard.log.text: handshake*",
            related_integrations=[{"package": "wireguard", "version": "^1.0.0"}],
            required_fields=[{"ecs": True, "name": "event.action", "type": "keyword"}],
            setup="## Setup\nInstall the wireguard integration.",
        )

    assert validate_package(package(tmp_path, change)) == []
