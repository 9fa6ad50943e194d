"""Inner flows from the lab's LAN (wgsiem/lab/lan.py): the hub's real conntrack events,
attributed to peers by cryptokey routing, live (root) and in the scenarios recorded from
the LAN stories (fixtures/scenarios/lab-internal-*, lab-lateral-movement, lab-peer-to-peer)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.support.tiers import require
from tests.test_lab_stories import alerts_of, convert, describe, play_recorded
from wgsiem.adapters.capture import CONNTRACK_LOG
from wgsiem.lab import stories
from wgsiem.lab.conntrack import conntrack_lab_available
from wgsiem.lab.lan import EXCHANGE_HEADER, HOSTS, LAN_GATEWAY, LAN_NET, Exchange, Lan
from wgsiem.lab.tunnels import HUB_TUNNEL_V4

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "fixtures" / "scenarios"
# What one packet adds to the bytes conntrack counts: an IPv4 header (20) and a TCP header
# (20, up to 40 with options: a SYN's are 20 more, timestamps 12). A segment the sender
# hands over in one piece (TSO/GRO) is one packet with one set of headers.
TCP_OVERHEAD = (40, 60)
ICMP_ECHO = 84  # ping's default: 56 bytes of data, 8 of ICMP, 20 of IPv4
REFUSED = (60, 40)  # a SYN with its options, and the RST that refuses it
LAN_ADDRESSES = {LAN_GATEWAY} | {h.address for h in HOSTS.values()}


# --------------------------------------------------------------------- helpers


def flows_of(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["event"]["dataset"] == "wireguard.flow"]


def on_lan(flows: list[dict]) -> list[dict]:
    """The flows into the LAN: not the pings Lab.connect sends the hub until a handshake."""
    return [d for d in flows if d["destination"]["ip"] != HUB_TUNNEL_V4]


def peer(doc: dict) -> str:
    return doc["wireguard"]["peer"].get("name", doc["wireguard"]["peer"]["public_key"])


def check_attribution(flows: list[dict], addresses: dict[str, str]) -> None:
    """Every flow is a peer's opening of a connection from its own inner address (the
    address its allowed-ips hold); `addresses`: peer name → its inner address. One to
    another peer's address names that peer, and is the source's flow only."""
    assert flows, "no flow events"
    for d in flows:
        name, source = peer(d), d["source"]["ip"]
        assert name in addresses, f"a flow of an unnamed peer: {d['message']}"
        assert source == addresses[name], f"{name}'s flow from {source}: {d['message']}"
        assert ipaddress.ip_address(source) in ipaddress.ip_network(d["wireguard"]["flow"]["allowed_ip"])
        assert d["network"]["direction"] == "inbound"
        destination, other = d["destination"]["ip"], d["wireguard"]["flow"].get("destination_peer")
        if other is not None:
            assert other["name"] != name and destination == addresses[other["name"]], d["message"]
        else:  # the LAN, or the hub's own tunnel address: Lab.connect pings it until a handshake
            assert ipaddress.ip_address(destination) in ipaddress.ip_network(LAN_NET) or destination == HUB_TUNNEL_V4, d["message"]
            assert destination not in addresses.values(), f"a flow to a peer's address names no peer: {d['message']}"
        assert d["destination"].get("port") != 51820, "the tunnel's own UDP became a flow"


def exchange_of(d: dict, daily: dict[str, tuple[Exchange, ...]], served: dict[str, str]) -> Exchange | None:
    for x in daily.get(peer(d), ()):
        address = HOSTS[x.host].address if x.host in HOSTS else served[x.host]
        if (address, x.port) == (d["destination"]["ip"], d["destination"].get("port")):
            return x
    return None


def check_overhead(d: dict, upload: int, download: int) -> None:
    """The counters are what was sent each way and a TCP/IP header per packet, no more."""
    low, high = TCP_OVERHEAD
    for side, payload in (("source", upload), ("destination", download)):
        extra, packets = d[side]["bytes"] - payload, d[side]["packets"]
        assert low * packets <= extra <= high * packets, f"{side}: {d[side]} for {payload} bytes: {d['message']}"


def check_exchanges(flows: list[dict], daily: dict[str, tuple[Exchange, ...]], served: dict[str, str] | None = None) -> int:
    """Each ended flow of a daily exchange counted its bytes within the headers; how many.
    `served`: the address of each peer that serves (Lan.serve), by name."""
    checked = 0
    for d in flows:
        x = exchange_of(d, daily, served or {})
        if d["event"]["action"] == "flow-ended" and x is not None:
            check_overhead(d, x.upload + EXCHANGE_HEADER, x.download)
            checked += 1
    return checked


def ended(flows: list[dict], name: str) -> list[dict]:
    return [d for d in flows if d["event"]["action"] == "flow-ended" and peer(d) == name]


def require_conntrack() -> None:
    require(conntrack_lab_available())


def no_secrets(secrets: list[str], capture: Path, docs: list[dict]) -> None:
    assert secrets
    written = [(p.name, p.read_text()) for p in capture.rglob("*") if p.is_file()]
    assert CONNTRACK_LOG in dict(written)
    written.append(("the converted events", json.dumps(docs)))
    for name, text in written:
        assert not any(secret in text for secret in secrets), f"a key of the lab leaked into {name}"


def play_on_lan(lab, tmp_path: Path, play, **kw):
    """A LAN story with `wgsiem record` polling and the hub's conntrack events in the capture."""
    require_conntrack()
    with Lan(lab, tmp_path / "capture" / CONNTRACK_LOG) as lan:
        capture, names, _, clients = play_recorded(lab, tmp_path, play, lan=lan, **kw)
    return capture, names, clients


# ----------------------------------------------------------------- live (root)


@pytest.mark.lab
def test_the_sweep_is_the_sweepers_and_nothing_is_the_quiet_peers(wg_lab, tmp_path: Path, geoip_world):
    capture, names, clients = play_on_lan(wg_lab, tmp_path, stories.internal_scan)
    docs = convert(capture, names, geoip_world)
    flows = flows_of(docs)
    check_attribution(flows, {name: c.tunnel_ip for name, c in clients.items()})
    flows = on_lan(flows)
    ivan = [d for d in flows if peer(d) == "laptop-ivan"]

    # Every echo request of the sweep and every port tried is laptop-ivan's flow.
    pings = [d for d in ivan if d["network"]["transport"] == "icmp"]
    assert {d["destination"]["ip"] for d in pings} == set(stories.SWEEP)
    assert Counter(d["event"]["action"] for d in pings) == {"flow-started": 40, "flow-ended": 40}
    db = HOSTS[stories.PROBED_HOST].address
    probes = [d for d in ivan if d["destination"]["ip"] == db and d["network"]["transport"] == "tcp"]
    assert {d["destination"]["port"] for d in probes} == set(stories.PROBED_PORTS)
    assert len(probes) == 2 * len(stories.PROBED_PORTS)
    assert not any(d["destination"]["ip"] == db for d in flows if peer(d) != "laptop-ivan")

    # Byte counts: each echo request and reply is 84 bytes, and only the LAN's addresses
    # answered; a refused port is one SYN and one RST; an accepted one, headers only.
    for d in (d for d in pings if d["event"]["action"] == "flow-ended"):
        assert (d["source"]["packets"], d["source"]["bytes"]) == (1, ICMP_ECHO), d["message"]
        answered = d["destination"]["ip"] in LAN_ADDRESSES
        assert (d["destination"]["packets"], d["destination"]["bytes"]) == ((1, ICMP_ECHO) if answered else (0, 0)), d["message"]
        assert d["wireguard"]["flow"]["unreplied"] is not answered
    open_ports = set(HOSTS[stories.PROBED_HOST].tcp_ports)
    for d in (d for d in probes if d["event"]["action"] == "flow-ended"):
        if d["destination"]["port"] in open_ports:
            check_overhead(d, 0, 0)
        else:
            assert (d["source"]["bytes"], d["destination"]["bytes"]) == REFUSED, d["message"]

    # laptop-grace only ever reached the intranet, with exactly the bytes it sent.
    grace = [d for d in flows if peer(d) == "laptop-grace"]
    web = {(HOSTS[x.host].address, x.port) for x in stories.OFFICE_DAILY["laptop-grace"]}
    assert {(d["destination"]["ip"], d["destination"]["port"]) for d in grace} == web
    assert len(ended(flows, "laptop-grace")) == 3 * len(web)  # the baseline, and a round before and after the scan
    assert check_exchanges(flows, stories.OFFICE_DAILY) == 3 * sum(map(len, stories.OFFICE_DAILY.values()))

    no_secrets(wg_lab.secrets(), capture, docs)


@pytest.mark.lab
def test_the_first_database_access_is_heidis_with_its_bytes(wg_lab, tmp_path: Path, geoip_world):
    dump = Exchange("db", 5432, 200, 30_000_000)  # the recorded story pulls 1.2 GB; the counting is the same
    capture, names, clients = play_on_lan(wg_lab, tmp_path, stories.lateral_movement, dump=dump)
    docs = convert(capture, names, geoip_world)
    flows = flows_of(docs)
    check_attribution(flows, {name: c.tunnel_ip for name, c in clients.items()})
    flows = on_lan(flows)
    db = HOSTS["db"].address
    to_db = [d for d in flows if d["destination"]["ip"] == db]
    assert {peer(d) for d in to_db} == {"laptop-heidi"}
    query, pulled = sorted((d for d in to_db if d["event"]["action"] == "flow-ended"), key=lambda d: d["event"]["start"])
    check_overhead(query, stories.DB_FIRST_QUERY.upload + EXCHANGE_HEADER, stories.DB_FIRST_QUERY.download)
    # A pull this size through wireguard-go loses segments on the way (the hub's TUN queue)
    # and the database sends them again: conntrack counts every copy.
    assert dump.download < pulled["destination"]["bytes"] <= dump.download * 1.3
    assert pulled["source"]["bytes"] >= dump.upload + EXCHANGE_HEADER
    assert check_exchanges(flows, stories.OFFICE_DAILY) == 3 * sum(map(len, stories.OFFICE_DAILY.values()))
    assert all(d["destination"]["ip"] == HOSTS["web"].address for d in flows if peer(d) == "laptop-grace")
    no_secrets(wg_lab.secrets(), capture, docs)


def to_peer(flows: list[dict], name: str) -> list[dict]:
    """The flows that reached peer `name`'s own address (through the hub)."""
    return [d for d in flows if d["wireguard"]["flow"].get("destination_peer", {}).get("name") == name]


@pytest.mark.lab
def test_a_peer_reaching_another_is_the_sources_flow_naming_the_other(wg_lab, tmp_path: Path, geoip_world):
    copy = Exchange(stories.HOME_DESKTOP, 22, 1_000, 400_000)  # the recorded story copies 4 MB
    capture, names, clients = play_on_lan(wg_lab, tmp_path, stories.peer_to_peer, copy=copy)
    desktop = clients[stories.HOME_DESKTOP]
    # The hub forwarded the connections from its WireGuard interface back into it: its
    # connection tracker saw them, from the source's address to the desktop's.
    log = (capture / CONNTRACK_LOG).read_text()
    for name in ("laptop-heidi", "laptop-ivan"):
        assert f"src={clients[name].tunnel_ip} dst={desktop.tunnel_ip} sport=" in log, name
    docs = convert(capture, names, geoip_world)
    flows = flows_of(docs)
    check_attribution(flows, {name: c.tunnel_ip for name, c in clients.items()})
    reaching = to_peer(flows, stories.HOME_DESKTOP)
    assert {peer(d) for d in reaching} == {"laptop-heidi", "laptop-ivan"}
    for d in reaching:
        assert d["wireguard"]["flow"]["destination_peer"] == {"public_key": desktop.public_key, "name": stories.HOME_DESKTOP}
        assert (d["destination"]["ip"], d["destination"]["port"]) == (desktop.tunnel_ip, 22)
        assert d["wireguard"]["flow"]["allowed_ip"] == clients[peer(d)].allowed_ips[0]
    # The desktop opened nothing but its pings of the hub: being reached is not its flow.
    assert not on_lan([d for d in flows if peer(d) == stories.HOME_DESKTOP])
    login, copied = sorted((d for d in ended(reaching, "laptop-ivan")), key=lambda d: d["event"]["start"])
    check_overhead(login, stories.P2P_LOGIN.upload + EXCHANGE_HEADER, stories.P2P_LOGIN.download)
    # As for the database's dump (below), wireguard-go drops segments at this rate and the
    # desktop sends them again; here the hub's wireguard-go carries each one twice.
    assert copy.download < copied["destination"]["bytes"] <= copy.download * 1.3
    served = {stories.HOME_DESKTOP: desktop.tunnel_ip}
    assert check_exchanges(flows, stories.P2P_DAILY, served) == 3 * sum(map(len, stories.P2P_DAILY.values()))

    # laptop-heidi's daily login is history; laptop-ivan's two connections are one new pair.
    alerts = alerts_of(docs, tmp_path, min(int(p.stem) for p in capture.glob("*.dump")))
    assert [(a["kibana.alert.rule.name"], peer(a), a["destination"]["ip"]) for a in alerts] == [
        ("WireGuard Peer Reaching Another Peer", "laptop-ivan", desktop.tunnel_ip)
    ], describe(alerts)
    no_secrets(wg_lab.secrets(), capture, docs)


# ------------------------------------------------- the recorded scenarios


def scenario(name: str) -> tuple[list[dict], dict, datetime]:
    folder = SCENARIOS / name
    config = yaml.safe_load((folder / "scenario.yaml").read_text())
    docs = [json.loads(line) for line in (folder / "events.ndjson").read_text().splitlines()]
    start = config["rules_start"]
    return flows_of(docs), config, start if isinstance(start, datetime) else datetime.fromisoformat(str(start))


def split(flows: list[dict], start: datetime) -> tuple[list[dict], list[dict]]:
    """The flows into the LAN before `rules_start` (the history) and from it on."""
    at = lambda d: datetime.fromisoformat(d["@timestamp"].replace("Z", "+00:00"))  # noqa: E731
    return [d for d in on_lan(flows) if at(d) < start], [d for d in on_lan(flows) if at(d) >= start]


def reached(flows: list[dict], name: str) -> set[tuple[str, int | None]]:
    return {(d["destination"]["ip"], d["destination"].get("port")) for d in flows if peer(d) == name}


LAN_SCENARIOS = {"lab-internal-daily-use": "normal", "lab-lateral-movement": "attack", "lab-internal-scan": "attack"}


@pytest.mark.parametrize("name", sorted(LAN_SCENARIOS))
def test_recorded_lan_flows_are_the_peers_that_opened_them(name):
    flows, config, start = scenario(name)
    assert config["kind"] == LAN_SCENARIOS[name]
    assert set(config["peers"].values()) == set(stories.OFFICE)
    # Each peer's flows come from one inner address, its own, and no two share one.
    addresses = {}
    for d in flows:
        addresses.setdefault(peer(d), set()).add(d["source"]["ip"])
    assert set(addresses) == set(stories.OFFICE) and all(len(a) == 1 for a in addresses.values())
    assert len({a for (a,) in addresses.values()}) == 3
    check_attribution(flows, {n: a for n, (a,) in addresses.items()})
    # Every flow that started ended, with its counters.
    assert Counter(d["event"]["action"] for d in flows)["flow-started"] == Counter(d["event"]["action"] for d in flows)["flow-ended"]
    assert all("bytes" in d["source"] and "bytes" in d["destination"] for d in flows if d["event"]["action"] == "flow-ended")
    # laptop-grace, the quiet one, only ever used the intranet, the same at the baseline and after.
    before, after = split(flows, start)
    web = {(HOSTS[x.host].address, x.port) for x in stories.OFFICE_DAILY["laptop-grace"]}
    assert reached(before, "laptop-grace") == reached(after, "laptop-grace") == web
    daily = dict(stories.OFFICE_DAILY)
    if name == "lab-internal-daily-use":
        daily["laptop-heidi"] = (*daily["laptop-heidi"], stories.DBA_QUERY)
    assert check_exchanges(flows, daily) >= 3 * sum(map(len, daily.values()))


def test_recorded_daily_use_goes_nowhere_new():
    flows, _, start = scenario("lab-internal-daily-use")
    before, after = split(flows, start)
    for name in stories.OFFICE:
        assert reached(after, name) and reached(after, name) == reached(before, name), name
    assert (HOSTS["db"].address, 5432) in reached(before, "laptop-heidi")


def test_recorded_lateral_movement_is_heidis_first_database_access_and_dump():
    flows, _, start = scenario("lab-lateral-movement")
    before, after = split(flows, start)
    db = HOSTS["db"].address
    assert not [d for d in before if d["destination"]["ip"] == db]
    to_db = [d for d in after if d["destination"]["ip"] == db]
    assert {peer(d) for d in to_db} == {"laptop-heidi"} and {d["destination"]["port"] for d in to_db} == {5432}
    query, pulled = sorted((d for d in to_db if d["event"]["action"] == "flow-ended"), key=lambda d: d["event"]["start"])
    check_overhead(query, stories.DB_FIRST_QUERY.upload + EXCHANGE_HEADER, stories.DB_FIRST_QUERY.download)
    assert stories.DB_DUMP.download < pulled["destination"]["bytes"] <= stories.DB_DUMP.download * 1.3
    assert pulled["destination"]["bytes"] >= 1 << 30
    for name in ("laptop-grace", "laptop-ivan"):
        assert reached(after, name) == reached(before, name), name


def test_recorded_scan_is_ivans_sweep_and_port_probe():
    flows, _, start = scenario("lab-internal-scan")
    before, after = split(flows, start)
    ivan_new = reached(after, "laptop-ivan") - reached(before, "laptop-ivan")
    db = HOSTS[stories.PROBED_HOST].address
    assert {ip for ip, _ in ivan_new} >= set(stories.SWEEP) - {a for a, _ in reached(before, "laptop-ivan")}
    assert {port for ip, port in reached(after, "laptop-ivan") if ip == db and port is not None} == set(stories.PROBED_PORTS)
    pings = [d for d in after if peer(d) == "laptop-ivan" and d["network"]["transport"] == "icmp"]
    assert {d["destination"]["ip"] for d in pings} == set(stories.SWEEP)
    answered = {d["destination"]["ip"] for d in pings if d["event"]["action"] == "flow-ended" and d["destination"]["packets"]}
    assert answered == LAN_ADDRESSES
    for name in ("laptop-grace", "laptop-heidi"):
        assert reached(after, name) == reached(before, name), name


def test_recorded_peer_to_peer_is_ivans_flow_naming_heidis_desktop():
    flows, config, start = scenario("lab-peer-to-peer")
    folder = SCENARIOS / "lab-peer-to-peer"
    assert config["kind"] == "attack" and set(config["peers"].values()) == set(stories.P2P_CAST.peers)
    keys = {name: key for key, name in config["peers"].items()}
    # Each peer's address is its allowed-ips at the hub (the desktop opens no flow of its own).
    docs = [json.loads(line) for line in (folder / "events.ndjson").read_text().splitlines()]
    allowed = {d["wireguard"]["peer"]["name"]: d["wireguard"]["peer"]["allowed_ips"] for d in docs if d["event"]["action"] == "peer-discovered"}
    assert set(allowed) == set(keys) and all(len(ips) == 1 and ips[0].endswith("/32") for ips in allowed.values())
    addresses = {name: ips[0].removesuffix("/32") for name, ips in allowed.items()}
    check_attribution(flows, addresses)
    desktop = addresses[stories.HOME_DESKTOP]

    # The hub's connection tracker saw both laptops' connections to the desktop's address:
    # forwarded from its WireGuard interface back into it.
    log = (folder / "captures" / CONNTRACK_LOG).read_text()
    for name in ("laptop-heidi", "laptop-ivan"):
        assert re.search(rf"\[NEW\] .* src={re.escape(addresses[name])} dst={re.escape(desktop)} sport=\d+ dport=22 ", log), name

    # Every flow to another peer is the source's, names the desktop, and reached its SSH.
    reaching = to_peer(flows, stories.HOME_DESKTOP)
    assert reaching == [d for d in flows if "destination_peer" in d["wireguard"]["flow"]]
    for d in reaching:
        assert d["wireguard"]["flow"]["destination_peer"] == {"public_key": keys[stories.HOME_DESKTOP], "name": stories.HOME_DESKTOP}
        assert d["wireguard"]["peer"]["public_key"] == keys[peer(d)] and d["source"]["ip"] == addresses[peer(d)]
        assert (d["destination"]["ip"], d["destination"]["port"]) == (desktop, 22)
    assert not on_lan([d for d in flows if peer(d) == stories.HOME_DESKTOP])

    # laptop-heidi's daily login is history; laptop-ivan's two connections come after it.
    before, after = split(reaching, start)
    assert {peer(d) for d in before} == {"laptop-heidi"}
    assert {peer(d) for d in after} == {"laptop-heidi", "laptop-ivan"}
    login, copied = sorted(ended(after, "laptop-ivan"), key=lambda d: d["event"]["start"])
    check_overhead(login, stories.P2P_LOGIN.upload + EXCHANGE_HEADER, stories.P2P_LOGIN.download)
    assert stories.P2P_COPY.download < copied["destination"]["bytes"] <= stories.P2P_COPY.download * 1.3
    served = {stories.HOME_DESKTOP: desktop}
    assert check_exchanges(flows, stories.P2P_DAILY, served) == 3 * sum(map(len, stories.P2P_DAILY.values()))

    # Nobody reaches anything new on the LAN: the desktop is laptop-ivan's only new place.
    before, after = split(flows, start)
    for name in stories.OFFICE:
        new = reached(after, name) - reached(before, name)
        assert new == ({(desktop, 22)} if name == "laptop-ivan" else set()), name
