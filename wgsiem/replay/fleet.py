"""A synthetic fleet for measurement: a month of ordinary life of one WireGuard
concentrator with hundreds or thousands of peers, written as a story for the capture
generator (story.py), optionally with attacks planted in it, and its run through the
shipper, the ingest pipeline and every rule (docs/fleet.md).

    story, planted = fleet_story(peers=1000, days=30, seed=1, attacks=True)
    run = run_fleet(story, geo_dir, warmup_days=7)     # shipper → pipeline → rules
    by_plant, ordinary = match_plants(planted, run.alerts)   # alerts per plant, the rest

Normal life (the same for a seed whether or not attacks are planted, so the two runs
differ only by the attacks):

* kinds of peer: office laptops (a working day each, 8 to 10.5 hours starting 06:30 to
  09:30 UTC, off at weekends), phones (most of the day, every day, keepalive), evening
  users (late afternoon to past midnight), always-on servers and site-to-site peers (a LAN
  behind them); rates are drawn log-uniformly per peer, and the host sends people more
  than it receives from them;
* homes: each peer has one home network of the test GeoIP world (NL, ES, GB v4 and v6, SE,
  US/Milton); phones roam between two or three addresses of that one network (one country,
  one ASN: Wi-Fi and mobile) two to four times a day within their hours;
* nightly backups: every site uploads (the host receives, rx) for 45 to 90 minutes at its
  own fixed hour each night, the same volume every night;
* replication: a third of the sites pull a copy each night at their own hour between 01:00
  and 03:40 (the host sends, tx, 6-12 MiB/s for 20-40 minutes: over 1 GiB in every
  5-minute interval); the registry tags them `backup`, which the Large Transfer rule's
  exception list (detection_rules/exceptions/) leaves out, and the same volume every night
  is their spike baseline;
* site blips: each site's line drops one to five times a month for 8 to 18 minutes in the
  day, under its `always_on: 30m` (near misses of Always-On Peer Down); a site's tunnel
  was up before the shipper came (its last handshake under two minutes before the start);
* a shipper outage: the shipper is stopped at 06:00 on one day (60 % into the month) for
  65 minutes, no polls at all (the story's poll segments): the next poll sees a 65-minute
  interval, fresh handshakes and the hour's kernel lines late;
* changes: about 1.5 % of the peers are onboarded during the month, on weekdays during
  office hours and with a name; about 2 % have their key rotated on a weekday (same name,
  the registry follows the rotation); about 5 % of the people go on holiday for a week
  (silent) and come back; the interface restarts at 04:00 now and then (at 45 % and 85 %
  of the month: interface-down and -up, no configuration change);
* names: every peer has a registered name except about 1 % long-standing unnamed servers
  and laptops present at the baseline; the registry (`fleet_registry`) gives each named
  peer its role (laptop, phone, server, site), an owner and an email for people's peers,
  tags (a team; `site`, `backup`), `always_on: 30m` for sites, and expects it in its home
  network and that network's country; its change windows are weekdays 08:00-18:00 UTC,
  when the onboardings and rotations happen; one named "forgotten contractor" peer has
  not handshaken for 45 days when the shipper starts (the story's per-peer `handshake`)
  and stays silent;
* kernel log noise: now and then a client with a stale configuration retrying every 5 s
  for 20 minutes, and single scanner probes (`Invalid handshake initiation from ...`);
* inner flows (fleet_flows.py, fixtures/fleet/inner-network.yaml): behind the concentrator
  an internal network (servers 10.20.1.0/24, databases 10.20.2.0/24, storage 10.20.3.0/24,
  admin 10.20.9.0/24; a split tunnel: nothing else is routed through it), and the gateway's
  conntrack events of the peers' connections into it, while they are up: a handful a day
  per person to the intranet, wiki, mail and file server and their team's application
  (engineering: git and a staging database; sales, finance, support: their own), phones
  mail and the intranet; application servers a pool to their own production database
  (the only users of the database network, every day), a log stream and lookups; each
  site's workstations on weekdays, its NAS's nightly upload to the backup store and, for
  the backup sites, its replica pull (the story's volumes: several GiB in one
  connection), its ERP box's syncs with the next site (peer to peer, every day), and the
  monitoring host's scrapes of the servers and pings of the sites' routers (connections
  towards the peers: outbound). Near misses: an administrator's weekly run over the ten
  hosts of the servers network within a few minutes (the sweep rule wants 20), a Windows
  client's RPC ports on the file server (up to 8 ports; the port scan rule wants 20). The
  lines are made and read back by the shipper's conntrack parser one day of connections at
  a time, none while the shipper is stopped.

Attacks (`attacks=True`), spread over the days after the warm-up, each returned as a
`Planted` with the rules that should fire (within an hour; the site outage within its two
hours and one more):

* dormant: the forgotten contractor returns after 45+ days, from a hosting network (a new
  ASN, same country): Dormant Peer Returns, New Network Operator;
* stolen-key: a laptop's key used from China while the laptop works from home: the
  endpoint flips at every poll for an hour: Several Places, Impossible Travel, New
  Country, New Network Operator, Outside Its Registered Places;
* exfiltration: an always-on server is sent 3 GiB within one poll interval at 02:30:
  Exfiltration Spike, Large Transfer;
* rogue-peer: an unnamed peer added to the live interface at 03:10, talking from a
  hosting network: Unregistered Peer Added, Unregistered Key First Seen (the new country
  and network rules follow registered names only), Change Outside a Change Window;
* scanner: 240 invalid handshake initiations from one address within a minute:
  Handshake Flood;
* spoofing: a site peer sends packets from another peer's tunnel address (kernel lines
  `Packet has unallowed src IP (...) from peer N (...)`, after the handshake lines that
  name its kernel id): Unallowed Source Address;
* impossible-travel: a laptop's endpoint jumps to a city 900+ km away between two polls
  and back an hour later: Impossible Travel, New Country, New Network Operator, Outside
  Its Registered Places;
* site-outage: a site silent for two hours from 09:20, then back from its usual place:
  Always-On Peer Down, Always-On Peer Back After an Outage;
* off-hours-change: on a Sunday night at 23:40 a server's (or site's) allowed IPs are
  widened to 0.0.0.0/0: Allowed IPs Changed, Change Outside a Change Window.

* shipper-failing: for 20 minutes one evening wg cannot read the interface ("Unable to
  access interface wg0: Operation not permitted", exit status 1: an AppArmor profile or
  the service's lost capability): the shipper-health events `ship` writes every 5 minutes
  (`capture.with_health`, run here as in replay) count the failed polls: Shipper Reporting
  Failures.

Inside the tunnel (the story's `flows`, office laptops on weekdays, drawn after the others
so that those stay as they were):

* internal-sweep: a laptop probes the 254 addresses of the servers network on port 445 in
  100 s, then 200 ports of the file server in 45 s: Sweeping Internal Hosts, Scanning Ports
  of an Internal Host;
* lateral-movement: a laptop connects to a production database (the network only the
  application servers use): Reaching a New Internal Host;
* internal-pull: a laptop copies 2.5 GiB from the file server on one connection over 25
  minutes (about 512 MiB per poll interval: half what the tunnel-level Large Transfer
  wants; the story's timeline carries the same volume as a burst), a laptop that was never
  sent more than 100 KiB/s: Pulling a Large Volume from an Internal Host, Exfiltration Spike;
* peer-to-peer: a laptop opens a colleague's device's SMB share through the hub: Reaching
  Another Peer.

The rules run with the repository's exception and value lists and the fleet
organisation's own (`fleet_tuning`, fixtures/fleet/tuning/): the sensitive networks
narrowed to the database network, as WireGuard Peer Reaching a New Internal Host asks
(with the shipped list, every private range, each onboarded peer's and rotated key's first
visits and every service a person uses less than daily would be new hosts: the
application servers are the only database users and have used their database from the
first day, so they are history), and the backup sites left out of the large pull rule (an
exception on their `backup` tag, as that rule's note says).

Ordinary life has a successful health event every 5 minutes, none while the shipper is
stopped, and a start-up one after its restart.

Polls are every 5 minutes by default (`poll_every`): a 1,000-peer, 30-day fleet is
8,629 polls (8,641 less the 12 of the shipper outage). Five minutes is also the longest
the rules allow: the Large Transfer rule judges only intervals of at most 300 s. The shipper is given a session timeout of the
poll interval + 300 s (two polls' handshakes of a busy peer are up to ~420 s apart), and
every transfer event covers 5 minutes, ten times the volume of a 30-second poll's.

"""

from __future__ import annotations

import ipaddress
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..content import FIXTURES
from ..detection.testing import lookup
from ..enrich.registry import RegisteredPeer, Registry
from ..enrich.windows import parse_windows
from ..settings import duration
from ..wgdump.raw import RawPoll
from .fleet_flows import InnerFlows, load_inner_network
from .story import _secs as story_secs
from .story import derive_key, render, size

START = datetime(2026, 10, 1, tzinfo=UTC)
DAY = 86400
HOST = "vpn1"
IFACE = "wg0"

# Rule names (detection_rules/*.toml).
SEVERAL = "WireGuard Peer Key Used from Several Places at Once"
TRAVEL = "WireGuard Peer Impossible Travel"
COUNTRY = "WireGuard Peer Connecting from a New Country"
ASN = "WireGuard Peer Connecting from a New Network Operator"
EXFIL = "WireGuard Exfiltration Spike to a Peer"
LARGE = "WireGuard Large Transfer to a Peer"
ADDED = "WireGuard Unregistered Peer Added to a Live Interface"
NEW_KEY = "WireGuard Unregistered Peer Key First Seen on a Host"
FLOOD = "WireGuard Handshake Flood from One Source"
SPOOF = "WireGuard Peer Sent Packets from an Unallowed Source Address"
DORMANT = "WireGuard Dormant Peer Returns"
OUTSIDE = "WireGuard Peer Connecting from Outside Its Registered Places"
DOWN = "WireGuard Always-On Peer Down"
BACK = "WireGuard Always-On Peer Back After an Outage"
CHANGE = "WireGuard Configuration Change Outside a Change Window"
ALLOWED = "WireGuard Peer Allowed IPs Changed"
SHIPPER = "WireGuard Shipper Reporting Failures"
SWEEP = "WireGuard Peer Sweeping Internal Hosts"
PORT_SCAN = "WireGuard Peer Scanning Ports of an Internal Host"
LARGE_PULL = "WireGuard Peer Pulling a Large Volume from an Internal Host"
NEW_HOST = "WireGuard Peer Reaching a New Internal Host"
PEER_TO_PEER = "WireGuard Peer Reaching Another Peer"
# The shipper's --health-interval in the fleet (ship's default).
HEALTH_EVERY = 300

# The registry's limit for the sites (always_on: 30m): a site may be dark that long before
# it is reported down; ordinary life's blips stay well under it.
SITE_SILENT_AFTER = "30m"
# When this organisation changes its VPN configuration: weekdays in office hours (UTC).
# Onboardings (09:00-16:00) and key rotations (10:00-16:00, seen at the next poll) fall
# inside; the interface restarts at 04:00 are no configuration change.
CHANGE_WINDOWS = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}]
# The shipper is stopped for a host update at 06:00 on one day (60 % into the month) for
# 65 minutes: no polls at all in between.
OUTAGE_AT, OUTAGE_FOR = 6 * 3600, 65 * 60


@dataclass(frozen=True)
class Network:
    """A network of the test GeoIP world (fixtures/geoip/world.yaml)."""

    label: str
    country: str
    asn: int
    prefix: str  # "198.51.100." (IPv4, hosts lo..hi) or "2001:db8:" (IPv6)
    lo: int = 1
    hi: int = 254

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The addresses it hands out (lo..hi), as one network."""
        if ":" in self.prefix:
            return ipaddress.ip_network(f"{self.prefix}:/32")
        host_bits = (self.hi - self.lo).bit_length()  # the world's networks are aligned blocks
        return ipaddress.ip_network(f"{self.prefix}{self.lo}/{32 - host_bits}", strict=False)

    def address(self, rng: random.Random) -> str:
        if ":" in self.prefix:
            return f"{self.prefix}{rng.randrange(1, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"
        return f"{self.prefix}{rng.randint(self.lo, self.hi)}"


# Where people and sites live: the weights are shares of the fleet.
HOMES: list[tuple[Network, int]] = [
    (Network("nl", "NL", 64497, "198.51.100."), 30),
    (Network("es", "ES", 64498, "203.0.113."), 20),
    (Network("gb6", "GB", 64499, "2001:db8:"), 15),
    (Network("gb", "GB", 64500, "81.2.69.", 145, 158), 5),
    (Network("se", "SE", 64501, "89.160.20.", 129, 254), 20),
    (Network("us", "US", 64504, "216.160.83.", 57, 62), 10),
]
SE = HOMES[4][0]
ES = HOMES[1][0]
US_HOME = HOMES[5][0]
# Never used by normal life.
CHINA = Network("cn", "CN", 64502, "175.16.199.")
BHUTAN = Network("bt", "BT", 64503, "67.43.156.")
HOSTING = Network("us-hosting", "US", 64496, "192.0.2.")

# Kinds of peer and their share of the fleet.
KINDS = [("laptop", 45), ("phone", 30), ("evening", 10), ("server", 10), ("site", 5)]
PERSON = ("laptop", "phone", "evening")


@dataclass(frozen=True)
class Planted:
    """One planted attack: what, about which peer (story name and public key) or source
    address, when (unix seconds), the rules that should fire for it, and within how long
    (an hour, longer for an outage whose end is one of its alerts)."""

    kind: str
    peer: str | None
    public_key: str | None
    source: str | None
    time: int
    rules: tuple[str, ...]
    within: int = 3600  # seconds after `time` in which its alerts are expected

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.time, UTC)


def default_warmup(days: int) -> int:
    """Days of history before the rules run: a week for a month, less for short fleets."""
    return min(7, max(1, days // 4))


def session_timeout(poll_every: int) -> int:
    """The shipper's session timeout for a poll interval: two polls' handshakes of a busy
    peer are up to poll + 120 s apart, so the default 180 s would cut every session."""
    return max(180, poll_every + 300)


def fleet_story(
    peers: int,
    days: int,
    seed: int,
    attacks: bool,
    *,
    poll_every: int = 300,
    warmup_days: int | None = None,
) -> tuple[dict[str, Any], list[Planted]]:
    """The story of `peers` regular peers over `days` days (see the module docstring), and
    the attacks planted in it (none without `attacks`). Attacks fall after `warmup_days`
    (default `default_warmup(days)`), when the rules run."""
    if peers < 10:
        raise ValueError("a fleet needs at least 10 peers")
    if days < 4:
        raise ValueError("a fleet needs at least 4 days")
    if DAY % poll_every or poll_every % 60:
        raise ValueError("poll_every must be whole minutes dividing a day")
    warmup = default_warmup(days) if warmup_days is None else warmup_days
    if not 1 <= warmup <= days - 3:
        raise ValueError(f"warmup_days must leave at least 3 days for the attacks (1..{days - 3})")
    life = _Life(peers, days, seed, poll_every)
    life.build()
    planted: list[Planted] = []
    if attacks:
        planted = _Attacks(life, random.Random(f"fleet {seed} attacks"), warmup).plant()
    down, up = life.outage
    t0 = int(START.timestamp())
    for p in planted:
        if p.time - t0 <= up + 3600 and p.time - t0 + p.within >= down - 3600:
            raise ValueError(f"the {p.kind} attack falls within an hour of the shipper outage")
    story: dict[str, Any] = {
        "seed": seed,
        "start": START.isoformat().replace("+00:00", "Z"),
        "end": f"{days}d",
        "host_name": HOST,
        "interface": {"name": IFACE, "listen_port": 51820},
        # The shipper's outage: the poll at `down`, then none until `up`.
        "polls": [
            {"until": _at(down), "every": f"{poll_every}s"},
            {"until": _at(up), "every": f"{up - down}s"},
            {"every": f"{poll_every}s"},
        ],
        "peers": life.peers,
        "timeline": sorted(life.timeline, key=lambda e: (_secs(e["at"]), e.get("peer") or "", str(e.get("log") or ""))),
        # The planted inner connections (fleet_flows.py); ordinary life's come from the rest.
        "flows": sorted(life.flows, key=lambda e: _secs(e["at"])),
    }
    return story, planted


def is_saturday(day: int) -> bool:
    """Whether day `day` of the fleet (START is a Thursday) is a Saturday."""
    return (START + timedelta(days=day)).weekday() == 5


def weekday(day: int) -> int:
    """The day itself, or the Monday after it if it falls on a weekend."""
    while (START + timedelta(days=day)).weekday() >= 5:
        day += 1
    return day


def _at(seconds: float) -> str:
    return f"{int(seconds)}s"


def _secs(at: str) -> int:
    return int(at[:-1])


def _hhmm(seconds: int) -> str:
    seconds %= DAY
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _rate(rng: random.Random, lo: float, hi: float) -> str:
    """Log-uniform between lo and hi KiB/s, as the story's size text."""
    return f"{round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 1)}KiB/s"


class _Life:
    """Normal life: every draw comes from one RNG, in a fixed order."""

    def __init__(self, n: int, days: int, seed: int, poll_every: int) -> None:
        self.n, self.days, self.seed, self.every = n, days, seed, poll_every
        self.onboard_count = max(1, round(n * 0.015))  # peers added during the month
        self.rng = random.Random(f"fleet {seed} life")
        self.peers: dict[str, dict[str, Any]] = {}
        self.timeline: list[dict[str, Any]] = []
        self.kind: dict[str, str] = {}
        self.home: dict[str, Network] = {}
        self.hours: dict[str, tuple[int, int] | None] = {}
        self.endpoints: dict[str, list[str]] = {}
        self.busy: dict[str, list[tuple[float, float]]] = {}  # holidays, rotations: keep attacks off them
        self.tunnel: dict[str, str] = {}
        self.away: dict[str, list[tuple[int, int]]] = {}  # silent spans: weekends (laptops), holidays
        self.rotations: dict[str, list[int]] = {}  # story name → offsets of its key rotations
        self.onboarded: list[str] = []
        self.unnamed: list[str] = []
        self.restarts: list[int] = []
        self.outage = (0, 0)  # the shipper's: (last poll before, first poll after)
        self.flows: list[dict[str, Any]] = []  # planted inner connections (fleet_flows.py)
        self._spots: set[tuple[str, int]] = set()
        self._ports = iter(random.Random(f"fleet {seed} ports").sample(range(20000, 65000), 45000))

    # -- building blocks -------------------------------------------------------------

    def endpoint(self, net: Network) -> str:
        while True:
            ip = net.address(self.rng)
            port = next(self._ports)
            if (ip, port) not in self._spots:
                self._spots.add((ip, port))
                return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    def new_peer(self, i: int, kind: str, named: bool, added: int | None) -> str:
        rng = self.rng
        key = f"p{i:05d}"
        home = rng.choices([h for h, _ in HOMES], [w for _, w in HOMES])[0]
        if kind == "site":  # sites keep to IPv4 networks
            home = rng.choice([h for h, _ in HOMES if ":" not in h.prefix])
        tunnel = f"10.8.{i // 250}.{i % 250 + 2}"
        spec: dict[str, Any] = {"allowed_ips": [f"{tunnel}/32"], "preshared_key": rng.random() < 0.5}
        hours: tuple[int, int] | None = None
        if kind == "laptop":
            start = rng.randrange(6 * 60 + 30, 9 * 60 + 31, 5) * 60
            hours = (start, start + rng.randrange(8 * 60, 10 * 60 + 31, 5) * 60)
            spec.update(rx=_rate(rng, 5, 80), tx=_rate(rng, 20, 400))
        elif kind == "phone":
            hours = (rng.randrange(6 * 60 + 30, 8 * 60 + 1, 5) * 60, rng.randrange(22 * 60, 23 * 60 + 56, 5) * 60)
            spec.update(rx=_rate(rng, 1, 10), tx=_rate(rng, 2, 60), keepalive=25)
        elif kind == "evening":
            hours = (rng.randrange(17 * 60 + 30, 20 * 60 + 1, 5) * 60, rng.randrange(24 * 60 + 5, 25 * 60 + 31, 5) * 60 % DAY)
            spec.update(rx=_rate(rng, 2, 40), tx=_rate(rng, 50, 800))
        elif kind == "server":
            spec.update(rx=_rate(rng, 10, 200), tx=_rate(rng, 10, 200), keepalive=25)
        else:  # site
            spec.update(rx=_rate(rng, 50, 1024), tx=_rate(rng, 50, 1024), keepalive=25)
            spec["allowed_ips"].append(f"172.{16 + i // 256}.{i % 256}.0/24")  # 172.16.0.0/12: one LAN each
            # Its tunnel was up before the shipper came: a handshake within the last two
            # minutes, not hours ago (the first poll would call the site down).
            spec["handshake"] = f"{30 + i % 90}s"
        if hours:
            spec["hours"] = f"{_hhmm(hours[0])}-{_hhmm(hours[1])}"
        spots = [self.endpoint(home)]
        if kind == "phone":
            spots += [self.endpoint(home) for _ in range(rng.choice((1, 2)))]
        spec["endpoint"] = spots[0]
        if named:
            spec["name"] = f"site-{home.label}-{i:04d}" if kind == "site" else f"{kind}-{i:04d}"
        if added is not None:
            spec["added"] = _at(added)
        self.peers[key] = spec
        self.kind[key], self.home[key], self.hours[key], self.endpoints[key] = kind, home, hours, spots
        self.busy[key] = []
        self.tunnel[key] = tunnel
        return key

    def up_at(self, key: str, t: float) -> bool:
        if any(a <= t < b for a, b in self.away.get(key, ())):
            return False
        h = self.hours[key]
        if h is None:
            return True
        s = t % DAY
        return h[0] <= s < h[1] if h[0] < h[1] else (s >= h[0] or s < h[1])

    def free(self, key: str, lo: float, hi: float) -> bool:
        return all(hi <= a or lo >= b for a, b in self.busy[key])

    # -- the month -------------------------------------------------------------------

    def build(self) -> None:
        """The month's life, step by step (each step draws from the same generator, in this
        order, so a seed gives the same fleet)."""
        self._draw_peers()
        self._onboard()
        self._forgotten_contractor()
        people = [k for k in self.peers if self.kind[k] in PERSON and k not in self.onboarded]
        self._holidays(people)
        self._key_rotations(people)
        self._weekends_and_silences()
        self._interface_restarts()
        self._phones_roam()
        self._nightly_backups()
        self._kernel_log_noise()
        self._replication_pulls()
        self._site_blips()
        self._shipper_outage()

    def _draw_peers(self) -> None:
        rng, n = self.rng, self.n
        baseline = n - self.onboard_count
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        drawn = [rng.choices(kinds, weights)[0] for _ in range(baseline)]
        for kind, least in (("site", 3), ("server", 1)):  # a few of each, whatever the draw
            while drawn.count(kind) < least:
                drawn[rng.choice([i for i, k in enumerate(drawn) if k in PERSON])] = kind
        unnamed = max(1, round(n * 0.01))
        candidates = [i for i, k in enumerate(drawn) if k in ("server", "laptop")]
        nameless = set(rng.sample(candidates, min(unnamed, len(candidates))))
        for i, kind in enumerate(drawn):
            key = self.new_peer(i, kind, i not in nameless, None)
            if i in nameless:
                self.unnamed.append(key)

    def _onboard(self) -> None:
        """Onboarded during the month, during office hours, under their names."""
        rng, days = self.rng, self.days
        baseline = self.n - self.onboard_count
        for j in range(self.onboard_count):
            at = weekday(rng.randrange(1, max(2, days - 3))) * DAY + rng.randrange(9 * 3600, 16 * 3600, 60)
            key = self.new_peer(baseline + j, rng.choice(("laptop", "phone")), True, at)
            self.onboarded.append(key)
            self.busy[key].append((0, at + DAY))

    def _forgotten_contractor(self) -> None:
        """Named, present at the baseline, silent for 45 days."""
        days = self.days
        key = "contractor"
        spot = self.endpoint(US_HOME)
        self.peers[key] = {"name": "contractor-2025", "allowed_ips": ["10.8.254.2/32"], "endpoint": spot, "rx": "20KiB/s", "tx": "60KiB/s",
                           "handshake": f"{45 * DAY + 3 * 3600 + 17 * 60}s"}
        self.kind[key], self.home[key], self.hours[key], self.endpoints[key] = "contractor", US_HOME, None, [spot]
        self.busy[key], self.tunnel[key] = [(0, days * DAY)], "10.8.254.2"
        self.timeline.append({"at": _at(0), "peer": key, "silent": f"{days + 1}d"})

    def _holidays(self, people: list[str]) -> None:
        """A week away, from an evening, not before the third day."""
        rng, days = self.rng, self.days
        holiday = max(1, round(self.n * 0.05))
        for key in rng.sample(people, min(holiday, len(people))):
            first = rng.randrange(2, max(3, days - 8))
            at = first * DAY + 18 * 3600
            self.busy[key].append((at - DAY, at + 8 * DAY))
            self.away[key] = [(at, at + 7 * DAY)]

    def _key_rotations(self, people: list[str]) -> None:
        """Same name, new key, during the day; never on holiday."""
        rng, days = self.rng, self.days
        rotations = max(1, round(self.n * 0.02))
        named = [k for k in people if "name" in self.peers[k] and k not in self.away]
        for key in rng.sample(named, min(rotations, len(named))):
            for _ in range(5):
                at = weekday(rng.randrange(1, days - 1)) * DAY + rng.randrange(10 * 3600, 16 * 3600, 60)
                if at < days * DAY and self.free(key, at - 2 * DAY, at + 2 * DAY):
                    self.timeline.append({"at": _at(at), "peer": key, "rotate_key": True})
                    self.rotations.setdefault(key, []).append(at)
                    self.busy[key].append((at - DAY, at + DAY))
                    break

    def _weekends_and_silences(self) -> None:
        """Office laptops stay off at weekends; holidays and weekends in a row are one silence."""
        for key in self.peers:
            if self.kind[key] == "laptop":
                spans = self.away.get(key, []) + [(d * DAY, (d + 2) * DAY) for d in range(self.days) if is_saturday(d)]
                self.away[key] = spans
        for key, spans in self.away.items():
            merged: list[tuple[int, int]] = []
            for a, b in sorted(spans):
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
                else:
                    merged.append((a, b))
            self.away[key] = merged
            for a, b in merged:
                self.timeline.append({"at": _at(a), "peer": key, "silent": _at(b - a)})

    def _interface_restarts(self) -> None:
        """At 04:00 (a poll time: the interface is gone for that poll)."""
        for share in (0.45, 0.85):
            day = max(1, round(self.days * share))
            self.restarts.append(day * DAY + 4 * 3600)
        self.restarts = sorted(set(self.restarts))
        for at in self.restarts:
            self.timeline.append({"at": _at(at), "interface": "restart"})

    def _phones_roam(self) -> None:
        """Between their addresses a few times a day, within their hours."""
        rng = self.rng
        for key in self.peers:
            if self.kind[key] != "phone":
                continue
            spots = self.endpoints[key]
            current = 0
            added = _secs(self.peers[key].get("added", "0s"))
            lo, hi = self.hours[key]  # type: ignore[misc]
            for day in range(self.days):
                times = sorted(rng.randrange(lo + 600, hi - 600, 60) for _ in range(rng.randint(2, 4)))
                for s in times:
                    at = day * DAY + s
                    if at <= added or not self.up_at(key, at):
                        continue
                    current = (current + rng.randrange(1, len(spots))) % len(spots)
                    self.timeline.append({"at": _at(at), "peer": key, "endpoint": spots[current]})

    def _nightly_backups(self) -> None:
        """Each site uploads at its own hour, the same volume every night."""
        rng = self.rng
        for key in self.peers:
            if self.kind[key] != "site":
                continue
            rate = f"{rng.randrange(4, 13)}MiB/s"
            usual = self.peers[key]["rx"]
            start = rng.randrange(30, 211, 5) * 60
            length = rng.randrange(45, 91, 5) * 60
            for day in range(self.days):
                self.timeline.append({"at": _at(day * DAY + start), "peer": key, "rx": rate})
                self.timeline.append({"at": _at(day * DAY + start + length), "peer": key, "rx": usual})

    def _kernel_log_noise(self) -> None:
        """A client with a stale configuration retrying for 20 minutes every few days, and
        single probes from the internet most days."""
        rng = self.rng
        for day in range(self.days):
            if rng.random() < 0.3:
                net = rng.choice([h for h, _ in HOMES])
                spot = self.endpoint(net)
                at = day * DAY + rng.randrange(8 * 3600, 20 * 3600)
                self.timeline.append({"at": _at(at), "log": f"Invalid handshake initiation from {spot}", "repeat": 240, "every": "5s"})
            for _ in range(rng.randint(0, 6)):
                spot = f"{HOSTING.address(rng)}:{rng.randrange(1024, 65535)}"
                self.timeline.append({"at": _at(day * DAY + rng.randrange(DAY)), "log": f"Invalid handshake initiation from {spot}"})


    def _replication_pulls(self) -> None:
        """A third of the sites keep a replica: each night at its own hour they pull a copy
        from the host (it sends them, tx) for 20 to 40 minutes at 6-12 MiB/s, well over
        1 GiB per 5-minute interval, ending before 04:00. The registry tags them `backup`,
        which the large transfer rule's exception list leaves out; the same volume every
        night is their spike baseline."""
        rng = self.rng
        sites = [k for k in self.peers if self.kind[k] == "site"]
        for key in sorted(rng.sample(sites, max(1, round(len(sites) / 3)))):
            rate = f"{rng.randrange(6, 13)}MiB/s"
            usual = self.peers[key]["tx"]
            start = rng.randrange(60, 181, 5) * 60
            end = start + rng.randrange(20, 41, 5) * 60
            for day in range(self.days):
                self.timeline.append({"at": _at(day * DAY + start), "peer": key, "tx": rate})
                self.timeline.append({"at": _at(day * DAY + end), "peer": key, "tx": usual})

    def _site_blips(self) -> None:
        """Now and then (one to five times a month) a site's line drops for 8 to 18 minutes
        in the day: with the last handshake up to two minutes before, the longest is some 20
        minutes without one, under the sites' 30-minute limit (near misses of the always-on
        rule)."""
        rng = self.rng
        for key in [k for k in self.peers if self.kind[k] == "site"]:
            for day in sorted(rng.sample(range(1, self.days), rng.randint(1, max(1, self.days // 6)))):
                at = day * DAY + rng.randrange(8 * 3600, 20 * 3600, 60)
                length = rng.randrange(8, 19) * 60
                self.away.setdefault(key, []).append((at, at + length))
                self.timeline.append({"at": _at(at), "peer": key, "silent": _at(length)})

    def _shipper_outage(self) -> None:
        """The shipper stopped (a host update) at 06:00 for about an hour: no polls. The
        first poll after it sees an interval of 65 minutes (longer than the large transfer
        rule judges), each busy peer's latest handshake fresh, the kernel lines of the hour
        late. Its length is whole poll intervals, so the polls keep their times of day."""
        day = max(1, round(self.days * 0.6))
        down = day * DAY + OUTAGE_AT
        self.outage = (down, down + -(-OUTAGE_FOR // self.every) * self.every)


class _Attacks:
    def __init__(self, life: _Life, rng: random.Random, warmup: int) -> None:
        self.life, self.rng = life, rng
        self.seed = life.seed
        span = life.days - 1 - warmup
        # Seven attacks on days spread over what follows the warm-up.
        self.day = [warmup + (k * span) // 7 for k in range(7)]

    def key(self, name: str) -> str:
        return derive_key(self.seed, f"peer:{name}:{len(self.life.rotations.get(name, []))}")

    def pick(self, kinds: Sequence[str], lo: float, hi: float, where: Any = None) -> str:
        """A named peer of the kinds, present since the start, never rotated, busy with
        nothing else around [lo, hi], up all that time, and `where(key)` if given."""
        life = self.life
        pool = [
            k
            for k in life.peers
            if life.kind[k] in kinds
            and (where is None or where(k))
            and "name" in life.peers[k]
            and "added" not in life.peers[k]
            and life.free(k, lo - DAY, hi + DAY)
            and not life.rotations.get(k)
            and all(life.up_at(k, t) for t in range(int(lo), int(hi) + 1, 300))
        ]
        if not pool:
            raise ValueError(f"no {'/'.join(kinds)} peer free between {lo} and {hi}: a larger fleet is needed")
        key = self.rng.choice(sorted(pool))
        life.busy[key].append((lo - DAY, hi + DAY))
        return key

    def plant(self) -> list[Planted]:
        life, rng, every = self.life, self.rng, self.life.every
        out: list[Planted] = []
        tl = life.timeline

        # 1. The forgotten contractor returns from a hosting network (new ASN, same country).
        at = self.day[0] * DAY + 10 * 3600 + 2 * 60 + 30
        if any(r <= at for r in life.restarts):
            raise ValueError("the dormant peer must return before the first interface restart")
        spot = life.endpoint(HOSTING)
        tl.append({"at": _at(at), "peer": "contractor", "silent": "0s"})
        tl.append({"at": _at(at), "peer": "contractor", "endpoint": spot})
        out.append(Planted("dormant", "contractor", self.key("contractor"), spot.rsplit(":", 1)[0], at, (DORMANT, ASN)))

        # 2. A stolen laptop key used from China while the laptop works from home: the
        # endpoint follows whoever sent last, so it flips at every poll for an hour.
        at = weekday(self.day[1]) * DAY + 11 * 3600
        flips = max(7, 3600 // every)
        victim = self.pick(["laptop"], at - every, at + flips * every)
        thief = life.endpoint(CHINA)
        home = life.endpoints[victim][0]
        for k in range(flips + (flips % 2)):
            tl.append({"at": _at(at + k * every), "peer": victim, "endpoint": thief if k % 2 == 0 else home})
        out.append(Planted("stolen-key", victim, self.key(victim), thief.rsplit(":", 1)[0], at, (SEVERAL, TRAVEL, COUNTRY, ASN, OUTSIDE)))

        # 3. Exfiltration at night: an always-on server is sent 3 GiB in one interval.
        at = self.day[2] * DAY + 2 * 3600 + 30 * 60 + 20
        victim = self.pick(["server"], at - DAY, at + 3600)
        tl.append({"at": _at(at), "peer": victim, "burst": {"tx": "3GiB", "over": f"{min(240, every - 40)}s"}})
        out.append(Planted("exfiltration", victim, self.key(victim), None, at, (EXFIL, LARGE)))

        # 4. A rogue peer, unnamed, added to the live interface at night.
        at = self.day[3] * DAY + 3 * 3600 + 10 * 60 + 7
        spot = life.endpoint(HOSTING)
        life.peers["rogue"] = {"allowed_ips": ["10.8.253.7/32"], "endpoint": spot, "added": _at(at), "rx": "3KiB/s", "tx": "40KiB/s", "keepalive": 25}
        life.kind["rogue"], life.home["rogue"], life.hours["rogue"], life.endpoints["rogue"] = "rogue", HOSTING, None, [spot]
        life.busy["rogue"] = [(0, life.days * DAY)]
        out.append(Planted("rogue-peer", "rogue", self.key("rogue"), spot.rsplit(":", 1)[0], at, (ADDED, NEW_KEY, CHANGE)))

        # 5. A scanner: 240 invalid handshake initiations from one address in a minute.
        at = self.day[4] * DAY + 14 * 3600 + 20 * 60 + 17
        ip = BHUTAN.address(rng)
        tl.append({"at": _at(at), "log": f"Invalid handshake initiation from {ip}:{rng.randrange(1024, 65535)}", "repeat": 240, "every": "250ms"})
        out.append(Planted("scanner", None, None, ip, at, (FLOOD,)))

        # 6. Spoofing: a site peer sends packets from another peer's tunnel address. The
        # kernel's handshake lines name its peer id with its endpoint first.
        at = self.day[5] * DAY + 16 * 3600 + 40 * 60 + 3
        victim = self.pick(["site"], at - DAY, at + 3600)
        spot = life.endpoints[victim][0]
        other = rng.choice(sorted(k for k in life.tunnel if k != victim and life.kind.get(k) in PERSON))
        pid = 100 + int(victim[1:]) if victim[1:].isdigit() else 99
        tl.append({"at": _at(at), "log": f"Receiving handshake initiation from peer {pid} ({spot})"})
        tl.append({"at": _at(at), "log": f"Keypair {7000 + pid} created for peer {pid}"})
        tl.append({"at": _at(at + 2), "log": f"Packet has unallowed src IP ({life.tunnel[other]}) from peer {pid} ({spot})", "repeat": 5, "every": "10s"})
        out.append(Planted("spoofing", victim, self.key(victim), spot.rsplit(":", 1)[0], at, (SPOOF,)))

        # 7. Impossible travel: a laptop's endpoint jumps 900+ km within one poll, and back.
        day = self.day[6]
        while (START + timedelta(days=day)).weekday() >= 5:
            day -= 1  # the weekday before: laptops are off at weekends
        at = day * DAY + 12 * 3600
        victim = self.pick(["laptop"], at - every, at + 3600 + every)
        far = SE if life.home[victim] is not SE else ES
        spot = life.endpoint(far)
        tl.append({"at": _at(at), "peer": victim, "endpoint": spot})
        tl.append({"at": _at(at + 3600), "peer": victim, "endpoint": life.endpoints[victim][0]})
        out.append(Planted("impossible-travel", victim, self.key(victim), spot.rsplit(":", 1)[0], at, (TRAVEL, COUNTRY, ASN, OUTSIDE)))

        # 8. A site cut off for two hours in the morning (its line cut, its router stopped),
        # then back from its usual place: down after its 30 minutes, back at its return.
        at = self.day[2] * DAY + 9 * 3600 + 20 * 60 + 3
        outage = 2 * 3600
        victim = self.pick(["site"], at - 3600, at + outage + 3600)
        tl.append({"at": _at(at), "peer": victim, "silent": _at(outage)})
        out.append(Planted("site-outage", victim, self.key(victim), None, at, (DOWN, BACK), within=outage + 3600))

        # 9. A change nobody planned: on a Sunday night a server's (or site's) allowed IPs
        # are widened to 0.0.0.0/0 (the host would route everything no other peer claims
        # to it).
        day = self.sunday()
        at = day * DAY + 23 * 3600 + 40 * 60 + 11
        victim = self.pick(["server", "site"], at - 3600, at + 3600)
        tl.append({"at": _at(at), "peer": victim, "allowed_ips": [*life.peers[victim]["allowed_ips"], "0.0.0.0/0"]})
        out.append(Planted("off-hours-change", victim, self.key(victim), None, at, (ALLOWED, CHANGE)))

        # 10. The monitor blinded: for 20 minutes one evening wg cannot read the interface
        # (an AppArmor profile without net_admin, or the service's capability taken away),
        # and the shipper's health events report the failed polls.
        at = self.day[5] * DAY + 21 * 3600 + 5 * 60 + 9
        tl.append({"at": _at(at), "wg_fails": "20m", "exit_status": 1, "stderr": f"Unable to access interface {IFACE}: Operation not permitted"})
        out.append(Planted("shipper-failing", None, None, None, at, (SHIPPER,)))

        out.extend(self.plant_flows())
        t0 = int(START.timestamp())
        return [Planted(p.kind, p.peer, p.public_key, _bare(p.source), t0 + p.time, p.rules, p.within) for p in out]

    def plant_flows(self) -> list[Planted]:
        """The attacks inside the tunnel: the peers' inner connections (the story's `flows`,
        made into conntrack lines by fleet_flows.py), on office laptops, on weekdays, drawn
        after the other attacks so that those stay as they were."""
        life, inner = self.life, load_inner_network()
        files = inner.services["files"].hosts[0]
        out: list[Planted] = []

        # 11. A sweep: a laptop probes every address of the servers network on the SMB port
        # within 100 s (254 hosts: the sweep rule wants 20 in 10 minutes), then the first 200
        # ports of the file server in 45 s (the port scan rule wants 20).
        at = self.workday(self.day[4]) * DAY + 10 * 3600 + 40 * 60 + 13
        victim = self.pick(["laptop"], at - 600, at + 1200)
        life.flows.append({"at": _at(at), "peer": victim, "sweep": {"hosts": str(inner.networks["servers"]), "port": 445, "over": "100s"}})
        life.flows.append({"at": _at(at + 300), "peer": victim, "scan": {"host": files, "ports": 200, "over": "45s"}})
        out.append(Planted("internal-sweep", victim, self.key(victim), None, at, (SWEEP, PORT_SCAN)))

        # 12. Lateral movement: a laptop reaches a production database, a network only the
        # application servers use, for the first time (one connection, a few MiB).
        at = self.workday(self.day[3]) * DAY + 14 * 3600 + 15 * 60 + 41
        victim = self.pick(["laptop"], at - 600, at + 900)
        db = inner.services["database"].hosts[3]
        life.flows.append({"at": _at(at), "peer": victim, "connect": {"host": db, "port": inner.services["database"].port,
                                                                       "sent": "60KiB", "received": "12MiB", "over": "4m"}})  # fmt: skip
        out.append(Planted("lateral-movement", victim, self.key(victim), None, at, (NEW_HOST,)))

        # 13. A large copy out of the file server to a laptop: 2.5 GiB on one connection over
        # 25 minutes, some 512 MiB per poll interval (half of what the tunnel-level Large
        # Transfer rule wants), more than ten times what this laptop (sent at most 100 KiB/s)
        # was ever sent: the flow rule names the file server, the spike rule sees the tunnel.
        at = self.workday(self.day[6]) * DAY + 15 * 3600 + 5 * 60 + 37
        victim = self.pick(["laptop"], at - 600, at + 1800, where=lambda k: size(life.peers[k]["tx"], "tx") <= 100 * 1024)
        life.timeline.append({"at": _at(at), "peer": victim, "burst": {"tx": "2.5GiB", "over": "25m"}})
        life.flows.append({"at": _at(at), "peer": victim, "connect": {"host": files, "port": inner.services["files"].port,
                                                                       "sent": "3MiB", "received": "2.5GiB", "over": "25m"}})  # fmt: skip
        out.append(Planted("internal-pull", victim, self.key(victim), None, at, (LARGE_PULL, EXFIL)))

        # 14. Peer to peer: a laptop opens a colleague's device's SMB share through the hub.
        at = self.workday(self.day[0]) * DAY + 16 * 3600 + 20 * 60 + 9
        victim = self.pick(["laptop"], at - 600, at + 900)
        target = self.pick(["laptop", "phone"], at - 600, at + 900)
        life.flows.append({"at": _at(at), "peer": victim, "connect": {"peer": target, "port": 445, "sent": "200KiB", "received": "30MiB", "over": "90s"}})
        out.append(Planted("peer-to-peer", victim, self.key(victim), None, at, (PEER_TO_PEER,)))
        return out

    def workday(self, day: int) -> int:
        """`day` if a weekday, else the next one within the month, else the one before."""
        days: list[int] = [*range(day, self.life.days), *range(day - 1, self.day[0] - 1, -1)]
        for d in days:
            if (START + timedelta(days=d)).weekday() < 5:
                return d
        raise ValueError(f"no weekday after the warm-up around day {day}: a longer fleet is needed")

    def sunday(self) -> int:
        """The judged Sunday nearest the middle of the judged days (else the night of the
        rogue peer's day: any night is outside the change windows)."""
        lo, hi = self.day[0], self.life.days - 1
        sundays = [d for d in range(lo, hi) if (START + timedelta(days=d)).weekday() == 6]
        return min(sundays, key=lambda d: abs(2 * d - lo - hi)) if sundays else self.day[3]


def _bare(ip: str | None) -> str | None:
    return ip.strip("[]") if ip else ip


# -- rendering ------------------------------------------------------------------------


def life_changes(story: dict[str, Any]) -> dict[str, str]:
    """Public key → the ordinary change that brought it: "onboarding" (a peer added with a
    name) or "key rotation" (a rotated peer's new key). For explaining alerts."""
    seed = int(story["seed"])
    out: dict[str, str] = {}
    for name, spec in story["peers"].items():
        if "added" in spec and spec.get("name"):
            out[derive_key(seed, f"peer:{name}:0")] = "onboarding"
    generation: dict[str, int] = {}
    for entry in story.get("timeline") or []:
        if entry.get("rotate_key"):
            g = generation[entry["peer"]] = generation.get(entry["peer"], 0) + 1
            out[derive_key(seed, f"peer:{entry['peer']}:{g}")] = "key rotation"
    return out


def fleet_registry(story: dict[str, Any], names: dict[str, str]) -> Registry:
    """The peer registry of the fleet, as an operator would keep it: each named peer (every
    key it has had) with its role, its owner and email (people), tags (a team for people;
    `site`, and `backup` for the sites that pull a replica each night), `always_on:
    SITE_SILENT_AFTER` for the sites, and where it is expected: its home network and that
    network's country. The change windows are CHANGE_WINDOWS."""
    homes: dict[str, tuple[Network, ...]] = {}
    backup: set[str] = set()
    pulls = {e["peer"] for e in story.get("timeline") or [] if "tx" in e and e.get("peer")}
    for key, spec in story["peers"].items():
        if spec.get("name") and spec.get("endpoint"):
            ip = ipaddress.ip_address(_bare(spec["endpoint"].rpartition(":")[0]) or "")
            homes[spec["name"]] = tuple(n for n, _ in HOMES if ip in n.network)
        if spec.get("name") and key in pulls:
            backup.add(spec["name"])
    site_limit = int(duration(SITE_SILENT_AFTER).total_seconds())
    inner = load_inner_network()
    peers = {}
    for key, name in names.items():
        home = homes.get(name, ())
        kind, _, number = name.rpartition("-")
        kind = kind.split("-")[0]  # site-nl-0005 → site
        role = _ROLES.get(kind)
        person = role in ("laptop", "phone")
        tags: tuple[str, ...] = (inner.team(int(number)),) if person and number.isdigit() else ()
        if role == "site":
            tags = ("site", "backup") if name in backup else ("site",)
        peers[key] = RegisteredPeer(
            name,
            owner=f"user{number}" if person else None,
            email=f"user{number}@example.com" if person else None,
            role=role,
            always_on=role == "site",
            networks=tuple(n.network for n in home),
            countries=tuple(sorted({n.country for n in home})),
            tags=tags,
            silent_after=site_limit,
        )
    return Registry(peers, parse_windows(CHANGE_WINDOWS, "fleet: change_windows"))


# The registry's role for each kind of peer (by the name's first part); evening users and
# the contractor work on laptops.
_ROLES = {"laptop": "laptop", "evening": "laptop", "contractor": "laptop", "phone": "phone", "server": "server", "site": "site"}


# -- the run: shipper → pipeline → rules ------------------------------------------------

# Fields every kept event holds besides those the rules read: what identifies it, its
# index (data stream) and its _id (event.id), and what the reports show.
_BASE_FIELDS = (
    "@timestamp",
    "event.id",
    "event.action",
    "event.dataset",
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
    "host.name",
    "wireguard.peer.public_key",
    "wireguard.peer.name",
    "source.ip",
    "source.geo.country_iso_code",
    "source.as.number",
    "wireguard.peer.previous_endpoint.ip",
    "message",
)


@dataclass
class FleetRun:
    polls: int
    documents: int  # from the shipper
    events: int  # after the ingest pipeline
    kept: int  # events some rule's query matches (what the rules were run on)
    log_lines: int
    alerts: list[dict[str, Any]]
    rules_start: datetime
    rules_end: datetime
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: render, shipper, pipeline, keep, rules
    kept_events: list[dict[str, Any]] = field(default_factory=list)
    failed_polls: int = 0  # polls where wg failed (a story's wg_fails): no documents, counted in health events
    flow_lines: int = 0  # conntrack lines given to the shipper (fleet_flows.py)
    flow_events: int = 0  # wireguard.flow events after the pipeline


class _Keeper:
    """Keeps an event when some rule's query matches it, reduced to the fields the rules
    read (and a few that identify it): the rules decide on nothing else, and a month of a
    thousand peers' handshakes would not fit in memory whole."""

    def __init__(self, rules: Sequence[Any], compile: Any, tuning: Any = None) -> None:
        self.tests: dict[str | None, list[Any]] = {}
        # Every field a rule reads: its query's, group-by, new terms, and its exception
        # lists' entries' (wireguard.peer.tags for the backup sites).
        read: set[str] = set(tuning.fields() if tuning else ())
        for rule in rules:
            query = compile(rule.query, None)
            read.update(query.fields)
            read.update(rule.fields)
            constant = getattr(query, "constant_terms", None)
            actions = constant("event.action") if constant else None
            for action in actions if actions is not None else [None]:
                self.tests.setdefault(action, []).append(query.matches)
        self.fields = tuple(dict.fromkeys(_BASE_FIELDS + tuple(sorted(read))))
        self._paths = [(name, name.split(".")) for name in self.fields]
        self._strings: dict[str, str] = {}

    def keep(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        action = (doc.get("event") or {}).get("action")
        tests = self.tests.get(action, []) + self.tests.get(None, [])
        if not any(test(doc) for test in tests):
            return None
        slim: dict[str, Any] = {}
        strings = self._strings
        for name, parts in self._paths:
            value: Any = doc
            for part in parts:
                value = value.get(part) if type(value) is dict else None
                if value is None:
                    break
            if value is None:
                continue
            if type(value) is str and name not in ("event.id", "message"):
                value = strings.setdefault(value, value)  # one copy of each key, name, IP
            slim[name] = value
        return slim


def run_fleet(
    story: dict[str, Any],
    geo_dir: Path | None,
    *,
    warmup_days: int,
    rules: Sequence[Any] | None = None,
    tuning: Any = None,
    keep_all: bool = False,
    progress: Any = None,
    flows: bool = True,
) -> FleetRun:
    """The fleet through the shipper's code path (in memory), the logs-wireguard ingest
    pipeline and every rule, the rules executing from `warmup_days` after the start (the
    days before are history for new terms and baselines). `keep_all` runs the rules on
    the whole events instead of the reduced ones (small fleets only). `tuning` (default:
    `fleet_tuning()`, the repository's lists and the fleet's own) tunes the rules as it
    would in Kibana. The peers' inner flows (fleet_flows.py) go to the shipper with the
    polls, as `ship` reads conntrack beside wg (`flows=False`: none, the fleet before them)."""
    from ..detection import run_rules
    from ..rules.model import load_rules

    seconds: dict[str, float] = {}
    clock = time.process_time()
    rules = list(rules if rules is not None else load_rules())
    tuning = tuning if tuning is not None else fleet_tuning()
    rendered = render(story, "fleet")
    seconds["render"] = time.process_time() - clock
    n_polls, n_lines = len(rendered.polls), len(rendered.log_lines)
    flow = _Flow(story, rendered, geo_dir, rules, tuning, keep_all, flows)
    flow.run(progress)
    seconds.update(flow.spent)
    clock = time.process_time()
    t0 = datetime.fromisoformat(story["start"].replace("Z", "+00:00"))
    start = t0 + timedelta(days=warmup_days)
    end = t0 + timedelta(seconds=_duration(story))
    result = run_rules(rules, flow.kept, start=start, end=end, tuning=tuning)
    problems = flow.problems
    for stats in result.stats.values():
        if stats.error:
            problems.append(f"rule {stats.name}: not run: {stats.error}")
        problems.extend(f"rule {stats.name}: {w}" for w in stats.warnings)
    seconds["rules"] = time.process_time() - clock
    return FleetRun(
        n_polls, flow.documents, flow.events, len(flow.kept), n_lines, result.alerts, start, end, problems, seconds, flow.kept, flow.failed_polls,
        flow.inner.counts["lines"], flow.flow_events,
    )  # fmt: skip


# The fleet organisation's own tuning, beside the repository's (docs/fleet.md): its sensitive
# networks (the production databases) in place of the shipped list, and its replicating
# sites left out of the large pull rule.
FLEET_TUNING = FIXTURES / "fleet" / "tuning"


def fleet_tuning() -> Any:
    """The repository's exception and value lists, with the fleet's: its value lists replace
    the repository's of the same id, its exception lists are added."""
    from ..content import DETECTION_RULES
    from ..rules.exceptions import Tuning, load_tuning

    shipped, own = load_tuning(DETECTION_RULES), load_tuning(FLEET_TUNING)
    return Tuning(shipped.lists + own.lists, {**shipped.value_lists, **own.value_lists})


class _Flow:
    """A rendered fleet through the shipper and the ingest pipeline, keeping what the rules
    need; `spent` holds each stage's seconds."""

    def __init__(self, story: dict[str, Any], rendered: Any, geo_dir: Path | None, rules: Sequence[Any], tuning: Any, keep_all: bool,
                 flows: bool = True) -> None:  # fmt: skip
        from ..content import INGEST_PIPELINES
        from ..detection.matching import kql_compiler
        from ..pipelines.files import load_pipelines
        from ..status.diff import DiffSettings
        from ..status.spike import SpikeSettings
        from .run import PIPELINE, replay_shipper

        every = _secs(story["polls"][0]["every"])
        settings = DiffSettings(session_timeout=session_timeout(every), spike=SpikeSettings())
        self.rendered = rendered
        self.shipper = replay_shipper(story["host_name"], rendered.names, geo_dir, settings, registry=fleet_registry(story, rendered.names))
        self.pipeline = load_pipelines(INGEST_PIPELINES, [geo_dir] if geo_dir else None)[PIPELINE]
        self.keeper = None if keep_all else _Keeper(rules, kql_compiler(), tuning)
        self.problems: list[str] = []
        self.failed_polls = 0
        # Where the story leaves the shipper stopped (a poll segment slower than the polls):
        # the poll ending it is the shipper's first after the restart.
        t0 = int(datetime.fromisoformat(story["start"].replace("Z", "+00:00")).timestamp())
        self.restarts = {t0 + _secs(seg["until"]) for seg in story["polls"] if "until" in seg and _secs(seg["every"]) > every}
        self.kept: list[dict[str, Any]] = []
        self.documents = self.events = self.flow_events = 0
        self.inner = InnerFlows(story)
        self.with_flows = flows
        # Stage times by wall clock (perf_counter is cheap enough per document): one
        # thread, no I/O, so they are CPU seconds too. `flows` is making the conntrack
        # lines and parsing them, taken out of the shipper's time it happens in.
        self.spent = {"flows": 0.0, "shipper": 0.0, "pipeline": 0.0, "keep": 0.0}

    def run(self, progress: Any) -> None:
        from .capture import date_lines, with_health

        rendered = self.rendered
        polls = rendered.polls
        lines = sorted(date_lines(rendered.log_lines, None, polls[0][0], polls[0][0]), key=lambda item: item[1])
        rendered.log_lines.clear()
        clock = time.perf_counter
        geoip = self.shipper.context.geoip
        assert geoip is not None  # replay_shipper gives one, empty without a GeoIP folder
        # The shipper as `ship` runs it: its health events among the documents, its tally
        # starting again after the outage (it was stopped: nothing written meanwhile).
        with geoip:
            flows = self._timed(self.inner.records()) if self.with_flows else iter(())
            docs = with_health(self.shipper, _raw_polls(polls, rendered.exits, progress), lines, HEALTH_EVERY, self._on_poll, self.restarts, flows)
            while True:
                a = clock()
                doc = next(docs, None)  # built here, so timed as the shipper's
                self.spent["shipper"] += clock() - a
                if doc is None:
                    break
                self._ingest(doc)
        self.spent["shipper"] -= self.spent["flows"]
        self.problems.extend(f"fleet conntrack lines: {p}" for p in self.inner.problems)

    def _timed(self, records: Iterator[Any]) -> Iterator[Any]:
        clock = time.perf_counter
        while True:
            a = clock()
            record = next(records, None)
            self.spent["flows"] += clock() - a
            if record is None:
                return
            yield record

    def _ingest(self, doc: dict[str, Any]) -> None:
        from .run import ingest

        clock = time.perf_counter
        a = clock()
        self.documents += 1
        out = ingest(self.pipeline, doc, self.problems)
        b = clock()
        self.spent["pipeline"] += b - a
        if out is None:
            return
        self.events += 1
        if out["event"].get("dataset") == "wireguard.flow":
            self.flow_events += 1
        slim = out if self.keeper is None else self.keeper.keep(out)
        if slim is not None:
            self.kept.append(slim)
        self.spent["keep"] += clock() - b

    def _on_poll(self, outcome: Any) -> None:
        self.problems.extend(str(p) for p in outcome.problems)
        if outcome.failure:
            if outcome.time in self.rendered.exits:
                self.failed_polls += 1  # the story made wg fail: what the health events report
            else:
                self.problems.append(outcome.failure)


def _raw_polls(polls: list[tuple[int, str]], exits: dict[int, tuple[int, str]], progress: Any) -> Iterator[RawPoll]:
    """Consumed front to back and let go of: a month of dumps is gigabytes of text. A poll
    the story made fail carries wg's exit status and stderr, judged as a live poll's."""
    from ..adapters.capture import COMMAND
    from ..wgdump.raw import exit_failure

    n_polls = len(polls)
    polls.reverse()
    done = 0
    while polls:
        t, text = polls.pop()
        done += 1
        if progress and done % 1000 == 0:
            progress(done, n_polls)
        if t in exits:
            status, stderr = exits[t]
            yield RawPoll(time=t, stdout=text, stderr=stderr, exit_status=status, failure=exit_failure(COMMAND, status, text, stderr))
        else:
            yield RawPoll(time=t, stdout=text)


def _duration(story: dict[str, Any]) -> float:
    return story_secs(story["end"], "fleet: end")


# -- which alerts are about what ----------------------------------------------------------


def alert_time(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(alert["kibana.alert.original_time"]).replace("Z", "+00:00"))


def alert_key(alert: dict[str, Any]) -> str | None:
    value = lookup(alert, "wireguard.peer.public_key", None)
    return value if isinstance(value, str) else None


def alert_source(alert: dict[str, Any]) -> str | None:
    value = lookup(alert, "source.ip", None)
    return value if isinstance(value, str) else None


def attributed(planted: Planted, alert: dict[str, Any]) -> bool:
    """The alert is one of the plant's rules, about its peer (key) or source address,
    within the plant's `within` seconds after it (a poll interval of slack before it)."""
    if alert.get("kibana.alert.rule.name") not in planted.rules:
        return False
    t = alert_time(alert).timestamp()
    if not planted.time - 600 <= t <= planted.time + planted.within:
        return False
    key, source = alert_key(alert), alert_source(alert)
    if planted.public_key is None and planted.source is None:
        return True  # about the host itself (its shipper): the rule and the time say which
    if planted.public_key is not None and key is not None:
        return key == planted.public_key
    return planted.source is not None and source == planted.source


def match_plants(planted: Sequence[Planted], alerts: Sequence[dict[str, Any]]) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The alerts of each plant (by its position), and the alerts no plant explains."""
    by_plant: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(planted))}
    rest = []
    for alert in alerts:
        owners = [i for i, p in enumerate(planted) if attributed(p, alert)]
        for i in owners:
            by_plant[i].append(alert)
        if not owners:
            rest.append(alert)
    return by_plant, rest


def per_day(alerts: Sequence[dict[str, Any]], start: datetime, end: datetime) -> float:
    days = max((end - start).total_seconds() / DAY, 1e-9)
    return len(alerts) / days
