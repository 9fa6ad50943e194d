"""The synthetic fleet (wgsiem/replay/fleet.py): deterministic, realistic in the ways it
promises, every planted attack found, and ordinary life quiet.

A small fleet (40 peers, 10 days, polls every 5 minutes) runs through the shipper, the
ingest pipeline and every rule of detection_rules/ in a few seconds per run.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from wgsiem.conntrack import ConntrackParser, ConntrackRecord
from wgsiem.content import FIXTURES
from wgsiem.detection.testing import lookup
from wgsiem.enrich.registry import Registry
from wgsiem.replay import fleet
from wgsiem.replay.fleet import (
    ASN,
    BACK,
    COUNTRY,
    DAY,
    DOWN,
    EXFIL,
    LARGE,
    LARGE_PULL,
    NEW_HOST,
    START,
    FleetRun,
    Planted,
    alert_key,
    alert_source,
    fleet_registry,
    fleet_story,
    life_changes,
    match_plants,
    run_fleet,
)
from wgsiem.replay.fleet_flows import ATTACK_IDS, InnerFlows, load_inner_network
from wgsiem.replay.story import derive_key, render
from wgsiem.rules.exceptions import Tuning
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


@pytest.fixture(scope="module")
def whole(attacked, geo_dir: Path) -> FleetRun:  # noqa: ANN001
    """The attacked fleet with every event kept, whole."""
    story, _, _ = attacked
    return run_fleet(story, geo_dir, warmup_days=WARMUP, keep_all=True)


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
    assert list(InnerFlows(a[0]).lines()) == list(InnerFlows(b[0]).lines())


def test_attacks_only_add_to_ordinary_life() -> None:
    """The same seed gives the same ordinary life with or without attacks: the attacks
    add peers and timeline entries, they change none."""
    calm, _ = fleet_story(PEERS, DAYS, SEED, False)
    story, planted = fleet_story(PEERS, DAYS, SEED, True)
    assert all(story["peers"][name] == spec for name, spec in calm["peers"].items())
    entries = Counter(repr(e) for e in story["timeline"])
    entries.subtract(repr(e) for e in calm["timeline"])
    assert min(entries.values()) >= 0 and sum(entries.values()) > 0
    # the inner flows too: the attacks' connections have ids of their own, and ordinary
    # life's lines are the same but where a planted outage silenced a site
    assert calm["flows"] == [] and story["flows"]
    outage = next(p for p in planted if p.kind == "site-outage")
    lan = next(ip for ip in story["peers"][outage.peer]["allowed_ips"] if not ip.endswith("/32")).rsplit(".", 1)[0] + "."
    ordinary = [line for line in InnerFlows(story).lines() if int(line.rsplit("id=", 1)[1]) < ATTACK_IDS]
    attacks = sum(1 for line in InnerFlows(story).lines() if int(line.rsplit("id=", 1)[1]) >= ATTACK_IDS)
    assert attacks > 400  # the sweep and the scan: a few lines for each of hundreds of probes
    untouched = lambda lines: [line for line in lines if f"={lan}" not in line]  # noqa: E731
    assert untouched(ordinary) == untouched(InnerFlows(calm).lines())
    assert len(untouched(ordinary)) < len(ordinary)


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
    # replication: some sites pull a copy every night, same hour, at least 1 GiB in 5
    # minutes (4 MiB/s with the -10 % jitter), over before the 04:00 restarts
    pulls = {n: [e for e in timeline if e.get("peer") == n and "tx" in e] for n in sites}
    pulling = [n for n, entries in pulls.items() if entries]
    assert pulling and len(pulling) < len(sites)
    for name in pulling:
        fast = [e for e in pulls[name] if e["tx"].endswith("MiB/s")]
        assert len(fast) == DAYS and len({(_secs(e["at"]) % DAY, e["tx"]) for e in fast}) == 1
        assert float(fast[0]["tx"][:-5]) * 0.9 * 300 >= 1024
        assert all(_secs(e["at"]) % DAY < 4 * 3600 for e in pulls[name])
    # sites' blips: short silences in the day, each site at least once
    blips = [e for e in timeline if e.get("peer") in sites and "silent" in e]
    assert {e["peer"] for e in blips} == set(sites)
    assert all(8 * 60 <= _secs(e["silent"]) <= 18 * 60 and 8 * 3600 <= _secs(e["at"]) % DAY < 20 * 3600 for e in blips)
    # the shipper's outage: no poll for 65 minutes from 06:00 on one day, every 5 minutes else
    times = [t for t, _ in render(story, "fleet").polls]
    gaps = Counter(b - a for a, b in pairwise(times))
    assert gaps == Counter({300: len(times) - 2, 3900: 1})
    down = next(a for a, b in pairwise(times) if b - a == 3900)
    assert (down - START.timestamp()) % DAY == 6 * 3600


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


# -- the inner flows ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def calm_records() -> tuple[dict, list[ConntrackRecord]]:
    story, _ = fleet_story(PEERS, DAYS, SEED, False)
    flows = InnerFlows(story)
    records = list(flows.records())
    assert not flows.problems
    return story, records


def _real_tcp_states() -> list[tuple[str | None, str | None]]:
    """The events and states of the first tcp connection of the kernel's recording."""
    text = (FIXTURES / "conntrack" / "acct-on.log").read_text().splitlines()
    records = [r for r in ConntrackParser("acct-on.log").feed(text) if isinstance(r, ConntrackRecord)]
    first = records[0].id
    return [(r.event, r.state) for r in records if r.id == first]


def test_inner_flows_are_what_conntrack_prints(calm_records) -> None:  # noqa: ANN001
    """The lines are conntrack's (the parser reads every one, nothing is a problem), in time
    order; a tcp connection goes through the states the kernel's recording shows, and its
    DESTROY carries each way's counters and delta-time; nothing is written while the shipper
    is stopped; every kind of peer has its flows."""
    story, records = calm_records
    assert len(records) > 20_000
    # streamed: the first line comes with the first day's connections drawn, not the month's
    flows = InnerFlows(story)
    next(flows.lines())
    drawn = sum(n for what, n in flows.counts.items() if what.split()[0] in ("tcp", "udp", "icmp"))
    assert 0 < drawn < sum(1 for r in records if r.event == "NEW") / 3  # a day of ten
    times = [r.time or 0.0 for r in records]
    assert times == sorted(times)
    by_id: dict[int, list[ConntrackRecord]] = {}
    for r in records:
        by_id.setdefault(r.id or 0, []).append(r)
    real = _real_tcp_states()
    assert [s for _, s in real][:2] == ["SYN_SENT", "SYN_RECV"]
    answered = [rs for rs in by_id.values() if rs[0].protocol == "tcp" and rs[0].event == "NEW" and len(rs) == len(real)]
    assert len(answered) > 1000
    for rs in answered:
        assert [(r.event, r.state) for r in rs] == real
        end = rs[-1]
        assert end.accounting and end.delta_time == int((end.time or 0) - (rs[0].time or 0)) and end.assured
    ended = [rs[-1] for rs in by_id.values() if rs[-1].event == "DESTROY"]
    assert all(r.accounting and r.delta_time is not None for r in ended)
    assert {r.protocol for r in records} == {"tcp", "udp", "icmp"}
    # the shipper's outage: nobody listened
    t0 = START.timestamp()
    down, up = (t0 + _secs(seg["until"]) for seg in story["polls"][:2])
    assert not [r for r in records if down < (r.time or 0) < up]
    assert any(down - 3600 < (r.time or 0) <= down for r in records) and any(up <= (r.time or 0) < up + 3600 for r in records)
    # every kind of peer: its inner address (a site's LAN) opens connections
    sources = {ipaddress.ip_address(r.original.src) for r in records if r.event == "NEW"}
    for kind in ("laptop", "phone", "evening", "server", "site"):
        nets = [ipaddress.ip_network(ip) for p in story["peers"].values() if str(p.get("name", "")).startswith(f"{kind}-") for ip in p["allowed_ips"]]
        assert any(s in net for s in sources for net in nets), kind


def test_the_inner_network_file_is_checked(tmp_path: Path) -> None:
    """A wrong value in fixtures/fleet/inner-network.yaml names the file and its key."""
    from wgsiem.replay.story import StoryError

    good = (FIXTURES / "fleet" / "inner-network.yaml").read_text()
    for old, new, key in (
        ("files: [0, 2]}", "filez: [0, 2]}", "uses.laptop.filez: no such service"),
        ("databases: 10.20.2.0/24", "databases: 10.20.2.0/33", "networks.databases"),
        ("rpc_ports: [2, 6]", "rpc_ports: [2, 9]", "habits.windows.rpc_ports"),
        ("sent: [2KiB, 40KiB]", "sent: [40KiB, 2KiB]", "services.intranet.sent: 40KiB is more than 2KiB"),
    ):
        bad = tmp_path / "inner-network.yaml"
        bad.write_text(good.replace(old, new, 1))
        with pytest.raises(StoryError, match=f"^{bad}: {key}"):
            load_inner_network(bad)


def _sliding_max(events: list[tuple[float, str]], window: float = 600) -> int:
    """The most distinct values among events within any `window` seconds."""
    events.sort()
    best = 0
    for i, (t, _) in enumerate(events):
        seen = {v for u, v in events[i:] if u < t + window}
        best = max(best, len(seen))
    return best


def test_ordinary_flows_stay_under_the_flow_rules(calm_records) -> None:  # noqa: ANN001
    """What the flow rules count, on ordinary life's connections (those the peers open: not
    the monitoring host's): at most 19 internal hosts from one inner address within 10
    minutes (an administrator's run over the servers comes near), at most 19 ports of one
    host (a Windows client's RPC ports come near), no connection sending a peer 1 GiB but
    the backup sites' nightly replica pulls, the database network reached by the
    application servers only, every day, and one peer's address reached only by the site
    next door's, every day from the first."""
    story, records = calm_records
    inner = load_inner_network()
    monitor = inner.services["monitoring"].hosts[0]
    news = [r for r in records if r.event == "NEW" and r.original.src != monitor]
    hosts: dict[str, list[tuple[float, str]]] = {}
    ports: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for r in news:
        hosts.setdefault(r.original.src, []).append((r.time or 0.0, r.original.dst))
        ports.setdefault((r.original.src, r.original.dst), []).append((r.time or 0.0, str(r.original.dport)))
    most_hosts = max(_sliding_max(v) for v in hosts.values())
    most_ports = max(_sliding_max(v) for v in ports.values() if len(v) >= 4)
    assert 8 <= most_hosts < 20, most_hosts
    assert 4 <= most_ports < 20, most_ports
    # large copies: only replica pulls, by the sites the registry tags backup
    big = {r.original.src for r in records if r.event == "DESTROY" and (r.reply_bytes or 0) >= 1 << 30}
    pulling = {story["peers"][e["peer"]]["allowed_ips"][-1].rsplit(".", 1)[0] + ".5" for e in story["timeline"] if "tx" in e}
    assert big == pulling and big
    replica = inner.services["replica"].hosts[0]
    assert all(r.original.dst == replica for r in records if r.event == "DESTROY" and (r.reply_bytes or 0) >= 1 << 30)
    # the databases: the servers, each every day from the first
    db = inner.networks["databases"]
    servers = {p["allowed_ips"][0].split("/")[0] for p in story["peers"].values() if str(p.get("name", "")).startswith("server-")}
    reaching = [r for r in news if ipaddress.ip_address(r.original.dst) in db]
    assert {r.original.src for r in reaching} <= servers | {p["allowed_ips"][0].split("/")[0] for p in story["peers"].values() if not p.get("name")}
    named_servers = {r.original.src for r in reaching if r.original.src in servers}
    assert named_servers == servers
    t0 = START.timestamp()
    for server in servers:
        assert {int(((r.time or 0) - t0) // DAY) for r in reaching if r.original.src == server} == set(range(DAYS))
    # peer to peer: the site syncs only, a fixed pair each, every day
    addresses = {p["allowed_ips"][0].split("/")[0] for p in story["peers"].values()}
    lans = tuple(ip.rsplit(".", 1)[0] + "." for p in story["peers"].values() for ip in p["allowed_ips"] if not ip.endswith("/32"))
    to_peers = [r for r in news if r.original.dst in addresses or r.original.dst.startswith(lans)]
    assert to_peers and all(r.original.src.endswith(".7") and r.original.dst.endswith(".7") for r in to_peers)
    pairs = {(r.original.src, r.original.dst) for r in to_peers}
    assert len(pairs) == len(lans)
    for pair in pairs:
        assert {int(((r.time or 0) - t0) // DAY) for r in to_peers if (r.original.src, r.original.dst) == pair} == set(range(DAYS))


def test_plants_name_rules_that_exist() -> None:
    _, planted = fleet_story(PEERS, DAYS, SEED, True)
    names = {r.name for r in load_rules()}
    assert {p.kind for p in planted} == {
        "dormant", "stolen-key", "exfiltration", "rogue-peer", "scanner", "spoofing", "impossible-travel", "site-outage", "off-hours-change",
        "shipper-failing", "internal-sweep", "lateral-movement", "internal-pull", "peer-to-peer",
    }  # fmt: skip
    for p in planted:
        assert set(p.rules) <= names, p
        assert p.time >= int(story_start(WARMUP))


def test_the_registry_says_who_each_peer_is_and_when_changes_are() -> None:
    story, planted = fleet_story(PEERS, DAYS, SEED, True)
    registry = fleet_registry(story, render(story, "fleet").names)
    by_name = {p.name: p for p in registry.peers.values()}
    roles = Counter(p.role for p in by_name.values())
    assert set(roles) == {"laptop", "phone", "server", "site"}
    for p in by_name.values():
        person = p.role in ("laptop", "phone")
        assert bool(p.owner and p.email) == person, p
        assert p.always_on == (p.role == "site") and ("site" in p.tags) == (p.role == "site")
        assert p.networks and p.countries
    sites = [p for p in by_name.values() if p.role == "site"]
    assert {p.silent_after for p in sites} == {1800}
    pulling = {story["peers"][e["peer"]]["name"] for e in story["timeline"] if "tx" in e}
    assert pulling and {p.name for p in sites if "backup" in p.tags} == pulling
    # the windows hold ordinary life's changes, not the night's
    assert registry.change_windows
    inside = lambda t: any(w.contains(START.timestamp() + t) for w in registry.change_windows)  # noqa: E731
    changes = [_secs(p["added"]) for p in story["peers"].values() if "added" in p and p.get("name")]
    changes += [_secs(e["at"]) + 300 for e in story["timeline"] if e.get("rotate_key")]  # seen at the next poll
    assert changes and all(inside(t) for t in changes)
    assert not any(inside(_secs(e["at"])) for e in story["timeline"] if e.get("interface") == "restart")
    assert not any(inside(p.time - START.timestamp()) for p in planted if p.kind in ("rogue-peer", "off-hours-change"))


def story_start(days: int) -> float:
    from wgsiem.replay.fleet import START

    return START.timestamp() + days * DAY


# -- the run -----------------------------------------------------------------------------


def test_every_planted_attack_is_found_by_all_its_rules(attacked) -> None:  # noqa: ANN001
    story, planted, run = attacked
    assert not run.problems
    assert run.failed_polls == 4  # the shipper-failing plant: 20 minutes of 5-minute polls
    by_plant, _ = match_plants(planted, run.alerts)
    for i, p in enumerate(planted):
        fired = {a["kibana.alert.rule.name"] for a in by_plant[i]}
        assert fired == set(p.rules), (p.kind, sorted(fired))


def _owner(story: dict) -> dict:
    """Each address space of the story's peers (a /32, a site's /24) as it was configured,
    and its peer's name (its key for an unnamed peer)."""
    seed = int(story["seed"])
    return {ipaddress.ip_network(ip): spec.get("name") or derive_key(seed, f"peer:{key}:0")
            for key, spec in story["peers"].items() for ip in spec["allowed_ips"]}  # fmt: skip


def _owner_of(owners: dict, address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    found = [(net.prefixlen, who) for net, who in owners.items() if ip in net]
    return max(found)[1] if found else None


def test_flows_are_attributed_to_their_peers(attacked, whole) -> None:  # noqa: ANN001
    """Every wireguard.flow event is the peer's whose inner address (or site LAN) is its
    source: the one that opened it, or for the monitoring host's connections (outbound) the
    one it reached; another peer is named as the destination for the sites' syncs and the
    planted peer-to-peer connection only. All month long: also after the off-hours change
    gave a server or site 0.0.0.0/0 (a default route says where the host would send what no
    one else claims, not that the internal network is behind that peer)."""
    story, planted, _ = attacked
    owners = _owner(story)
    monitor = load_inner_network().services["monitoring"].hosts[0]
    flows = [e for e in whole.kept_events if e["event"]["dataset"] == "wireguard.flow"]
    assert len(flows) == whole.flow_events > 5000
    wrong = []
    for e in flows:
        peer = e["wireguard"]["peer"]
        who = peer.get("name") or peer["public_key"]
        expected_direction = "outbound" if e["destination"]["ip"] == monitor else "inbound"
        other = (e["wireguard"]["flow"].get("destination_peer") or {}).get("name")
        if (who, e["network"]["direction"], other) != (_owner_of(owners, e["source"]["ip"]), expected_direction, _owner_of(owners, e["destination"]["ip"])):
            wrong.append(e["message"])
    assert wrong == [], (len(wrong), wrong[:5])
    assert {e["event"]["action"] for e in flows} == {"flow-started", "flow-ended"}
    p2p = next(p for p in planted if p.kind == "peer-to-peer")
    assert [e for e in flows if e["wireguard"]["flow"].get("destination_peer") and e["wireguard"]["peer"]["public_key"] == p2p.public_key]


def test_ordinary_life_raises_no_alert(quiet) -> None:  # noqa: ANN001
    """Not even the peers onboarded after the warm-up: the registry expects each in its
    home network and country, so its first connection there is no new country or network
    (before the registry, these were the only alerts of ordinary life)."""
    story, run = quiet
    assert not run.problems and run.failed_polls == 0
    assert run.events > 50_000 and run.flow_events > 5000
    changes = life_changes(story)
    assert [k for k, why in changes.items() if why == "onboarding"], "the fleet onboards no peer: the test says nothing"
    assert [f"{a['kibana.alert.rule.name']}: {a.get('message')}" for a in run.alerts] == []


def test_without_the_registry_the_onboardings_alert(quiet, geo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry's places are what keep the onboarded peer quiet: without them, its first
    connection is a new country and a new network for its name (the false positive they
    remove)."""
    story, _ = quiet

    def placeless(story: dict, names: dict) -> Registry:
        registry = fleet_registry(story, names)
        return Registry({k: replace(p, networks=(), countries=()) for k, p in registry.peers.items()}, registry.change_windows)

    monkeypatch.setattr(fleet, "fleet_registry", placeless)
    run = run_fleet(story, geo_dir, warmup_days=WARMUP)
    onboarded = {k for k, why in life_changes(story).items() if why == "onboarding"}
    assert sorted(a["kibana.alert.rule.name"] for a in run.alerts) == sorted([COUNTRY, ASN] * len(onboarded))
    assert {alert_key(a) for a in run.alerts} == onboarded


def test_the_near_misses_alert_without_what_tunes_them(quiet, geo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ordinary life's near misses are real: without the exception lists the backup sites'
    nightly pulls are large transfers (one per 5-minute interval of each pull) and, as
    flows, large pulls from the replica store (one a night), every peer's first visit of an
    internal host after the warm-up is a new internal host (the shipped sensitive networks
    are every private range: an onboarding's, a rotated key's, a service used twice a week),
    and with the registry's default limit for always-on peers (10 minutes, `always_on:
    true`) the sites' blips are outages, each one down and back. Nothing else alerts, and
    the pulls are no exfiltration spike either way: the same every night, they are the
    baseline."""
    story, run = quiet
    monkeypatch.setattr(fleet, "SITE_SILENT_AFTER", "10m")
    bare = run_fleet(story, geo_dir, warmup_days=WARMUP, tuning=Tuning())
    names = render(story, "fleet").names
    registry = fleet_registry(story, names)
    backup = {k for k, p in registry.peers.items() if "backup" in p.tags}
    site_keys = {k for k, p in registry.peers.items() if p.role == "site"}
    by_rule: dict[str, list[dict]] = {}
    for alert in bare.alerts:
        by_rule.setdefault(alert["kibana.alert.rule.name"], []).append(alert)
    assert set(by_rule) == {LARGE, DOWN, BACK, LARGE_PULL, NEW_HOST}, sorted(by_rule)
    assert EXFIL not in by_rule
    # every judged night of every backup site, and nothing else
    large = Counter(alert_key(a) for a in by_rule[LARGE])
    assert set(large) == {k for k in backup if k in site_keys} and backup
    nights = DAYS - WARMUP
    assert all(n >= nights for n in large.values()), large
    pulls = Counter(alert_key(a) for a in by_rule[LARGE_PULL])
    assert set(pulls) == set(large) and all(n >= nights - 1 for n in pulls.values()), pulls
    # first visits, none of the databases (the servers' are history from the first day)
    databases = load_inner_network().networks["databases"]
    visits = {(alert_key(a), lookup(a, "destination.ip", None)) for a in by_rule[NEW_HOST]}
    assert len(visits) == len(by_rule[NEW_HOST]) and not [v for v in visits if ipaddress.ip_address(v[1]) in databases]
    # each judged blip down once and back once, on its site
    t0 = START.timestamp()
    judged = [(story["peers"][e["peer"]]["name"], _secs(e["at"])) for e in story["timeline"]
              if "silent" in e and e["peer"] in story["peers"] and story["peers"][e["peer"]].get("name", "").startswith("site-")
              and _secs(e["at"]) >= WARMUP * DAY]  # fmt: skip
    assert judged
    for rule in (DOWN, BACK):
        got = sorted((_alert_secs(a) - t0, names[alert_key(a) or ""]) for a in by_rule[rule])
        assert len(got) == len(judged), (rule, got, judged)
        for (t, name), (blip_name, at) in zip(got, sorted(judged, key=lambda x: x[1]), strict=True):
            assert name == blip_name and at < t < at + 30 * 60, (rule, name, t, at)
    # the same story with the repository's tuning and the sites' 30 minutes: quiet
    assert run.alerts == []


def _alert_secs(alert: dict) -> float:
    return datetime.fromisoformat(str(alert["kibana.alert.original_time"]).replace("Z", "+00:00")).timestamp()


def test_the_shipper_outage_and_the_restarts_raise_nothing(attacked, whole) -> None:  # noqa: ANN001
    """The shipper stopped for 65 minutes: the first poll after it sees a 65-minute
    interval (a busy site's transfer over it is more than 1 GiB, but the large transfer
    rule judges only intervals of up to 5 minutes), fresh handshakes (no always-on peer is
    silent), and running sessions split in two (no rule reads that). The interface
    restarts at 04:00 are interface-down and interface-up, no peer added or removed: the
    change window rule does not look at them. No alert falls in either."""
    story, planted, _ = attacked
    t0 = START.timestamp()
    times = [t for t, _ in render(story, "fleet").polls]
    down, up = next((a, b) for a, b in pairwise(times) if b - a > 300)
    events = whole.kept_events

    def at(e: dict) -> float:
        return datetime.fromisoformat(e["@timestamp"].replace("Z", "+00:00")).timestamp()

    spanning = [e for e in events if e["event"]["action"] == "transfer" and e["event"]["duration"] == (up - down) * 10**9]
    assert spanning and max(e["destination"]["bytes"] for e in spanning) >= 1 << 30
    assert not [e for e in events if e["event"]["action"] in ("peer-silent", "peer-back") and not
                any(p.kind == "site-outage" and p.time <= at(e) <= p.time + p.within for p in planted)]  # fmt: skip
    restarts = [t0 + _secs(e["at"]) for e in story["timeline"] if e.get("interface") == "restart"]
    assert restarts
    for r in restarts:
        near = [e for e in events if r <= at(e) <= r + 900 and e["event"]["dataset"] == "wireguard.status"]
        actions = {e["event"]["action"] for e in near}
        assert {"interface-down", "interface-up"} <= actions
        assert not actions & {"peer-added", "peer-removed", "peer-changed", "interface-changed"}
        assert all(e["wireguard"]["change_window"] == {"inside": False} for e in near if e["event"]["action"].startswith("interface-"))
    quiet_spans = [(down, up + 3600), *((r, r + 3600) for r in restarts)]
    _, rest = match_plants(planted, whole.alerts)
    assert not [a for a in whole.alerts if any(lo <= _alert_secs(a) <= hi for lo, hi in quiet_spans)]
    assert rest == []


def test_attacks_leave_ordinary_life_alerts_as_they_were(attacked, quiet) -> None:  # noqa: ANN001
    _, planted, run = attacked
    _, calm = quiet
    _, rest = match_plants(planted, run.alerts)
    assert _summary(rest) == _summary(calm.alerts)


def test_reduced_events_give_the_alerts_of_whole_events(attacked, whole) -> None:  # noqa: ANN001
    """run_fleet keeps only events some rule's query matches, reduced to the fields the
    rules read (and their exception lists read): the rules must decide exactly as on the
    whole events."""
    story, _, run = attacked
    assert whole.kept == whole.events > run.kept
    key = lambda a: (a["kibana.alert.rule.name"], a["kibana.alert.original_time"], alert_key(a), alert_source(a))  # noqa: E731
    assert sorted(map(key, run.alerts)) == sorted(map(key, whole.alerts))
    assert len(run.alerts) >= 7
