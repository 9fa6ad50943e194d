"""Parse the text of `wg show all dump` (or `wg show IFACE dump`) into a `Poll`.

The format (wireguard-tools `show.c`, `dump_print()`) is one tab-separated line per
interface followed by one per peer. The private key (interface line) and the preshared
key (peer line) are printed in full: this module is the only code that ever sees them.
It never stores the private key, keeps the preshared key only as a keyed hash, and
never quotes either in a problem report.

A line that does not parse is reported as a `ParseProblem` (line number and field) and
skipped; the rest of the poll is still used.
"""

from __future__ import annotations

import re
import socket

from ..errors import WgsiemError
from .model import Endpoint, InterfaceStatus, ParseProblem, PeerStatus, Poll
from .psk import PresharedKeyHasher

NONE = "(none)"
U64_MAX = 2**64 - 1

KEY_PATTERN = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
# Anything that could be key material is never quoted back, whatever field it sits in.
_KEYISH = re.compile(r"[A-Za-z0-9+/=]{40,}")
# Public and preshared key of each peer line (9 columns; 8 without the interface).
# Interface lines, which carry the private key, do not match.
_KEYS = re.compile(r"^[^\t\n]*\t([^\t\n]*\t[^\t\n]*)(?:\t[^\t\n]*){6}$", re.MULTILINE)
_KEYS_NO_IFACE = re.compile(r"^([^\t\n]*\t[^\t\n]*)(?:\t[^\t\n]*){6}$", re.MULTILINE)


def _show(value: str) -> str:
    if _KEYISH.search(value):
        return f"<{len(value)} characters not shown>"
    if len(value) > 60:
        value = value[:57] + "..."
    return repr(value)


class DumpError(WgsiemError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_key(value: str, field: str) -> str | None:
    if value == NONE:
        return None
    if not KEY_PATTERN.match(value):
        raise DumpError(field, "not a base64 WireGuard key")
    return value


def parse_port(value: str, field: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise DumpError(field, f"expected a port 0-65535, got {_show(value)}")
    return int(value)


def parse_fwmark(value: str) -> int | None:
    if value == "off":
        return None
    if value.startswith("0x"):
        try:
            mark = int(value[2:], 16)
        except ValueError:
            mark = -1
        if 0 < mark <= 0xFFFFFFFF:
            return mark
    raise DumpError("fwmark", f"expected 'off' or a hex mark like 0xca6c, got {_show(value)}")


def parse_u64(value: str, field: str) -> int:
    if value.isdigit():
        n = int(value)
        if n <= U64_MAX:
            return n
    raise DumpError(field, f"expected an unsigned 64-bit integer, got {_show(value)}")


def canonical_ip(text: str) -> str | None:
    """The address in the form wg prints it (inet_ntop), or None if it is not one.

    inet_pton/inet_ntop are what wg itself uses, and far cheaper than ipaddress."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        return socket.inet_ntop(family, socket.inet_pton(family, text))
    except (OSError, ValueError):
        return None


def parse_endpoint(value: str) -> Endpoint | None:
    """`(none)`, `1.2.3.4:51820`, `[2001:db8::1]:51820` or `[fe80::1%eth0]:51820`.

    When getnameinfo fails, `wg` prints the resolver's error text instead; that is
    reported by the caller as an endpoint it could not read.
    """
    if value == NONE:
        return None
    if value.startswith("["):
        host, sep, port = value[1:].rpartition("]:")
        if not sep:
            raise DumpError("endpoint", f"not an [address]:port endpoint: {_show(value)}")
        host, _, zone = host.partition("%")
        if ":" not in host:
            raise DumpError("endpoint", "IPv4 address in IPv6 endpoint syntax")
    else:
        host, sep, port = value.rpartition(":")
        if not sep:
            raise DumpError("endpoint", f"not an address:port endpoint: {_show(value)}")
        if ":" in host:
            raise DumpError("endpoint", "IPv6 address in IPv4 endpoint syntax")
        zone = ""
    ip = canonical_ip(host)
    if ip is None:
        raise DumpError("endpoint", f"not an IP address: {_show(host)}")
    return Endpoint(ip=ip, port=parse_port(port, "endpoint"), zone=zone or None)


def parse_allowed_ips(value: str) -> tuple[str, ...]:
    if value == NONE:
        return ()
    nets = value.split(",")
    for part in nets:
        addr, _, plen = part.partition("/")
        limit = 128 if ":" in addr else 32
        if not (plen.isdigit() and int(plen) <= limit and canonical_ip(addr) is not None):
            raise DumpError("allowed-ips", f"not an ip/cidr: {_show(part)}")
    return tuple(nets)


def parse_keepalive(value: str) -> int | None:
    if value == "off":
        return None
    if not value.isdigit() or int(value) > 65535:
        raise DumpError("persistent-keepalive", f"expected seconds or 'off', got {_show(value)}")
    return int(value)


class DumpParser:
    """Parses successive polls; remembers the last poll's peer lines to reuse unchanged peers.

    The memory is the last poll's `PeerStatus` objects, no more sensitive than the `Poll`
    itself. A peer line equal to last time (its text from the endpoint on, and its
    preshared key's hash) reuses last time's `PeerStatus`, which also tells the diff
    engine at a glance that nothing changed.
    """

    def __init__(self, hasher: PresharedKeyHasher) -> None:
        self._hasher = hasher
        self._last_key_columns: str | None = None
        # The last poll's peers: interface -> public key -> PeerStatus.
        self._last: dict[str, dict[str, PeerStatus]] = {}

    def remember(self, peers: dict[str, dict[str, PeerStatus]]) -> None:
        """Start from peers already known (the loaded state), as if they were the last poll."""
        self._last = {name: dict(table) for name, table in peers.items()}

    def parse(
        self,
        text: str,
        time: int,
        *,
        source: str = "<dump>",
        interface: str | None = None,
        poll: Poll | None = None,
    ) -> Poll:
        """Parse one poll. `interface` is given for `wg show IFACE dump` text (no first column).

        The loop is the fast path, run for every peer line: a line unchanged since the
        last poll is last poll's PeerStatus again. Every other line goes to the slow path
        (`_interface_line`, `_peer_line`), which validates it field by field."""
        poll = poll if poll is not None else Poll(time=time)
        last = self._last
        psk_hash_of = self._hasher.hash
        keys_unchanged = self._keys_unchanged(text, interface)
        fresh = poll.fresh = {}
        fresh_list: list[str] = []
        fixed = interface
        current: str | None = None  # interface whose peers may follow
        table: dict[str, PeerStatus] = {}
        last_table: dict[str, PeerStatus] = {}
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            if fixed is not None:
                line = f"{fixed}\t{line}"
            parts = line.split("\t", 3)
            # The common case: a peer line that has not changed since the last poll.
            if len(parts) == 4 and parts[0] == current:
                public = parts[1]
                previous = last_table.get(public)
                if (
                    previous is not None
                    and previous.text == parts[3]
                    and (
                        keys_unchanged
                        or previous.preshared_key_hash == (None if parts[2] == NONE else psk_hash_of(parts[2]))
                    )
                ):
                    n = len(table)
                    table.setdefault(previous.public_key, previous)
                    if len(table) > n:
                        continue
            if line.endswith("\r"):
                line = line[:-1]
            nfields = line.count("\t") + 1
            if nfields == 5:
                current = self._interface_line(poll, line, source, lineno)
                if current is not None:
                    table = poll.peers[current] = {}
                    fresh_list = fresh[current] = []
                    last_table = last.get(current, {})
            elif nfields == 9:
                peer = self._peer_line(poll, line, current, table, source, lineno)
                if peer is not None:
                    table[peer.public_key] = peer
                    fresh_list.append(peer.public_key)
            else:
                want = "4 or 8" if fixed is not None else "5 or 9"
                have = nfields - 1 if fixed is not None else nfields
                poll.problems.append(ParseProblem(source, lineno, "line", f"expected {want} tab-separated fields, found {have}"))
        self._last = dict(poll.peers)
        return poll

    def _keys_unchanged(self, text: str, interface: str | None) -> bool:
        """Whether every peer line's key columns are as in the last poll.

        Hashing every preshared key every poll was the parser's biggest cost. One keyed
        hash over the key columns of all peer lines, in order, says whether any peer's
        keys differ from the last poll; while none do, each peer's last hash still holds."""
        key_columns = self._hasher.hash("\n".join((_KEYS_NO_IFACE if interface else _KEYS).findall(text)))
        unchanged = key_columns == self._last_key_columns
        self._last_key_columns = key_columns
        return unchanged

    def _interface_line(self, poll: Poll, line: str, source: str, lineno: int) -> str | None:
        """An interface line into the poll: its name, or None (a problem is recorded)."""
        try:
            iface = self._interface(line)
        except DumpError as err:
            poll.problems.append(ParseProblem(source, lineno, err.field, err.reason))
            name = line.split("\t", 1)[0]
            if name:
                poll.unavailable[name] = f"its line did not parse ({err.field})"
            return None
        if iface.name in poll.interfaces:
            poll.problems.append(ParseProblem(source, lineno, "interface", f"interface {iface.name} listed twice"))
            return None
        poll.interfaces[iface.name] = iface
        return iface.name

    def _peer_line(
        self, poll: Poll, line: str, current: str | None, table: dict[str, PeerStatus], source: str, lineno: int
    ) -> PeerStatus | None:
        """A new or changed peer line of interface `current`: its PeerStatus, or None (a
        problem is recorded, and a peer whose key is readable is marked unreadable so the
        diff engine keeps it as it was)."""
        name, public, psk, rest = line.split("\t", 3)
        problems = poll.problems
        if name != current:
            problems.append(ParseProblem(source, lineno, "interface", f"peer line for {_show(name)} without its interface line"))
            return None
        if public in table:
            problems.append(ParseProblem(source, lineno, "public-key", f"peer {_show(public)} listed twice"))
            return None
        try:
            if psk != NONE and not KEY_PATTERN.match(psk):
                raise DumpError("preshared-key", "not a base64 WireGuard key")
            psk_hash = None if psk == NONE else self._hasher.hash(psk)
            return self._peer(name, public, psk_hash, rest, problems, source, lineno)
        except DumpError as err:
            problems.append(ParseProblem(source, lineno, err.field, err.reason))
            if KEY_PATTERN.match(public):
                poll.unreadable.add((name, public))
            return None

    @staticmethod
    def _interface(line: str) -> InterfaceStatus:
        # The private key (second column) is dropped here without being looked at.
        name, _private, public, port, fwmark = line.split("\t")
        if not name:
            raise DumpError("interface", "empty interface name")
        return InterfaceStatus(
            name=name,
            public_key=parse_key(public, "public-key"),
            listen_port=parse_port(port, "listen-port"),
            fwmark=parse_fwmark(fwmark),
        )

    @staticmethod
    def _peer(
        iface: str,
        public: str,
        psk_hash: str | None,
        rest: str,
        problems: list[ParseProblem],
        source: str,
        lineno: int,
    ) -> PeerStatus:
        if parse_key(public, "public-key") is None:
            raise DumpError("public-key", "a peer line needs a public key")
        endpoint_text, allowed, handshake, rx, tx, keepalive = rest.split("\t")
        try:
            endpoint = parse_endpoint(endpoint_text)
        except DumpError as err:
            # wg prints getnameinfo's error text when it cannot format the address;
            # the peer is still real, only its endpoint is unknown.
            problems.append(ParseProblem(source, lineno, err.field, err.reason))
            endpoint = None
        return PeerStatus(
            interface=iface,
            public_key=public,
            preshared_key_hash=psk_hash,
            endpoint=endpoint,
            allowed_ips=parse_allowed_ips(allowed),
            latest_handshake=parse_u64(handshake, "latest-handshake"),
            rx_bytes=parse_u64(rx, "rx-bytes"),
            tx_bytes=parse_u64(tx, "tx-bytes"),
            persistent_keepalive=parse_keepalive(keepalive),
            text=rest,
        )


_UNABLE = re.compile(r"^Unable to access interface (?P<iface>\S+): (?P<reason>.+)$")
_UNABLE_ALL = re.compile(r"^Unable to access interface: (?P<reason>.+)$")


def read_stderr(stderr: str, poll: Poll) -> None:
    """Record what `wg` said on stderr: interfaces it could not read, or a total failure."""
    for lineno, line in enumerate(stderr.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if m := _UNABLE.match(line):
            poll.unavailable[m["iface"]] = m["reason"]
        elif m := _UNABLE_ALL.match(line):
            poll.failure = f"wg could not read the interfaces: {m['reason']}"
            if "Operation not permitted" in m["reason"]:
                poll.failure += " (wgsiem needs CAP_NET_ADMIN: run it as root or with that capability)"
        else:
            poll.problems.append(ParseProblem("wg stderr", lineno, "stderr", _show(line)))
