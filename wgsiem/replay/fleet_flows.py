"""The synthetic fleet's inner flows: the connections its peers open through the
concentrator into the internal network behind it (fixtures/fleet/inner-network.yaml), as
the gateway's connection tracker prints them (`conntrack -E -o timestamp,extended,id`), and
read back by the shipper's own parser (docs/fleet.md).

    flows = InnerFlows(story)
    records = flows.records()      # ConntrackRecord, in time order, streamed
    # run_fleet gives them to the shipper with the polls: with_health(..., flows=records)

Everything derives from the story (fleet.fleet_story): who the peers are (their kind by
name; an unnamed peer with hours is a laptop, one without is a server), their inner
addresses and sites' LANs (allowed_ips), when they are up (hours, `added`, the timeline's
silences: weekends, holidays, blips, a planted outage), the sites' nightly backups and
replication pulls (the timeline's MiB/s rates: the flows carry those volumes), and the
planted flow attacks (the story's `flows` list). Ordinary life draws from one RNG per peer
and day, so it is the same with or without attacks; attack connections take their
conntrack ids from a range of their own.

The lines are what the kernel prints for a forwarded connection (fixtures/conntrack/, with
the kernel's default timeouts): tcp NEW SYN_SENT, UPDATEs SYN_RECV, ESTABLISHED [ASSURED],
FIN_WAIT, LAST_ACK, TIME_WAIT, and DESTROY two minutes later with each way's packets and
bytes (accounting on) and `delta-time` (timestamps on); a refused tcp connection is NEW
then DESTROY CLOSE; an unanswered one NEW, then DESTROY SYN_SENT [UNREPLIED] when its two
minutes run out; udp and icmp NEW, UPDATE at the reply, DESTROY after their 30 s.

Lines are made lazily: a day's connections are drawn when the stream reaches that day, and
each connection's lines come out of a heap one at a time, in time order, so memory holds the
connections alive, never the month. Nothing is written while the shipper is stopped (the
story's outage): ship runs conntrack, and nobody listened then.
"""

from __future__ import annotations

import heapq
import ipaddress
import math
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from ..conntrack import ConntrackParser, ConntrackProblem, ConntrackRecord
from ..content import FIXTURES
from .story import StoryError, size
from .story import _secs as story_secs

INNER_NETWORK = FIXTURES / "fleet" / "inner-network.yaml"
DAY = 86400
# Conntrack ids: each peer's connections of a day take a block of their own (after a seeded
# offset), so one peer's life moves no other's ids, and the planted attacks take theirs from
# a range above all of them: ordinary life's ids are the same with or without attacks.
ID_BLOCK = 256  # connections of one peer in one day, at most
ID_PEERS = 4096  # peers' indexes below this
ATTACK_IDS = 0xE000_0000
EPHEMERAL = (32768, 60999)  # Linux's ip_local_port_range
WORKDAY = (7 * 3600, 16 * 3600 + 1800)  # a site's workstations, UTC, on weekdays
# Kernel defaults (nf_conntrack_tcp_timeout_*, udp, icmp) as conntrack prints them.
SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, LAST_ACK, TIME_WAIT, CLOSE = 120, 60, 432000, 120, 30, 120, 10
UDP_TIMEOUT = ICMP_TIMEOUT = 30
KINDS = ("laptop", "evening", "phone", "server", "site")
_MEMBER = re.compile(r"p(\d{5})")  # the life's peers; the contractor and the rogue peer make no flows
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


# -- the internal network --------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    name: str
    hosts: tuple[str, ...]
    transport: str  # tcp or udp
    port: int | None
    sent: tuple[float, float]  # bytes the client sends per connection, drawn log-uniformly
    received: tuple[float, float]
    lasts: tuple[float, float]  # seconds

    def draw(self, rng: random.Random) -> _Volume:
        """What one connection carries, and how long it lasts."""
        return _Volume(_between(rng, self.sent), _between(rng, self.received), _between(rng, self.lasts))


@dataclass(frozen=True)
class InnerNetwork:
    networks: Mapping[str, ipaddress.IPv4Network]
    services: Mapping[str, Service]
    uses: Mapping[str, Mapping[str, tuple[int, int]]]
    teams: Mapping[str, Mapping[str, tuple[int, int]]]
    habits: Mapping[str, Any]
    path: Path

    def open_ports(self) -> dict[str, set[int]]:
        """Each internal host and the ports it answers on (a sweep or scan finds these)."""
        out: dict[str, set[int]] = {}
        for s in self.services.values():
            for host in s.hosts:
                out.setdefault(host, set()).add(s.port or 0)
        for host in list(out):
            if ipaddress.ip_address(host) in self.networks["servers"]:
                out[host].add(22)  # the administrators' runs reach every server over SSH
        return out

    def team(self, number: int) -> str:
        """Person `number`'s team: the teams in the file's order, in turn (the fleet's
        registry tags people with it, and their laptops use what it lists)."""
        names = list(self.teams)
        return names[number % len(names)]

    def servers(self) -> list[str]:
        """The hosts of the servers network, in address order."""
        net = self.networks["servers"]
        return sorted({h for s in self.services.values() for h in s.hosts if ipaddress.ip_address(h) in net}, key=ipaddress.ip_address)


def load_inner_network(path: Path = INNER_NETWORK) -> InnerNetwork:
    """The file, checked: a wrong value names the file and its key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise StoryError(f"{path}: cannot be read: {err}") from None
    if not isinstance(raw, dict):
        raise StoryError(f"{path}: expected a mapping")
    for key in ("networks", "services", "uses", "teams", "habits"):
        if not isinstance(raw.get(key), dict):
            raise StoryError(f"{path}: {key}: missing, or not a mapping")
    networks = {}
    for name, text in raw["networks"].items():
        try:
            networks[name] = ipaddress.IPv4Network(str(text))
        except ValueError as err:
            raise StoryError(f"{path}: networks.{name}: {err}") from None
    for name in ("servers", "databases", "storage", "admin"):
        if name not in networks:
            raise StoryError(f"{path}: networks.{name}: missing")
    services = {name: _service(path, name, spec) for name, spec in raw["services"].items()}
    for name in ("backup", "replica", "monitoring", "site-sync", "database", "logs", "resolver", "jump", "files"):
        if name not in services:
            raise StoryError(f"{path}: services.{name}: missing (fleet_flows.py uses it)")
    uses = {kind: _counts(path, f"uses.{kind}", spec, services) for kind, spec in raw["uses"].items()}
    for kind in ("laptop", "evening", "phone", "server", "workstation"):
        if kind not in uses:
            raise StoryError(f"{path}: uses.{kind}: missing")
    teams = {team: _counts(path, f"teams.{team}", spec, services) for team, spec in raw["teams"].items()}
    if not teams:
        raise StoryError(f"{path}: teams: at least one")
    _check_habits(path, raw["habits"])
    return InnerNetwork(networks, services, uses, teams, raw["habits"], path)


def _check_habits(path: Path, habits: Mapping[str, Any]) -> None:
    def pair(where: str, value: Any, kind: type) -> None:
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, kind) for v in value)):
            raise StoryError(f"{path}: habits.{where}: expected [least, most]")

    for where, kind in (("admins", ("every", "jump", "run_over")), ("windows", ("every", "rpc_ports"))):
        spec = habits.get(where)
        if not isinstance(spec, dict) or set(kind) - set(spec):
            raise StoryError(f"{path}: habits.{where}: expected a mapping with {', '.join(kind)}")
        if not isinstance(spec["every"], int) or spec["every"] < 1:
            raise StoryError(f"{path}: habits.{where}.every: expected a whole number from 1")
    pair("admins.jump", habits["admins"]["jump"], int)
    pair("admins.run_over", habits["admins"]["run_over"], str)
    pair("windows.rpc_ports", habits["windows"]["rpc_ports"], int)
    if not 0 <= habits["windows"]["rpc_ports"][0] <= habits["windows"]["rpc_ports"][1] <= 6:
        raise StoryError(f"{path}: habits.windows.rpc_ports: at most the file server's 6 dynamic ports")
    pair("workstations", habits.get("workstations"), int)
    for where in ("monitoring_every", "site_sync_every"):
        value = habits.get(where)
        if not isinstance(value, int) or value < 60 or DAY % value:
            raise StoryError(f"{path}: habits.{where}: expected seconds dividing a day")


def _service(path: Path, name: str, spec: Any) -> Service:
    where = f"{path}: services.{name}"
    if not isinstance(spec, dict):
        raise StoryError(f"{where}: expected a mapping")
    hosts: tuple[str, ...] = ()
    if "host" in spec:
        hosts = (str(spec["host"]),)
    elif "hosts" in spec:  # a range: first and last address
        first, last = (ipaddress.IPv4Address(str(h)) for h in spec["hosts"])
        hosts = tuple(str(ipaddress.IPv4Address(n)) for n in range(int(first), int(last) + 1))
    for h in hosts:
        try:
            ipaddress.IPv4Address(h)
        except ValueError as err:
            raise StoryError(f"{where}.host: {err}") from None
    transport = str(spec.get("transport", "tcp"))
    if transport not in ("tcp", "udp"):
        raise StoryError(f"{where}.transport: {transport!r} is not tcp or udp")

    def pair(key: str, parse: Any, default: tuple[float, float]) -> tuple[float, float]:
        value = spec.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or len(value) != 2:
            raise StoryError(f"{where}.{key}: expected [least, most]")
        lo, hi = parse(value[0], f"{where}.{key}"), parse(value[1], f"{where}.{key}")
        if lo > hi:
            raise StoryError(f"{where}.{key}: {value[0]} is more than {value[1]}")
        return lo, hi

    port = spec.get("port")
    return Service(
        name, hosts, transport, None if port is None else int(port),
        pair("sent", size, (0.0, 0.0)), pair("received", size, (0.0, 0.0)), pair("lasts", story_secs, (1.0, 1.0)),
    )  # fmt: skip


def _counts(path: Path, where: str, spec: Any, services: Mapping[str, Service]) -> dict[str, tuple[int, int]]:
    if not isinstance(spec, dict):
        raise StoryError(f"{path}: {where}: expected a mapping")
    out = {}
    for name, value in spec.items():
        if name not in services:
            raise StoryError(f"{path}: {where}.{name}: no such service")
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value) and 0 <= value[0] <= value[1]):
            raise StoryError(f"{path}: {where}.{name}: expected [least, most] connections a day")
        out[name] = (value[0], value[1])
    return out


def _between(rng: random.Random, pair: tuple[float, float]) -> float:
    lo, hi = pair
    if lo <= 0 or lo == hi:
        return lo if lo == hi else rng.uniform(lo, hi)
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


# -- connections and their lines ---------------------------------------------------------

_NEW, _UPDATE, _DESTROY = "    [NEW] ipv4     2 ", " [UPDATE] ipv4     2 ", "[DESTROY] ipv4     2 "
OK, REFUSED, UNANSWERED = "ok", "refused", "unanswered"


def _counters(payload: float, other: float) -> tuple[int, int]:
    """Packets and bytes one side sends for `payload` bytes of data, acknowledging the other
    side's `other` (a delayed ACK per two segments): tcp/ip headers with timestamps, 52 bytes."""
    packets = 3 + math.ceil(payload / 1448) + math.ceil(other / 2896)
    return packets, int(payload) + 52 * packets


class _Ends(NamedTuple):
    """A connection's original direction: who opened it, to what."""

    src: str
    sport: int
    dst: str
    dport: int


class _Volume(NamedTuple):
    sent: float  # bytes of data the opener sent
    received: float
    seconds: float


class _Tcp:
    """One tcp connection: its event times, and each line as conntrack prints it."""

    __slots__ = ("cid", "o", "r", "outcome", "sent", "received", "times")

    def __init__(self, cid: int, ends: _Ends, start: float, volume: _Volume, outcome: str, rng: random.Random) -> None:
        src, sport, dst, dport = ends
        self.cid, self.outcome, self.sent, self.received = cid, outcome, volume.sent, volume.received
        self.o = f"src={src} dst={dst} sport={sport} dport={dport}"
        self.r = f"src={dst} dst={src} sport={dport} dport={sport}"
        rtt = rng.uniform(0.0004, 0.004)
        gc = rng.uniform(0.05, 1.5)  # the garbage collector reaps an expired entry a little late
        self.times: tuple[float, ...]
        if outcome == OK:
            end = start + max(volume.seconds, 3 * rtt)
            self.times = (start, start + rtt, start + 1.5 * rtt, end, end + rtt / 2, end + rtt, end + rtt + TIME_WAIT + gc)
        elif outcome == REFUSED:
            self.times = (start, start + rtt)
        else:
            self.times = (start, start + SYN_SENT + gc)

    def line(self, i: int) -> str:
        o, r = self.o, self.r
        if i == 0:
            body = f"{_NEW}tcp      6 {SYN_SENT} SYN_SENT {o} [UNREPLIED] {r}"
        elif self.outcome == REFUSED:
            body = f"{_DESTROY}tcp      6 {CLOSE} CLOSE {o} packets=1 bytes=60 [UNREPLIED] {r} packets=1 bytes=40 delta-time=0"
        elif self.outcome == UNANSWERED:
            body = f"{_DESTROY}tcp      6 SYN_SENT {o} packets=6 bytes=360 [UNREPLIED] {r} packets=0 bytes=0 delta-time={SYN_SENT}"
        elif i == 1:
            body = f"{_UPDATE}tcp      6 {SYN_RECV} SYN_RECV {o} {r}"
        elif i < 6:
            timeout, state = ((ESTABLISHED, "ESTABLISHED"), (FIN_WAIT, "FIN_WAIT"), (LAST_ACK, "LAST_ACK"), (TIME_WAIT, "TIME_WAIT"))[i - 2]
            body = f"{_UPDATE}tcp      6 {timeout} {state} {o} {r} [ASSURED]"
        else:
            op, ob = _counters(self.sent, self.received)
            rp, rb = _counters(self.received, self.sent)
            delta = int(self.times[6] - self.times[0])
            body = f"{_DESTROY}tcp      6 TIME_WAIT {o} packets={op} bytes={ob} {r} packets={rp} bytes={rb} [ASSURED] delta-time={delta}"
        return f"[{self.times[i]:.6f}]\t{body} id={self.cid}"


class _Udp:
    """One udp exchange (a lookup): NEW, UPDATE at the answer, DESTROY when it times out."""

    __slots__ = ("cid", "o", "r", "sent", "received", "times")

    def __init__(self, cid: int, ends: _Ends, start: float, volume: _Volume, rng: random.Random) -> None:
        src, sport, dst, dport = ends
        self.cid, self.sent, self.received = cid, volume.sent, volume.received
        self.o = f"src={src} dst={dst} sport={sport} dport={dport}"
        self.r = f"src={dst} dst={src} sport={dport} dport={sport}"
        rtt = rng.uniform(0.0004, 0.004)
        self.times = (start, start + rtt, start + rtt + UDP_TIMEOUT + rng.uniform(0.05, 1.5))

    def line(self, i: int) -> str:
        o, r = self.o, self.r
        if i == 0:
            body = f"{_NEW}udp      17 {UDP_TIMEOUT} {o} [UNREPLIED] {r}"
        elif i == 1:
            body = f"{_UPDATE}udp      17 {UDP_TIMEOUT} {o} {r}"
        else:
            delta = int(self.times[2] - self.times[0])
            body = f"{_DESTROY}udp      17 {o} packets=1 bytes={int(self.sent) + 28} {r} packets=1 bytes={int(self.received) + 28} delta-time={delta}"
        return f"[{self.times[i]:.6f}]\t{body} id={self.cid}"


class _Ping:
    """Three echo requests (the monitoring host's ping of a site's router), answered or not."""

    __slots__ = ("cid", "o", "r", "answered", "times")

    def __init__(self, cid: int, src: str, dst: str, ident: int, start: float, answered: bool, rng: random.Random) -> None:
        self.cid, self.answered = cid, answered
        self.o = f"src={src} dst={dst} type=8 code=0 id={ident}"
        self.r = f"src={dst} dst={src} type=0 code=0 id={ident}"
        rtt = rng.uniform(0.002, 0.04)
        gc = rng.uniform(0.05, 1.5)
        self.times: tuple[float, ...] = (start, start + rtt, start + 2 + ICMP_TIMEOUT + gc) if answered else (start, start + 2 + ICMP_TIMEOUT + gc)

    def line(self, i: int) -> str:
        o, r = self.o, self.r
        last = len(self.times) - 1
        if i == 0:
            body = f"{_NEW}icmp     1 {ICMP_TIMEOUT} {o} [UNREPLIED] {r}"
        elif i < last:
            body = f"{_UPDATE}icmp     1 {ICMP_TIMEOUT} {o} {r}"
        elif self.answered:
            body = f"{_DESTROY}icmp     1 {o} packets=3 bytes=252 {r} packets=3 bytes=252 delta-time={int(self.times[i] - self.times[0])}"
        else:
            body = f"{_DESTROY}icmp     1 {o} packets=3 bytes=252 [UNREPLIED] {r} packets=0 bytes=0 delta-time={int(self.times[i] - self.times[0])}"
        return f"[{self.times[i]:.6f}]\t{body} id={self.cid}"


_Conn = _Tcp | _Udp | _Ping


# -- who the peers are and when they are up ----------------------------------------------


@dataclass
class _Member:
    key: str
    index: int
    kind: str  # laptop, evening, phone, server, site
    address: str  # its inner (tunnel) address
    lan: str | None  # a site's LAN, as "172.16.5." (router .1, NAS .5, ERP box .7, workstations .20 up)
    hours: tuple[int, int] | None
    added: float
    silences: list[tuple[float, float]]
    team: str | None
    admin: bool = False
    windows: bool = False
    backup: tuple[float, float, float] | None = None  # (second of the day, seconds, bytes/s): nightly upload
    pull: tuple[float, float, float] | None = None  # the nightly replica pull

    def up(self, t: float) -> bool:
        """Up and talking at `t` (seconds from the start): present, not silent, in its hours."""
        if t < self.added or any(a <= t < b for a, b in self.silences):
            return False
        if self.hours is None:
            return True
        lo, hi = self.hours
        s = t % DAY
        return lo <= s < hi if lo < hi else (s >= lo or s < hi)

    def active(self, day: int, hours: tuple[int, int] | None = None) -> list[tuple[float, float]]:
        """Its spans of being up that begin on `day` (an evening's runs past midnight), within
        `hours` (seconds of the day) if given, less its silences."""
        lo, hi = hours or self.hours or (0, DAY)
        start, end = day * DAY + lo, day * DAY + hi + (DAY if hi <= lo else 0)
        spans: list[tuple[float, float]] = [(max(start, self.added), end)] if end > self.added else []
        for a, b in self.silences:
            spans = [piece for s, e in spans for piece in ((s, min(e, a)), (max(s, b), e)) if piece[1] - piece[0] > 0]
        return spans


def _members(story: Mapping[str, Any], network: InnerNetwork) -> list[_Member]:
    silences: dict[str, list[tuple[float, float]]] = {}
    rates: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for i, entry in enumerate(story.get("timeline") or []):
        peer = entry.get("peer")
        if peer is None:
            continue
        at = story_secs(entry["at"], f"fleet: timeline[{i}].at")
        if "silent" in entry:
            spans = silences.setdefault(peer, [])
            # A later silence replaces the one running (the story's silent_until).
            if spans and spans[-1][1] > at:
                spans[-1] = (spans[-1][0], at)
            length = story_secs(entry["silent"], f"fleet: timeline[{i}].silent")
            if length > 0:
                spans.append((at, at + length))
        for way in ("rx", "tx"):
            if way in entry:
                rates.setdefault((peer, way), []).append((at, str(entry[way])))
    out = []
    for key, spec in story["peers"].items():
        m = _MEMBER.fullmatch(key)
        if m is None:
            continue
        index = int(m[1])
        name = str(spec.get("name") or "")
        kind = name.split("-")[0] if name else ("laptop" if spec.get("hours") else "server")
        if kind not in KINDS:
            continue
        lan = next((ip for ip in spec["allowed_ips"] if not ip.endswith("/32")), None)
        hours = None
        if spec.get("hours"):
            h = _HOURS.fullmatch(spec["hours"])
            if h is None:
                raise StoryError(f"fleet: peers.{key}.hours: {spec['hours']!r} is not like 07:00-23:00")
            hours = (int(h[1]) * 3600 + int(h[2]) * 60, int(h[3]) * 3600 + int(h[4]) * 60)
        member = _Member(
            key, index, kind, spec["allowed_ips"][0].split("/")[0], lan.rsplit(".", 1)[0] + "." if lan else None, hours,
            story_secs(spec.get("added", "0s"), f"fleet: peers.{key}.added"), sorted(silences.get(key, [])),
            network.team(index) if kind in ("laptop", "evening", "phone") else None,
        )  # fmt: skip
        if kind == "site":
            member.backup = _nightly(rates.get((key, "rx"), []))
            member.pull = _nightly(rates.get((key, "tx"), []))
        out.append(member)
    return out


def _nightly(changes: list[tuple[float, str]]) -> tuple[float, float, float] | None:
    """The first night's fast spell of a rate (MiB/s), as (second of the day, seconds,
    bytes/s): the fleet repeats it every night."""
    changes = sorted(changes)
    for (at, rate), (until, _) in zip(changes, changes[1:], strict=False):
        if rate.endswith("MiB/s"):
            return at % DAY, until - at, size(rate, "fleet: timeline rate")
    return None


# -- the stream --------------------------------------------------------------------------


class InnerFlows:
    """The story's inner flows as conntrack text, streamed; `counts` says what was made."""

    def __init__(self, story: Mapping[str, Any], network: InnerNetwork | None = None) -> None:
        self.story = story
        self.network = network or load_inner_network()
        self.seed = int(story["seed"])
        self.t0 = datetime.fromisoformat(str(story["start"]).replace("Z", "+00:00")).timestamp()
        self.days = int(story_secs(story["end"], "fleet: end") // DAY)
        self.members = _members(story, self.network)
        self.by_key = {m.key: m for m in self.members}
        self.sites = [m for m in self.members if m.kind == "site"]
        self.stopped = _stopped(story)
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self._open = self.network.open_ports()
        self._id_base = random.Random(f"fleet {self.seed} conntrack ids").randrange(1 << 20, 1 << 28)
        self._ids = self._id_end = 0
        self._attack_ids = ATTACK_IDS
        self._attacks = _attack_entries(story)
        # A Windows file server's RPC services listen on ports it chose at boot.
        self._rpc_ports = sorted(random.Random(f"fleet {self.seed} rpc").sample(range(49152, 65536), 6))

    def records(self) -> Iterator[ConntrackRecord]:
        """The lines read back by ConntrackParser, as `ship` reads conntrack's stdout."""
        parser = ConntrackParser("fleet conntrack")
        for item in parser.feed(self.lines()):
            if isinstance(item, ConntrackProblem):
                self.problems.append(str(item))
            else:
                yield item

    def lines(self) -> Iterator[str]:
        """Every line, in time order, from the start of the story to its end."""
        heap: list[tuple[float, int, int, _Conn]] = []
        seq = 0
        t0, end = self.t0, self.t0 + self.days * DAY
        down, up = self.stopped
        push, pop = heapq.heappush, heapq.heappop
        counts = self.counts
        last = t0
        for day in range(self.days + 1):
            if day < self.days:
                for conn in self.day(day):
                    seq += 1
                    push(heap, (conn.times[0], seq, 0, conn))
            limit = t0 + (day + 1) * DAY if day < self.days else end
            while heap and heap[0][0] < limit:
                t, s, i, conn = pop(heap)
                if t < last:  # a connection drawn for a day began before it
                    raise StoryError(f"fleet: a conntrack line at {t:.6f} after one at {last:.6f}")
                last = t
                if i + 1 < len(conn.times):
                    push(heap, (conn.times[i + 1], s, i + 1, conn))
                if down < t < up:
                    counts["not listened (shipper stopped)"] += 1
                    continue
                counts["lines"] += 1
                yield conn.line(i)
        counts["after the end"] += sum(len(c.times) - i for _, _, i, c in heap)

    # -- one day ------------------------------------------------------------------------

    def day(self, day: int) -> list[_Conn]:
        """The connections that begin on `day`: ordinary life's, then the attacks'."""
        out: list[_Conn] = []
        for m in self.members:
            if m.index >= ID_PEERS:
                raise StoryError(f"fleet: peers.{m.key}: the inner flows number at most {ID_PEERS} peers")
            self._ids = self._id_base + (day * ID_PEERS + m.index) * ID_BLOCK
            self._id_end = self._ids + ID_BLOCK
            rng = random.Random(f"fleet {self.seed} flows {m.key} {day}")
            if m.kind == "site":
                self._site(m, day, rng, out)
            elif m.kind == "server":
                self._server(m, day, rng, out)
            else:
                self._person(m, day, rng, out)
        for at, key, entry, where in self._attacks:
            if int(at // DAY) == day:
                self._attack(at, key, entry, where, out)
        return out

    def _id(self) -> int:
        self._ids += 1
        if self._ids >= self._id_end:
            raise StoryError(f"fleet: more than {ID_BLOCK - 1} connections of one peer in a day")
        return self._ids

    def _tcp(self, src: str, dst: str, port: int, start: float, volume: _Volume, rng: random.Random, outcome: str = OK) -> _Tcp:
        self.counts[f"tcp {outcome}"] += 1
        return _Tcp(self._id(), _Ends(src, rng.randint(*EPHEMERAL), dst, port), self.t0 + start, volume, outcome, rng)

    def _use(self, src: str, service: str, start: float, rng: random.Random, host: str | None = None, until: float | None = None) -> _Conn:
        s = self.network.services[service]
        volume = s.draw(rng)
        if until is not None:
            volume = volume._replace(seconds=max(1.0, min(volume.seconds, until - start)))
        dst = host or rng.choice(s.hosts)
        assert s.port is not None
        if s.transport == "udp":
            self.counts["udp"] += 1
            return _Udp(self._id(), _Ends(src, rng.randint(*EPHEMERAL), dst, s.port), self.t0 + start, volume, rng)
        return self._tcp(src, dst, s.port, start, volume, rng)

    def _spread(self, src: str, uses: Mapping[str, tuple[int, int]], spans: list[tuple[float, float]], rng: random.Random,
                out: list[_Conn], windows: bool = False) -> None:  # fmt: skip
        """Each service's connections of the day at random times within the spans (a mail
        client's session from soon after the day's start)."""
        total = sum(b - a for a, b in spans)
        if total <= 0:
            return
        for service, (lo, hi) in uses.items():
            for _ in range(rng.randint(lo, hi)):
                a, b = _pick_span(spans, total, rng)
                start = a + rng.uniform(0, min(1800, b - a)) if service == "mail" else rng.uniform(a, b)
                out.append(self._use(src, service, start, rng, until=b))
                if windows and service == "files":
                    self._rpc(src, start, rng, out)

    def _rpc(self, src: str, start: float, rng: random.Random, out: list[_Conn]) -> None:
        """A Windows client opening a share: the endpoint mapper, then some of the file server's
        dynamic RPC ports, within a minute (the port scan rule's near miss)."""
        host = self.network.services["files"].hosts[0]
        out.append(self._tcp(src, host, 135, start, _Volume(300, 400, rng.uniform(0.05, 0.5)), rng))
        lo, hi = self.network.habits["windows"]["rpc_ports"]
        for port in rng.sample(self._rpc_ports, rng.randint(lo, hi)):
            volume = _Volume(rng.uniform(1e3, 2e4), rng.uniform(1e3, 6e4), rng.uniform(0.2, 20))
            out.append(self._tcp(src, host, port, start + rng.uniform(0, 60), volume, rng))

    def _person(self, m: _Member, day: int, rng: random.Random, out: list[_Conn]) -> None:
        spans = m.active(day)
        if not spans:
            return
        net, habits = self.network, self.network.habits
        uses = dict(net.uses[m.kind])
        if m.kind != "phone" and m.team is not None and m.team in net.teams:
            uses.update(net.teams[m.team])
        windows = m.kind == "laptop" and m.index % habits["windows"]["every"] == 0
        self._spread(m.address, uses, spans, rng, out, windows)
        if m.kind == "laptop" and m.index % habits["admins"]["every"] == 1:
            self._admin(m, day, spans, rng, out)

    def _admin(self, m: _Member, day: int, spans: list[tuple[float, float]], rng: random.Random, out: list[_Conn]) -> None:
        """An administrator: the jump host now and then, and on their weekday a configuration
        run over every server within a few minutes (the sweep rule's near miss)."""
        habits = self.network.habits["admins"]
        self._spread(m.address, {"jump": tuple(habits["jump"])}, spans, rng, out)
        if self._weekday(day) != m.index % 5:
            return  # once a week, on its own weekday
        a, b = max(spans, key=lambda s: s[1] - s[0])
        lo, hi = (story_secs(x, f"{self.network.path}: habits.admins.run_over") for x in habits["run_over"])
        over = rng.uniform(lo, hi)
        if b - a < over + 600:
            return
        start = rng.uniform(a + 300, b - over - 300)
        hosts = self.network.servers()
        self.counts["admin runs"] += 1
        for k, host in enumerate(hosts):
            at = start + over * k / len(hosts) + rng.uniform(0, 3)
            out.append(self._tcp(m.address, host, 22, at, _Volume(rng.uniform(2e4, 2e5), rng.uniform(5e3, 1e5), rng.uniform(3, 25)), rng))

    def _weekday(self, day: int) -> int:
        # The epoch, day 0, was a Thursday (3 counting Monday as 0).
        return int((self.t0 // DAY + day + 3) % 7)

    def _server(self, m: _Member, day: int, rng: random.Random, out: list[_Conn]) -> None:
        """An application server: a pool of connections to its own database, its log stream,
        lookups; and the monitoring host's scrapes of it (outbound: the host opens them)."""
        spans = m.active(day)
        services = self.network.services
        if spans:
            db = services["database"].hosts
            total = sum(b - a for a, b in spans)
            uses = self.network.uses["server"]
            for service, (lo, hi) in uses.items():
                for _ in range(rng.randint(lo, hi)):
                    a, b = _pick_span(spans, total, rng)
                    start = a + rng.uniform(0, 600) if service == "logs" else rng.uniform(a, b)
                    host = db[m.index % len(db)] if service == "database" else None
                    out.append(self._use(m.address, service, start, rng, host=host, until=b))
        self._monitor(m, day, rng, out)

    def _monitor(self, m: _Member, day: int, rng: random.Random, out: list[_Conn]) -> None:
        s = self.network.services["monitoring"]
        every = int(self.network.habits["monitoring_every"])
        for k in range(DAY // every):
            at = day * DAY + (m.index * 137) % every + k * every + rng.uniform(0, 5)
            if m.kind == "site":
                assert m.lan is not None
                self.counts["icmp"] += 1
                out.append(_Ping(self._id(), s.hosts[0], f"{m.lan}1", rng.randrange(1, 65536), self.t0 + at, m.up(at), rng))
            else:
                assert s.port is not None
                out.append(self._tcp(s.hosts[0], m.address, s.port, at, s.draw(rng), rng, OK if m.up(at) else UNANSWERED))

    def _site(self, m: _Member, day: int, rng: random.Random, out: list[_Conn]) -> None:
        """A site: its workstations on weekdays, its NAS's nightly upload and replica pull
        (the story's volumes), its ERP box's syncs with the next site, and the monitoring
        host's pings of its router."""
        assert m.lan is not None
        net = self.network
        if self._weekday(day) < 5:
            spans = m.active(day, WORKDAY)
            lo, hi = net.habits["workstations"]
            for w in range(random.Random(f"fleet {self.seed} site {m.key}").randint(lo, hi)):
                self._spread(f"{m.lan}{20 + w}", net.uses["workstation"], spans, rng, out)
        nas = f"{m.lan}5"
        for service, spell, upload in (("backup", m.backup, True), ("replica", m.pull, False)):
            if spell is None:
                continue
            second, seconds, rate = spell
            at = day * DAY + second
            if not m.up(at):
                continue
            volume = rate * seconds
            sent, received = (volume, volume / 2000) if upload else (volume / 2000, volume)
            port = net.services[service].port
            assert port is not None
            self.counts[service] += 1
            out.append(self._tcp(nas, net.services[service].hosts[0], port, at + rng.uniform(1, 20), _Volume(sent, received, seconds - 30), rng))
        self._sync(m, day, rng, out)
        self._monitor(m, day, rng, out)

    def _sync(self, m: _Member, day: int, rng: random.Random, out: list[_Conn]) -> None:
        if len(self.sites) < 2:
            return
        other = self.sites[(self.sites.index(m) + 1) % len(self.sites)]
        assert other.lan is not None
        s = self.network.services["site-sync"]
        assert s.port is not None
        every = int(self.network.habits["site_sync_every"])
        for k in range(DAY // every):
            at = day * DAY + (m.index * 311) % every + k * every + rng.uniform(0, 30)
            if not m.up(at):
                continue
            out.append(self._tcp(f"{m.lan}7", f"{other.lan}7", s.port, at, s.draw(rng), rng, OK if other.up(at) else UNANSWERED))

    # -- the planted attacks ------------------------------------------------------------------

    def _attack(self, at: float, key: str, entry: Mapping[str, Any], where: str, out: list[_Conn]) -> None:
        m = self.by_key.get(key)
        if m is None:
            raise StoryError(f"{where}.peer: {key!r} is not one of the fleet's peers")
        rng = random.Random(f"fleet {self.seed} attack {where}")
        if "sweep" in entry:
            spec = entry["sweep"]
            network = ipaddress.IPv4Network(spec["hosts"])
            port, over = int(spec["port"]), story_secs(spec.get("over", "60s"), f"{where}.sweep.over")
            hosts = [str(h) for h in network.hosts()]
            for k, host in enumerate(hosts):
                ports = self._open.get(host)
                outcome = UNANSWERED if ports is None else OK if port in ports else REFUSED
                ends = _Ends(m.address, rng.randint(*EPHEMERAL), host, port)
                out.append(self._attack_tcp(ends, at + over * k / len(hosts), _Volume(0, 0, 0.01), rng, outcome))
        elif "scan" in entry:
            spec = entry["scan"]
            host, over = str(spec["host"]), story_secs(spec.get("over", "60s"), f"{where}.scan.over")
            tried = list(range(1, int(spec["ports"]) + 1))
            rng.shuffle(tried)
            open_ports = self._open.get(host, set())
            for k, port in enumerate(tried):
                outcome = OK if port in open_ports else REFUSED
                ends = _Ends(m.address, rng.randint(*EPHEMERAL), host, port)
                out.append(self._attack_tcp(ends, at + over * k / len(tried), _Volume(0, 0, 0.01), rng, outcome))
        elif "connect" in entry:
            spec = entry["connect"]
            target = spec.get("host")
            if "peer" in spec:
                other = self.by_key.get(spec["peer"])
                if other is None:
                    raise StoryError(f"{where}.connect.peer: {spec['peer']!r} is not one of the fleet's peers")
                target = other.address
            volume = _Volume(size(spec.get("sent", "4KiB"), f"{where}.connect.sent"), size(spec.get("received", "16KiB"), f"{where}.connect.received"),
                             story_secs(spec.get("over", "10s"), f"{where}.connect.over"))  # fmt: skip
            out.append(self._attack_tcp(_Ends(m.address, rng.randint(*EPHEMERAL), str(target), int(spec["port"])), at, volume, rng, OK))
        else:
            raise StoryError(f"{where}: expected sweep, scan or connect")

    def _attack_tcp(self, ends: _Ends, start: float, volume: _Volume, rng: random.Random, outcome: str) -> _Tcp:
        self._attack_ids += 1
        self.counts["attack connections"] += 1
        return _Tcp(self._attack_ids, ends, self.t0 + start, volume, outcome, rng)


def _pick_span(spans: list[tuple[float, float]], total: float, rng: random.Random) -> tuple[float, float]:
    x = rng.uniform(0, total)
    for a, b in spans:
        if x <= b - a:
            return a, b
        x -= b - a
    return spans[-1]


def _attack_entries(story: Mapping[str, Any]) -> list[tuple[float, str, Mapping[str, Any], str]]:
    out = []
    for i, entry in enumerate(story.get("flows") or []):
        where = f"fleet: flows[{i}]"
        out.append((story_secs(entry["at"], f"{where}.at"), str(entry["peer"]), entry, where))
    return sorted(out, key=lambda e: e[0])


def _stopped(story: Mapping[str, Any]) -> tuple[float, float]:
    """When the shipper was stopped (unix seconds, open interval): between the poll that ends
    a poll segment slower than the first and the one after it; (0, 0) if never."""
    t0 = datetime.fromisoformat(str(story["start"]).replace("Z", "+00:00")).timestamp()
    polls = story.get("polls") or []
    if not polls:
        return 0.0, 0.0
    every = story_secs(polls[0]["every"], "fleet: polls[0].every")
    previous = 0.0
    for i, seg in enumerate(polls):
        until = story_secs(seg["until"], f"fleet: polls[{i}].until") if "until" in seg else None
        if until is not None and story_secs(seg["every"], f"fleet: polls[{i}].every") > every:
            return t0 + previous, t0 + until
        previous = until or previous
    return 0.0, 0.0
