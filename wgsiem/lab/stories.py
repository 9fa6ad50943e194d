"""Scripted stories for the scenarios recorded from the lab (siblings of
`story.play`): `python -m wgsiem.lab record-scenario NAME DIR` plays one against real
wireguard-go tunnels while `wgsiem record` polls the hub, and the tests
(tests/test_lab_stories.py, tests/test_lab_wgconfig.py) play them in a fresh lab.

The normal-life stories must stay quiet under every rule, so everything a rule compares
against (the peers, their countries and networks) is already there at the baseline poll, and
`idle(seconds, label)` then lets time pass before the scripted part: a new-terms rule's
first execution looks back 6 minutes (`from = now-6m`), and a term first seen inside that
look-back is new. A scenario's `rules_start` is therefore at least `HISTORY_SECONDS`
after its baseline poll. Recorded, the idle time is polled at the production interval.

- `phone_roaming`: phone-erin's phone roams between three addresses of one network
  (198.51.100.0/24: NL, Amsterdam, AS64497): home Wi-Fi, mobile data, office Wi-Fi,
  mobile data, home Wi-Fi (four endpoint changes, fewer than the six the several-places
  rule counts) while desktop-frank (Madrid) works steadily.
- `interface_restart`: the hub's interface is taken down and brought up again as
  `wg-quick down` / `wg-quick up` does it for wireguard-go (link deleted, the process
  exits; a new wireguard-go, `wg setconf` with the same key and peers, addresses, link
  up) while three named peers are connected: counters back to zero, endpoints and
  handshakes forgotten, until each client notices and handshakes again.

- `planted-peer`: the hub runs from a wg-quick file (real wg-quick over wireguard-go). An
  intruder appends a `[Peer]` with a wide allowed-ips and a `PostUp` hook to it and leaves
  it world-readable; no poll sees the peer until the interface restarts, and then it runs.
- `change-in-window`: the same hub; an administrator adds a registered peer to the file
  and restarts the interface, inside the host's change window.

- On the LAN behind the hub (lan.py; `play(..., lan=Lan)`, the hub's conntrack events are
  the inner flows), three laptops do their daily work at the baseline and after the
  history: `internal-daily-use`, where laptop-heidi is the database's administrator and
  nobody goes anywhere new; `lateral-movement`, where laptop-heidi reaches the database
  for the first time and dumps it; `internal-scan`, where laptop-ivan sweeps the LAN and
  tries the ports of one host; `peer-to-peer`, where desktop-heidi, laptop-heidi's own
  desktop at home and a peer of the VPN, serves SSH on its tunnel address, laptop-heidi
  logs in to it every day through the hub, and laptop-ivan logs in to it for the first
  time. laptop-grace only ever uses the intranet web server.

`tick(label)` is called after each step and returns only once a poll has seen it;
`on_peer(client)` is called as each peer is configured (to name it).
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .lan import LAN_NET, Exchange, Lan
from .tunnels import Client, Lab, LabError

# Past the 6-minute look-back of the new-terms rules, with a margin.
HISTORY_SECONDS = 380
KEEPALIVE = 25  # what the WireGuard mobile apps suggest; keeps the tunnels warm while idle

Tick = Callable[[str], None]
Idle = Callable[[float, str], None]
OnPeer = Callable[[Client], None]


def _sleep_then(tick: Tick) -> Idle:
    def idle(seconds: float, label: str) -> None:
        time.sleep(seconds)
        tick(label)

    return idle


# --------------------------------------------------------------------- phone roaming

PHONE_HOME_WIFI = "198.51.100.20"
PHONE_MOBILE = "198.51.100.77"
PHONE_OFFICE_WIFI = "198.51.100.140"
PHONE_ROAMS = [
    (PHONE_MOBILE, "left home: Wi-Fi to mobile data"),
    (PHONE_OFFICE_WIFI, "at the office: mobile data to the office Wi-Fi"),
    (PHONE_MOBILE, "left the office: Wi-Fi to mobile data"),
    (PHONE_HOME_WIFI, "home again: mobile data to the home Wi-Fi"),
]


def phone_roaming(
    lab: Lab,
    tick: Tick,
    on_peer: OnPeer = lambda client: None,
    *,
    idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS,
    polls_per_place: int = 3,
) -> dict[str, Client]:
    idle = idle or _sleep_then(tick)
    erin = lab.add_client("phone-erin", PHONE_HOME_WIFI, keepalive=KEEPALIVE)
    on_peer(erin)
    frank = lab.add_client("desktop-frank", "es-madrid", keepalive=KEEPALIVE)
    on_peer(frank)
    lab.connect(erin)
    lab.connect(frank)
    lab.send(erin, 20_000)
    lab.send(frank, 20_000)
    tick(f"baseline: phone-erin on the home Wi-Fi ({PHONE_HOME_WIFI}), desktop-frank in Madrid, both connected")

    idle(history_seconds, f"{history_seconds:.0f} s of history: keepalives only")

    def work(place: str) -> None:
        for i in range(polls_per_place):
            lab.send(erin, 30_000)
            lab.send(erin, 60_000, to_hub=False)
            lab.send(frank, 40_000)
            lab.send(frank, 20_000, to_hub=False)
            tick(f"traffic {place}, poll {i + 1} of {polls_per_place}")

    work(f"from the home Wi-Fi ({PHONE_HOME_WIFI})")
    for address, label in PHONE_ROAMS:
        lab.roam(erin, address)
        tick(f"phone-erin roamed, {label} ({address})")
        work(f"from {address}")
    return {"phone-erin": erin, "desktop-frank": frank}


# ------------------------------------------------------------------ interface restart


def restart_hub(lab: Lab, tick: Tick, *, down_polls: int = 2) -> None:
    """`wg-quick down`, a few polls, then `wg-quick up` of the hub: same key, port, peers,
    preshared keys and allowed IPs; no endpoints, handshakes or counters."""
    conf = lab.hub_down()
    for i in range(down_polls):
        tick(f"hub interface down (wg-quick down), poll {i + 1} of {down_polls}")
    # Right after a poll (tick returned on one), well within the next second: a poll between
    # the new wireguard-go and `wg setconf` would see a bare interface, which the shipper
    # passes over once; this story is about the restart, not that.
    lab.hub_up(conf)
    tick("hub interface up again (wg-quick up): same key and peers, no handshakes, counters at zero")


def interface_restart(
    lab: Lab,
    tick: Tick,
    on_peer: OnPeer = lambda client: None,
    *,
    idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS,
    polls_before: int = 3,
    polls_after: int = 3,
) -> dict[str, Client]:
    idle = idle or _sleep_then(tick)
    alice = lab.add_client("laptop-alice", "nl-amsterdam", keepalive=KEEPALIVE)
    on_peer(alice)
    bob = lab.add_client("phone-bob", "es-madrid", keepalive=KEEPALIVE)
    on_peer(bob)
    site = lab.add_client(
        "site-carol", "gb-v6", preshared_key=True, keepalive=KEEPALIVE,
        allowed_ips=["10.77.0.13/32", "192.168.60.0/24"],
    )  # fmt: skip
    on_peer(site)
    clients = [alice, bob, site]
    if site.tunnel_ip != "10.77.0.13":  # its allowed IPs above name its tunnel address
        raise LabError(f"site-carol got tunnel address {site.tunnel_ip}, expected 10.77.0.13")
    for client in clients:
        lab.connect(client)
        lab.send(client, 20_000)
    tick("baseline: laptop-alice (Amsterdam), phone-bob (Madrid), site-carol (IPv6, preshared key) connected")

    idle(history_seconds, f"{history_seconds:.0f} s of history: keepalives only")

    def work(when: str, polls: int) -> None:
        for i in range(polls):
            for client in clients:
                lab.send(client, 40_000)
                lab.send(client, 40_000, to_hub=False)
            tick(f"traffic {when}, poll {i + 1} of {polls}")

    work("before the restart", polls_before)
    restart_hub(lab, tick)
    # The clients still hold sessions the new hub does not know: the packets they all go on
    # sending are dropped until, having heard nothing back for 15 s (keepalive + rekey
    # timeout), each handshakes again. The hub knows no endpoint to reach them first.
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda client: lab.connect(client, timeout=40), clients))
    tick("every client handshook with the restarted hub")
    work("after the restart", polls_after)
    return {c.name: c for c in clients}


# ------------------------------------------------------------- wg-quick configuration files


def wg_config_dir(lab: Lab) -> Path:
    """Where a story keeps the hub's wg-quick file (the shipper's --wg-config-dir)."""
    return lab.workdir / "wireguard"


@dataclass(frozen=True)
class Registered:
    """A peer known by key and name that no lab client plays (it never connects)."""

    name: str
    public_key: str


def _wg_quick_hub(lab: Lab, tick: Tick, on_peer: OnPeer, idle: Idle, history_seconds: float) -> tuple[Path, list[Client]]:
    """Two connected peers and the hub running from its wg-quick file: the baseline, then
    the history the rules need before the story's part."""
    alice = lab.add_client("laptop-alice", "nl-amsterdam", keepalive=KEEPALIVE)
    on_peer(alice)
    site = lab.add_client("site-carol", "gb-v6", preshared_key=True, keepalive=KEEPALIVE)
    on_peer(site)
    clients = [alice, site]
    conf = lab.hub_to_wg_quick(wg_config_dir(lab), {c.public_key: c.name for c in clients})
    _reconnect(lab, clients)
    tick("baseline: laptop-alice (Amsterdam) and site-carol (IPv6, preshared key) connected; the hub runs from its wg-quick file")
    idle(history_seconds, f"{history_seconds:.0f} s of history: keepalives only")
    return conf, clients


def _reconnect(lab: Lab, clients: list[Client]) -> None:
    """After the hub came (back) up from its file: each client handshakes again (15 s of
    silence from the new hub first), then moves a little traffic."""
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda client: lab.connect(client, timeout=40), clients))
    for client in clients:
        lab.send(client, 20_000)


def _add_to_interface_section(conf: Path, lines: list[str]) -> None:
    text = conf.read_text().replace("[Interface]\n", "[Interface]\n" + "".join(f"{line}\n" for line in lines), 1)
    conf.write_text(text)


def _restart(lab: Lab, conf: Path, tick: Tick, clients: list[Client]) -> None:
    lab.wg_quick("down", conf)
    tick("wg-quick down of the hub")
    lab.wg_quick("up", conf)
    tick("wg-quick up of the hub: the interface runs what the file says")
    _reconnect(lab, clients)
    tick("every client handshook with the restarted hub")


def planted_peer(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS, drift_polls: int = 3,
) -> dict[str, Any]:  # fmt: skip
    conf, clients = _wg_quick_hub(lab, tick, on_peer, idle or _sleep_then(tick), history_seconds)
    _, mallory = lab.new_key_pair()
    with conf.open("a") as f:
        f.write(f"\n[Peer]\nPublicKey = {mallory}\nAllowedIPs = 10.77.0.0/16\n")
    _add_to_interface_section(conf, ["PostUp = echo %i >/dev/null"])
    os.chmod(conf, 0o644)
    tick("an intruder appended a [Peer] (allowed IPs 10.77.0.0/16) and a PostUp hook, and left the file world-readable")
    for i in range(drift_polls):
        for client in clients:
            lab.send(client, 20_000)
        tick(f"the file and the running hub disagree, poll {i + 1} of {drift_polls}")
    _restart(lab, conf, tick, clients)
    return {c.name: c for c in clients}


def change_in_window(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS,
) -> dict[str, Any]:  # fmt: skip
    conf, clients = _wg_quick_hub(lab, tick, on_peer, idle or _sleep_then(tick), history_seconds)
    _, dave = lab.new_key_pair()
    with conf.open("a") as f:
        f.write(f"\n[Peer]\n# friendly_name = phone-dave\nPublicKey = {dave}\nAllowedIPs = 10.77.0.50/32\n")
    tick("the administrator added phone-dave's [Peer] to the file")
    _restart(lab, conf, tick, clients)
    return {**{c.name: c for c in clients}, "phone-dave": Registered("phone-dave", dave)}


# ------------------------------------------------------------- the office LAN (lan.py)

# Three colleagues, each with a laptop, and what each does on the LAN every day: the
# intranet for all, the file server for laptop-ivan. laptop-grace does nothing else, ever.
OFFICE = {"laptop-grace": "nl-amsterdam", "laptop-heidi": "se", "laptop-ivan": "es-madrid"}
OFFICE_DAILY: dict[str, tuple[Exchange, ...]] = {
    "laptop-grace": (Exchange("web", 80, 600, 30_000), Exchange("web", 8080, 400, 12_000)),
    "laptop-heidi": (Exchange("web", 80, 500, 25_000),),
    "laptop-ivan": (Exchange("web", 80, 700, 40_000), Exchange("files", 445, 2_000, 150_000)),
}
# internal-daily-use: laptop-heidi is the database's administrator and queries it daily.
DBA_QUERY = Exchange("db", 5432, 1_500, 120_000)
# lateral-movement: laptop-heidi, who never used the database, queries it, then dumps it.
DB_FIRST_QUERY = Exchange("db", 5432, 300, 8_000)
DB_DUMP = Exchange("db", 5432, 200, 1_200_000_000)
# internal-scan: laptop-ivan sweeps the first 40 addresses of the LAN, then tries the
# usual ports of the host that answered on most.
SWEEP = tuple(str(ipaddress.ip_network(LAN_NET)[i]) for i in range(1, 41))
PROBED_HOST = "db"
PROBED_PORTS = (21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 631, 993, 995, 1433,
                1521, 2049, 3306, 3389, 5432, 5900, 5985, 6379, 8000, 8080, 8443, 9200, 11211, 27017)  # fmt: skip
# peer-to-peer: desktop-heidi, at home in Sweden, serves SSH on its tunnel address, and
# laptop-heidi works on it every day; laptop-ivan logs in to it, then copies files off it.
HOME_DESKTOP = "desktop-heidi"
HOME_DESKTOP_PORTS = (22,)
HOME_SSH = Exchange(HOME_DESKTOP, 22, 3_000, 40_000)
P2P_DAILY = {**OFFICE_DAILY, "laptop-heidi": (*OFFICE_DAILY["laptop-heidi"], HOME_SSH)}
P2P_LOGIN = Exchange(HOME_DESKTOP, 22, 2_000, 20_000)
P2P_COPY = Exchange(HOME_DESKTOP, 22, 1_000, 4_000_000)


def _daily(lan: Lan, clients: dict[str, Client], daily: dict[str, tuple[Exchange, ...]]) -> None:
    for name, exchanges in daily.items():
        for exchange in exchanges:
            lan.exchange(clients[name], exchange)
    lan.settle()


@dataclass(frozen=True)
class Cast:
    """Who plays a LAN story: each peer and its underlay, the TCP ports some serve on their
    tunnel address (Lan.serve), and how the baseline's step names them."""

    peers: dict[str, str]
    services: dict[str, tuple[int, ...]]
    baseline: str


OFFICE_CAST = Cast(OFFICE, {}, "laptop-grace (Amsterdam), laptop-heidi (Linköping) and laptop-ivan (Madrid) connected")
P2P_CAST = Cast(
    {**OFFICE, HOME_DESKTOP: "se"}, {HOME_DESKTOP: HOME_DESKTOP_PORTS},
    f"{OFFICE_CAST.baseline}, and {HOME_DESKTOP} (at home in Sweden, SSH on its tunnel address)",
)  # fmt: skip


def _office(
    lab: Lab, lan: Lan, tick: Tick, on_peer: OnPeer, idle: Idle, history_seconds: float, daily: dict[str, tuple[Exchange, ...]],
    cast: Cast = OFFICE_CAST,
) -> dict[str, Client]:
    """The cast (the three laptops) connected, its services started, and a day's work done
    at the baseline, so that where each goes on the LAN, and which peer reaches which, is
    history; then the history the rules need before the story's part."""
    clients = {}
    for name, underlay in cast.peers.items():
        clients[name] = lab.add_client(name, underlay, keepalive=KEEPALIVE)
        on_peer(clients[name])
    for name, ports in cast.services.items():
        lan.serve(clients[name], ports)
    for client in clients.values():
        lab.connect(client)
    _daily(lan, clients, daily)
    tick(f"baseline: {cast.baseline}, each has done its daily work on the LAN")
    idle(history_seconds, f"{history_seconds:.0f} s of history: keepalives only")
    return clients


def _rounds(lan: Lan, clients: dict[str, Client], daily: dict[str, tuple[Exchange, ...]], tick: Tick, when: str, rounds: int) -> None:
    for i in range(rounds):
        _daily(lan, clients, daily)
        tick(f"daily work on the LAN {when}, poll {i + 1} of {rounds}")


def internal_daily_use(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, lan: Lan, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS, rounds: int = 3,
) -> dict[str, Client]:  # fmt: skip
    daily = {**OFFICE_DAILY, "laptop-heidi": (*OFFICE_DAILY["laptop-heidi"], DBA_QUERY)}
    clients = _office(lab, lan, tick, on_peer, idle or _sleep_then(tick), history_seconds, daily)
    _rounds(lan, clients, daily, tick, "as every day", rounds)
    return clients


def lateral_movement(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, lan: Lan, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS, dump: Exchange = DB_DUMP,
) -> dict[str, Client]:  # fmt: skip
    clients = _office(lab, lan, tick, on_peer, idle or _sleep_then(tick), history_seconds, OFFICE_DAILY)
    _rounds(lan, clients, OFFICE_DAILY, tick, "before", 1)
    heidi, db = clients["laptop-heidi"], lan.host("db")
    lan.exchange(heidi, DB_FIRST_QUERY)
    lan.settle()
    tick(f"laptop-heidi connected to the database {db.address}:{DB_FIRST_QUERY.port} for the first time "
         f"({DB_FIRST_QUERY.upload} bytes up, {DB_FIRST_QUERY.download} down)")  # fmt: skip
    lan.exchange(heidi, dump)
    lan.settle()
    tick(f"laptop-heidi pulled {dump.download / 1e9:.1f} GB from the database in one connection")
    _rounds(lan, clients, OFFICE_DAILY, tick, "after", 1)
    return clients


def internal_scan(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, lan: Lan, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS,
) -> dict[str, Client]:  # fmt: skip
    clients = _office(lab, lan, tick, on_peer, idle or _sleep_then(tick), history_seconds, OFFICE_DAILY)
    _rounds(lan, clients, OFFICE_DAILY, tick, "before", 1)
    ivan = clients["laptop-ivan"]
    found = lan.ping_sweep(ivan, SWEEP)
    lan.settle()
    tick(f"laptop-ivan pinged {SWEEP[0]}-{SWEEP[-1]} at once: {len(found)} answered ({', '.join(found)})")
    host = lan.host(PROBED_HOST)
    open_ports = lan.probe_ports(ivan, PROBED_HOST, PROBED_PORTS)
    lan.settle()
    tick(f"laptop-ivan tried {len(PROBED_PORTS)} ports of {host.address}: open {', '.join(map(str, open_ports))}")
    _rounds(lan, clients, OFFICE_DAILY, tick, "after", 1)
    return clients


def peer_to_peer(
    lab: Lab, tick: Tick, on_peer: OnPeer = lambda client: None, *, lan: Lan, idle: Idle | None = None,
    history_seconds: float = HISTORY_SECONDS, copy: Exchange = P2P_COPY,
) -> dict[str, Client]:  # fmt: skip
    clients = _office(lab, lan, tick, on_peer, idle or _sleep_then(tick), history_seconds, P2P_DAILY, P2P_CAST)
    _rounds(lan, clients, P2P_DAILY, tick, "before", 1)
    ivan, desktop = clients["laptop-ivan"], lan.host(HOME_DESKTOP)
    lan.exchange(ivan, P2P_LOGIN)
    lan.settle()
    tick(f"laptop-ivan logged in to {HOME_DESKTOP} ({desktop.address}:{P2P_LOGIN.port}) through the hub for the first time "
         f"({P2P_LOGIN.upload} bytes up, {P2P_LOGIN.download} down)")  # fmt: skip
    lan.exchange(ivan, copy)
    lan.settle()
    tick(f"laptop-ivan copied {copy.download / 1e6:.0f} MB off {HOME_DESKTOP} in a second connection")
    _rounds(lan, clients, P2P_DAILY, tick, "after", 1)
    return clients


# ------------------------------------------------------------------------ the index


@dataclass(frozen=True)
class Story:
    name: str  # the scenario folder is fixtures/scenarios/lab-<name>
    description: str
    play: Callable[..., dict[str, Any]]  # name -> Client, or Registered for a peer no client plays
    kind: str = "normal"
    lan: bool = False  # plays on the LAN behind the hub (lan.py): `play(..., lan=Lan)`


STORIES = {
    s.name: s
    for s in (
        Story(
            "phone-roaming",
            "phone-erin's phone roams four times between three addresses of its usual network "
            "(home Wi-Fi, mobile data, office Wi-Fi: one country, one AS, one city) while "
            "desktop-frank works steadily: same place, same operator, too few flaps to alert.",
            phone_roaming,
        ),
        Story(
            "interface-restart",
            "The hub's interface is restarted (wg-quick down / up of wireguard-go, same key and "
            "peers) while three named peers are connected: counters back to zero, sessions end "
            "and start again, endpoints are learnt again, and nobody is added.",
            interface_restart,
        ),
        Story(
            "planted-peer",
            "The hub runs from a wg-quick file. An intruder appends a [Peer] with allowed IPs "
            "10.77.0.0/16 and a PostUp hook and leaves the file world-readable; the running "
            "interface disagrees with the file until a restart brings the peer up.",
            planted_peer,
            kind="attack",
        ),
        Story(
            "change-in-window",
            "The hub runs from a wg-quick file. Inside the host's change window an administrator "
            "adds phone-dave's [Peer] to the file and restarts the interface: a registered "
            "peer, a short drift, nothing to alert on.",
            change_in_window,
        ),
        Story(
            "internal-daily-use",
            "Three laptops do their daily work on the LAN behind the hub: the intranet web server "
            "for all, the file server for laptop-ivan, and the database for laptop-heidi, its "
            "administrator. Everyone goes where they went yesterday: nothing to alert on.",
            internal_daily_use,
            lan=True,
        ),
        Story(
            "lateral-movement",
            "laptop-heidi, who only ever used the intranet, connects to the database host for the "
            "first time and pulls 1.2 GB from it in one connection, while laptop-grace and "
            "laptop-ivan do their usual work on the LAN.",
            lateral_movement,
            kind="attack",
            lan=True,
        ),
        Story(
            "internal-scan",
            "laptop-ivan pings 40 addresses of the LAN behind the hub at once, then tries 34 ports "
            "of the database host, while laptop-grace and laptop-heidi use the intranet as every day.",
            internal_scan,
            kind="attack",
            lan=True,
        ),
        Story(
            "peer-to-peer",
            "laptop-heidi logs in to her own desktop, a peer of the VPN, over SSH on its tunnel "
            "address every day; laptop-ivan logs in to the same desktop through the hub for the "
            "first time and copies files off it, while the laptops do their usual work on the LAN.",
            peer_to_peer,
            kind="attack",
            lan=True,
        ),
    )
}
