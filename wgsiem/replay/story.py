"""The deterministic capture generator: a story (story.yaml) → captures/<unix-seconds>.dump
and kernel.log, as a WireGuard host would have shown them.

It models what `wg show all dump` reveals and how it moves (kernel timers.c): a peer that
is up handshakes when it comes up and again every 120 s while it has traffic (plus a few
seconds' jitter), its counters grow with its traffic rates (±10 % per interval, seeded),
the endpoint is the last one the host heard the peer from and stays after it goes quiet, an
interface restart zeroes counters and handshakes. Keys are derived from the seed and the
peer's name, so the same story always writes the same bytes.

    seed: 7
    start: 2026-10-01T00:00:00Z
    end: 8d                       # offsets: 30s, 5m, 2h, 8d, 1d2h...
    host_name: vpn1
    interface: {name: wg0, listen_port: 51820}
    polls:                        # when the shipper polled; the default is every 30 s
      - {until: 7d, every: 1h}
      - {until: 8d, every: 30s}
    peers:
      alice:
        name: alice               # registered name (peers.yaml); omit for an unnamed peer
        allowed_ips: [10.0.0.2/32]
        endpoint: 198.51.100.10:51000
        keepalive: 25
        preshared_key: true
        hours: "07:00-23:00"      # UTC hours the peer is up each day (default: always)
        rx: 20KiB/s               # what the host receives from it while up
        tx: 200KiB/s              # what the host sends it while up
        added: 2h                 # configured after the baseline (default: at the start)
        handshake: 45d            # present at the start: its last handshake was this long
                                  # before it (default: 1 to 24 hours, seeded)
    timeline:                     # changes at offsets from start
      - {at: 7d2h, peer: alice, endpoint: 175.16.199.20:40404}
      - {at: 7d3h, peer: alice, burst: {tx: 2GiB, over: 5m}}
      - {at: 7d4h, peer: alice, allowed_ips: [0.0.0.0/0]}
      - {at: 7d4h, peer: alice, preshared_key: false}
      - {at: 7d5h, peer: alice, silent: 8d}       # up but sending nothing: no handshakes
      - {at: 7d5h, peer: alice, remove: true}
      - {at: 7d6h, peer: alice, rotate_key: true} # removed and re-added with a new key
      - {at: 7d6h, interface: restart}
      - {at: 7d6h, interface: rotate_key}
      - {at: 7d7h, log: "Invalid handshake initiation from 67.43.156.7:40000", repeat: 120, every: 500ms}
      - {at: 7d8h, wg_fails: 15m, exit_status: 1, stderr: "Unable to access interface wg0: Operation not permitted"}

`log:` lines are kernel messages of the interface (`wireguard: wg0: ` is prepended), written
to kernel.log in journald's short-iso-precise framing. While `wg_fails`, the host goes on as
before but each poll's wg prints nothing and ends with `exit_status` (default 1) and
`stderr`: an empty dump and its captures/<unix-seconds>.exit.json.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import yaml

from ..adapters.capture import EXIT_SUFFIX, exit_text
from ..errors import WgsiemError
from ..rules.cases import offset

REKEY_AFTER = 120  # s: a new handshake while traffic flows (timers.c REKEY_AFTER_TIME)
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB|TiB)(/s)?")
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


class StoryError(WgsiemError):
    """A story that cannot be generated; the message names the file and the entry."""


@dataclass
class Peer:
    key_name: str  # the story's name for the peer: keys derive from it
    name: str | None
    allowed_ips: list[str]
    endpoint: str | None
    keepalive: int | None
    psk: bool
    hours: tuple[int, int] | None  # seconds of the day [from, to)
    rx_rate: float
    tx_rate: float
    added: float
    handshake_ago: float | None  # present at the start: how long before it the last handshake was
    generation: int = 0  # bumped by rotate_key
    present: bool = False
    rx: int = 0
    tx: int = 0
    handshake: int = 0
    last_up: float | None = None  # when the current up period began
    silent_until: float = 0.0
    bursts: list[tuple[float, float, float, float]] = field(default_factory=list)  # (start, end, rx, tx)
    heard: str | None = None  # the endpoint the host last heard it from (what wg shows)

    def public_key(self, seed: int) -> str:
        return derive_key(seed, f"peer:{self.key_name}:{self.generation}")


def derive_key(seed: int, label: str) -> str:
    return base64.b64encode(hashlib.sha256(f"wgsiem story {seed} {label}".encode()).digest()).decode()


def size(text: Any, where: str) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    m = _SIZE.fullmatch(str(text).strip())
    if not m:
        raise StoryError(f"{where}: {text!r} is not a size like 200KiB/s or 2GiB")
    return float(m[1]) * _UNITS[m[2]]


def load_story(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise StoryError(f"{path}: not valid YAML: {err}") from None
    for key in ("seed", "start", "end", "host_name", "interface", "peers"):
        if key not in (raw or {}):
            raise StoryError(f"{path}: {key}: missing")
    return raw


@dataclass
class Rendered:
    """What a story makes: each poll's dump text, the kernel log lines, the peer names."""

    polls: list[tuple[int, str]]
    log_lines: list[str]
    names: dict[str, str]
    exits: dict[int, tuple[int, str]] = field(default_factory=dict)  # poll time → wg's exit status, stderr: it failed


def generate(story_file: Path, out_dir: Path) -> tuple[int, int]:
    """Write out_dir/captures/*.dump (replacing what is there), out_dir/kernel.log (if the
    story logs anything) and out_dir/peers.yaml. Returns (polls, log lines)."""
    rendered = render(load_story(story_file), str(story_file))
    captures = out_dir / "captures"
    captures.mkdir(parents=True, exist_ok=True)
    for old in chain(captures.glob("*.dump"), captures.glob(f"*{EXIT_SUFFIX}")):
        old.unlink()
    for t, text in rendered.polls:
        (captures / f"{t}.dump").write_text(text)
    for t, (status, stderr) in rendered.exits.items():
        (captures / f"{t}{EXIT_SUFFIX}").write_text(exit_text(status, stderr))
    log = out_dir / "kernel.log"
    if rendered.log_lines:
        log.write_text("".join(rendered.log_lines))
    elif log.exists():
        log.unlink()
    (out_dir / "peers.yaml").write_text(yaml.safe_dump(rendered.names, sort_keys=True))
    return len(rendered.polls), len(rendered.log_lines)


def render(raw: dict[str, Any], where: str = "story") -> Rendered:
    """The story played: pure, so a fleet can be rendered in memory without files."""
    seed = int(raw["seed"])
    rnd = random.Random(seed)
    start = _start(raw["start"], where)
    t0 = start.timestamp()
    end = t0 + _secs(raw["end"], f"{where}: end")
    iface = raw["interface"]
    ifname, port = iface["name"], int(iface.get("listen_port", 51820))
    iface_generation = 0
    peers = {n: _peer(n, p or {}, f"{where}: peers.{n}") for n, p in raw["peers"].items()}
    for p in peers.values():
        p.added += t0
        if p.added == t0 and p.endpoint:
            # A peer configured before the shipper came has been heard from before: the
            # host shows its endpoint and a handshake from some hours ago, or as the story
            # says. The draw is made either way, so one peer's setting moves no other's.
            ago = rnd.uniform(3600, 86400)
            p.heard, p.handshake = p.endpoint, int(t0 - (ago if p.handshake_ago is None else p.handshake_ago))
    timeline = sorted(
        ((t0 + _secs(e["at"], f"{where}: timeline[{i}].at"), i, e) for i, e in enumerate(raw.get("timeline") or [])),
        key=lambda x: (x[0], x[1]),
    )
    rendered: list[tuple[int, str]] = []
    log_lines: list[str] = []
    polls = _poll_times(raw.get("polls"), t0, end, where)
    down_until = -1.0
    failing: list[tuple[float, float, int, str]] = []  # wg_fails: from, until, exit status, stderr
    exits: dict[int, tuple[int, str]] = {}
    previous = t0
    ti = 0
    for t in polls:
        # Apply the timeline up to this poll, in order.
        while ti < len(timeline) and timeline[ti][0] <= t:
            at, i, entry = timeline[ti]
            ti += 1
            if "log" in entry:
                every = _secs(entry.get("every", "0s"), f"{where}: timeline[{i}].every")
                for n in range(int(entry.get("repeat", 1))):
                    log_lines.append(_log_line(at + n * every, raw["host_name"], ifname, entry["log"]))
                continue
            if "wg_fails" in entry:
                failing.append(_wg_fails(entry, at, f"{where}: timeline[{i}]"))
                continue
            if entry.get("interface") == "restart":
                down_until = at + 1
                for p in peers.values():
                    p.rx = p.tx = p.handshake = 0
                    p.last_up = None
                continue
            if entry.get("interface") == "rotate_key":
                iface_generation += 1
                continue
            p = peers.get(entry.get("peer"))
            if p is None:
                raise StoryError(f"{where}: timeline[{i}]: unknown peer {entry.get('peer')!r}")
            _change(p, entry, at, f"{where}: timeline[{i}]")
        for p in peers.values():
            if not p.present and p.added <= t and p.added >= 0:
                p.present, p.added = True, -1
            if p.present:
                _advance(p, previous, t, rnd)
        previous = t
        ended = _wg_ended(failing, t)
        if ended is not None:
            text = ""  # wg could not read the interface: it printed nothing but its error
            exits[int(t)] = ended
        elif t < down_until:
            text = ""  # the interface is gone for this poll
        else:
            ikey = derive_key(seed, f"interface:{ifname}:{iface_generation}")
            text = f"{ifname}\t(redacted)\t{ikey}\t{port}\toff\n"
            text += "".join(_peer_line(ifname, p, seed) for p in sorted(peers.values(), key=lambda p: p.key_name) if p.present)
        rendered.append((int(t), text))
    names = {p.public_key(seed): p.name for p in peers.values() if p.name}
    # Rotated keys keep the peer's name: the registry follows the rotation.
    for p in peers.values():
        if p.name:
            for g in range(p.generation + 1):
                names[derive_key(seed, f"peer:{p.key_name}:{g}")] = p.name
    return Rendered(rendered, sorted(log_lines), dict(sorted(names.items())), exits)


def _wg_ended(failing: list[tuple[float, float, int, str]], t: float) -> tuple[int, str] | None:
    """wg's exit status and stderr at a poll of a wg_fails window (None: wg worked)."""
    for start, until, status, stderr in failing:
        if start <= t < until:
            return status, stderr
    return None


def _wg_fails(entry: dict[str, Any], at: float, where: str) -> tuple[float, float, int, str]:
    unknown = sorted(set(entry) - {"at", "wg_fails", "exit_status", "stderr"})
    if unknown:
        raise StoryError(f"{where}: unknown key {unknown[0]!r} with wg_fails (known: exit_status, stderr)")
    status = entry.get("exit_status", 1)
    if not isinstance(status, int) or isinstance(status, bool):
        raise StoryError(f"{where}.exit_status: {status!r} is not a number")
    stderr = str(entry.get("stderr", ""))
    return at, at + _secs(entry["wg_fails"], f"{where}.wg_fails"), status, stderr + ("\n" if stderr and not stderr.endswith("\n") else "")


def _start(value: Any, where: str) -> datetime:
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _secs(value: Any, where: str) -> float:
    try:
        return offset(value, where).total_seconds()
    except ValueError as err:
        raise StoryError(str(err)) from None


def _peer(name: str, spec: dict[str, Any], where: str) -> Peer:
    hours = None
    if spec.get("hours"):
        m = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", str(spec["hours"]))
        if not m:
            raise StoryError(f"{where}.hours: {spec['hours']!r} is not like 07:00-23:00")
        hours = (int(m[1]) * 3600 + int(m[2]) * 60, int(m[3]) * 3600 + int(m[4]) * 60)
    return Peer(
        key_name=name,
        name=spec.get("name"),
        allowed_ips=list(spec.get("allowed_ips") or []),
        endpoint=spec.get("endpoint"),
        keepalive=spec.get("keepalive"),
        psk=bool(spec.get("preshared_key", False)),
        hours=hours,
        rx_rate=size(spec.get("rx", "1KiB/s"), f"{where}.rx"),
        tx_rate=size(spec.get("tx", "1KiB/s"), f"{where}.tx"),
        added=_secs(spec.get("added", "0s"), f"{where}.added") if "added" in spec else 0.0,
        handshake_ago=_secs(spec["handshake"], f"{where}.handshake") if "handshake" in spec else None,
    )


def _change(p: Peer, entry: dict[str, Any], at: float, where: str) -> None:
    for key, value in entry.items():
        if key in ("at", "peer"):
            continue
        if key == "endpoint":
            p.endpoint = value
        elif key == "allowed_ips":
            p.allowed_ips = list(value)
        elif key == "preshared_key":
            p.psk = bool(value)
        elif key == "keepalive":
            p.keepalive = value
        elif key in ("rx", "tx"):
            setattr(p, f"{key}_rate", size(value, f"{where}.{key}"))
        elif key == "silent":
            p.silent_until = at + _secs(value, f"{where}.silent")
        elif key == "burst":
            over = _secs(value.get("over", "1m"), f"{where}.burst.over")
            p.bursts.append((at, at + over, size(value.get("rx", 0), f"{where}.burst.rx"), size(value.get("tx", 0), f"{where}.burst.tx")))
        elif key == "remove" and value:
            p.present, p.rx, p.tx, p.handshake, p.last_up, p.heard = False, 0, 0, 0, None, None
        elif key == "add" and value:
            p.added = at
        elif key == "rotate_key" and value:
            p.generation += 1
            p.rx = p.tx = p.handshake = 0
            p.last_up, p.heard = None, None
        else:
            raise StoryError(f"{where}: unknown change {key!r}")


def _up(p: Peer, t: float) -> bool:
    if p.endpoint is None or t < p.silent_until:
        return False
    if any(start <= t <= end for start, end, _rx, _tx in p.bursts):
        return True  # a burst needs a session, whatever the hour
    if p.hours is None:
        return True
    day = t % 86400
    lo, hi = p.hours
    return lo <= day < hi if lo < hi else (day >= lo or day < hi)


def _advance(p: Peer, since: float, now: float, rnd: random.Random) -> None:
    """Move the peer from `since` to `now`: traffic, handshakes, and what the host heard."""
    step = 60.0
    t = since
    while t < now:
        nxt = min(now, t + step)
        if _up(p, nxt):
            if p.last_up is None:
                p.last_up = nxt - rnd.uniform(0, nxt - t)
                p.handshake = int(p.last_up)
            p.heard = p.endpoint  # authenticated packets from there: the host roams to it
            # rekey every 120 s of traffic, a few seconds late
            while p.handshake + REKEY_AFTER + 5 <= nxt:
                p.handshake += REKEY_AFTER + rnd.randint(0, 4)
            span = nxt - t
            jitter = rnd.uniform(0.9, 1.1)
            p.rx += int(p.rx_rate * span * jitter)
            p.tx += int(p.tx_rate * span * jitter)
        else:
            p.last_up = None
        for b_start, b_end, b_rx, b_tx in p.bursts:
            overlap = max(0.0, min(nxt, b_end) - max(t, b_start))
            if overlap > 0:
                share = overlap / (b_end - b_start)
                p.rx += int(b_rx * share)
                p.tx += int(b_tx * share)
        t = nxt


def _peer_line(ifname: str, p: Peer, seed: int) -> str:
    psk = derive_key(seed, f"psk:{p.key_name}:{p.generation}") if p.psk else "(none)"
    endpoint = p.heard or "(none)"
    allowed = ",".join(p.allowed_ips) or "(none)"
    keepalive = str(p.keepalive) if p.keepalive else "off"
    return f"{ifname}\t{p.public_key(seed)}\t{psk}\t{endpoint}\t{allowed}\t{p.handshake}\t{p.rx}\t{p.tx}\t{keepalive}\n"


def _poll_times(spec: Any, t0: float, end: float, where: str) -> list[float]:
    segments = spec or [{"until": None, "every": "30s"}]
    out: list[float] = []
    t = t0
    for i, seg in enumerate(segments):
        until = end if seg.get("until") is None else t0 + _secs(seg["until"], f"{where}: polls[{i}].until")
        every = _secs(seg.get("every", "30s"), f"{where}: polls[{i}].every")
        if every < 1:
            raise StoryError(f"{where}: polls[{i}].every: at least 1s")
        while t < min(until, end) or (t == t0 and not out):
            out.append(t)
            t += every
        # The next segment starts where this one ends, not where its step overshot.
        t = max(min(t, until, end), out[-1] + 1) if out else t
    if not out or out[-1] < end:
        out.append(end)
    return out


def _log_line(t: float, host: str, ifname: str, text: str) -> str:
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return f"{stamp} {host} kernel: wireguard: {ifname}: {text}\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m wgsiem.replay.story SCENARIO_DIR...`: regenerate each scenario's captures
    from its story.yaml."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m wgsiem.replay.story SCENARIO_DIR...", file=sys.stderr)
        return 2
    for folder in map(Path, args):
        polls, lines = generate(folder / "story.yaml", folder)
        print(f"{folder}: {polls} polls, {lines} kernel log lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
