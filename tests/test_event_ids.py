"""`event.id` must never move: documents are written with it as `_id`, so a re-run or a
retried delivery replaces what was shipped before instead of doubling it.

A status event's id hashes its details. They were dicts with string keys before they
were classes (wgsiem/status/events.py); every class must encode exactly as the dict the
diff engine built, and every capture under fixtures/ must give the ids of the goldens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from tests.support.dumps import fake_key
from wgsiem.content import FIXTURES
from wgsiem.ecs import document
from wgsiem.ecs import status as status_docs
from wgsiem.ecs.document import Context
from wgsiem.replay.run import shipper_documents
from wgsiem.replay.scenario import load_scenario
from wgsiem.status.events import (
    Detail,
    EndpointChanged,
    InterfaceChanged,
    PeerBack,
    PeerChanged,
    PeerSilent,
    SessionEnded,
    SessionStarted,
    StatusEvent,
    Transfer,
    TransferSpike,
)
from wgsiem.status.spike import Spike
from wgsiem.wgdump.model import Endpoint, InterfaceStatus, PeerStatus

SCENARIOS = sorted(p.parent for p in (FIXTURES / "scenarios").glob("*/scenario.yaml"))
LAB_STORY = FIXTURES / "captures" / "lab-story"

T0 = 1_790_000_000
HOST = "vpn1"
WG0 = InterfaceStatus("wg0", fake_key("wg0"), 51820, None)
OLD, NEW = Endpoint("198.51.100.10", 34195), Endpoint("2001:db8::7", 40404)
ALICE = PeerStatus("wg0", fake_key("alice"), None, NEW, ("10.0.0.2/32",), T0 + 50, 1100, 600, 25)
SPIKE = Spike("tx", 50_000_000, 1_666_666.7, 1333.3)

# (action, the typed detail, the dict the diff engine built for it before the classes).
DETAILS: list[tuple[str, Detail, dict[str, Any]]] = [
    (
        "interface-changed",
        InterfaceChanged({"listen_port": (51820, 51821), "fwmark": (None, 0xCA6C), "public_key": (fake_key("a"), None)}),
        {"changes": {"listen_port": (51820, 51821), "fwmark": (None, 0xCA6C), "public_key": (fake_key("a"), None)}},
    ),
    (
        "peer-changed",
        PeerChanged({"allowed_ips": (("10.0.0.2/32",), ("10.0.0.2/32", "0.0.0.0/0")), "persistent_keepalive": (None, 25), "preshared_key": "rotated"}),
        {"changes": {"allowed_ips": (("10.0.0.2/32",), ("10.0.0.2/32", "0.0.0.0/0")), "persistent_keepalive": (None, 25), "preshared_key": "rotated"}},
    ),
    ("endpoint-changed", EndpointChanged(OLD, T0 - 5), {"previous": OLD, "previous_seen": T0 - 5}),
    ("endpoint-changed", EndpointChanged(None, None), {"previous": None, "previous_seen": None}),
    ("session-started", SessionStarted(T0 - 40 * 86400), {"previous_handshake": T0 - 40 * 86400}),
    ("session-started", SessionStarted(None), {"previous_handshake": None}),
    (
        "session-ended",
        SessionEnded(T0 + 10, T0 + 310, 1100, 600, "expired"),
        {"start": T0 + 10, "end": T0 + 310, "rx_bytes": 1100, "tx_bytes": 600, "reason": "expired"},
    ),
    (
        "transfer",
        Transfer(T0, T0 + 30, 300, 100, True),
        {"start": T0, "end": T0 + 30, "rx_bytes": 300, "tx_bytes": 100, "counter_reset": True},
    ),
    (
        "transfer-spike",
        TransferSpike(T0, T0 + 30, 300, 50_000_000, False, SPIKE),
        {"start": T0, "end": T0 + 30, "rx_bytes": 300, "tx_bytes": 50_000_000, "counter_reset": False, "spike": SPIKE},
    ),
    # Born as classes: pinned to the dict they encode as, so they cannot move either.
    ("peer-silent", PeerSilent(T0 - 700, T0 - 700, 600), {"previous_handshake": T0 - 700, "since": T0 - 700, "silent_after": 600}),
    ("peer-silent", PeerSilent(None, T0 - 900, 900), {"previous_handshake": None, "since": T0 - 900, "silent_after": 900}),
    ("peer-back", PeerBack(T0 - 700, T0 - 700), {"previous_handshake": T0 - 700, "since": T0 - 700}),
]


def old_id(action: str, time: int, peer: PeerStatus | None, detail: dict[str, Any]) -> str:
    """The id as ecs/status.py computed it from a detail dict."""
    return document.event_id(HOST, "wireguard.status", action, time, WG0.name, peer.public_key if peer else None, detail)


def canonical(value: Any) -> Any:
    return json.loads(document._canonical(value))


def test_every_detail_class_is_pinned():
    assert {type(detail) for _, detail, _ in DETAILS} == set(get_args(Detail))


@pytest.mark.parametrize(("action", "detail", "old"), DETAILS, ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(DETAILS)])
def test_a_detail_encodes_as_the_dict_it_replaced(action, detail, old):
    assert canonical(detail) == canonical(old)  # readable when it fails
    assert document._canonical(detail) == document._canonical(old)  # byte for byte
    event = StatusEvent(action, T0 + 60, WG0, ALICE, detail)
    assert status_docs.build(event, Context(host_name=HOST))["event"]["id"] == old_id(action, T0 + 60, ALICE, old)


@pytest.mark.parametrize("action", ["interface-up", "peer-added", "handshake"])
def test_an_event_without_details_is_identified_as_with_an_empty_dict(action):
    peer = None if action == "interface-up" else ALICE
    event = StatusEvent(action, T0, WG0, peer)
    assert event.detail is None
    assert status_docs.build(event, Context(host_name=HOST))["event"]["id"] == old_id(action, T0, peer, {})


def status_ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["event"]["id"] for d in docs if d["event"]["dataset"] == "wireguard.status"]


def golden_ids(folder: Path) -> list[str]:
    return status_ids([json.loads(line) for line in (folder / "events.ndjson").read_text().splitlines()])


@pytest.mark.parametrize("folder", SCENARIOS, ids=lambda p: p.name)
def test_a_scenario_capture_gives_the_golden_event_ids(folder):
    """Through replay's own path (ids do not depend on GeoIP, so none is loaded)."""
    problems: list[str] = []
    docs = shipper_documents(load_scenario(folder), None, problems)
    assert problems == []
    ids = status_ids(docs)
    assert ids and ids == golden_ids(folder)


def test_the_recorded_lab_story_converts_to_the_golden_event_ids():
    """fixtures/captures/lab-story is the capture of the lab-story scenario: `wgsiem
    convert` with the scenario's settings must give its golden ids."""
    scenario = load_scenario(FIXTURES / "scenarios" / "lab-story")
    dumps = sorted(LAB_STORY.glob("*.dump"))
    assert [p.read_bytes() for p in dumps] == [(scenario.captures / p.name).read_bytes() for p in dumps]
    assert len(dumps) == len(list(scenario.captures.glob("*.dump")))
    settings = scenario.config.diff_settings()
    spike = settings.spike
    proc = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(LAB_STORY), "--host-name", scenario.host_name,
         "--session-timeout", str(settings.session_timeout), "--spike-factor", str(spike.factor),
         "--spike-min-bytes", str(spike.min_bytes), "--spike-min-history", str(spike.min_history),
         "--spike-window-days", str(spike.window_days)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=True,
    )  # fmt: skip
    ids = status_ids([json.loads(line) for line in proc.stdout.splitlines()])
    assert ids and ids == golden_ids(scenario.path)
