"""The commands as a user runs them: ship (once, looping, stopped, restarted), record, convert."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.dumps import FakeInterface, dump, fake_key

REPO = Path(__file__).resolve().parents[1]


def wgsiem(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "wgsiem", *args], capture_output=True, text=True, cwd=REPO, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"wgsiem {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture
def fake_wg(tmp_path):
    """A `wg` that prints whatever dump the test last wrote, like `wg show all dump`."""
    current = tmp_path / "current.dump"
    script = tmp_path / "wg"
    script.write_text(f"#!/bin/sh\ncat '{current}'\n")
    script.chmod(0o755)

    def set_dump(text: str) -> str:
        current.write_text(text)
        return str(script)

    return set_dump


def ship_args(tmp_path, wg):
    return ["ship", "--wg", wg, "--state-dir", str(tmp_path / "state"), "--output-file", str(tmp_path / "out.ndjson"),
            "--host-name", "vpn1", "--wg-config-dir", str(tmp_path / "no-configs"), "--kernel-log", "off"]  # fmt: skip


def shipped(tmp_path, health: bool = False) -> list[dict]:
    """What ship wrote about WireGuard, or with `health` its own shipper-health events."""
    path = tmp_path / "out.ndjson"
    docs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [d for d in docs if (d["event"]["action"] == "shipper-health") is health]


def test_help_lists_the_commands():
    out = wgsiem("--help").stdout
    for command in ("ship", "record", "convert"):
        assert command in out
    assert "--session-timeout" in wgsiem("ship", "--help").stdout


def test_ship_once_then_restart_has_no_duplicates(tmp_path, fake_wg):
    wg0 = FakeInterface()
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=int(time.time()) - 20, rx=10, tx=10)
    wg = fake_wg(dump(wg0))
    wgsiem(*ship_args(tmp_path, wg), "--once")
    assert [d["event"]["action"] for d in shipped(tmp_path)] == ["interface-discovered", "peer-discovered"]
    wgsiem(*ship_args(tmp_path, wg), "--once")  # a restart with nothing new
    assert len(shipped(tmp_path)) == 2
    alice.rx += 5000
    fake_wg(dump(wg0))
    wgsiem(*ship_args(tmp_path, wg), "--once")
    assert [d["event"]["action"] for d in shipped(tmp_path)][2:] == ["transfer"]
    state = (tmp_path / "state" / "state.json").read_text()
    assert wg0.private_key not in state


def test_ship_keeps_polling_and_stops_cleanly_on_sigterm(tmp_path, fake_wg):
    wg0 = FakeInterface()
    wg = fake_wg(dump(wg0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wgsiem", *ship_args(tmp_path, wg), "--interval", "0.2"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 20
        while not shipped(tmp_path) and time.time() < deadline:
            time.sleep(0.05)
        wg0.peer("bob")
        fake_wg(dump(wg0))
        while len(shipped(tmp_path)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after" in err
    assert [d["event"]["action"] for d in shipped(tmp_path)] == ["interface-discovered", "peer-added"]
    # A running shipper's start-up health event; the next is 300 s away. --once writes none.
    (health,) = shipped(tmp_path, health=True)
    assert health["event"]["outcome"] == "success" and health["wireguard"]["shipper"]["polls"] == 1


def test_ship_stdout_output_and_failure_exit(tmp_path, fake_wg):
    wg = fake_wg(dump(FakeInterface()))
    out = wgsiem(*ship_args(tmp_path, wg), "--once", "--output", "stdout").stdout
    assert json.loads(out.splitlines()[0])["event"]["action"] == "interface-discovered"
    denied = tmp_path / "denied-wg"
    denied.write_text("#!/bin/sh\necho 'Unable to access interface: Operation not permitted' >&2\nexit 1\n")
    denied.chmod(0o755)
    proc = wgsiem(*ship_args(tmp_path, str(denied)), "--once", check=False)
    assert proc.returncode == 1 and "CAP_NET_ADMIN" in proc.stderr


def test_ship_reports_malformed_lines_and_goes_on(tmp_path, fake_wg):
    wg0 = FakeInterface()
    wg0.peer("alice")
    wg = fake_wg(dump(wg0) + "wg0\tbroken\n")
    proc = wgsiem(*ship_args(tmp_path, wg), "--once")
    assert "malformed line skipped: wg show all dump:3: line: expected 5 or 9" in proc.stderr
    assert "1 malformed lines skipped" in proc.stderr
    assert len(shipped(tmp_path)) == 2


def test_bad_options_are_clear(tmp_path, fake_wg):
    wg = fake_wg("")
    proc = wgsiem(*ship_args(tmp_path, wg), "--once", "--interval", "-1", check=False)
    assert proc.returncode == 2 and "interval must be more than 0" in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("colour: red\n")
    proc = wgsiem(*ship_args(tmp_path, wg), "--config", str(bad), check=False)
    assert proc.returncode == 2 and "colour: unknown setting" in proc.stderr


def test_record_redacts_and_convert_replays_what_ship_saw(tmp_path, fake_wg):
    wg0 = FakeInterface()
    psk = fake_key("psk")
    alice = wg0.peer("alice", endpoint="198.51.100.7:4000", handshake=1_790_000_000, rx=10, tx=10, psk=psk)
    wg = fake_wg(dump(wg0))
    capture = tmp_path / "capture"
    wgsiem("record", str(capture), "--wg", wg, "--count", "1", "--state-dir", str(tmp_path / "rec"))
    alice.rx += 100
    fake_wg(dump(wg0))
    time.sleep(1)  # file names are seconds
    wgsiem("record", str(capture), "--wg", wg, "--count", "1", "--state-dir", str(tmp_path / "rec"))
    files = sorted(capture.iterdir())
    assert len(files) == 2
    for f in files:
        text = f.read_text()
        assert wg0.private_key not in text and psk not in text and "(redacted)" in text
    out = wgsiem("convert", str(capture), "--host-name", "vpn1").stdout
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["event"]["action"] for d in docs] == ["interface-discovered", "peer-discovered", "transfer"]
    assert docs[1]["wireguard"]["peer"]["preshared_key_set"] is True


def test_convert_errors_name_the_file(tmp_path):
    (tmp_path / "x.dump").write_text("")
    proc = wgsiem("convert", str(tmp_path), check=False)
    assert proc.returncode == 2 and "x.dump: a capture file is named <unix-seconds>.dump" in proc.stderr


def test_convert_with_names_and_geoip(tmp_path, geoip_world):
    wg0 = FakeInterface()
    wg0.peer("alice", endpoint="198.51.100.7:4000")
    capture = tmp_path / "c"
    capture.mkdir()
    (capture / "1790000000.dump").write_text(dump(wg0))
    names = tmp_path / "peers.yaml"
    names.write_text(f"{fake_key('alice')}: alice\n")
    out = wgsiem("convert", str(capture), "--peers", str(names), "--geoip-city", str(geoip_world.city),
                 "--geoip-asn", str(geoip_world.asn), "--host-name", "vpn1").stdout  # fmt: skip
    peer = json.loads(out.splitlines()[1])
    assert peer["user"]["name"] == "alice" and peer["source"]["geo"]["city_name"] == "Amsterdam"
    assert peer["source"]["as"]["number"] > 0

