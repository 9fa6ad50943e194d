"""`wgsiem ship --conntrack live` and `wgsiem record --conntrack` on the real connection
tracker, as root: in the gateway namespace of the conntrack lab (wgsiem/lab/conntrack.py:
client 10.98.0.2 / fd98::2 ── gw, nftables and short timeouts), while the client talks
to services in the gateway.

The adapter under test is conntrack's: the events are the kernel's, conntrack's and
nftables'. WireGuard itself is not needed for it, so `wg` is a script printing a dump
whose one peer has the client's addresses as its allowed-ips, as it would if the client
came in through a tunnel.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.dumps import FakeInterface, dump, fake_key
from tests.support.tiers import require
from wgsiem.lab import conntrack as lab
from wgsiem.lab.tunnels import free_prefix

REPO = Path(__file__).resolve().parents[1]
PEER_IPS = f"{lab.CLIENT4}/32,{lab.CLIENT6}/128"

pytestmark = pytest.mark.root


@pytest.fixture
def site():
    require(lab.conntrack_lab_available())
    with lab.Namespaces(free_prefix("wgcs", 3), nat=False, accounting=True) as namespaces:
        yield namespaces


def fake_wg(tmp: Path) -> Path:
    wg0 = FakeInterface()
    wg0.peer("client", endpoint="198.51.100.7:51820", allowed_ips=PEER_IPS, handshake=int(time.time()) - 5)
    text = tmp / "wg0.dump"
    text.write_text(dump(wg0))
    wg = tmp / "wg"
    wg.write_text(f"#!/bin/sh\ncat '{text}'\n")
    wg.chmod(0o755)
    return wg


def in_gw(site: lab.Namespaces, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(["ip", "netns", "exec", site.ns("gw"), sys.executable, "-m", "wgsiem", *args],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)  # fmt: skip


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    return err


def flows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    docs = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [d for d in docs if d["event"]["dataset"] == "wireguard.flow"]


def what(doc: dict) -> tuple:
    """A flow event without its time: what both listeners saw of one connection."""
    src, dst = doc["source"], doc["destination"]
    return (doc["event"]["action"], doc["wireguard"]["flow"].get("conntrack_id"), doc["network"].get("transport"),
            src["ip"], src.get("port"), dst["ip"], dst.get("port"), src.get("bytes"), dst.get("bytes"))  # fmt: skip


def wait_until(check, timeout: float, what: str, tick=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"no {what} within {timeout:g} s"
        tick()
        time.sleep(0.3)


def test_ship_live_and_a_recording_see_the_clients_connections_with_their_bytes(site, tmp_path):
    db_up, db_down = lab.DB_UPLOAD, lab.DB_DOWNLOAD
    web_up, web_down = lab.WEB_UPLOAD, lab.WEB_DOWNLOAD
    plan = lab.Plan(
        "ship", "the client to the gateway's services, while ship and record listen",
        (lab._tcp("tcp", lab.GATEWAY4, 5432, db_up, db_down), lab._tcp("tcp6", lab.GATEWAY6, 8080, web_up, web_down),
         lab.Step("ping", ("ping", lab.GATEWAY4, "2"))),
        (f"tcp,{lab.GATEWAY4},5432", f"tcp,{lab.GATEWAY6},8080"),
    )  # fmt: skip
    lab._start_services(site, plan)
    wg = fake_wg(tmp_path)
    out, capture, state = tmp_path / "out.ndjson", tmp_path / "capture", tmp_path / "state"
    ship = in_gw(site, "ship", "--conntrack", "live", "--wg", str(wg), "--state-dir", str(state), "--output-file", str(out),
                 "--host-name", "gw1", "--interval", "0.3", "--kernel-log", "off", "--wg-config-dir", str(tmp_path / "none"))  # fmt: skip
    record = in_gw(site, "record", str(capture), "--conntrack", "--wg", str(wg), "--interval", "0.5",
                   "--state-dir", str(tmp_path / "record"), "--wg-config-watch", "off")  # fmt: skip
    try:
        wait_until(lambda: (state / "state.json").exists() and any(capture.glob("*.dump")), 20, "first polls")
        time.sleep(0.5)  # both conntrack listeners subscribed (ship's is read from its first poll on)
        for step in plan.steps:
            site.exec("client", step.argv(), timeout=30)
        # Listing the table reaps what has timed out (2-3 s here), as the kernel would within a minute.
        wait_until(lambda: sum(d["event"]["action"] == "flow-ended" for d in flows(out)) >= 3, 30, "flow-ended events",
                   tick=site.table)  # fmt: skip
        time.sleep(1.0)  # a poll more for ship, a second more of conntrack.log for record
    finally:
        said = stop(ship)
        recorded = stop(record)
    shipped = flows(out)

    # ship: the client's three connections, started and ended, the peer's, with their bytes.
    ended = {d["network"]["transport"] + d["network"]["type"][-1]: d for d in shipped if d["event"]["action"] == "flow-ended"}
    assert set(ended) == {"tcp4", "tcp6", "icmp4"}, [what(d) for d in shipped]
    assert len([d for d in shipped if d["event"]["action"] == "flow-started"]) == 3
    assert {d["wireguard"]["peer"]["public_key"] for d in shipped} == {fake_key("client")}
    db, web, ping = ended["tcp4"], ended["tcp6"], ended["icmp4"]
    assert (db["source"]["ip"], db["destination"]["ip"], db["destination"]["port"]) == (lab.CLIENT4, lab.GATEWAY4, 5432)
    assert db["network"]["direction"] == "inbound"
    # What the peer sent and got: the payload and the headers of some tens of segments.
    assert db_up <= db["source"]["bytes"] <= db_up * 1.1 and db_down <= db["destination"]["bytes"] <= db_down * 1.1
    assert web_up <= web["source"]["bytes"] <= web_up * 1.5 and web_down <= web["destination"]["bytes"] <= web_down * 1.1
    assert (web["source"]["ip"], web["destination"]["port"]) == (lab.CLIENT6, 8080)
    assert ping["source"]["packets"] == ping["destination"]["packets"] == 2
    assert db["event"]["duration"] > 0 and "start" in db["event"]
    assert "stopped after" in said and "conntrack -E: " in said and "were not seen" not in said
    assert "error" not in said.lower(), said

    # record --conntrack kept what conntrack printed; convert makes the same flows of it.
    log = capture / "conntrack.log"
    assert log.stat().st_size > 0, recorded
    assert f"conntrack events appended to {log}" in recorded
    converted = subprocess.run([sys.executable, "-m", "wgsiem", "convert", str(capture), "--host-name", "gw1"],
                               cwd=REPO, capture_output=True, text=True, check=True)  # fmt: skip
    from_capture = [d for line in converted.stdout.splitlines() if (d := json.loads(line))["event"]["dataset"] == "wireguard.flow"]
    assert sorted(map(what, from_capture)) == sorted(map(what, shipped))
    lines = len(log.read_text().splitlines())
    assert f"{log}: {lines} conntrack records" in converted.stderr and "malformed conntrack line" not in converted.stderr


def test_without_cap_net_admin_conntrack_is_refused_once_and_status_events_go_on(tmp_path):
    """The real conntrack, run by root without CAP_NET_ADMIN (a unit without the capability)."""
    require(lab.conntrack_lab_available())
    program = tmp_path / "conntrack"
    program.write_text('#!/bin/sh\nexec setpriv --bounding-set -net_admin conntrack "$@"\n')
    program.chmod(0o755)
    out, state = tmp_path / "out.ndjson", tmp_path / "state" / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "wgsiem", "ship", "--conntrack", "live", "--conntrack-program", str(program),
                             "--wg", str(fake_wg(tmp_path)), "--state-dir", str(state.parent), "--output-file", str(out),
                             "--interval", "0.3", "--kernel-log", "off", "--wg-config-dir", str(tmp_path / "none")],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        saves: set[int] = set()

        def three_polls() -> bool:
            if state.exists():
                saves.add(state.stat().st_mtime_ns)
            return len(saves) >= 3

        wait_until(three_polls, 20, "three polls")
    finally:
        said = stop(proc)
    (refused,) = [line for line in said.splitlines() if "without flows" in line]
    assert "Can't open netlink socket (mnl_socket_bind: Operation not permitted)" in refused and "CAP_NET_ADMIN" in refused
    actions = [json.loads(line)["event"]["action"] for line in out.read_text().splitlines()]
    assert "peer-discovered" in actions and flows(out) == []
