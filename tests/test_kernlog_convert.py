"""`wgsiem convert --kernel-log`: log lines interleaved in time with the polls, tied to peers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO / "fixtures" / "captures" / "lab-story"


def convert(*args: str) -> tuple[list[dict], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(CAPTURE), "--peers", str(CAPTURE / "peers.yaml"),
         "--host-name", "lab-hub", *args],
        capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def test_log_events_interleave_and_carry_their_peer():
    docs, err = convert("--kernel-log", str(CAPTURE / "kernel.log"))
    times = [d["@timestamp"] for d in docs]
    assert times == sorted(times)
    datasets = [d["event"]["dataset"] for d in docs]
    first_log, last_status = datasets.index("wireguard.log"), len(datasets) - 1 - datasets[::-1].index("wireguard.status")
    assert first_log < last_status, "log and status events are interleaved, not appended"
    logs = [d for d in docs if d["event"]["dataset"] == "wireguard.log"]
    named = [(d["event"]["action"], d.get("user", {}).get("name")) for d in logs]
    assert named == [
        ("peer-created", None),  # no endpoint on the line, id not known yet
        ("handshake-initiation-received", "alice"),  # endpoint matches the baseline poll
        ("handshake-response-sent", "alice"),
        ("keypair-created", "alice"),  # remembered id
        ("peer-created", None), ("peer-created", None), ("peer-created", None),
        # bob and dave were added after the baseline poll: the poll after these lines knows
        # their endpoints, so their first handshake already names them
        ("handshake-initiation-received", "bob"),
        ("handshake-initiation-received", "dave"),
        ("keepalive-received", "bob"),
        ("keepalive-received", "dave"),
        ("handshake-invalid", None), ("handshake-invalid", None),  # a scanner: an address, no peer
        ("packet-unallowed-source", "bob"),
        ("keepalive-received", "alice"),  # after roaming: the id still names her
        ("unrecognized", None),
        ("peer-destroyed", "dave"),
        ("keypair-destroyed", None),  # forgotten with the peer
    ]  # fmt: skip
    resolved = [d for d in logs if "user" in d]
    for d in resolved:
        assert d["wireguard"]["peer"]["public_key"] and d["related"]["user"] == [d["user"]["name"]]
    assert "18 WireGuard's, 1 unrecognized" in err and "suppressed 3 log callbacks" in err


def test_dmesg_without_wall_time_needs_the_boot_time(tmp_path):
    log = tmp_path / "dmesg.txt"
    boot = 1795307000
    log.write_text(
        "[  538.000100] wireguard: wgrechub: Receiving handshake initiation from peer 1 (198.51.100.2:48302)\n"
        "wireguard: wgrechub: Keypair 1 created for peer 1\n"  # a bare line: dated by the line before it
    )
    docs, _ = convert("--kernel-log", str(log), "--boot-time", str(boot))
    logs = [d for d in docs if d["event"]["dataset"] == "wireguard.log"]
    assert [d["@timestamp"] for d in logs] == ["2026-11-22T00:32:18.000Z"] * 2
    assert [d["user"]["name"] for d in logs] == ["alice", "alice"]
    # without it, undated lines take the first poll's time
    docs, _ = convert("--kernel-log", str(log))
    assert {d["@timestamp"] for d in docs if d["event"]["dataset"] == "wireguard.log"} == {"2026-11-22T00:32:18.000Z"}
