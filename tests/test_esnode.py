"""The test Elasticsearch node's provisioning (wgsiem/lab/esnode.py) and the templates'
adaptation to a cluster's modules; the node itself is exercised by every `es` test."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgsiem.lab import esnode
from wgsiem.mappings import DEFAULT_PIPELINE, MINIMAL_DISTRIBUTION_TYPES
from wgsiem.mappings.templates import PIPELINE_MODULES, TYPE_MODULES, component_templates, fit_to_modules

INTEG_TEST_ZIP_MODULES = {"apm", "transport-netty4", "x-pack-core", "x-pack-security"}


def test_the_default_distribution_needs_no_adaptation() -> None:
    fit = fit_to_modules(INTEG_TEST_ZIP_MODULES | set(TYPE_MODULES.values()) | set(PIPELINE_MODULES))
    assert fit.substitutes == {} and fit.default_pipeline == DEFAULT_PIPELINE and fit.notes == ()


def test_the_integ_test_distribution_gets_every_stand_in_and_no_pipeline() -> None:
    fit = fit_to_modules(INTEG_TEST_ZIP_MODULES)
    assert fit.substitutes == dict(MINIMAL_DISTRIBUTION_TYPES)
    assert fit.default_pipeline is None
    assert any("ingest-common" in note for note in fit.notes)
    settings = [body["template"]["settings"] for name, body in component_templates(default_pipeline=None).items() if name.endswith("@package")]
    assert settings and all("index.default_pipeline" not in s for s in settings)


def test_one_missing_module_changes_only_its_types() -> None:
    fit = fit_to_modules(set(TYPE_MODULES.values()) - {"wildcard"} | set(PIPELINE_MODULES))
    assert fit.substitutes == {"wildcard": "keyword"} and fit.default_pipeline == DEFAULT_PIPELINE


def test_a_failed_download_names_the_command_and_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "mvn"
    fake.write_text("#!/bin/sh\necho '[ERROR] Could not resolve artifact' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(esnode.EsNodeError, match=r"(?s)dependency:copy .*integ-test-zip:elasticsearch:9\.\d+\.\d+:zip.*exit 1.*Could not resolve"):
        esnode.install(tmp_path / "es", mvn=str(fake))
    assert not (tmp_path / "es").exists()


def test_no_jdk_21_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "jdk17"
    (old / "bin").mkdir(parents=True)
    (old / "bin" / "java").touch()
    (old / "release").write_text('JAVA_VERSION="17.0.15"\n')
    monkeypatch.setenv("ES_JAVA_HOME", str(old))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(esnode.EsNodeError, match=r"needs a JDK 21 or newer.*jdk17 \(17\)"):
        esnode.find_java(tmp_path / "no-jvm-folder")


def test_the_machine_has_a_jdk_for_the_node() -> None:
    """scripts/install.sh relies on it; without one every `es` test would fail later."""
    assert esnode._java_version(esnode.find_java()) >= esnode.MIN_JAVA


@pytest.mark.es
def test_a_port_taken_before_the_node_binds_it_is_chosen_again(es_installed: None) -> None:
    """free_port() and the node's bind are seconds apart; another node (or anything) may
    take the port meanwhile. An automatic port moves on; a given port is a clear error."""
    import socket

    node = esnode.EsNode()
    taken = node.port
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", taken))
        blocker.listen()
        try:
            node.start()
            assert node.port != taken
            other = esnode.EsNode(port=node.port)
            with pytest.raises(esnode.EsNodeError, match=rf"port {node.port} is taken"):
                other.start()
            other.remove()
        finally:
            node.remove()
