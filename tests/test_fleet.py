"""The synthetic fleet (wgsiem/replay/fleet.py): deterministic, realistic in the ways it
promises, every planted attack found, and ordinary life quiet.

A small fleet (40 peers, 10 days, polls every 5 minutes) runs through the shipper, the
ingest pipeline and every rule of detection_rules/ in a few seconds per run.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from pathlib import Path

import pytest

from wgsiem.enrich.registry import Registry
from wgsiem.replay import fleet
from wgsiem.replay.fleet import (
    ASN,
    COUNTRY,
    DAY,
    FleetRun,
    Planted,
    alert_key,
    alert_source,
    fleet_story,
    life_changes,
    match_plants,
    run_fleet,
)
from wgsiem.replay.story import derive_key, render
from wgsiem.rules.model import load_rules

PEERS, DAYS, SEED, WARMUP = 40, 10, 1, 2  # seed 1: its onboarding falls after the warm-up


def _secs(at: str) -> int:
    return int(at[:-1])


@pytest.fixture(scope="module")
def geo_dir(geoip_world) -> Path:  # noqa: ANN001 - the conftest fixture
    return geoip_world.city.parent


@pytest.fixture(scope="module")
def attacked(geo_dir: Path) -> tuple[dict, list[Planted], FleetRun]:
    story, planted = fleet_story(PEERS, DAYS, SEED, True, warmup_days=WARMUP)
    return story, planted, run_fleet(story, geo_dir, warmup_days=WARMUP)


@pytest.fixture(scope="module")
def quiet(geo_dir: Path) -> tuple[dict, FleetRun]:
    story, planted = fleet_story(PEERS, DAYS, SEED, False, warmup_days=WARMUP)
    assert planted == []
    return story, run_fleet(story, geo_dir, warmup_days=WARMUP)


def _summary(alerts: list[dict]) -> Counter:
    return Counter((a["kibana.alert.rule.name"], alert_key(a) or alert_source(a)) for a in alerts)


# -- the story ---------------------------------------------------------------------------


def test_same_seed_same_story_and_captures() -> None:
    a = fleet_story(PEERS, DAYS, SEED, True)
    b = fleet_story(PEERS, DAYS, SEED, True)
    assert a == b
    assert fleet_story(PEERS, DAYS, SEED + 1, True)[0] != a[0]
    ra, rb = render(a[0], "fleet"), render(b[0], "fleet")
    assert ra.polls == rb.polls
    assert ra.log_lines == rb.log_lines
    assert ra.names == rb.names


def test_attacks_only_add_to_ordinary_life() -> None:
    """The same seed gives the same ordinary life with or without attacks: the attacks
    add peers and timeline entries, they change none."""
    calm, _ = fleet_story(PEERS, DAYS, SEED, False)
    story, _ = fleet_story(PEERS, DAYS, SEED, True)
    assert all(story["peers"][name] == spec for name, spec in calm["peers"].items())
    entries = Counter(repr(e) for e in story["timeline"])
    entries.subtract(repr(e) for e in calm["timeline"])
    assert min(entries.values()) >= 0 and sum(entries.values()) > 0


def test_ordinary_life_has_what_the_fleet_promises() -> None:
    story, _ = fleet_story(PEERS, DAYS, SEED, False)
    peers, timeline = story["peers"], story["timeline"]
    baseline = [n for n, p in peers.items() if "added" not in p]
    added = [n for n, p in peers.items() if "added" in p]
    # onboarded peers come with a name, after the start
    assert added and all(peers[n].get("name") and _secs(peers[n]["added"]) > 0 for n in added)
    # a few unnamed peers, all of them at the baseline
    unnamed = [n for n, p in peers.items() if not p.get("name")]
    assert 1 <= len(unnamed) <= max(2, PEERS // 20)
    assert set(unnamed) <= set(baseline)
    # key rotations of named peers, week-long holidays, interface restarts at 04:00
    rotated = [e["peer"] for e in timeline if e.get("rotate_key")]
    assert rotated and all(peers[n].get("name") for n in rotated)
    assert any(_secs(e["silent"]) >= 7 * DAY for e in timeline if "silent" in e and e["peer"] != "contractor")
    restarts = [_secs(e["at"]) for e in timeline if e.get("interface") == "restart"]
    assert restarts and all(t % DAY == 4 * 3600 for t in restarts)
    # daily rhythms: office, evening (past midnight) and always-on peers
    hours = [p.get("hours") for p in peers.values()]
    assert None in hours and any(h and h[:2] < "10" for h in hours)
    assert any(h and h[:2] > h[6:8] for h in hours)
    # phones roam a few times a day, always within one network (one country, one ASN)
    roams: dict[str, set[str]] = {}
    for e in timeline:
        if "endpoint" in e:
            roams.setdefault(e["peer"], set()).add(e["endpoint"])
    assert roams
    for name, spots in roams.items():
        nets = {_network(s) for s in spots | {peers[name]["endpoint"]}}
        assert len(nets) == 1, (name, spots)
        per_day = sum(1 for e in timeline if e.get("peer") == name and "endpoint" in e) / DAYS
        assert per_day <= 4
    # nightly backups: every site uploads at the same hour every night, same rate
    sites = [n for n, p in peers.items() if any(ip.startswith("172.16.") for ip in p["allowed_ips"])]
    assert sites
    for name in sites:
        ups = [(_secs(e["at"]) % DAY, e["rx"]) for e in timeline if e.get("peer") == name and e.get("rx", "").endswith("MiB/s")]
        assert len(ups) == DAYS and len(set(ups)) == 1


def _network(spot: str) -> str:
    host = spot.rsplit(":", 1)[0].strip("[]")
    address = ipaddress.ip_address(host)
    prefix = 32 if address.version == 6 else 24
    return str(ipaddress.ip_network(f"{host}/{prefix}", strict=False))


def test_the_forgotten_contractor_handshook_45_days_before_the_start() -> None:
    story, _ = fleet_story(PEERS, DAYS, SEED, False)
    rendered = render(story, "fleet")
    key = derive_key(SEED, "peer:contractor:0")
    t0, text = rendered.polls[0]
    line = next(line for line in text.splitlines() if f"\t{key}\t" in line).split("\t")
    assert t0 - int(line[5]) > 45 * DAY
    assert line[3] == story["peers"]["contractor"]["endpoint"]


def test_plants_name_rules_that_exist() -> None:
    _, planted = fleet_story(PEERS, DAYS, SEED, True)
    names = {r.name for r in load_rules()}
    assert {p.kind for p in planted} == {"dormant", "stolen-key", "exfiltration", "rogue-peer", "scanner", "spoofing", "impossible-travel"}
    for p in planted:
        assert set(p.rules) <= names, p
        assert p.time >= int(story_start(WARMUP))


def story_start(days: int) -> float:
    from wgsiem.replay.fleet import START

    return START.timestamp() + days * DAY


# -- the run -----------------------------------------------------------------------------


def test_every_planted_attack_is_found_by_all_its_rules(attacked) -> None:  # noqa: ANN001
    story, planted, run = attacked
    assert not run.problems
    by_plant, _ = match_plants(planted, run.alerts)
    for i, p in enumerate(planted):
        fired = {a["kibana.alert.rule.name"] for a in by_plant[i]}
        assert fired == set(p.rules), (p.kind, sorted(fired))


def test_ordinary_life_raises_no_alert(quiet) -> None:  # noqa: ANN001
    """Not even the peers onboarded after the warm-up: the registry expects each in its
    home network and country, so its first connection there is no new country or network
    (before the registry, these were the only alerts of ordinary life)."""
    story, run = quiet
    assert not run.problems
    assert run.events > 50_000
    changes = life_changes(story)
    assert [k for k, why in changes.items() if why == "onboarding"], "the fleet onboards no peer: the test says nothing"
    assert [f"{a['kibana.alert.rule.name']}: {a.get('message')}" for a in run.alerts] == []


def test_without_the_registry_the_onboardings_alert(quiet, geo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry is what keeps the onboarded peer quiet: without it, its first connection
    is a new country and a new network for its name (the false positive it removes)."""
    story, _ = quiet
    monkeypatch.setattr(fleet, "fleet_registry", lambda story, names: Registry())
    run = run_fleet(story, geo_dir, warmup_days=WARMUP)
    onboarded = {k for k, why in life_changes(story).items() if why == "onboarding"}
    assert sorted(a["kibana.alert.rule.name"] for a in run.alerts) == sorted([COUNTRY, ASN] * len(onboarded))
    assert {alert_key(a) for a in run.alerts} == onboarded


def test_attacks_leave_ordinary_life_alerts_as_they_were(attacked, quiet) -> None:  # noqa: ANN001
    _, planted, run = attacked
    _, calm = quiet
    _, rest = match_plants(planted, run.alerts)
    assert _summary(rest) == _summary(calm.alerts)


def test_reduced_events_give_the_alerts_of_whole_events(attacked, geo_dir: Path) -> None:  # noqa: ANN001
    """run_fleet keeps only events some rule's query matches, reduced to the fields the
    rules read: the rules must decide exactly as on the whole events."""
    story, _, run = attacked
    whole = run_fleet(story, geo_dir, warmup_days=WARMUP, keep_all=True)
    assert whole.kept == whole.events > run.kept
    key = lambda a: (a["kibana.alert.rule.name"], a["kibana.alert.original_time"], alert_key(a), alert_source(a))  # noqa: E731
    assert sorted(map(key, run.alerts)) == sorted(map(key, whole.alerts))
    assert len(run.alerts) >= 7
