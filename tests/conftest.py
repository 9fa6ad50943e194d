"""Fixtures shared by the test modules."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support.tiers import require
from wgsiem.geoworld import build_world

REPO = Path(__file__).resolve().parents[1]
WORLD_YAML = REPO / "fixtures" / "geoip" / "world.yaml"


class GeoWorld(NamedTuple):
    city: Path
    asn: Path


@pytest.fixture(scope="session")
def geoip_world(tmp_path_factory: pytest.TempPathFactory) -> GeoWorld:
    """The test GeoIP world built from fixtures/geoip/world.yaml, once per session."""
    city, asn = build_world(WORLD_YAML, tmp_path_factory.mktemp("geoip"))
    return GeoWorld(city=city, asn=asn)


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) of a self-signed certificate for 127.0.0.1: a server the client
    must not trust unless given it as its CA file."""
    import shutil
    import subprocess

    # scripts/install.sh installs openssl: a missing one is a broken set-up, not a skip.
    assert shutil.which("openssl"), "openssl is needed to make a test certificate (scripts/install.sh installs it)"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


# --- root / lab tiers: real wireguard-go tunnels in network namespaces -----------------
# --- browser tier: headless Chromium ---------------------------------------------------
# --- prometheus tier: Debian's prometheus and promtool ---------------------------------


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `lab` or `root` skip when the lab cannot run here, those marked
    `browser` when there is no Chromium, and those marked `prometheus` when there is no
    Prometheus; under CI=true any of these fails instead."""

    reason = None
    if item.get_closest_marker("lab") is not None or item.get_closest_marker("root") is not None:
        from wgsiem.lab.tunnels import lab_available

        reason = lab_available()
    if reason is None and item.get_closest_marker("browser") is not None:
        from wgsiem.adapters.browser import chromium_missing

        reason = chromium_missing()
    if reason is None and item.get_closest_marker("prometheus") is not None:
        import shutil

        missing = [tool for tool in ("prometheus", "promtool") if shutil.which(tool) is None]
        if missing:
            reason = f"{' and '.join(missing)} not found: install the Debian package prometheus"
    require(reason)


@pytest.fixture
def wg_lab(tmp_path: Path):
    """A started lab (hub only) with a prefix unique to this test; stopped afterwards."""
    from wgsiem.lab.tunnels import Lab, free_prefix

    lab = Lab(tmp_path / "lab", prefix=free_prefix("wgl", 3))
    with lab:
        yield lab


# --- es tier: a real Elasticsearch node ------------------------------------------------


@pytest.fixture(scope="session")
def es_url():
    """URL of the Elasticsearch the `es` tests use: WGSIEM_TEST_ES_URL when set (a
    developer's own cluster), else a node of the integ-test distribution that
    scripts/install.sh provisions (wgsiem/lab/esnode.py), started once and stopped after
    the session."""
    import os

    url = os.environ.get("WGSIEM_TEST_ES_URL")
    if url:
        yield url.rstrip("/")
        return
    from wgsiem.lab.esnode import default_home, installed

    if not installed():
        require(f"WGSIEM_TEST_ES_URL is not set and no test Elasticsearch is in {default_home()} (python -m wgsiem.lab es-install)")
    with _started_node() as node:
        yield node.url


@pytest.fixture(scope="session")
def es_templates(es_url: str) -> str:
    """es_url with wgsiem's index templates installed by `wgsiem templates install`."""
    from tests.support.es import install_templates

    install_templates(es_url)
    return es_url


@pytest.fixture
def es_installed() -> None:
    """The test Elasticsearch distribution is there (else skip, or fail under CI=true)."""
    from wgsiem.lab.esnode import default_home, installed

    if not installed():
        require(f"no test Elasticsearch is in {default_home()} (python -m wgsiem.lab es-install)")


@pytest.fixture
def own_es_node(es_installed: None):
    """A started node of the test's own (wgsiem.lab.esnode.EsNode), for a test that stops
    and restarts it; removed afterwards."""
    with _started_node() as node:
        yield node


@contextmanager
def _started_node():
    from wgsiem.lab.esnode import EsNode, EsNodeError

    node = None
    try:
        node = EsNode()
        node.start()
    except EsNodeError as err:
        if node is not None:
            node.remove()
        pytest.fail(f"the test Elasticsearch did not start: {err}", pytrace=False)
    try:
        yield node
    finally:
        node.remove()
