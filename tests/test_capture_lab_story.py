"""`wgsiem convert` on the capture recorded from real wireguard-go tunnels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.lab_story import SHIP_ARGS, check_story

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO / "fixtures" / "captures" / "lab-story"


def convert(*args: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(CAPTURE), "--peers", str(CAPTURE / "peers.yaml"),
         "--host-name", "lab-hub", *SHIP_ARGS, *args],
        capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    assert "0 malformed lines skipped" in proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_recorded_story_converts_to_the_right_events(geoip_world):
    docs = convert("--geoip-city", str(geoip_world.city), "--geoip-asn", str(geoip_world.asn))
    check_story(docs, geo=True)
    times = [d["@timestamp"] for d in docs]
    assert times == sorted(times), "convert writes events in time order"


def test_recorded_story_without_geoip():
    check_story(convert(), geo=False)


def test_capture_holds_no_key_material():
    for path in CAPTURE.glob("*.dump"):
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) == 5:
                assert fields[1] == "(redacted)"
