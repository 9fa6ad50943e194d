"""A peer added between two polls, from a real lab recording: its first handshake lines
carry its key and name, in `convert` and in `ship`, in every kernel log framing.

wireguard-go writes nothing to the kernel log, so the lines are the ones the Linux module
prints for what the lab really did (the peer's creation, the handshake it really made,
at the time and from the endpoint the hub's next poll shows), written in each framing
`journalctl`, `dmesg` and syslog produce. The polls are the hub's real `wg show all dump`.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wgsiem.adapters.follow import FileFollower
from wgsiem.adapters.output import NdjsonFileOutput
from wgsiem.cli.setup import make_names, make_shipper
from wgsiem.cli.ship import run_loop
from wgsiem.config import ShipConfig
from wgsiem.status.state import State
from wgsiem.wgdump.raw import RawPoll

pytestmark = pytest.mark.lab

HOST = "vpn1"
BOOT = 1_700_000_000.0  # what --boot-time says for the dmesg framing


def framed(framing: str, when: float, message: str) -> str:
    """`message` (the kernel's text) as `framing` prints it at unix time `when`."""
    t = datetime.fromtimestamp(when, UTC)
    syslog_time = f"{t:%b} {t.day:2d} {t:%H:%M:%S}"
    return {
        "dmesg": f"[{when - BOOT:12.6f}] {message}",
        "dmesg-T": f"[{time.asctime(time.gmtime(when))}] {message}",
        "journal-short": f"{syslog_time} {HOST} kernel: {message}",
        "journal-short-iso": f"{t:%Y-%m-%dT%H:%M:%S}+0000 {HOST} kernel: {message}",
        "journal-short-iso-precise": f"{t:%Y-%m-%dT%H:%M:%S.%f}+00:00 {HOST} kernel: {message}",
        "journal.json": json.dumps({"__REALTIME_TIMESTAMP": str(int(when * 1e6)), "_TRANSPORT": "kernel", "SYSLOG_IDENTIFIER": "kernel",
                                    "_HOSTNAME": HOST, "MESSAGE": message}),  # fmt: skip
        "kern.log": f"{syslog_time} {HOST} kernel: [{when - BOOT:12.6f}] {message}",
        "bare": message,
    }[framing]


FRAMINGS = ["dmesg", "dmesg-T", "journal-short", "journal-short-iso", "journal-short-iso-precise", "journal.json", "kern.log", "bare"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory):
    """Poll the hub with alice connected; add eve and let her handshake; poll again."""
    from wgsiem.lab.tunnels import Lab, free_prefix

    work = tmp_path_factory.mktemp("new-peer")
    with Lab(work / "lab", prefix=free_prefix("wgn", 3)) as lab:
        alice = lab.add_client("alice", "198.51.100.0/24")
        lab.connect(alice)
        hub = lab.hub_interface

        def poll() -> RawPoll:
            now = int(time.time())
            return RawPoll(now, lab.netns_exec(lab.hub_namespace, ["wg", "show", hub, "dump"]).stdout, source=f"{now}.dump")

        first = poll()
        time.sleep(1.1)
        added = time.time()
        eve = lab.add_client("eve", "203.0.113.0/24", preshared_key=True)
        lab.connect(eve)
        seen = lab.hub_peer(eve)
        assert seen is not None and seen["endpoint"] != "(none)"
        time.sleep(1.1)
        second = poll()
        keys = {c.name: c.public_key for c in lab.clients.values()}
        lab_secrets = lab.secrets()
    # The dump gives the handshake in whole seconds: the lines are dated within its second.
    handshake = max(float(seen["latest_handshake"]), added) + 0.001
    assert first.time < added < handshake < second.time, "eve was added and handshook between the two polls"
    # What the module prints on the hub, eve being its second peer.
    lines = [
        (added, f"wireguard: {hub}: Peer 2 created"),
        (handshake, f"wireguard: {hub}: Receiving handshake initiation from peer 2 ({seen['endpoint']})"),
        (handshake + 0.001, f"wireguard: {hub}: Sending handshake response to peer 2 ({seen['endpoint']})"),
        (handshake + 0.002, f"wireguard: {hub}: Keypair 3 created for peer 2"),
    ]
    names = work / "peers.yaml"
    names.write_text("".join(f"{key}: {name}\n" for name, key in keys.items()))
    # wg show IFACE dump has no interface column: write it as `wg show all dump` does.
    polls = [RawPoll(p.time, "".join(f"{hub}\t{line}\n" for line in p.stdout.splitlines()), source=p.source) for p in (first, second)]
    return {"work": work, "polls": polls, "lines": lines, "names": names, "eve": keys["eve"], "hub": hub, "secrets": lab_secrets}


def expect_eve(docs: list[dict], rec: dict, framing: str, how: str) -> None:
    logs = [d for d in docs if d["event"]["dataset"] == "wireguard.log"]
    got = [(d["event"]["action"], d.get("wireguard", {}).get("peer", {}).get("public_key"), d.get("user", {}).get("name")) for d in logs]
    eve = rec["eve"]
    assert got == [
        ("peer-created", None, None),  # no endpoint on the line: nothing to tie it by yet
        ("handshake-initiation-received", eve, "eve"),  # her endpoint, in the poll after the line
        ("handshake-response-sent", eve, "eve"),
        ("keypair-created", eve, "eve"),  # the id, learnt from the line before
    ], f"{how}, {framing}"
    text = json.dumps(docs)
    assert not any(s in text for s in rec["secrets"])


@pytest.mark.parametrize("framing", FRAMINGS)
def test_convert_names_a_peer_added_between_two_polls(recording, framing: str, tmp_path: Path) -> None:
    capture = tmp_path / "capture"
    capture.mkdir()
    for p in recording["polls"]:
        (capture / f"{p.time}.dump").write_text(p.stdout)
    log = tmp_path / "kernel.log"
    log.write_text("".join(framed(framing, when, message) + "\n" for when, message in recording["lines"]))
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(capture), "--kernel-log", str(log), "--boot-time", str(BOOT),
         "--peers", str(recording["names"]), "--host-name", HOST],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    expect_eve([json.loads(line) for line in proc.stdout.splitlines()], recording, framing, "convert")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_ship_names_a_peer_added_between_two_polls(recording, framing: str, tmp_path: Path, monkeypatch) -> None:
    """`ship`'s own loop: the kernel log file followed, the lines read, then the poll, then
    the lines tied to peers with both polls."""
    monkeypatch.setattr("wgsiem.cli.ship.boot_time", lambda: BOOT)
    cfg = ShipConfig(host_name=HOST, peers=recording["names"], state_dir=tmp_path / "state", wg_config_dirs=())
    cfg.state_dir.mkdir()
    shipper = make_shipper(cfg, secrets.token_bytes(32), make_names(cfg).names, State())
    log = tmp_path / "kernel.log"
    log.write_text("")
    follower = FileFollower(log)
    follower.start(None)
    out = NdjsonFileOutput(tmp_path / "out.ndjson")
    first, second = recording["polls"]
    try:
        run_loop(cfg, shipper, out, lambda _t: first, lambda: first.time, threading.Event(), once=True, follower=follower)
        with log.open("a") as f:
            f.writelines(framed(framing, when, message) + "\n" for when, message in recording["lines"])
        run_loop(cfg, shipper, out, lambda _t: second, lambda: second.time, threading.Event(), once=True, follower=follower)
    finally:
        follower.stop()
        out.close()
    docs = [json.loads(line) for line in (tmp_path / "out.ndjson").read_text().splitlines()]
    expect_eve(docs, recording, framing, "ship")

