"""Parse the text of `wg show all dump` (or `wg show IFACE dump`) into a `Poll`.

The format (wireguard-tools `show.c`, `dump_print()`) is one tab-separated line per
interface followed by one per peer. The private key (interface line) and the preshared
key (peer line) are printed in full: this module is the only code that ever sees them.
It never stores the private key, keeps the preshared key only as a keyed hash, and
never quotes either in a problem report.

A line that does not parse is reported as a `ParseProblem` (line number and field) and
skipped; the rest of the poll is still used.

A corrupt dump (a hand-made capture, a truncated file) can put a secret where a name or a
public key belongs. Every column is checked for its form, so a key never passes as an
interface name, and a value comes out as a public key only if it is not a secret this
dump printed in a private or preshared key column, not a preshared key the parser
remembers from earlier polls (`_Secrets`), and, on an interface line, the public key of
the private key beside it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

from ..errors import WgsiemError
from .model import Endpoint, InterfaceStatus, ParseProblem, PeerStatus, Poll
from .psk import PresharedKeyHasher
from .x25519 import public_key_of

NONE = "(none)"
REDACTED = "(redacted)"  # what `wgsiem record` writes in place of the private key
U64_MAX = 2**64 - 1
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second Python's datetime can hold
IFNAMSIZ = 16  # the kernel's limit on an interface name, its closing NUL included

KEY_PATTERN = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
# A whole key anywhere in a text (32 bytes in base64: the last character carries 2 bits).
KEY_TOKEN = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
# Anything that could be key material, or a piece of it, is never quoted back, whatever
# field it sits in: a key cut by a stray byte is still most of a key.
KEY_FRAGMENT = re.compile(r"[A-Za-z0-9+/=]{16,}")
# Public and preshared key of each peer line (9 columns; 8 without the interface).
# Interface lines, which carry the private key, do not match.
_KEYS = re.compile(r"^[^\t\n]*\t([^\t\n]*\t[^\t\n]*)(?:\t[^\t\n]*){6}$", re.MULTILINE)
_KEYS_NO_IFACE = re.compile(r"^([^\t\n]*\t[^\t\n]*)(?:\t[^\t\n]*){6}$", re.MULTILINE)


def quote_safely(value: str) -> str:
    """`value` for a message: quoted, cut short, or not shown at all when it could hold a key."""
    if KEY_FRAGMENT.search(value):
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


def parse_interface_name(value: str) -> str:
    """An interface name as the kernel allows one (dev_valid_name): 1 to 15 bytes, not
    '.' or '..', without '/', ':' or white space."""
    if not value:
        raise DumpError("interface", "empty interface name")
    if (
        len(value.encode("utf-8", "surrogateescape")) >= IFNAMSIZ
        or value in (".", "..")
        or any(c in "/:\0" or c.isspace() for c in value)
    ):
        raise DumpError("interface", f"not an interface name (1 to 15 bytes, no '/', ':' or white space): {quote_safely(value)}")
    return value


def parse_port(value: str, field: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > 65535:
        raise DumpError(field, f"expected a port 0-65535, got {quote_safely(value)}")
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
    raise DumpError("fwmark", f"expected 'off' or a hex mark like 0xca6c, got {quote_safely(value)}")


def parse_u64(value: str, field: str) -> int:
    if value.isascii() and value.isdigit():  # isdigit alone takes '²' and '٣' too
        n = int(value)
        if n <= U64_MAX:
            return n
    raise DumpError(field, f"expected an unsigned 64-bit integer, got {quote_safely(value)}")


def parse_handshake(value: str) -> int:
    """Unix seconds of the latest handshake (0: never). The kernel prints a u64, but a time
    no calendar in the pipeline can hold (past 9999-12-31) is a damaged line."""
    seconds = parse_u64(value, "latest-handshake")
    if seconds > LAST_SECOND:
        raise DumpError("latest-handshake", f"a time past the year 9999: {quote_safely(value)}")
    return seconds


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
            raise DumpError("endpoint", f"not an [address]:port endpoint: {quote_safely(value)}")
        host, _, zone = host.partition("%")
        if ":" not in host:
            raise DumpError("endpoint", "IPv4 address in IPv6 endpoint syntax")
    else:
        host, sep, port = value.rpartition(":")
        if not sep:
            raise DumpError("endpoint", f"not an address:port endpoint: {quote_safely(value)}")
        if ":" in host:
            raise DumpError("endpoint", "IPv6 address in IPv4 endpoint syntax")
        zone = ""
    ip = canonical_ip(host)
    if ip is None:
        raise DumpError("endpoint", f"not an IP address: {quote_safely(host)}")
    return Endpoint(ip=ip, port=parse_port(port, "endpoint"), zone=zone or None)


def parse_allowed_ips(value: str) -> tuple[str, ...]:
    if value == NONE:
        return ()
    nets = value.split(",")
    for part in nets:
        addr, _, plen = part.partition("/")
        limit = 128 if ":" in addr else 32
        if not (plen.isascii() and plen.isdigit() and int(plen) <= limit and canonical_ip(addr) is not None):
            raise DumpError("allowed-ips", f"not an ip/cidr: {quote_safely(part)}")
    return tuple(nets)


def parse_keepalive(value: str) -> int | None:
    if value == "off":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > 65535:
        raise DumpError("persistent-keepalive", f"expected seconds or 'off', got {quote_safely(value)}")
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
        # Keyed hashes of the interface lines that passed every check, the last poll's and
        # this one's: an unchanged line is not checked again (its X25519 costs a millisecond).
        self._checked_interfaces: set[str] = set()
        self._checking_interfaces: set[str] = set()
        # Keyed hashes of the private keys of those lines: a later dump that shows one as a
        # public key is refused even where its own private key column is broken. (This
        # dump's own are in its columns: they are added once it is read.)
        self._private_hashes: set[str] = set()
        self._new_private_hashes: set[str] = set()

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
        keys = _KEYS_NO_IFACE if interface else _KEYS
        keys_unchanged = self._keys_unchanged(text, keys)
        secrets = _Secrets(text, keys, self._hasher, last, self._private_hashes)
        self._checking_interfaces = set()
        self._new_private_hashes = set()
        fresh = poll.fresh = {}
        fresh_list: list[str] = []
        fixed = interface
        current: str | None = None  # interface whose peers may follow
        table: dict[str, PeerStatus] = {}
        last_table: dict[str, PeerStatus] = {}
        for lineno, line in enumerate(_lines(text), 1):
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
                secrets.privates.append(line.split("\t", 2)[1])
                current = self._interface_line(poll, line, secrets, source, lineno)
                if current is not None:
                    table = poll.peers[current] = {}
                    fresh_list = fresh[current] = []
                    last_table = last.get(current, {})
            elif nfields == 9:
                peer = self._peer_line(poll, line, current, table, last_table, secrets, source, lineno)
                if peer is not None:
                    table[peer.public_key] = peer
                    fresh_list.append(peer.public_key)
            else:
                want = "4 or 8" if fixed is not None else "5 or 9"
                have = nfields - 1 if fixed is not None else nfields
                poll.problems.append(ParseProblem(source, lineno, "line", f"expected {want} tab-separated fields, found {have}"))
        secrets.drop_from(poll, source)
        self._last = dict(poll.peers)
        self._checked_interfaces = self._checking_interfaces
        self._private_hashes |= self._new_private_hashes
        return poll

    def _keys_unchanged(self, text: str, keys: re.Pattern[str]) -> bool:
        """Whether every peer line's key columns are as in the last poll.

        Hashing every preshared key every poll was the parser's biggest cost. One keyed
        hash over the key columns of all peer lines, in order, says whether any peer's
        keys differ from the last poll; while none do, each peer's last hash still holds.
        The columns are fed to the hash one by one: 100,000 of them are never a list."""
        digest = self._hasher.hash_all(m[1] for m in keys.finditer(text))
        unchanged = digest == self._last_key_columns
        self._last_key_columns = digest
        return unchanged

    def _interface_line(self, poll: Poll, line: str, secrets: _Secrets, source: str, lineno: int) -> str | None:
        """An interface line into the poll: its name, or None (a problem is recorded)."""
        try:
            iface = self._interface(line, secrets, lineno)
        except DumpError as err:
            poll.problems.append(ParseProblem(source, lineno, err.field, err.reason))
            name = line.split("\t", 1)[0]
            if err.field != "interface":  # the name itself is good: the interface is there, unread
                poll.unavailable[name] = f"its line did not parse ({err.field})"
            return None
        if iface.name in poll.interfaces:
            poll.problems.append(ParseProblem(source, lineno, "interface", f"interface {iface.name} listed twice"))
            return None
        poll.interfaces[iface.name] = iface
        return iface.name

    def _peer_line(
        self,
        poll: Poll,
        line: str,
        current: str | None,
        table: dict[str, PeerStatus],
        last_table: dict[str, PeerStatus],
        secrets: _Secrets,
        source: str,
        lineno: int,
    ) -> PeerStatus | None:
        """A new or changed peer line of interface `current`: its PeerStatus, or None (a
        problem is recorded, and a peer whose key is readable is marked unreadable so the
        diff engine keeps it as it was)."""
        name, public, psk, rest = line.split("\t", 3)
        problems = poll.problems
        if name != current:
            problems.append(ParseProblem(source, lineno, "interface", f"peer line for {quote_safely(name)} without its interface line"))
            return None
        if public in table:
            problems.append(ParseProblem(source, lineno, "public-key", f"peer {quote_safely(public)} listed twice"))
            return None
        try:
            if psk != NONE and not KEY_PATTERN.match(psk):
                raise DumpError("preshared-key", "not a base64 WireGuard key")
            # A peer known from the last poll was checked when it first came; a new one must
            # not be a secret in the public key's place (the dump's own, once it is all read).
            new = public not in last_table
            if new and secrets.remembered(public):
                raise DumpError("public-key", _MISPLACED)
            if psk != NONE and secrets.is_public_key(psk):
                raise DumpError("preshared-key", "holds a peer's public key: the line's columns are out of place")
            psk_hash = None if psk == NONE else self._hasher.hash(psk)
            peer = self._peer(current, public, psk_hash, rest, problems, source, lineno)
            secrets.new_peer |= new
            return peer
        except DumpError as err:
            problems.append(ParseProblem(source, lineno, err.field, err.reason))
            if KEY_PATTERN.match(public) and not secrets.remembered(public):
                poll.unreadable.add((name, public))
            return None

    def _interface(self, line: str, secrets: _Secrets, lineno: int) -> InterfaceStatus:
        name, private, public, port, fwmark = line.split("\t")
        parse_interface_name(name)
        checked = self._hasher.hash(line)
        known = checked in self._checked_interfaces
        if not known and not _check_interface_keys(private, public, secrets):
            secrets.new_interfaces.append((name, lineno))
        status = InterfaceStatus(
            name=name,
            public_key=parse_key(public, "public-key"),
            listen_port=parse_port(port, "listen-port"),
            fwmark=parse_fwmark(fwmark),
        )
        self._checking_interfaces.add(checked)
        if not known and KEY_PATTERN.match(private):
            self._new_private_hashes.add(self._hasher.hash(private))
        return status

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
            interface=iface,  # the interface line's own string, not a copy per peer
            public_key=public,
            preshared_key_hash=psk_hash,
            endpoint=endpoint,
            allowed_ips=parse_allowed_ips(allowed),
            latest_handshake=parse_handshake(handshake),
            rx_bytes=parse_u64(rx, "rx-bytes"),
            tx_bytes=parse_u64(tx, "tx-bytes"),
            persistent_keepalive=parse_keepalive(keepalive),
            text=rest,
        )


def _lines(text: str, chunk: int = 1 << 20) -> Iterator[str]:
    """The lines of `text`, split a megabyte at a time: a dump of 100,000 peers is never a
    list of all its lines (15 MB more at the peak), and the split is still str.split's."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", min(start + chunk, end))
        if stop < 0:
            stop = end
        yield from text[start:stop].split("\n")
        start = stop + 1


_MISPLACED = "holds a value printed as a private or preshared key: the line's columns are out of place"


def _check_interface_keys(private: str, public: str, secrets: _Secrets) -> bool:
    """The interface line's public key is the one `wg` derives from the private key beside
    it. A `wgsiem record` capture has the private key `(redacted)`: then the public key must
    at least not be a secret (`_Secrets.drop_from` checks it against the dump's own). True
    when the public key is proven one (derived from the private key), whatever else the
    dump shows it as."""
    if private == NONE:
        if public != NONE:
            raise DumpError("public-key", "a public key beside no private key: the line's columns are out of place")
    elif private == REDACTED:
        if secrets.remembered(public):
            raise DumpError("public-key", _MISPLACED)
    elif not KEY_PATTERN.match(private):
        raise DumpError("private-key", f"not a base64 WireGuard key, {NONE} or {REDACTED}")
    elif public_key_of(private) != public:
        raise DumpError("public-key", "not the public key of the private key beside it: the line's columns are out of place")
    else:
        return True
    return False


class _Secrets:
    """What one dump must never show as a public key: the values of its secret columns
    (private keys, preshared keys), and any value whose keyed hash is a preshared key of
    the last poll's peers or a private key of an earlier poll's interface line.

    The remembered hashes are checked as each line is read. The dump's own secrets are
    known only once it is all read (a later line may hold the key an earlier one shows),
    so `drop_from` then takes out the new peers and interfaces that show one."""

    __slots__ = ("_text", "_keys", "_fixed", "_hasher", "_last", "_private_hashes", "_remembered", "privates", "new_peer", "new_interfaces")

    def __init__(
        self, text: str, keys: re.Pattern[str], hasher: PresharedKeyHasher, last: dict[str, dict[str, PeerStatus]], private_hashes: set[str]
    ) -> None:
        self._text, self._keys, self._hasher, self._last, self._private_hashes = text, keys, hasher, last, private_hashes
        self._fixed = keys is _KEYS_NO_IFACE  # `wg show IFACE dump`: no interface column
        self._remembered: set[str] | None = None
        self.privates: list[str] = []  # the private key column of every interface line
        self.new_peer = False  # a peer unknown to the last poll was read
        # (name, line) of interface lines not seen last poll whose public key is not proven one
        self.new_interfaces: list[tuple[str, int]] = []

    def remembered(self, value: str) -> bool:
        """Whether `value` is, by its keyed hash, a preshared key of a peer of the last poll
        or a private key seen before."""
        if self._remembered is None:
            self._remembered = {p.preshared_key_hash for t in self._last.values() for p in t.values() if p.preshared_key_hash}
            self._remembered |= self._private_hashes
        return bool(self._remembered) and self._hasher.hash(value) in self._remembered

    def is_public_key(self, value: str) -> bool:
        """Whether `value` is the public key of a peer of the last poll."""
        return bool(self._last) and any(value in table for table in self._last.values())

    def drop_from(self, poll: Poll, source: str) -> None:
        """Take out of `poll` what this dump printed in a secret column: new peers and
        interfaces showing it as their public key, and unreadable lines naming it. Only
        the values that could come out are gathered, never the dump's secrets."""
        if not (self.new_peer or self.new_interfaces or poll.unreadable):
            return
        shown: set[str] = {k for _, k in poll.unreadable}
        for name, _ in self.new_interfaces:
            iface = poll.interfaces.get(name)
            if iface is not None and iface.public_key:
                shown.add(iface.public_key)
        for name, keys in (poll.fresh or {}).items():
            last = self._last.get(name, {})
            shown.update(k for k in keys if k not in last)
        secret = {v for v in self.privates if v in shown}
        secret.update(psk for m in self._keys.finditer(self._text) if (psk := m[1].partition("\t")[2]) in shown)
        if not secret:
            return
        for name, line in self.new_interfaces:
            iface = poll.interfaces.get(name)
            if iface is not None and iface.public_key in secret:
                del poll.interfaces[name]
                poll.peers.pop(name, None)
                if poll.fresh is not None:
                    poll.fresh.pop(name, None)
                poll.unavailable[name] = "its line did not parse (public-key)"
                poll.problems.append(ParseProblem(source, line, "public-key", _MISPLACED))
        for name, table in poll.peers.items():
            for public in secret & table.keys():
                if public not in self._last.get(name, {}):
                    del table[public]
                    if poll.fresh is not None:
                        poll.fresh[name].remove(public)
                    poll.problems.append(ParseProblem(source, self._line_of(public), "public-key", _MISPLACED))
        poll.unreadable.difference_update([item for item in poll.unreadable if item[1] in secret])

    def _line_of(self, public: str) -> int:
        """The number of the peer line showing `public` as its public key (a rare path)."""
        column, fields = (0, 8) if self._fixed else (1, 9)
        for lineno, line in enumerate(_lines(self._text), 1):
            cols = line.split("\t")
            if len(cols) == fields and cols[column] == public:
                return lineno
        return 0


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
            poll.problems.append(ParseProblem("wg stderr", lineno, "stderr", quote_safely(line)))
