"""Parse a wg-quick configuration file (`/etc/wireguard/wg0.conf`) as wg-quick and `wg` read it.

Two readers go over such a file, and this parser follows both:

* wg-quick (`parse_options`) cuts each line at its first `#`, splits it at the first `=`
  and trims both halves, and matches case-insensitively. In `[Interface]` (the header
  exactly, any case) it keeps Address, DNS, MTU, Table, SaveConfig and the Pre/Post
  hooks for itself; a hook keeps its whole text, `#` included, as wg-quick runs it.
* Every other line goes to `wg setconf` (wireguard-tools `config.c`), which cuts at `#`,
  removes all white space, matches section headers and keys case-insensitively, and
  refuses what it does not know (`Line unrecognized`).

`PrivateKey` and `PresharedKey` are read here and nowhere else: the model holds the
interface's public key (derived with X25519) and a keyed hash of each preshared key, and
no problem message quotes anything that could be part of a key. A damaged file cannot
move a secret elsewhere either: a peer whose public key is a value the file gives as a
private or preshared key, or shows on a line wg would refuse, is refused, every other value is checked for its form (an
endpoint's host, an address, a DNS entry), and a key-shaped word in a hook is recorded
as a keyed-hash stand-in, which still shows the hook changed. A line wg-quick or wg
would refuse is a `ParseProblem` (file, line, key, why), as a dump's bad line is; the rest is still read, so a
file with one typo still tells which peers it lists.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field

from ..errors import WgsiemError
from ..wgdump.model import ParseProblem
from ..wgdump.parse import KEY_FRAGMENT, KEY_PATTERN, KEY_TOKEN, REDACTED, quote_safely
from ..wgdump.psk import PresharedKeyHasher
from ..wgdump.x25519 import public_key_of

# What wg-quick takes for an interface name, and so a configuration file's name.
FILE_NAME = re.compile(r"([a-zA-Z0-9_=+.-]{1,15})\.conf")
HOOKS = ("PreUp", "PostUp", "PreDown", "PostDown")
_WG_QUICK_KEYS = {k.lower(): k for k in ("Address", "DNS", "MTU", "Table", "SaveConfig", *HOOKS)}
_INTERFACE_KEYS = {k.lower(): k for k in ("PrivateKey", "ListenPort", "FwMark")}
_PEER_KEYS = {k.lower(): k for k in ("PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive")}
SPACE = re.compile(r"[\t\n\v\f\r ]+")  # C's isspace, what config.c removes
_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_TABLE = re.compile(r"[A-Za-z0-9_.-]+")
_U32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Hook:
    kind: str  # PreUp, PostUp, PreDown or PostDown
    command: str  # as wg-quick runs it (`%i` is the interface)
    line: int


@dataclass(frozen=True, slots=True)
class InterfaceConfig:
    public_key: str | None  # of the PrivateKey; None without one
    listen_port: int | None
    fwmark: int | None  # None: off
    addresses: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    mtu: str | None = None
    table: str | None = None
    save_config: bool = False
    hooks: tuple[Hook, ...] = ()


@dataclass(frozen=True, slots=True)
class PeerConfig:
    public_key: str
    preshared_key_hash: str | None  # HMAC under the install's secret, as in the dump's model
    allowed_ips: tuple[str, ...]  # as the kernel holds them: host bits cleared, as `wg` prints them
    endpoint: str | None  # host:port as written (a name is resolved by wg, not here)
    persistent_keepalive: int | None  # None: off
    line: int  # of its [Peer] header


@dataclass(frozen=True, slots=True)
class WgQuickConfig:
    source: str
    interface: InterfaceConfig | None  # None: no [Interface] section
    peers: tuple[PeerConfig, ...]
    problems: tuple[ParseProblem, ...] = field(default=())
    holds_keys: bool = False  # a PrivateKey or PresharedKey is written in it: who may read it matters

    @property
    def valid(self) -> bool:
        """Whether `wg-quick up` would get past reading it."""
        return not self.problems


def interface_name(file_name: str) -> str | None:
    """The interface a file configures (`wg0.conf` → `wg0`), or None if wg-quick refuses the name."""
    m = FILE_NAME.fullmatch(file_name)
    return m[1] if m else None


def interface_of(path: str) -> str | None:
    """The interface of a file's path (`/etc/wireguard/wg0.conf` → `wg0`)."""
    return interface_name(path.rpartition("/")[2])


class _Error(WgsiemError):
    """A value wg or wg-quick refuses; becomes a ParseProblem of its line."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


@dataclass
class _Peer:
    line: int
    public_key: str | None = None
    psk_hash: str | None = None
    allowed: list[str] = field(default_factory=list)
    endpoint: str | None = None
    keepalive: int | None = None


@dataclass
class _Interface:
    public_key: str | None = None
    listen_port: int | None = None
    fwmark: int | None = None
    addresses: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    mtu: str | None = None
    table: str | None = None
    save_config: bool = False
    hooks: list[Hook] = field(default_factory=list)
    seen: bool = False


def parse_config(text: str, source: str, hasher: PresharedKeyHasher, redacted_public_key: str | None = None) -> WgQuickConfig:
    """The file's model. A capture's copy (`wgsiem record`) has `PrivateKey = (redacted)`
    and the public key it had beside it: `redacted_public_key`."""
    iface = _Interface()
    peers: list[_Peer] = []
    problems: list[ParseProblem] = []
    wg_quick_interface = False  # wg-quick's view: inside a header exactly [Interface]
    section: str | None = None  # wg's view: "interface", "peer" or None
    secrets: set[str] = set()  # every value of a PrivateKey or PresharedKey line, wherever it is
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip(" \t\n")  # what bash's `read` trims
        spoken = SPACE.sub("", line).lower()
        if "privatekey" in spoken or "presharedkey" in spoken:  # a secret, even commented out
            secrets.update(KEY_TOKEN.findall(line))
        stripped, _, _ = line.partition("#")
        key, eq, value = stripped.partition("=")
        key, value = key.strip(), (value.strip() if eq else key.strip())
        if key.startswith("["):
            wg_quick_interface = key.lower() == "[interface]"
        if wg_quick_interface and key.lower() in _WG_QUICK_KEYS:
            _wg_quick_key(iface, _WG_QUICK_KEYS[key.lower()], value, line, lineno, source, problems)
            continue
        # What wg setconf reads: no comment, no white space at all.
        compact = SPACE.sub("", stripped)
        if not compact:
            continue
        header = compact.lower()
        if header in ("[interface]", "[peer]"):
            section = header[1:-1]
            if section == "peer":
                peers.append(_Peer(lineno))
            else:
                iface.seen = True
            continue
        name, eq, setting = compact.partition("=")
        if "privatekey" in header or "presharedkey" in header:
            secrets.add(setting)
        known = _INTERFACE_KEYS if section == "interface" else _PEER_KEYS if section == "peer" else {}
        if not eq or not setting or name.lower() not in known:
            what = "a key outside any section" if section is None and eq else "not a key wg or wg-quick knows here"
            problems.append(ParseProblem(source, lineno, name or "line", f"{what}: wg refuses it (Line unrecognized)"))
            # A damaged line may be a damaged PrivateKey line: its keys are taken for secrets.
            secrets.update(KEY_TOKEN.findall(compact))
            continue
        try:
            if section == "interface" and setting == REDACTED and name.lower() == "privatekey" and redacted_public_key:
                iface.public_key = redacted_public_key
            elif section == "interface":
                _interface_key(iface, _INTERFACE_KEYS[name.lower()], setting)
            else:
                _peer_key(peers[-1], _PEER_KEYS[name.lower()], setting, hasher)
        except _Error as err:
            problems.append(ParseProblem(source, lineno, err.key, err.reason))
            secrets.update(KEY_TOKEN.findall(compact))
    for peer in peers:
        if peer.public_key in secrets:
            why = "holds a value the file gives as a private or preshared key, or on a line wg refuses"
            problems.append(ParseProblem(source, peer.line, "PublicKey", why))
            peer.public_key = None
        elif peer.public_key is None:
            problems.append(ParseProblem(source, peer.line, "PublicKey", "a peer is missing a public key: wg refuses the file"))
    interface = None
    if iface.seen or iface.addresses or iface.hooks or iface.dns:
        interface = InterfaceConfig(
            public_key=iface.public_key, listen_port=iface.listen_port, fwmark=iface.fwmark, addresses=tuple(iface.addresses),
            dns=tuple(stand_in_keys(d, hasher) for d in iface.dns), mtu=iface.mtu,
            table=None if iface.table is None else stand_in_keys(iface.table, hasher), save_config=iface.save_config,
            hooks=tuple(Hook(h.kind, stand_in_keys(h.command, hasher), h.line) for h in iface.hooks),
        )  # fmt: skip
    return WgQuickConfig(
        source,
        interface,
        tuple(
            PeerConfig(p.public_key, p.psk_hash, tuple(p.allowed), p.endpoint and stand_in_keys(p.endpoint, hasher), p.keepalive, p.line)
            for p in peers
            if p.public_key is not None
        ),
        tuple(problems),
        holds_keys=bool(secrets) or any(p.psk_hash for p in peers),
    )


def stand_in_keys(text: str, hasher: PresharedKeyHasher) -> str:
    """`text` with each key, or run that may be most of one, replaced by its keyed-hash
    stand-in: the same run gives the same stand-in, so a change still shows."""
    # A run of 16 base64 characters may be much of a key (a key damaged by a stray byte is
    # still a secret; 16 is where problem messages stop quoting too); mixed case tells it
    # from a path or a word (a random run of 16 lacks a lower or upper case letter once in
    # 2,000). A mixed-case word that long in a hook (NetworkManagerDispatcher) gets one too.
    return KEY_FRAGMENT.sub(lambda m: hasher.stand_in(m[0]) if _mixed_case(m[0]) else m[0], text)


def _mixed_case(run: str) -> bool:
    return any(c.isupper() for c in run) and any(c.islower() for c in run)


def _wg_quick_key(iface: _Interface, key: str, value: str, line: str, lineno: int, source: str, problems: list[ParseProblem]) -> None:
    if key in ("Address", "DNS"):
        for item in value.replace(",", " ").split():
            if _address_or_name(item, allow_name=key == "DNS", allow_prefix=key == "Address"):
                (iface.addresses if key == "Address" else iface.dns).append(item)
            else:
                what = "an IP address or a search domain" if key == "DNS" else "an IP address, with or without a prefix"
                problems.append(ParseProblem(source, lineno, key, f"not {what}: {quote_safely(item)}: wg-quick up fails"))
    elif key == "MTU":
        if not (value.isascii() and value.isdigit()):
            problems.append(ParseProblem(source, lineno, key, f"not a number: {quote_safely(value)}"))
        else:
            iface.mtu = value
    elif key == "Table":
        if not _TABLE.fullmatch(value):
            problems.append(ParseProblem(source, lineno, key, f"not off, auto, or a routing table: {quote_safely(value)}"))
        else:
            iface.table = value
    elif key == "SaveConfig":
        if value.lower() not in ("true", "false"):
            problems.append(ParseProblem(source, lineno, key, f"{quote_safely(value)} is neither true nor false: wg-quick stops"))
        else:
            iface.save_config = value.lower() == "true"
    else:
        # The hook as wg-quick runs it: the value of the whole line, comment and all.
        _, _, command = line.partition("=")
        iface.hooks.append(Hook(key, command.strip(), lineno))


def _interface_key(iface: _Interface, key: str, value: str) -> None:
    if key == "PrivateKey":
        if not KEY_PATTERN.match(value):
            raise _Error(key, "not a base64 WireGuard key (44 characters)")
        iface.public_key = public_key_of(value)
    elif key == "ListenPort":
        iface.listen_port = _port(key, value)
    else:
        iface.fwmark = _fwmark(value)


def _peer_key(peer: _Peer, key: str, value: str, hasher: PresharedKeyHasher) -> None:
    if key in ("PublicKey", "PresharedKey"):
        if not KEY_PATTERN.match(value):
            raise _Error(key, "not a base64 WireGuard key (44 characters)")
        if key == "PublicKey":
            peer.public_key = value
        else:
            peer.psk_hash = hasher.hash(value)
    elif key == "AllowedIPs":
        for part in value.split(","):
            network = _allowed_ip(part)
            if part.startswith("-"):  # wg's `-` takes an address off the peer's list
                if network in peer.allowed:
                    peer.allowed.remove(network)
            elif network not in peer.allowed:
                peer.allowed.append(network)
    elif key == "Endpoint":
        peer.endpoint = _endpoint(value)
    else:
        peer.keepalive = _keepalive(value)


def _port(key: str, value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) <= 65535:
        return int(value)
    # wg also takes a service name from /etc/services; a port is what is worth comparing.
    raise _Error(key, f"expected a port 0-65535, got {quote_safely(value)}")


def _fwmark(value: str) -> int | None:
    if value.lower() == "off":
        return None
    try:
        if not value[:1].isdigit() or not value.isascii():
            raise ValueError
        mark = int(value[2:], 16) if len(value) > 2 and value.startswith("0x") else int(value, 10)
    except ValueError:
        mark = -1
    if not 0 <= mark <= _U32:
        raise _Error("FwMark", f"neither 0/off nor 0-0xffffffff: {quote_safely(value)}")
    return mark or None


def _keepalive(value: str) -> int | None:
    if value.lower() == "off":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > 65535:
        raise _Error("PersistentKeepalive", f"neither 0/off nor 1-65535: {quote_safely(value)}")
    return int(value) or None


def _allowed_ip(part: str) -> str:
    entry = part[1:] if part[:1] in ("+", "-") else part
    address, slash, prefix = entry.partition("/")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        socket.inet_pton(family, address)  # inet_pton's forms, as wg: no `10.1`, no zone
    except (OSError, ValueError):
        raise _Error("AllowedIPs", f"not an IP address: {quote_safely(address)}") from None
    limit = 128 if family == socket.AF_INET6 else 32
    if slash and not (prefix.isascii() and prefix.isdigit() and int(prefix) <= limit):
        raise _Error("AllowedIPs", f"not in the correct format: {quote_safely(entry)}")
    network = ipaddress.ip_network(f"{address}/{prefix if slash else limit}", strict=False)
    return str(network)  # host bits cleared, as the kernel keeps it and `wg` shows it


def _endpoint(value: str) -> str:
    if value.startswith("["):
        host, sep, port = value[1:].partition("]")
        if not sep:
            raise _Error("Endpoint", f"no matching brace: {quote_safely(value)}")
        if not port.startswith(":") or len(port) == 1:
            raise _Error("Endpoint", f"no port: {quote_safely(value)}")
        port = port[1:]
    else:
        host, sep, port = value.rpartition(":")
        if not sep or not port:
            raise _Error("Endpoint", f"no port: {quote_safely(value)}")
    if not _address_or_name(host.partition("%")[0], allow_name=True) or not (port.isascii() and port.isalnum()):
        raise _Error("Endpoint", f"not an address or host name and a port: {quote_safely(value)}")
    return value


def _address_or_name(text: str, *, allow_name: bool, allow_prefix: bool = False) -> bool:
    """An IP address (with a prefix length if `allow_prefix`), or else, if `allow_name`, a host name."""
    address = text.partition("/")[0] if allow_prefix else text
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        socket.inet_pton(family, address)
        if allow_prefix and "/" in text:
            ipaddress.ip_interface(text)
        return True
    except (OSError, ValueError):
        return allow_name and _HOST_NAME.fullmatch(text) is not None
