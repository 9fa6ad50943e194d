"""`wgsiem ship` against live wireguard-go tunnels in network namespaces (root)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.lab_story import SHIP_ARGS, check_story
from wgsiem.lab import story
from wgsiem.lab.runner import LiveRecorder, LiveShipper, write_names

pytestmark = pytest.mark.lab


def test_ship_follows_the_lab_story_through_a_restart(wg_lab, tmp_path: Path, geoip_world):
    names = tmp_path / "peers.yaml"
    names.write_text("{}\n")
    args = ["--interface", wg_lab.hub_interface, "--peers", str(names), "--host-name", "lab-hub",
            "--geoip-city", str(geoip_world.city), "--geoip-asn", str(geoip_world.asn),
            "--wg-config-dir", str(tmp_path / "none"), "--kernel-log", "off", *SHIP_ARGS]  # fmt: skip
    shipper = LiveShipper(tmp_path / "ship", args)
    recorder = LiveRecorder(tmp_path / "capture", tmp_path, ["--interface", wg_lab.hub_interface])
    restarts = []

    def tick(label: str) -> None:
        now = time.time()
        if label.startswith("ordinary traffic, poll 3"):
            # Traffic flowed while the shipper was down: its next poll must still count it.
            shipper.start()
            restarts.append(label)
        shipper.wait_for_poll(now)
        recorder.wait_for_poll(now)
        if label.startswith("ordinary traffic, poll 2"):
            assert shipper.stop() == 0  # SIGTERM between polls

    shipper.start()
    recorder.start()
    try:
        story.play(wg_lab, tick, lambda client: write_names(names, wg_lab.clients))
    finally:
        status = shipper.stop()
        recorder.stop()
    assert status == 0 and restarts
    docs = shipper.documents()
    check_story(docs, geo=True)

    # The tunnel's real keys never left the parser: not in events, state, logs or capture.
    secrets = wg_lab.secrets()
    assert len(secrets) >= 6
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".key" and p.name != "secret"]
    for path in written:
        if path.is_relative_to(tmp_path / "lab"):
            continue  # the lab's own key files
        text = path.read_bytes().decode(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a key leaked into {path}"
    assert any(p.suffix == ".dump" for p in written) and any(p.name == "state.json" for p in written)

    # What was recorded while ship ran converts to the same story.
    out = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(tmp_path / "capture"), "--peers", str(names),
         "--host-name", "lab-hub", *SHIP_ARGS], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    check_story([json.loads(line) for line in out.splitlines()], geo=False)
