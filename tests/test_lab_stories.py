"""The normal-life stories of wgsiem/lab/stories.py, live (root), and the scenarios
recorded from them (fixtures/scenarios/lab-*/): no key material in what is committed."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from wgsiem.lab import stories
from wgsiem.lab.runner import LiveRecorder, write_names
from wgsiem.wgdump.x25519 import public_key_of

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "fixtures" / "scenarios"
KEY = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
WHOLE_KEY = re.compile(rf"^{KEY.pattern}$")


# --------------------------------------------------------------------- helpers


def read_dumps(capture: Path) -> list[tuple[int, list[list[str]]]]:
    """[(poll time, [tab-separated fields of each line])] in time order."""
    polls = []
    for path in sorted(capture.glob("*.dump"), key=lambda p: int(p.stem)):
        lines = [line.split("\t") for line in path.read_text().splitlines() if line]
        polls.append((int(path.stem), lines))
    return polls


def peers_of(lines: list[list[str]]) -> dict[str, dict[str, str]]:
    names = ("public_key", "preshared_key", "endpoint", "allowed_ips", "latest_handshake", "rx", "tx", "keepalive")
    return {f[1]: dict(zip(names, f[1:], strict=False)) for f in lines if len(f) == 9}


def convert(capture: Path, names: Path, geoip_world) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "wgsiem", "convert", str(capture), "--peers", str(names), "--host-name", "vpn1",
         "--geoip-city", str(geoip_world.city), "--geoip-asn", str(geoip_world.asn)],
        capture_output=True, text=True, cwd=REPO, check=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines()]


def alerts_of(docs: list[dict], tmp_path: Path, baseline: int) -> list[dict]:
    """Every rule over the events, its first execution 6 minutes (the new-terms rules'
    look-back) and a half after the baseline poll, so that the baseline is history and
    everything after it is inside that execution's range."""
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(d) + "\n" for d in docs))
    assert max(d["@timestamp"] for d in docs) < _iso(baseline + 360), "the story outlasted one look-back"
    out = subprocess.run(
        [sys.executable, "-m", "wgsiem", "rules", "run", str(events), "--start", _iso(baseline + 360.5)],
        capture_output=True, text=True, cwd=REPO, check=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines()]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def describe(alerts: list[dict]) -> list[str]:
    return [
        f"{a.get('kibana.alert.rule.name')}: {a.get('event', {}).get('action')} "
        f"{a.get('wireguard', {}).get('peer', {}).get('name')} {a.get('source', {}).get('ip')}"
        for a in alerts
    ]


def play_recorded(lab, tmp_path: Path, play, **kw):
    """Play a story with `wgsiem record` polling the hub once a second from its first
    tick on (so the first poll is the baseline with its peers)."""
    capture = tmp_path / "capture"
    recorder: list[LiveRecorder] = []
    steps: list[tuple[int, str]] = []

    def tick(label: str) -> None:
        now = time.time()
        if not recorder:
            recorder.append(LiveRecorder(capture, tmp_path, ["--interface", lab.hub_interface]))
            recorder[0].start()
        recorder[0].wait_for_poll(now)
        steps.append((recorder[0].last_poll(), label))

    try:
        clients = play(lab, tick, history_seconds=2, **kw)
    finally:
        status = recorder[0].stop() if recorder else 0
    assert status == 0
    names = tmp_path / "peers.yaml"
    write_names(names, clients)
    return capture, names, steps, clients


def assert_no_secrets(lab, capture: Path) -> None:
    secrets = lab.secrets()
    assert secrets
    for path in capture.glob("*.dump"):
        text = path.read_text()
        assert not any(secret in text for secret in secrets), f"a key of the lab leaked into {path.name}"


def actions(docs: list[dict], name: str | None = None) -> list[str]:
    return [d["event"]["action"] for d in docs if name is None or d.get("user", {}).get("name") == name]


# ----------------------------------------------------------------- live (root)


@pytest.mark.lab
def test_phone_roaming_story_live(wg_lab, tmp_path: Path, geoip_world):
    capture, names, steps, clients = play_recorded(wg_lab, tmp_path, stories.phone_roaming)
    erin, frank = clients["phone-erin"], clients["desktop-frank"]
    home = ipaddress.ip_network("198.51.100.0/24")

    # The baseline poll has both peers connected, the phone on its home Wi-Fi.
    polls = read_dumps(capture)
    baseline, first = polls[0]
    assert baseline <= steps[0][0]  # the first tick may return on the recorder's second poll
    at_baseline = peers_of(first)
    assert set(at_baseline) == {erin.public_key, frank.public_key}
    assert at_baseline[erin.public_key]["endpoint"].startswith(stories.PHONE_HOME_WIFI + ":")
    assert int(at_baseline[erin.public_key]["latest_handshake"]) > 0
    assert at_baseline[frank.public_key]["endpoint"].startswith("203.0.113.")

    # The hub saw the phone's endpoint walk through the story's addresses, all in one /24.
    seen = []
    for _, lines in polls:
        ip = peers_of(lines)[erin.public_key]["endpoint"].rpartition(":")[0]
        if not seen or seen[-1] != ip:
            seen.append(ip)
    assert seen == [stories.PHONE_HOME_WIFI, *(address for address, _ in stories.PHONE_ROAMS)]
    assert all(ipaddress.ip_address(ip) in home for ip in seen)
    assert {peers_of(lines)[frank.public_key]["endpoint"] for _, lines in polls} == {
        at_baseline[frank.public_key]["endpoint"]
    }

    docs = convert(capture, names, geoip_world)
    count = Counter(actions(docs))
    assert count["interface-discovered"] == 1 and count["peer-discovered"] == 2
    assert not {"peer-added", "peer-removed", "peer-changed", "interface-changed", "interface-down"} & set(count)
    discovered = {d["user"]["name"]: d for d in docs if d["event"]["action"] == "peer-discovered"}
    assert discovered["phone-erin"]["source"]["geo"]["country_iso_code"] == "NL"
    assert discovered["phone-erin"]["source"]["as"]["number"] == 64497

    roams = [d for d in docs if d["event"]["action"] == "endpoint-changed"]
    assert len(roams) == len(stories.PHONE_ROAMS) < 6  # the several-places rule needs 6 in an hour
    for d in roams:
        assert d["user"]["name"] == "phone-erin"
        previous = d["wireguard"]["peer"]["previous_endpoint"]
        assert ipaddress.ip_address(previous["ip"]) in home and ipaddress.ip_address(d["source"]["ip"]) in home
        assert d["source"]["geo"]["country_iso_code"] == previous["geo"]["country_iso_code"] == "NL"
        assert d["source"]["as"]["number"] == previous["as"]["number"] == 64497
        assert d["wireguard"]["peer"]["roam"]["distance_km"] == 0
        assert d["wireguard"]["peer"]["roam"].get("speed_kmh", 0) == 0
    assert [d["source"]["ip"] for d in roams] == [address for address, _ in stories.PHONE_ROAMS]
    assert {"phone-erin", "desktop-frank"} <= {d["user"]["name"] for d in docs if d["event"]["action"] == "transfer"}

    assert_no_secrets(wg_lab, capture)
    alerts = alerts_of(docs, tmp_path, baseline)
    assert alerts == [], describe(alerts)


@pytest.mark.lab
def test_interface_restart_story_live(wg_lab, tmp_path: Path, geoip_world):
    hub_public = wg_lab.hub_public_key
    capture, names, steps, clients = play_recorded(wg_lab, tmp_path, stories.interface_restart)
    keys = {c.public_key for c in clients.values()}
    polls = read_dumps(capture)
    assert all(len(f) in (5, 9) for _, lines in polls for f in lines)

    # The hub disappears from the dump, then comes back with the same key and port.
    present = [any(len(f) == 5 for f in lines) for _, lines in polls]
    down = present.index(False)
    up = down + present[down:].index(True)
    assert False not in present[up:], "the hub went down once"
    assert up - down >= 2
    for _, lines in polls:
        for f in lines:
            if len(f) == 5:
                assert f[1:] == ["(redacted)", hub_public, "51820", "off"]
    before, after = peers_of(polls[down - 1][1]), peers_of(polls[up][1])
    assert set(before) == set(after) == keys

    # Right after the restart: same peers, preshared keys and allowed IPs; no endpoint,
    # no handshake, counters at zero. Before it the counters were well above zero.
    for key in keys:
        b, a = before[key], after[key]
        assert (a["preshared_key"], a["allowed_ips"], a["keepalive"]) == (b["preshared_key"], b["allowed_ips"], b["keepalive"])
        assert (a["endpoint"], a["latest_handshake"], a["rx"], a["tx"]) == ("(none)", "0", "0", "0")
        assert int(b["rx"]) > 100_000 and int(b["tx"]) > 100_000 and int(b["latest_handshake"]) > 0
    site = before[clients["site-carol"].public_key]
    assert site["preshared_key"] != "(none)" and site["allowed_ips"] == "10.77.0.13/32,192.168.60.0/24"

    # Then each client handshakes again from where it was, its counters growing from zero.
    last = peers_of(polls[-1][1])
    restarted_at = polls[up][0]
    for key in keys:
        assert last[key]["endpoint"] == before[key]["endpoint"]
        assert int(last[key]["latest_handshake"]) >= restarted_at - 1
        counters = [(int(peers_of(lines)[key]["rx"]), int(peers_of(lines)[key]["tx"])) for _, lines in polls[up:]]
        assert counters == sorted(counters) and min(counters[-1]) > 100_000
    assert_no_secrets(wg_lab, capture)

    docs = convert(capture, names, geoip_world)
    count = Counter(actions(docs))
    assert count["interface-down"] == 1 and count["interface-up"] == 1
    assert not {"peer-added", "peer-removed", "peer-changed", "interface-changed"} & set(count)
    ended = [d for d in docs if d["event"]["action"] == "session-ended"]
    assert sorted(d["user"]["name"] for d in ended) == sorted(clients)
    assert {d["wireguard"]["session"]["end_reason"] for d in ended} == {"interface-down"}
    up_at = next(d["@timestamp"] for d in docs if d["event"]["action"] == "interface-up")
    for name in clients:
        again = [a for d in docs if d["@timestamp"] >= up_at and d.get("user", {}).get("name") == name
                 for a in [d["event"]["action"]]]  # fmt: skip
        assert {"endpoint-changed", "handshake", "session-started", "transfer"} <= set(again), (name, again)
    for d in docs:
        if d["event"]["action"] == "transfer":
            assert d["source"]["bytes"] < 1_000_000 and d["destination"]["bytes"] < 1_000_000

    alerts = alerts_of(docs, tmp_path, polls[0][0])
    assert alerts == [], describe(alerts)


# ------------------------------------------------- committed captures: no secrets


def require(condition, message: str) -> None:
    """Fail with `message` only: pytest's assertion rewriting would print the values
    compared, and here they could be key material."""
    if not condition:
        pytest.fail(message, pytrace=False)


LAB_SCENARIOS = sorted(p for p in SCENARIOS.glob("lab-*") if (p / "captures").is_dir())


def test_there_are_recorded_scenarios_to_check():
    assert len(LAB_SCENARIOS) >= 2


@pytest.mark.parametrize("scenario", [p.name for p in LAB_SCENARIOS])
def test_recorded_scenario_holds_no_key_material(scenario):
    folder = SCENARIOS / scenario
    polls = read_dumps(folder / "captures")
    assert polls
    public, psks = set(), {}
    for time_, lines in polls:
        where = f"{scenario}/captures/{time_}.dump"
        for f in lines:
            if len(f) == 5:  # interface: name, private key, public key, port, fwmark
                require(f[1] == "(redacted)", f"{where}: the private key column is not (redacted)")
                require(WHOLE_KEY.match(f[2]), f"{where}: the interface's public key column is no key")
                public.add(f[2])
            else:  # peer: interface, public key, preshared key, endpoint, allowed ips, ...
                require(len(f) == 9, f"{where}: a line that is neither an interface nor a peer")
                require(WHOLE_KEY.match(f[1]), f"{where}: a peer's public key column is no key")
                public.add(f[1])
                if f[2] != "(none)":
                    require(WHOLE_KEY.match(f[2]), f"{where}: a preshared key column is neither (none) nor key-shaped")
                    psks.setdefault(f[1], set()).add(f[2])
            require(not KEY.search("\t".join(f[3:])), f"{where}: a key-shaped string outside the key columns")
    # A preshared key is a stand-in: one per peer for the whole story (it is never
    # rotated), and never one of the keys the dump shows in the clear.
    for peer, values in psks.items():
        require(len(values) == 1, f"{scenario}: the preshared key of {peer} changed")
        require(not values & public, f"{scenario}: the preshared key of {peer} is a public key")

    # Every key-shaped string of every committed file is a public key of the dumps, or a
    # stand-in; and none of them is a private key of those public keys.
    stand_ins = set().union(*psks.values()) if psks else set()
    others, unknown = set(), []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".dump", ".yaml", ".md", ".log", ".ndjson", ".json"):
            found = set(KEY.findall(path.read_text(errors="replace")))
            others |= found
            if found - public - stand_ins:
                unknown.append(str(path.relative_to(folder)))
    require(not unknown, f"{scenario}: key-shaped strings that are no public key of the dumps in {unknown}")
    derived = {public_key_of(token) for token in others}
    require(not derived & public, f"{scenario}: a private key of the lab is in the committed files")

    # The wg-quick files' snapshots (wg-config/): private keys (redacted), as `record` writes them.
    for path in sorted((folder / "captures" / "wg-config").glob("*.json")):
        for file in json.loads(path.read_text())["files"]:
            keys = re.findall(r"(?im)^\s*PrivateKey\s*=\s*(.*)$", file["text"])
            require(all(k.strip() == "(redacted)" for k in keys), f"{scenario}: {path.name}: a PrivateKey that is not (redacted)")

    declared = yaml.safe_load((folder / "scenario.yaml").read_text()).get("peers") or {}
    assert set(declared) <= public
