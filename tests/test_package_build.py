"""`wgsiem package build`: the `wireguard` integration package, assembled from the content.

The package's pipelines must do exactly what ingest_pipelines/ does (each data stream's own
pipeline tests, run offline through the pipelines as Fleet names and links them), its rules
must be the rules, and the same source must give the same zip.
"""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wgsiem import __version__
from wgsiem.cli import app
from wgsiem.ingest.build import Builder
from wgsiem.ingest.pipeline import PipelineSet
from wgsiem.mappings.fields import leaves, load_fields
from wgsiem.mappings.templates import load_spec
from wgsiem.package.build import DATA_STREAMS, assemble, write_unpacked, write_zip
from wgsiem.package.field_files import is_ecs
from wgsiem.package.installed import installed_pipelines, pipeline_name
from wgsiem.package.validate import validate_package
from wgsiem.pipelines.testing import discover_in, run_offline, run_tests
from wgsiem.rules.model import load_rules


@pytest.fixture(scope="module")
def package():
    return assemble()


def test_building_twice_gives_the_same_zip(tmp_path):
    first = write_zip(assemble(), tmp_path / "a")
    second = write_zip(assemble(), tmp_path / "b")
    assert first.name == f"wireguard-{__version__}.zip" and first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    assert names == sorted(names) and all(n.startswith(f"wireguard-{__version__}/") for n in names)


def test_the_manifest_carries_wgsiems_version_and_the_changelog_has_it(package):
    manifest = yaml.safe_load(package.files["manifest.yml"])
    assert (manifest["name"], manifest["version"], manifest["type"]) == ("wireguard", __version__, "integration")
    assert __version__ in [entry["version"] for entry in yaml.safe_load(package.files["changelog.yml"])]


@pytest.mark.parametrize("folder", sorted(DATA_STREAMS))
def test_each_data_streams_pipeline_tests_pass_through_the_installed_pipelines(package, folder, tmp_path, geoip_world):
    """The data stream's tests come from ingest_pipelines/_dev/test/pipeline: passing them
    here means the package's pipelines give the same documents as ingest_pipelines/."""
    for name, data in package.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    pipelines = PipelineSet()
    builder = Builder(pipelines, [geoip_world.city.parent])
    for name, body in installed_pipelines(package.files, folder, package.version).items():
        pipelines.add(builder.pipeline(name, body))
    default = pipeline_name(DATA_STREAMS[folder], package.version)
    tests = discover_in(tmp_path / "data_stream" / folder / "_dev" / "test" / "pipeline", default)
    assert tests
    results = run_tests(tests, lambda t: run_offline(pipelines, t), update=False)
    failed = [f"{r.test.name}: {r.problems}" for r in results if not r.passed]
    assert not failed, failed
    events = sum(len(t.events) for t in tests)
    assert events >= {"status": 14, "log": 30, "flow": 10}[folder]


def test_every_rule_is_a_security_rule_asset(package):
    rules = load_rules()
    for rule in rules:
        asset = json.loads(package.files[f"kibana/security_rule/{rule.rule_id}.json"])
        assert (asset["id"], asset["type"]) == (rule.rule_id, "security-rule")
        attributes = asset["attributes"]
        assert (attributes["rule_id"], attributes["name"], attributes["query"]) == (rule.rule_id, rule.name, rule.query)
        assert "enabled" not in attributes
        assert attributes["related_integrations"] == [{"package": "wireguard", "version": f"^{__version__}"}]
    assert len([n for n in package.files if n.startswith("kibana/security_rule/")]) == len(rules)


def _field_entries(files, folder):
    return [e for n, d in files.items() if n.startswith(f"data_stream/{folder}/fields/") for e in yaml.safe_load(d)]


def test_fields_cover_what_each_data_stream_maps_and_the_sample_events(package):
    defined = load_fields()
    for folder, dataset in DATA_STREAMS.items():
        entries = _field_entries(package.files, folder)
        names = [e["name"] for e in entries]
        assert len(names) == len(set(names))
        assert all(e["type"] == defined[e["name"]].type for e in entries)
        sample = json.loads(package.files[f"data_stream/{folder}/sample_event.json"])
        assert sample["data_stream"]["dataset"] == dataset
        seen = {name for name, _ in leaves(sample)}
        assert seen <= set(names) | {n + "." + m for n in names for m in defined[n].multi_fields}, seen - set(names)


def test_retention_is_the_templates_own_both_as_lifecycle_and_as_an_ilm_policy(package):
    retention = {d.dataset: d.retention for d in load_spec().datasets}
    for folder, dataset in DATA_STREAMS.items():
        base = f"data_stream/{folder}"
        assert yaml.safe_load(package.files[f"{base}/lifecycle.yml"]) == {"data_retention": retention[dataset]}
        policy = json.loads(package.files[f"{base}/elasticsearch/ilm/retention.json"])["policy"]
        assert policy["phases"]["delete"] == {"min_age": retention[dataset], "actions": {"delete": {}}}
        assert policy["phases"]["hot"]["actions"]["rollover"]
        # Fleet installs elasticsearch/ilm/retention.json as <type>-<package>.<folder>-retention
        assert yaml.safe_load(package.files[f"{base}/manifest.yml"])["ilm_policy"] == f"logs-wireguard.{folder}-retention"


def test_the_data_stream_manifests_carry_the_templates_mapping_options(package):
    options = load_spec().mapping_options
    for folder in DATA_STREAMS:
        manifest = yaml.safe_load(package.files[f"data_stream/{folder}/manifest.yml"])
        mappings = manifest["elasticsearch"]["index_template"]["mappings"]
        assert mappings["dynamic"] == options["dynamic"] and mappings["date_detection"] is False
        assert json.dumps(mappings["dynamic_templates"]) == json.dumps(options["dynamic_templates"])


def test_the_readme_lists_every_field_and_rule(package):
    readme = package.files["docs/README.md"].decode()
    for rule in load_rules():
        assert rule.name in readme
    for folder in DATA_STREAMS:
        entries = _field_entries(package.files, folder)
        assert len(entries) > 100
        for entry in entries:
            assert f"| `{entry['name']}` | {entry['type']} |" in readme


def test_the_command_writes_the_zip_and_the_folder(tmp_path):
    result = CliRunner().invoke(app, ["package", "build", "--out", str(tmp_path), "--unpacked"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"wireguard-{__version__}.zip").is_file()
    assert (tmp_path / f"wireguard-{__version__}" / "manifest.yml").is_file()


def test_the_built_package_is_valid_and_so_is_its_source_tree(package, tmp_path):
    assert validate_package(write_zip(package, tmp_path)) == []
    source = assemble(source=True)
    assert validate_package(write_unpacked(source, tmp_path, folder="wireguard")) == []
    ecs = {n for n, f in load_fields().items() if is_ecs(f)}
    for folder in DATA_STREAMS:
        built, unresolved = _field_entries(package.files, folder), _field_entries(source.files, folder)
        assert [e["name"] for e in built] == [e["name"] for e in unresolved]
        for whole, entry in zip(built, unresolved, strict=True):
            if entry["name"] in ecs:  # a reference elastic-package resolves: no type of its own
                assert entry.get("external") == "ecs" and "type" not in entry and "type" in whole
            else:
                assert entry == whole
    assert yaml.safe_load(source.files["_dev/build/build.yml"])["dependencies"]["ecs"]["reference"].startswith("git@v")
    assert "_dev/build/build.yml" not in package.files
    assert {n for n in source.files if "/fields/" not in n} - {"_dev/build/build.yml"} == {n for n in package.files if "/fields/" not in n}


def _broken(package, tmp_path, change):
    files = dict(package.files)
    change(files)
    root = tmp_path / "broken"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return [str(p) for p in validate_package(root)]


def _edit_yaml(files, name, change):
    doc = yaml.safe_load(files[name])
    change(doc)
    files[name] = yaml.safe_dump(doc).encode()


def test_a_broken_package_is_reported_with_the_file_and_key(package, tmp_path):
    rule = next(n for n in package.files if n.startswith("kibana/security_rule/"))

    def no_title(files):
        _edit_yaml(files, "manifest.yml", lambda m: m.pop("title"))

    def undefined_field(files):
        event = json.loads(files["data_stream/status/sample_event.json"])
        event["wireguard"]["peer"]["mood"] = "grumpy"
        files["data_stream/status/sample_event.json"] = json.dumps(event).encode()

    def rule_named_wrong(files):
        files[rule.replace("security_rule/", "security_rule/Rule-")] = files.pop(rule)

    def template_gone(files):
        files.pop("data_stream/log/agent/stream/journald.yml.hbs")

    expected = {
        no_title: "manifest.yml:1: title: missing",
        undefined_field: "data_stream/status/sample_event.json: wireguard.peer.mood: field wireguard.peer.mood is not defined",
        rule_named_wrong: "kibana/security_rule/Rule-",
        template_gone: "data_stream/log/manifest.yml:",
    }
    for change, message in expected.items():
        found = _broken(package, tmp_path / change.__name__, change)
        assert len(found) == 1 and found[0].startswith(message), (change.__name__, found)
    assert "journald.yml.hbs is not in data_stream/log/agent/stream/" in _broken(package, tmp_path / "again", template_gone)[0]


def test_source_and_unpacked_are_one_or_the_other(tmp_path):
    result = CliRunner().invoke(app, ["package", "build", "--out", str(tmp_path), "--source", "--unpacked"])
    assert result.exit_code == 2 and "--source" in result.output and "--unpacked" in result.output
    result = CliRunner().invoke(app, ["package", "build", "--out", str(tmp_path), "--source"])
    assert result.exit_code == 0 and (tmp_path / "wireguard" / "_dev" / "build" / "build.yml").is_file()
    assert not list(tmp_path.glob("*.zip"))


def test_the_validate_command_checks_the_built_package_or_the_one_given(tmp_path):
    result = CliRunner().invoke(app, ["package", "validate"])
    assert result.exit_code == 0 and "valid" in result.output, result.output
    built = CliRunner().invoke(app, ["package", "build", "--out", str(tmp_path), "--unpacked"])
    assert built.exit_code == 0, built.output
    folder = tmp_path / f"wireguard-{__version__}"
    (folder / "changelog.yml").write_text("- version: 0.0.1\n  changes: []\n")
    result = CliRunner().invoke(app, ["package", "validate", str(folder)])
    assert result.exit_code == 1
    assert f"{folder}: changelog.yml" in result.output and "problem(s)" in result.output


def test_install_uploads_the_built_package_through_fleet(tmp_path, monkeypatch):
    from tests.support.fleet_stub import FleetStub

    key = tmp_path / "api-key"
    key.write_text("id1:secret-kibana-key\n")
    with FleetStub(api_key=base64.b64encode(b"id1:secret-kibana-key").decode(), spaces=("soc",)) as stub:
        result = CliRunner().invoke(app, ["package", "install", "--kibana", stub.url, "--space", "soc", "--api-key-file", str(key)])
        assert result.exit_code == 0, result.output
        assert f"installed wireguard {__version__} into {stub.url} (space soc)" in result.output
        assert stub.schema_problems == []
        (upload,) = [r for r in stub.requests if r.method == "POST"]
        assert upload.path == "/s/soc/api/fleet/epm/packages"
        installed = stub.installed["wireguard"]
        assert installed["version"] == __version__ and installed["space"] == "soc"
        refused = CliRunner().invoke(app, ["package", "install", "--kibana", stub.url])
        assert refused.exit_code == 2 and "wgsiem: error:" in refused.output and "secret-kibana-key" not in refused.output


def test_a_wgsiem_log_document_as_the_agent_delivers_it_goes_on_to_the_log_data_stream(package, geoip_world):
    """As a cluster runs Fleet's pipelines on what Elastic Agent sends from the shipper's
    file: the agent has set data_stream.* and event.dataset to the stream's (status), so
    the routing rule goes by wireguard.log.source; the status default pipeline finishes the
    document and reroutes it, and the log default pipeline gives the same document again."""
    import copy

    from wgsiem.ingest.document import IngestDocument

    pipelines = PipelineSet()
    builder = Builder(pipelines, [geoip_world.city.parent])
    for folder in DATA_STREAMS:
        for name, body in installed_pipelines(package.files, folder, package.version).items():
            pipelines.add(builder.pipeline(name, body))
    events = json.loads((Path(__file__).resolve().parents[1] / "ingest_pipelines/_dev/test/pipeline/logs-wireguard/test-lab-story.json").read_text())["events"]

    def delivered(event):  # the agent's add_fields processors run after the ndjson parser
        doc = copy.deepcopy(event)
        doc["data_stream"] = {"type": "logs", "dataset": "wireguard.status", "namespace": "default"}
        doc["event"]["dataset"] = "wireguard.status"
        return IngestDocument.from_source(doc, index="logs-wireguard.status-default")

    log_events = [e for e in events if e["data_stream"]["dataset"] == "wireguard.log"]
    status_events = [e for e in events if e["data_stream"]["dataset"] == "wireguard.status"]
    assert log_events and status_events
    for event in log_events:
        doc = delivered(event)
        pipelines[pipeline_name("wireguard.status", package.version)].execute(doc)
        assert doc.ctx["_index"] == "logs-wireguard.log-default" and doc.rerouted
        assert doc.ctx["data_stream"]["dataset"] == doc.ctx["event"]["dataset"] == "wireguard.log"
        finished = {k: v for k, v in doc.ctx.items() if not k.startswith("_")}
        second = IngestDocument.from_source(copy.deepcopy(finished), index="logs-wireguard.log-default")
        pipelines[pipeline_name("wireguard.log", package.version)].execute(second)
        again = {k: v for k, v in second.ctx.items() if not k.startswith("_")}
        assert again["event"].pop("ingested") >= finished["event"].pop("ingested")
        assert again == finished  # finishing twice changes nothing else

    for event in status_events:
        stays = delivered(event)
        pipelines[pipeline_name("wireguard.status", package.version)].execute(stays)
        assert stays.ctx["_index"] == "logs-wireguard.status-default" and "ingested" in stays.ctx["event"]


def test_a_wgsiem_flow_document_as_the_agent_delivers_it_goes_on_to_the_flow_data_stream(package, geoip_world):
    """The flow data stream has no input: its documents come from the shipper's file, through
    the status data stream's reroute (on wireguard.flow, which only flows have), and the flow
    data stream's default pipeline finishes them again without changing them."""
    import copy

    from wgsiem.ingest.document import IngestDocument

    pipelines = PipelineSet()
    builder = Builder(pipelines, [geoip_world.city.parent])
    for folder in DATA_STREAMS:
        for name, body in installed_pipelines(package.files, folder, package.version).items():
            pipelines.add(builder.pipeline(name, body))
    assert "streams" not in yaml.safe_load(package.files["data_stream/flow/manifest.yml"])
    flows = json.loads((Path(__file__).resolve().parents[1] / "ingest_pipelines/_dev/test/pipeline/logs-wireguard/test-gateway-flows.json").read_text())["events"]
    assert {e["event"]["action"] for e in flows} == {"flow-started", "flow-ended"}
    for event in flows:
        doc = copy.deepcopy(event)
        doc["data_stream"] = {"type": "logs", "dataset": "wireguard.status", "namespace": "default"}
        doc["event"]["dataset"] = "wireguard.status"
        delivered = IngestDocument.from_source(doc, index="logs-wireguard.status-default")
        pipelines[pipeline_name("wireguard.status", package.version)].execute(delivered)
        assert delivered.ctx["_index"] == "logs-wireguard.flow-default" and delivered.rerouted
        assert delivered.ctx["data_stream"]["dataset"] == delivered.ctx["event"]["dataset"] == "wireguard.flow"
        finished = {k: v for k, v in delivered.ctx.items() if not k.startswith("_")}
        assert "geo" not in finished["source"] and "as" not in finished["source"]  # an inner address: no place
        second = IngestDocument.from_source(copy.deepcopy(finished), index="logs-wireguard.flow-default")
        pipelines[pipeline_name("wireguard.flow", package.version)].execute(second)
        again = {k: v for k, v in second.ctx.items() if not k.startswith("_")}
        assert again["event"].pop("ingested") >= finished["event"].pop("ingested")
        assert again == finished


def test_a_document_with_a_key_field_loses_it_in_the_log_data_stream_whatever_it_says(package, geoip_world):
    """Written straight into logs-wireguard.log-*, claiming to be finished already."""
    from wgsiem.ingest.document import IngestDocument

    pipelines = PipelineSet()
    builder = Builder(pipelines, [geoip_world.city.parent])
    for name, body in installed_pipelines(package.files, "log", package.version).items():
        pipelines.add(builder.pipeline(name, body))
    key = base64.b64encode(bytes(range(32))).decode()
    source = {
        "@timestamp": "2026-11-22T00:32:18.000Z",
        "event": {"action": "handshake-initiation-received", "ingested": "2026-11-22T00:32:19.000Z", "kind": "event"},
        "wireguard": {"interface": {"private_key": key}, "peer": {"preshared_key": key}},
    }
    doc = IngestDocument.from_source(source, index="logs-wireguard.log-default")
    pipelines[pipeline_name("wireguard.log", package.version)].execute(doc)
    assert key not in json.dumps(doc.ctx)


@pytest.mark.parametrize("stream", ["status/filestream", "log/filestream", "log/journald"])
def test_the_processors_setting_joins_the_templates_own_processors(package, stream):
    """Fleet writes a `yaml` variable at the root of a template at column 0
    (compileTemplate, replaceRootLevelYamlVariables): the template's own list must be
    written at column 0 too, or the two do not make one YAML list."""
    from wgsiem.package.agent_policy import render

    folder, input_type = stream.split("/")
    manifest = yaml.safe_load(package.files[f"data_stream/{folder}/manifest.yml"])
    (entry,) = [s for s in manifest["streams"] if s["input"] == input_type]
    variables = {v["name"]: v.get("default") for v in entry["vars"]}
    template = package.files[f"data_stream/{folder}/agent/stream/{entry['template_path']}"].decode()
    own = yaml.safe_load(render(template, variables))["processors"]
    variables["processors"] = "- add_tags:\n    tags: [lab]\n- drop_fields:\n    fields: [agent.ephemeral_id]"
    config = yaml.safe_load(render(template, variables))
    assert config["processors"] == [*own, {"add_tags": {"tags": ["lab"]}}, {"drop_fields": {"fields": ["agent.ephemeral_id"]}}]


def test_the_journald_input_is_off_unless_asked_for(package):
    """On a host running wgsiem, the journal's WireGuard lines already reach Elasticsearch
    parsed; collecting them raw as well would index each twice."""
    streams = yaml.safe_load(package.files["data_stream/log/manifest.yml"])["streams"]
    assert all(s.get("enabled") is False for s in streams)
    assert yaml.safe_load(package.files["data_stream/status/manifest.yml"])["elasticsearch"]["dynamic_dataset"] is True


def test_the_standalone_policy_runs_every_stream_of_the_package(package):
    from wgsiem.package.agent_policy import standalone_policy

    policy = yaml.safe_load(standalone_policy(package.files, list(DATA_STREAMS)))
    streams = {(i["type"], s["data_stream"]["dataset"]): s for i in policy["inputs"] for s in i["streams"]}
    assert set(streams) == {("filestream", "wireguard.status"), ("filestream", "wireguard.log"), ("journald", "wireguard.log")}
    shipper = streams["filestream", "wireguard.status"]
    assert "enabled" not in shipper and shipper["paths"] == ["/var/log/wgsiem/wireguard-status.ndjson*"]
    assert {"copy_fields": {"fields": [{"from": "event.id", "to": "@metadata._id"}], "ignore_missing": True, "fail_on_error": False}} in shipper["processors"]
    assert streams["journald", "wireguard.log"]["enabled"] is False and streams["filestream", "wireguard.log"]["enabled"] is False
