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
from wgsiem.mappings.fields import load_fields
from wgsiem.package.build import DATA_STREAMS, assemble, write_zip
from wgsiem.package.installed import installed_pipelines, pipeline_name
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
    assert events >= (14 if folder == "status" else 30)


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


def test_fields_cover_what_each_data_stream_maps_and_the_sample_events(package):
    defined = load_fields()
    for folder, dataset in DATA_STREAMS.items():
        entries = [e for n, d in package.files.items() if n.startswith(f"data_stream/{folder}/fields/") for e in yaml.safe_load(d)]
        names = [e["name"] for e in entries]
        assert len(names) == len(set(names))
        assert all(e["type"] == defined[e["name"]].type for e in entries)
        sample = json.loads(package.files[f"data_stream/{folder}/sample_event.json"])
        assert sample["data_stream"]["dataset"] == dataset
        assert set(_leaves(sample)) <= set(names) | {n + "." + m for n in names for m in defined[n].multi_fields}, set(_leaves(sample)) - set(names)


def test_retention_is_the_templates_own(package):
    for folder in DATA_STREAMS:
        assert yaml.safe_load(package.files[f"data_stream/{folder}/lifecycle.yml"]) == {"data_retention": "365d"}


def test_the_readme_lists_every_field_and_rule(package):
    readme = package.files["docs/README.md"].decode()
    for rule in load_rules():
        assert rule.name in readme
    for folder in DATA_STREAMS:
        for entry in yaml.safe_load(package.files[f"data_stream/{folder}/fields/fields.yml"]):
            assert f"| `{entry['name']}` |" in readme


def test_the_command_writes_the_zip_and_the_folder(tmp_path):
    result = CliRunner().invoke(app, ["package", "build", "--out", str(tmp_path), "--unpacked"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"wireguard-{__version__}.zip").is_file()
    assert (tmp_path / f"wireguard-{__version__}" / "manifest.yml").is_file()


def _leaves(doc, prefix=""):
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in ("source.geo.location", "wireguard.peer.previous_endpoint.geo.location"):
            yield from _leaves(value, name + ".")
        else:
            yield name


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


def test_a_wgsiem_log_document_in_the_status_data_stream_goes_on_to_the_log_one_once_finished(package, geoip_world):
    """As a cluster runs Fleet's pipelines: the status default pipeline finishes the
    document and its routing rule reroutes it; the log default pipeline leaves it as it is."""
    import copy

    from wgsiem.ingest.document import IngestDocument

    pipelines = PipelineSet()
    builder = Builder(pipelines, [geoip_world.city.parent])
    for folder in DATA_STREAMS:
        for name, body in installed_pipelines(package.files, folder, package.version).items():
            pipelines.add(builder.pipeline(name, body))
    events = json.loads((Path(__file__).resolve().parents[1] / "ingest_pipelines/_dev/test/pipeline/logs-wireguard/test-lab-story.json").read_text())["events"]
    log_event = next(e for e in events if e["data_stream"]["dataset"] == "wireguard.log")
    status_event = next(e for e in events if e["data_stream"]["dataset"] == "wireguard.status")

    doc = IngestDocument.from_source(copy.deepcopy(log_event), index="logs-wireguard.status-default")
    pipelines[pipeline_name("wireguard.status", package.version)].execute(doc)
    assert doc.ctx["_index"] == "logs-wireguard.log-default" and doc.rerouted
    finished = copy.deepcopy(doc.ctx)
    second = IngestDocument.from_source({k: v for k, v in finished.items() if not k.startswith("_")}, index="logs-wireguard.log-default")
    before = copy.deepcopy(second.ctx)
    pipelines[pipeline_name("wireguard.log", package.version)].execute(second)
    assert second.ctx == before  # finished once, in the status data stream

    stays = IngestDocument.from_source(copy.deepcopy(status_event), index="logs-wireguard.status-default")
    pipelines[pipeline_name("wireguard.status", package.version)].execute(stays)
    assert stays.ctx["_index"] == "logs-wireguard.status-default" and "ingested" in stays.ctx["event"]
