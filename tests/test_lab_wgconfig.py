"""The wg-quick file story of issue 19, live: real wg-quick over wireguard-go in the lab's
hub namespace, `wgsiem ship` watching the file. An intruder appends a [Peer] and a hook and
leaves the file world-readable; the events say so in order (file changed → drift pending →
interface restarted → peer-added → drift resolved), and neither the file's private key nor
a preshared key shows in anything the shipper wrote."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from wgsiem.lab import stories
from wgsiem.lab.runner import LiveShipper, write_names

KEY = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


@pytest.mark.lab
def test_a_peer_planted_in_the_file_through_ship(wg_lab, tmp_path: Path):
    names = tmp_path / "peers.yaml"
    names.write_text("{}\n")
    ship: list[LiveShipper] = []
    steps: list[tuple[float, str]] = []

    def tick(label: str) -> None:
        now = time.time()
        if not ship:  # from the first tick on: the first poll is the baseline, file and all
            ship.append(LiveShipper(tmp_path / "ship", [
                "--interface", wg_lab.hub_interface, "--peers", str(names), "--host-name", "vpn1",
                "--wg-config-dir", str(stories.wg_config_dir(wg_lab)), "--wg-config-drift-after", "2",
                "--kernel-log", "off",
            ]))  # fmt: skip
            ship[0].start()
        ship[0].wait_for_poll(now)
        steps.append((now, label))

    def on_peer(client) -> None:
        write_names(names, wg_lab.clients)

    conf = stories.wg_config_dir(wg_lab) / f"{wg_lab.hub_interface}.conf"
    try:
        clients = stories.planted_peer(wg_lab, tick, on_peer, history_seconds=2)
        secrets = [*wg_lab.secrets(), *re.findall(r"(?m)^(?:PrivateKey|PresharedKey)\s*=\s*(\S+)", conf.read_text())]
    finally:
        status = ship[0].stop() if ship else 0
    assert status == 0, ship[0].log.read_text()[-3000:]
    shipper = ship[0]
    docs = shipper.documents()
    config = [d for d in docs if d["event"]["action"].startswith("config-") or d["event"]["action"] in
              ("interface-down", "interface-up", "peer-added", "interface-discovered")]  # fmt: skip
    sequence = [d["event"]["action"] for d in config]

    known = {c.public_key for c in clients.values()}
    planted = [d for d in docs if d["event"]["action"] == "config-peer-added"]
    assert len(planted) == 1 and planted[0]["wireguard"]["config"]["peer"]["running"] is False
    mallory = planted[0]["wireguard"]["peer"]["public_key"]
    assert mallory not in known and planted[0]["wireguard"]["peer"]["allowed_ips"] == ["10.77.0.0/16"]

    # The baseline: one file, agreeing with the running hub; then the story in order.
    assert sequence[:2] == ["config-file-discovered", "interface-discovered"]
    wanted = ["config-file-changed", "config-peer-added", "config-drift-started", "config-drift-persists",
              "interface-down", "interface-up", "peer-added", "config-drift-ended"]  # fmt: skip
    positions = [sequence.index(a) for a in wanted]
    assert positions == sorted(positions), sequence
    by = {a: [d for d in config if d["event"]["action"] == a] for a in set(sequence)}
    assert [d["wireguard"]["peer"]["public_key"] for d in by["peer-added"]] == [mallory]
    assert {d["wireguard"]["config"]["drift"]["kind"] for d in by["config-drift-started"]} == {"pending"}
    assert by["config-drift-ended"][0]["wireguard"]["peer"]["public_key"] == mallory
    assert by["config-drift-ended"][0]["@timestamp"] >= by["peer-added"][0]["@timestamp"]
    # The hook and the world-readable mode, with the file's real hash and owner.
    hook = by["config-hook-changed"][0]["wireguard"]["config"]["hook"]
    assert hook == {"type": "PostUp", "change": "added", "commands": ["echo %i >/dev/null"]}
    exposed = by["config-file-exposed"][0]
    assert exposed["file"]["mode"] == "0644" and exposed["file"]["owner"] == "root"
    assert exposed["wireguard"]["config"]["exposure"] == ["keys-readable-by-others"]
    import hashlib

    assert by["config-file-changed"][-1]["file"]["hash"]["sha256"] == hashlib.sha256(conf.read_bytes()).hexdigest()
    # The interface key the file derives is the one wg shows.
    assert by["config-file-discovered"][0]["wireguard"]["interface"]["public_key"] == wg_lab.hub_public_key

    # No private or preshared key anywhere the shipper wrote: documents, state, log.
    assert len(secrets) >= 3
    written = [shipper.output, shipper.state_file, shipper.log, *Path(shipper.workdir, "state").iterdir()]
    for path in written:
        if path.is_file():
            text = path.read_text(errors="replace")
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{path}: holds a secret key"


@pytest.mark.lab
def test_save_config_writes_running_peers_back_without_drift_or_a_planted_peer(wg_lab, tmp_path: Path):
    """With `SaveConfig = true` a peer added with `wg set` is not drift (wg-quick down saves
    it), and the file that down writes has it as a peer the interface ran, not a planted one."""
    alice = wg_lab.add_client("laptop-alice", "nl-amsterdam", keepalive=25)
    conf = wg_lab.hub_to_wg_quick(stories.wg_config_dir(wg_lab), {alice.public_key: "laptop-alice"}, save_config=True)
    wg_lab.connect(alice, timeout=40)
    shipper = LiveShipper(tmp_path / "ship", [
        "--interface", wg_lab.hub_interface, "--host-name", "vpn1", "--kernel-log", "off",
        "--wg-config-dir", str(stories.wg_config_dir(wg_lab)), "--wg-config-drift-after", "1",
    ])  # fmt: skip
    shipper.start()
    try:
        shipper.wait_for_poll(time.time())
        added = wg_lab.add_silent_peer("phone-bob", allowed_ips=["10.77.0.60/32"])  # wg set, at run time
        shipper.wait_for_poll(time.time() + 2)  # and a poll more: drift would have persisted by now
        wg_lab.wg_quick("down", conf)  # writes the running configuration to the file
        shipper.wait_for_poll(time.time())
        wg_lab.wg_quick("up", conf)
        shipper.wait_for_poll(time.time() + 1)
    finally:
        status = shipper.stop()
    assert status == 0, shipper.log.read_text()[-3000:]
    docs = shipper.documents()
    actions = [d["event"]["action"] for d in docs]
    assert not [a for a in actions if a.startswith("config-drift")], actions
    assert f"PublicKey = {added.public_key}" in conf.read_text()
    saved = [d for d in docs if d["event"]["action"] == "config-peer-added"]
    assert [d["wireguard"]["peer"]["public_key"] for d in saved] == [added.public_key]
    assert saved[0]["wireguard"]["config"]["peer"]["running"] is True
    assert actions.index("peer-added") < actions.index("config-peer-added")
    assert actions.count("peer-added") == 1  # the restart re-adds nobody
