"""wgsiem as a user installs it: a wheel built from this repository, installed into a new
virtualenv outside the checkout, run from an empty directory. Every command must find its
content (mappings, pipelines, rules, the test GeoIP world) inside the installed package,
and everything it needs at run time must be a runtime dependency.

Building and installing takes about a minute (the dependencies come from PyPI, or pip's
cache); it is done once per session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import wgsiem
from wgsiem.content import DETECTION_RULES
from wgsiem.package.build import assemble, zip_bytes
from wgsiem.rules.exceptions import load_tuning
from wgsiem.rules.model import load_rules

REPO = Path(__file__).resolve().parents[1]


def outside() -> dict[str, str]:
    """The environment without PYTHONPATH: with a cwd outside the checkout, only what is
    installed in the virtualenv is importable (and pip does not take the checkout's
    egg-info for an installed wgsiem)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


class Installed:
    def __init__(self, venv: Path, cwd: Path) -> None:
        self.venv, self.cwd = venv, cwd

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.venv / "bin" / "python"), *args], capture_output=True, text=True, cwd=self.cwd, env=outside(),
                              check=True, timeout=300)  # fmt: skip

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(self.venv / "bin" / "wgsiem"), *args], input=stdin, capture_output=True, text=True,
                              cwd=self.cwd, env=outside(), timeout=300)  # fmt: skip
        if check:
            assert proc.returncode == 0, f"wgsiem {' '.join(args)}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        return proc


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)],
                   check=True, cwd=out, timeout=600, env=outside())  # fmt: skip
    (built,) = out.glob("wgsiem-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=outside())
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                   check=True, timeout=900, env=outside(), cwd=venv)  # fmt: skip
    yield Installed(venv, tmp_path_factory.mktemp("empty"))


def test_the_wheel_carries_the_content_and_no_checkout_path(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    for path in ("wgsiem/_content/ecs_mappings/ecs.yml", "wgsiem/_content/ingest_pipelines/logs-wireguard.yml",
                 "wgsiem/_content/detection_rules/wireguard_handshake_flood.toml",
                 "wgsiem/_content/detection_rules/_dev/test/wireguard_handshake_flood.yaml",
                 "wgsiem/_content/fixtures/geoip/world.yaml", "wgsiem/kernlog/messages.yaml",
                 "wgsiem/_content/dashboards/overview.yml", "wgsiem/_content/dashboards/schemas/dashboard.schema.json"):  # fmt: skip
        assert path in names, path
    scenarios = [n for n in names if "/scenarios/" in n]
    assert scenarios == ["wgsiem/_content/fixtures/scenarios/lab-story/events.ndjson"], "the scenarios are test data, not content"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: mmdb-writer" in requires and "Requires-Dist: netaddr" in requires
    # The ingest engine's data sets: its own rule files, and the pinned packages it reads.
    assert "wgsiem/ingest/formats/user_agent_device_types.yaml" in names and "wgsiem/ingest/formats/grok_patterns_ecs.yaml" in names
    assert "Requires-Dist: publicsuffixlist==" in requires and "Requires-Dist: ua-parser-builtins==" in requires


def test_the_sdist_carries_the_content(tmp_path: Path):
    """The sdist, built from the tracked files alone (a copy, so the checkout gets no egg-info)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    tree = tmp_path / "tree"
    for name in filter(None, tracked):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes(source.read_bytes())
    subprocess.run([sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(tmp_path / "dist")], cwd=tree, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    (sdist,) = (tmp_path / "dist").glob("wgsiem-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    root = f"wgsiem-{wgsiem.__version__}"
    for path in ("ecs_mappings/ecs.yml", "ingest_pipelines/logs-wireguard.yml", "detection_rules/wireguard_handshake_flood.toml",
                 "integration/manifest.yml", "integration/img/wireguard-logo.svg", "fixtures/geoip/world.yaml", "dashboards/peer.yml",
                 "fixtures/scenarios/lab-story/events.ndjson", "LICENSE.txt", "setup.py"):  # fmt: skip
        assert f"{root}/{path}" in names, path


def test_version_from_one_place(installed: Installed):
    assert installed.run("--version").stdout.strip() == f"wgsiem {wgsiem.__version__}"
    found = installed.python("-c", "import wgsiem.content as c; print(c.INSTALLED, c.ROOT)").stdout.split()
    assert found[0] == "True" and "site-packages" in found[1] and str(REPO) not in found[1]


def test_rules_validate_and_export(installed: Installed):
    count = len(load_rules())
    validated = installed.run("rules", "validate")
    assert f"{count} rules valid" in validated.stdout and "scenario coverage not checked" in validated.stderr
    exported = [json.loads(line) for line in installed.run("rules", "export").stdout.splitlines()]
    rules = [o for o in exported if "rule_id" in o]
    assert len(rules) == count and all(r["rule_id"] for r in rules)
    # The shipped exception lists travel with the wheel and come first, as Kibana's import takes them.
    shipped = sorted(lst.list_id for lst in load_tuning(DETECTION_RULES).lists)
    assert len(shipped) >= 2
    assert sorted(o["list_id"] for o in exported if "item_id" not in o and "rule_id" not in o) == shipped
    first_rule = next(i for i, o in enumerate(exported) if "rule_id" in o)
    assert all("rule_id" not in o for o in exported[:first_rule]) and all("list_id" not in o or "rule_id" in o for o in exported[first_rule:])
    assert installed.run("rules", "test").stdout.strip().endswith("0 failed")


def test_rules_run_with_a_users_exception_list(installed: Installed, tmp_path: Path):
    """A user's own exception list, as docs/tuning.md has it, tunes the installed rules."""
    events = REPO / "fixtures" / "scenarios" / "stolen-key-abroad" / "events.ndjson"
    travel = next(r for r in load_rules() if r.name == "WireGuard Peer Impossible Travel")
    exceptions = tmp_path / "alice.toml"
    exceptions.write_text(
        "[metadata]\ncreation_date = \"2026/12/05\"\nlist_name = \"alice\"\nupdated_date = \"2026/12/05\"\n"
        f"rule_ids = [\"{travel.rule_id}\"]\n\n[[exceptions]]\n\n[exceptions.container]\ndescription = \"\"\nlist_id = \"alice\"\n"
        "name = \"alice\"\nnamespace_type = \"single\"\ntype = \"detection\"\n\n[[exceptions.items]]\ndescription = \"\"\n"
        "item_id = \"alice\"\nlist_id = \"alice\"\nname = \"alice\"\nnamespace_type = \"single\"\ntype = \"simple\"\n\n"
        "[[exceptions.items.entries]]\nfield = \"wireguard.peer.name\"\ntype = \"match\"\noperator = \"included\"\nvalue = \"alice\"\n"
    )
    names = lambda out: [json.loads(line)["kibana.alert.rule.name"] for line in out.splitlines()]  # noqa: E731
    plain = names(installed.run("rules", "run", str(events)).stdout)
    tuned = names(installed.run("rules", "run", str(events), "--exceptions", str(exceptions)).stdout)
    assert plain.count(travel.name) == 7
    assert tuned == [n for n in plain if n != travel.name]


def test_pipelines_validate_and_simulate(installed: Installed):
    assert "pipelines valid" in installed.run("pipelines", "validate").stdout
    request = {"pipeline_id": "logs-wireguard", "docs": [{"_source": {"source": {"ip": "203.0.113.9"}, "event": {"module": "wireguard"}}}]}
    response = json.loads(installed.run("pipelines", "simulate", stdin=json.dumps(request)).stdout)
    source = response["docs"][0]["doc"]["_source"]
    assert source["source"]["geo"]["country_iso_code"] == "ES"  # the test GeoIP world, built from the wheel
    assert installed.run("pipelines", "test").stdout.strip().endswith("0 failed")


def test_simulate_runs_the_data_set_processors_and_painless(installed: Installed):
    """user_agent and registered_domain read their data sets from the pinned packages, as
    installed; a script runs; an invalid pipeline answers Elasticsearch's 400 body, exit 1."""
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    request = {
        "pipeline": {"processors": [
            {"user_agent": {"field": "agent"}},
            {"registered_domain": {"field": "host", "target_field": "url"}},
            {"script": {"source": "ctx.labels = ctx.host.splitOnToken('.').length + params.extra", "params": {"extra": 1}}},
        ]},
        "docs": [{"_source": {"agent": agent, "host": "vpn.gateway.example.co.uk"}}],
    }  # fmt: skip
    source = json.loads(installed.run("pipelines", "simulate", stdin=json.dumps(request)).stdout)["docs"][0]["doc"]["_source"]
    assert source["user_agent"]["name"] == "Firefox" and source["user_agent"]["os"]["name"] == "Linux"
    assert source["url"]["registered_domain"] == "example.co.uk" and source["url"]["subdomain"] == "vpn.gateway"
    assert source["labels"] == 6
    invalid = {"pipeline": {"processors": [{"script": {"source": "ctx.x = "}}]}, "docs": [{"_source": {}}]}
    proc = installed.run("pipelines", "simulate", stdin=json.dumps(invalid), check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["type"] == "script_exception"


def test_replay_of_a_scenario_directory(installed: Installed):
    out = installed.run("replay", str(REPO / "fixtures" / "scenarios" / "stolen-key-abroad")).stdout
    assert "1 of 1 scenarios passed" in out


def test_report_of_a_scenario(installed: Installed, tmp_path: Path):
    """The dashboards, the rules' guides and the map's image all come with the wheel."""
    events = REPO / "fixtures" / "scenarios" / "stolen-key-abroad" / "events.ndjson"
    alerts = tmp_path / "alerts.ndjson"
    alerts.write_text(installed.run("rules", "run", str(events)).stdout)
    page = tmp_path / "report.html"
    installed.run("report", str(events), "--alerts", str(alerts), "-o", str(page))
    text = page.read_text()
    assert "was used from a new place" in text and "Investigating WireGuard Peer Connecting from a New Country" in text
    assert "data:image/png;base64," in text  # the map


def test_convert_a_capture_with_geoip(installed: Installed, tmp_path: Path):
    geo = tmp_path / "geo"
    installed.python("-m", "wgsiem.geoworld", str(geo))
    capture = REPO / "fixtures" / "captures" / "lab-story"
    out = installed.run("convert", str(capture), "--peers", str(capture / "peers.yaml"), "--host-name", "lab-hub",
                        "--geoip-city", str(geo / "GeoLite2-City.mmdb"), "--geoip-asn", str(geo / "GeoLite2-ASN.mmdb")).stdout  # fmt: skip
    docs = [json.loads(line) for line in out.splitlines()]
    assert docs and any(d.get("source", {}).get("geo", {}).get("country_iso_code") == "NL" for d in docs)
    assert any(d.get("source", {}).get("as", {}).get("number") for d in docs)


def test_ship_serves_the_metrics(installed: Installed, tmp_path: Path):
    """The wheel's ship with --metrics-listen: prometheus_client comes with it, and a
    scrape shows the peers of the dump it polled."""
    import socket
    import time
    import urllib.request

    from tests.support.dumps import FakeInterface, dump

    wg0 = FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.7:51820", allowed_ips="10.0.0.2/32", handshake=1_790_000_000, rx=123, tx=456)
    (tmp_path / "dump").write_text(dump(wg0))
    fake_wg = tmp_path / "wg"
    fake_wg.write_text(f"#!/bin/sh\ncat '{tmp_path / 'dump'}'\n")
    fake_wg.chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(installed.venv / "bin" / "wgsiem"), "ship", "--wg", str(fake_wg), "--state-dir", str(tmp_path / "state"),
                             "--output", "stdout", "--kernel-log", "off", "--wg-config-dir", str(tmp_path / "none"), "--interval", "1",
                             "--metrics-listen", f"127.0.0.1:{port}"],
                            cwd=installed.cwd, env=outside(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline, body = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "wireguard_received_bytes_total{" not in body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f'public_key="{alice.public_key}"' in body and "wgsiem_polls_total" in body


def test_package_build_gives_the_checkouts_bytes_and_validates(installed: Installed, tmp_path: Path):
    """The integration package from the wheel's content is the one from the checkout."""
    out = installed.run("package", "build", "--out", str(tmp_path)).stdout
    built = tmp_path / f"wireguard-{wgsiem.__version__}.zip"
    assert str(built) in out
    assert built.read_bytes() == zip_bytes(assemble())
    assert installed.run("package", "validate", str(built)).stdout.strip().endswith("valid")
    assert installed.run("package", "validate").stdout.strip().endswith("valid")


@pytest.mark.es
def test_templates_install_against_the_test_node(installed: Installed, es_url: str):
    out = installed.run("templates", "install", "--es", es_url).stdout
    assert "index template logs-wireguard.status:" in out and "index template logs-wireguard.log:" in out
