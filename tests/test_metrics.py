"""`ship --metrics-listen`: prometheus_wireguard_exporter's metrics and wgsiem's health.

The exporter's output is written here by hand, as it documents it (integer values, its
label order, a blank line between families) for the same dump, and both texts are read
with Prometheus's own text parser (prometheus_client's): the same families, types, help
texts, label sets and values. The `prometheus` tier checks the deploy/prometheus alert
rules with promtool, and lets a real Prometheus scrape `wgsiem ship` on the lab.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.dumps import FakeInterface, dump, fake_key
from wgsiem.adapters.metrics_http import MetricsServer
from wgsiem.adapters.output import StreamOutput
from wgsiem.cli.setup import make_shipper
from wgsiem.cli.ship import run_loop
from wgsiem.config import ShipConfig
from wgsiem.metrics.health import Health
from wgsiem.metrics.listen import MetricsListenError, parse_listen
from wgsiem.metrics.peers import LabelOptions, PeerMetrics, snapshot
from wgsiem.status.state import State
from wgsiem.wgdump.raw import RawPoll

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "prometheus"
T0 = 1_790_000_000
A, B, C, D = (fake_key(n) for n in ("alice", "bob", "carol", "dave"))
NAMES = {A: "alice", B: 'bob "the builder"', D: "dave"}
# dave's wg-quick section says `# friendly_json = {"name": "dave", "site": "berlin", "floor": 3, "vpn_admin": true}`
JSON_LABELS = {D: {"name": "dave", "site": "berlin", "floor": "3", "vpn_admin": "true"}}


def two_interfaces() -> str:
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.7:51820", allowed_ips="10.0.0.2/32,fd00::2/128", handshake=T0 - 30, rx=75066288152, tx=1624251784)
    wg0.peer("bob", endpoint="[fe80::1%eth0]:51821", allowed_ips="10.0.0.3/32", handshake=T0 - 5, rx=7, tx=9)
    wg0.peer("carol")  # configured, never connected: no endpoint, no allowed IPs
    wg1 = FakeInterface(name="wg1", private_key=fake_key("private wg1"))
    wg1.peer("dave", endpoint="203.0.113.9:4500", allowed_ips="10.1.0.0/24", handshake=T0 - 100, rx=1, tx=2)
    return dump(wg0, wg1)


def exporter_text(remote: bool = False, split: bool = False, friendly: bool = False) -> str:
    """What prometheus_wireguard_exporter prints for two_interfaces() with -r, -s, -n."""
    peers = [  # interface, key, allowed ips, endpoint ip and port, sent (tx), received (rx), handshake
        ("wg0", A, "10.0.0.2/32,fd00::2/128", ("198.51.100.7", "51820"), 1624251784, 75066288152, T0 - 30),
        ("wg0", B, "10.0.0.3/32", ("fe80::1", "51821"), 9, 7, T0 - 5),
        ("wg0", C, "(none)", None, 0, 0, 0),
        ("wg1", D, "10.1.0.0/24", ("203.0.113.9", "4500"), 2, 1, T0 - 100),
    ]

    def labels(iface: str, key: str, allowed: str, endpoint: tuple[str, str] | None) -> str:
        out = [f'interface="{iface}"', f'public_key="{key}"']
        if not split:
            out.append(f'allowed_ips="{allowed}"')
        if friendly and key in JSON_LABELS:  # the JSON's keys instead of friendly_name, sorted
            out += [f'{k}="{v}"' for k, v in sorted(JSON_LABELS[key].items())]
        elif friendly and key in NAMES:
            out.append('friendly_name="{}"'.format(NAMES[key].replace('"', '\\"')))
        if remote and endpoint:
            out.append(f'remote_ip="{endpoint[0]}"')
        if split and allowed != "(none)":
            for i, net in enumerate(allowed.split(",")):
                ip, subnet = net.split("/")
                out += [f'allowed_ip_{i}="{ip}"', f'allowed_subnet_{i}="{subnet}"']
        if remote and endpoint:
            out.append(f'remote_port="{endpoint[1]}"')
        return ",".join(out)

    families = [
        ("wireguard_sent_bytes_total", "counter", "Bytes sent to the peer", 4),
        ("wireguard_received_bytes_total", "counter", "Bytes received from the peer", 5),
        ("wireguard_latest_handshake_seconds", "gauge", "UNIX timestamp seconds of the last handshake", 6),
    ]
    blocks = []
    for name, kind, help_text, column in families:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{{{labels(*p[:4])}}} {p[column]}" for p in peers]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def read(text: str) -> dict[str, tuple[str, str, set[tuple[frozenset, float]]]]:
    return {
        family.name: (family.type, family.documentation, {(frozenset(s.labels.items()), s.value) for s in family.samples})
        for family in text_string_to_metric_families(text)
    }


def served(text: str, options: LabelOptions) -> str:
    shipper = make_shipper(ShipConfig(), os.urandom(32), NAMES, State())
    outcome = shipper.process(RawPoll(T0, text))
    list(outcome.documents)
    return PeerMetrics(options).render(snapshot(shipper.state, NAMES, JSON_LABELS)).decode()


@pytest.mark.parametrize(
    "options",
    [LabelOptions(), LabelOptions(remote_endpoint=True), LabelOptions(split_allowed_ips=True),
     LabelOptions(friendly_names=True), LabelOptions(True, True, True)],
    ids=["default", "-r", "-s", "-n", "-r-s-n"],
)  # fmt: skip
def test_the_exporters_families_labels_and_values(options: LabelOptions) -> None:
    ours = read(served(two_interfaces(), options))
    theirs = read(exporter_text(options.remote_endpoint, options.split_allowed_ips, options.friendly_names))
    assert ours == theirs
    assert set(ours) == {"wireguard_sent_bytes", "wireguard_received_bytes", "wireguard_latest_handshake_seconds"}


def test_unchanged_peers_are_not_written_again_and_changes_show() -> None:
    shipper = make_shipper(ShipConfig(), os.urandom(32), {}, State())
    metrics = PeerMetrics()
    wg0 = FakeInterface()
    alice, _ = wg0.peer("alice", rx=1), wg0.peer("bob", rx=2)
    list(shipper.process(RawPoll(T0, dump(wg0))).documents)
    first = metrics.render(snapshot(shipper.state, {}))
    assert metrics.rendered_peers == 2
    alice.rx, alice.handshake = 500, T0 + 20
    list(shipper.process(RawPoll(T0 + 30, dump(wg0))).documents)
    second = metrics.render(snapshot(shipper.state, {}))
    assert metrics.rendered_peers == 3  # alice again, bob's lines kept
    got = read(second.decode())
    assert (frozenset({"interface": "wg0", "public_key": A, "allowed_ips": "(none)"}.items()), 500.0) in got["wireguard_received_bytes"][2]
    assert first != second
    # a peer removed is gone from the text
    del wg0.peers["bob"]
    list(shipper.process(RawPoll(T0 + 60, dump(wg0))).documents)
    assert B not in metrics.render(snapshot(shipper.state, {})).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:9586", ("127.0.0.1", 9586)), ("[::1]:9586", ("::1", 9586)), (":9586", ("0.0.0.0", 9586)), ("vpn1.example:80", ("vpn1.example", 80))],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9586", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9586", "host:port", "127.0.0.1:٣"])
def test_bad_listen_addresses_are_refused_by_ship(text: str, tmp_path: Path) -> None:
    with pytest.raises(MetricsListenError, match="metrics_listen"):
        parse_listen(text)
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "ship", "--once", "--metrics-listen", text, "--state-dir", str(tmp_path), "--output", "stdout"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "metrics_listen" in proc.stderr


# --- the endpoint -----------------------------------------------------------------------


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def fleet_dump(n: int, t: int) -> str:
    wg0 = FakeInterface()
    for i in range(n):
        wg0.peer(f"p{i}", endpoint=f"198.51.{i // 250}.{i % 250 + 1}:51820", allowed_ips=f"10.{i // 250}.{i % 250}.2/32", handshake=t - 10, rx=t + i, tx=i)
    return dump(wg0)


def test_http_answers_as_the_exporter_does() -> None:
    server = MetricsServer(("127.0.0.1", 0), PeerMetrics(), Health()).start()
    try:
        shipper = make_shipper(ShipConfig(), os.urandom(32), {}, State())
        list(shipper.process(RawPoll(T0, two_interfaces())).documents)
        server.publish(snapshot(shipper.state, {}))
        base = f"http://127.0.0.1:{server.address[1]}"
        status, headers, body = get(base + "/metrics")
        assert status == 200 and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = read(body.decode())
        assert len(families["wireguard_sent_bytes"][2]) == 4 and "wgsiem_polls" in families and "process_cpu_seconds" in families
        assert get(base + "/metrics", "HEAD")[0] == 200
        assert get(base + "/", "GET")[0] == 404 and get(base + "/metrics/x")[0] == 404
        assert get(base + "/metrics", "POST")[0] == 405
    finally:
        server.close()


def test_a_scrape_never_holds_up_the_poll(tmp_path: Path) -> None:
    """A client that asks for the metrics and never reads them, and one that scrapes in a
    loop, while the loop polls: the polls go on at their pace, and each scrape shows a
    whole poll (every peer's counters from the same poll)."""
    server = MetricsServer(("127.0.0.1", 0), PeerMetrics(), Health()).start()
    stuck = socket.create_connection(("127.0.0.1", server.address[1]))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cfg = ShipConfig(state_dir=tmp_path)
    shipper = make_shipper(cfg, os.urandom(32), {}, State())
    polls: list[int] = []
    seen: list[list[float]] = []
    done = threading.Event()

    def scrape_loop() -> None:
        while not done.is_set():
            families = read(get(f"http://127.0.0.1:{server.address[1]}/metrics")[2].decode())
            received = families["wireguard_received_bytes"][2]
            if received:
                seen.append(sorted(value for _, value in received))

    def poll(t: int) -> RawPoll:
        t = T0 + 30 * len(polls)
        polls.append(t)
        if len(polls) == 2:
            stuck.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read
        return RawPoll(t, fleet_dump(2000, t))

    scraper = threading.Thread(target=scrape_loop)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    try:
        clock = iter(range(10**9))
        started = time.monotonic()
        for _ in range(6):
            run_loop(cfg, shipper, StreamOutput(devnull), poll, lambda: float(next(clock)), threading.Event(), once=True, metrics=server)
            if len(polls) == 2:
                scraper.start()
        # Six polls of 2,000 peers take a second or two; a poll held up by the stuck client would never end.
        assert time.monotonic() - started < 60
    finally:
        devnull.close()
        done.set()
        if scraper.is_alive():
            scraper.join(timeout=60)
        stuck.close()
        server.close()
    assert len(polls) == 6 and seen
    # rx of peer i is t + i at poll time t: a whole poll has one t for all 2,000 peers.
    for values in seen:
        starts = {int(v) - i for i, v in enumerate(values)}
        assert len(starts) == 1 and starts.pop() in polls


def test_health_after_polls_a_failure_and_malformed_lines(tmp_path: Path) -> None:
    server = MetricsServer(("127.0.0.1", 0), PeerMetrics(), Health()).start()
    cfg = ShipConfig(state_dir=tmp_path)
    shipper = make_shipper(cfg, os.urandom(32), {}, State())
    good = two_interfaces()
    answers = [RawPoll(T0, good), RawPoll(T0 + 30, "", failure="'wg' not found"), RawPoll(T0 + 60, good + "wg0\tgarbage\n")]
    try:
        out = StreamOutput(open(os.devnull, "w"))  # noqa: SIM115 - the process's end closes it
        for i, raw in enumerate(answers):
            run_loop(cfg, shipper, out, lambda _t, raw=raw: raw, lambda i=i: T0 + 30.0 * i, threading.Event(), once=True, metrics=server)
        body = get(f"http://127.0.0.1:{server.address[1]}/metrics")[2].decode()
    finally:
        server.close()
    values = {s.name: s.value for f in text_string_to_metric_families(body) if f.name.startswith("wgsiem") for s in f.samples}
    assert values == {
        "wgsiem_polls_total": 3, "wgsiem_poll_failures_total": 1, "wgsiem_wg_errors_total": 0, "wgsiem_malformed_lines_total": 1,
        "wgsiem_documents_written_total": values["wgsiem_documents_written_total"], "wgsiem_log_lines_total": 0,
        "wgsiem_last_successful_poll_timestamp_seconds": T0 + 60, "wgsiem_spool_documents": 0, "wgsiem_spool_bytes": 0,
        "wgsiem_dropped_documents_total": 0,
    }  # fmt: skip
    assert values["wgsiem_documents_written_total"] >= 6  # two interfaces and four peers discovered


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "wgsiem", "ship", "--once", "--metrics-listen", f"127.0.0.1:{port}", "--state-dir", str(tmp_path),
             "--output", "stdout", "--wg", "/bin/false", "--kernel-log", "off"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        taken.close()
    assert proc.returncode == 2 and f"metrics_listen 127.0.0.1:{port}: cannot listen: Address already in use" in proc.stderr


# --- promtool and a real Prometheus -------------------------------------------------------


@pytest.mark.prometheus
def test_the_alert_rules_check_and_pass_their_unit_tests() -> None:
    check = subprocess.run(["promtool", "check", "rules", "wgsiem.rules.yml"], cwd=DEPLOY, capture_output=True, text=True)
    assert check.returncode == 0 and "SUCCESS: 6 rules found" in check.stdout, check.stdout + check.stderr
    config = subprocess.run(["promtool", "check", "config", "prometheus.yml"], cwd=DEPLOY, capture_output=True, text=True)
    assert config.returncode == 0, config.stdout + config.stderr
    test = subprocess.run(["promtool", "test", "rules", "wgsiem.rules.test.yml"], cwd=DEPLOY, capture_output=True, text=True)
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr
    # Every alert of the rules file has a case in the tests.
    alerts = {line.split(":", 1)[1].strip() for line in (DEPLOY / "wgsiem.rules.yml").read_text().splitlines() if line.strip().startswith("- alert:")}
    tested = {line.split(":", 1)[1].strip() for line in (DEPLOY / "wgsiem.rules.test.yml").read_text().splitlines() if "alertname:" in line}
    assert alerts == tested and len(alerts) == 6


@pytest.mark.prometheus
def test_promtool_accepts_the_exposition() -> None:
    body = served(two_interfaces(), LabelOptions(True, False, True))
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(prometheus: str, promql: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = json.loads(urllib.request.urlopen(url, timeout=10).read())
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.mark.prometheus
@pytest.mark.lab
def test_a_real_prometheus_scrapes_ship_on_the_lab(wg_lab, tmp_path: Path) -> None:
    """Prometheus scrapes `wgsiem ship` every second while the lab's tunnels carry traffic;
    once the traffic stops, the stored series hold what `wg show` says."""
    kate = wg_lab.add_client("kate", "192.0.2.0/24")
    leo = wg_lab.add_client("leo", "198.51.100.0/24")
    wg_lab.add_silent_peer("max")
    for client in (kate, leo):
        wg_lab.connect(client)
        wg_lab.send(client, 300_000)
    names = tmp_path / "peers.yaml"
    names.write_text(f"{kate.public_key}: kate\n")
    configs = tmp_path / "wireguard"
    configs.mkdir()  # leo is named the way the exporter's users name peers: a JSON comment in wg0.conf
    (configs / "wg0.conf").write_text(f'[Peer]\nPublicKey = {leo.public_key}\n# friendly_json = {{"name": "leo", "site": "lyon", "rack": 7}}\n')
    port, prom_port = free_port(), free_port()
    ship = subprocess.Popen(
        [sys.executable, "-m", "wgsiem", "ship", "--interface", wg_lab.hub_interface, "--interval", "1", "--state-dir", str(tmp_path / "state"),
         "--output", "stdout", "--kernel-log", "off", "--wg-config-dir", str(configs), "--peers", str(names),
         "--metrics-listen", f"127.0.0.1:{port}", "--metrics-friendly-names", "--metrics-remote-endpoint"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: wgsiem\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    prometheus = subprocess.Popen(
        [shutil.which("prometheus") or "prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{prom_port}"
    try:
        wg_lab.send(kate, 200_000)
        time.sleep(4)  # quiet: the counters settle, and Prometheus scrapes them a few times
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                up = query(api, 'up{job="wgsiem"}')
                received = query(api, "wireguard_received_bytes_total")
            except (urllib.error.URLError, ConnectionError):
                up, received = [], []
            if up and up[0]["value"][1] == "1" and len(received) == 3:
                break
            time.sleep(0.5)
        else:
            pytest.fail("Prometheus never stored the wireguard series")
        hub = {line.split("\t")[0]: line.split("\t") for line in wg_lab.hub_dump().splitlines()[1:]}
        for family, column in (("wireguard_received_bytes_total", 5), ("wireguard_sent_bytes_total", 6), ("wireguard_latest_handshake_seconds", 4)):
            stored = {r["metric"]["public_key"]: r for r in query(api, family)}
            assert set(stored) == set(hub), family
            for key, row in stored.items():
                assert float(row["value"][1]) == float(hub[key][column]), (family, key)
                assert row["metric"]["interface"] == wg_lab.hub_interface and row["metric"]["job"] == "wgsiem"
        labels = {r["metric"]["public_key"]: r["metric"] for r in query(api, "wireguard_latest_handshake_seconds")}
        assert labels[kate.public_key]["friendly_name"] == "kate" and "remote_ip" in labels[kate.public_key]
        assert (labels[leo.public_key]["name"], labels[leo.public_key]["site"], labels[leo.public_key]["rack"]) == ("leo", "lyon", "7")
        assert "friendly_name" not in labels[leo.public_key]
        assert "friendly_name" not in labels[wg_lab.clients["max"].public_key]
        assert "remote_ip" not in labels[wg_lab.clients["max"].public_key]  # it never connected
        assert float(query(api, "wgsiem_polls_total")[0]["value"][1]) >= 3
        assert float(query(api, "wgsiem_poll_failures_total")[0]["value"][1]) == 0
    finally:
        prometheus.send_signal(signal.SIGTERM)
        ship.send_signal(signal.SIGTERM)
        prometheus.wait(timeout=30)
        _, err = ship.communicate(timeout=30)
    assert ship.returncode == 0, err
