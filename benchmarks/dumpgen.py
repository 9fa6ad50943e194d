"""A deterministic generator of `wg show all dump` text for a fleet of N peers.

The text is what `wg show all dump` prints (the interface column first; format in
wireguard-tools `show.c`, `dump_print()`): per interface one interface line

    iface  private-key  public-key  listen-port  fwmark

followed by its peer lines

    iface  public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  keepalive

Everything comes from one seeded `random.Random`, so the same `(n_peers, seed,
interfaces)` and the same sequence of `step()` calls always give the same text.

* Keys are base64 of 32 random bytes: 44 characters whose last two are one of
  `AEIMQUYcgkosw048` and `=`, as for every real WireGuard key (the parser's pattern).
* About half the peers have a preshared key.
* Endpoints: about 60 % IPv4, 25 % IPv6 (a few link-local with a zone), 15 % `(none)`.
* 1-3 allowed IPs: the tunnel /32, sometimes a /128 and a routed /24.
* About 80 % have had a handshake; counters are large (up to 2^44, a few near 2^62).
* Persistent keepalive `off` or `25`.

`Fleet.step(changed_fraction, time)` changes about that fraction of the peers: a new
latest-handshake (always a new value, so each chosen peer's line differs), rx/tx growth,
and for about 5 % of them a new endpoint (roaming). The other lines stay byte-identical.

As a script it writes a capture directory (one `<unix-seconds>.dump` file per poll):

    python benchmarks/dumpgen.py 100000 --seed 1 --polls 10 --interval 30 --changed 0.01 /tmp/cap
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without PYTHONPATH
from wgsiem.wgdump.x25519 import public_key_of  # noqa: E402

START = 1_700_000_000  # default time of the first poll (2023-11-14T22:13:20Z)
U64_MAX = 2**64 - 1


def _key(rng: random.Random) -> str:
    # 32 random bytes → 44 base64 characters; 256 bits leave 4 spare bits in the last
    # character, so it is always one of AEIMQUYcgkosw048 followed by '='.
    return base64.b64encode(rng.randbytes(32)).decode("ascii")


class _Peer:
    __slots__ = ("public", "psk", "endpoint", "allowed", "handshake", "rx", "tx", "keepalive")

    def __init__(self, public: str, psk: str, endpoint: str, allowed: str,
                 handshake: int, rx: int, tx: int, keepalive: str) -> None:  # fmt: skip
        self.public = public
        self.psk = psk
        self.endpoint = endpoint
        self.allowed = allowed
        self.handshake = handshake
        self.rx = rx
        self.tx = tx
        self.keepalive = keepalive


class Fleet:
    """N peers spread round-robin over `interfaces` interfaces (wg0, wg1, ...).

    Handshake times are kept relative until the first `dump()` or `step()`, whose `time`
    anchors them (the initial handshakes lie up to an hour before it).
    """

    def __init__(self, n_peers: int, seed: int = 0, interfaces: int = 1) -> None:
        if n_peers < 0 or interfaces < 1:
            raise ValueError("n_peers >= 0 and interfaces >= 1")
        self.rng = rng = random.Random(seed)
        self.n_peers = n_peers
        self.interfaces = []  # [name, private, public, port, fwmark]
        for i in range(interfaces):
            private = _key(rng)
            # The public key `wg` prints is the private key's: the parser checks that.
            self.interfaces.append(
                [f"wg{i}", private, public_key_of(private), str(51820 + i), "0xca6c" if i % 2 else "off"]
            )
        self.peers: list[_Peer] = []
        # Peer i belongs to interface i % interfaces; lines are cached per peer and only
        # the changed ones are rebuilt.
        for i in range(n_peers):
            self.peers.append(self._new_peer(i))
        self._anchor: int | None = None
        self._lines: list[str] | None = None

    # -- building -------------------------------------------------------------------------

    def _new_peer(self, i: int) -> _Peer:
        rng = self.rng
        public = _key(rng)
        psk = _key(rng) if rng.random() < 0.5 else "(none)"
        j = i + 2  # tunnel addresses from 10.0.0.2 (10.0.0.1 is the server)
        allowed = [f"10.{(j >> 16) & 255}.{(j >> 8) & 255}.{j & 255}/32"]
        if rng.random() < 0.4:
            allowed.append(f"fd00:{(j >> 16) & 0xFFFF:x}::{j & 0xFFFF:x}/128")
        if rng.random() < 0.15:
            allowed.append(f"192.168.{i & 255}.0/24")
        # A handshake offset in seconds before the anchor (negative = relative), or 0 = never.
        handshake = -rng.randint(1, 3600) if rng.random() < 0.8 else 0
        if rng.random() < 0.01:
            rx, tx = rng.randint(2**60, 2**62), rng.randint(2**60, 2**62)
        elif handshake:
            rx, tx = rng.randint(0, 2**44), rng.randint(0, 2**44)
        else:
            rx = tx = 0
        keepalive = "25" if rng.random() < 0.3 else "off"
        return _Peer(public, psk, self._endpoint(), ",".join(allowed), handshake, rx, tx, keepalive)

    def _endpoint(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return "(none)"
        port = rng.randint(1024, 65535)
        if r < 0.75:
            # Unicast-looking IPv4 (first octet 1-223, skipping 10/127).
            first = rng.choice([n for n in range(1, 224) if n not in (10, 127)])
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{port}"
        if r < 0.995:
            ip = ipaddress.IPv6Address((1 << 125) | rng.getrandbits(125))  # 2000::/3
            return f"[{ip.compressed}]:{port}"
        ip = ipaddress.IPv6Address((0xFE80 << 112) | rng.getrandbits(64))
        return f"[{ip.compressed}%eth0]:{port}"

    def _line(self, i: int) -> str:
        p = self.peers[i]
        iface = self.interfaces[i % len(self.interfaces)][0]
        handshake = p.handshake
        if handshake < 0:
            assert self._anchor is not None
            handshake = p.handshake = self._anchor + handshake
        return (
            f"{iface}\t{p.public}\t{p.psk}\t{p.endpoint}\t{p.allowed}\t{handshake}\t"
            f"{p.rx}\t{p.tx}\t{p.keepalive}"
        )

    def _anchor_at(self, time: int) -> None:
        if self._anchor is None:
            self._anchor = time
            self._lines = [self._line(i) for i in range(self.n_peers)]

    # -- the API ----------------------------------------------------------------------------

    def dump(self, time: int) -> str:
        """The text `wg show all dump` prints now (`time` anchors the fleet on first use)."""
        self._anchor_at(time)
        assert self._lines is not None
        n_if = len(self.interfaces)
        out = []
        for k, iface in enumerate(self.interfaces):
            out.append("\t".join(iface))
            out.extend(self._lines[k::n_if])
        return "\n".join(out) + "\n" if out else ""

    def step(self, changed_fraction: float, time: int) -> list[int]:
        """Change about `changed_fraction` of the peers as of `time`; returns their indexes."""
        self._anchor_at(time)
        assert self._lines is not None
        rng = self.rng
        n = self.n_peers
        k = min(n, round(n * changed_fraction))
        if changed_fraction > 0 and n and k == 0:
            k = 1
        chosen = sorted(rng.sample(range(n), k))
        for i in chosen:
            p = self.peers[i]
            # Always a new value, so the line differs; never in the future.
            p.handshake = max(time - rng.randint(0, 25), p.handshake + 1)
            p.rx = min(U64_MAX, p.rx + rng.randint(148, 50_000_000))
            p.tx = min(U64_MAX, p.tx + rng.randint(92, 20_000_000))
            if p.endpoint == "(none)" or rng.random() < 0.05:
                new = self._endpoint()
                while new == "(none)" or new == p.endpoint:
                    new = self._endpoint()
                p.endpoint = new
            self._lines[i] = self._line(i)
        return chosen


def write_capture(fleet: Fleet, out_dir: Path, *, start: int, polls: int, interval: int,
                  changed: float) -> list[Path]:  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(polls):
        time = start + k * interval
        if k:
            fleet.step(changed, time)
        path = out_dir / f"{time}.dump"
        path.write_text(fleet.dump(time))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a capture directory of synthetic `wg show all dump` polls.")
    ap.add_argument("peers", type=int, help="number of peers")
    ap.add_argument("out_dir", type=Path, help="capture directory to write <unix-seconds>.dump files into")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--interfaces", type=int, default=1, help="interfaces wg0..wgN-1 (peers round-robin) [1]")
    ap.add_argument("--polls", type=int, default=1, help="number of polls (files) [1]")
    ap.add_argument("--interval", type=int, default=30, help="seconds between polls [30]")
    ap.add_argument("--changed", type=float, default=0.01, help="fraction of peers changed per poll [0.01]")
    ap.add_argument("--start", type=int, default=START, help=f"unix time of the first poll [{START}]")
    args = ap.parse_args(argv)
    fleet = Fleet(args.peers, args.seed, args.interfaces)
    paths = write_capture(fleet, args.out_dir, start=args.start, polls=args.polls,
                          interval=args.interval, changed=args.changed)  # fmt: skip
    print(f"wrote {len(paths)} polls of {args.peers} peers to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
