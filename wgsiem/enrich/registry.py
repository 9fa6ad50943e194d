"""The peer registry: who each key is, where it is expected, and when changes are (the
names file, grown up; DESIGN.md "The peer registry").

    peers:
      "<public key>":
        name: alice-laptop        # wireguard.peer.name
        owner: alice              # user.name
        email: alice@example.com  # user.email
        role: laptop              # laptop, phone, server, site, service
        always_on: false          # a site tunnel: true, or 15m (how long it may be silent)
        networks: [198.51.100.0/24, "2001:db8::/32"]
        countries: [NL, SE]
        tags: [finance]
    change_windows:
      - {days: [tue, thu], start: "18:00", end: "20:00", timezone: Europe/Amsterdam}

An always-on peer (a site tunnel) is expected to handshake all the time: silent longer than
its `silent_after` (`always_on: true` gives SILENT_AFTER; `always_on: 15m` sets it in the
duration syntax of settings.duration), it is reported down (status/silence.py).

YAML or TOML. The older forms still load: a plain `"<key>": name` mapping, or tables with
only a `name`, with or without the `peers:` level. Every value is checked; an error names
the file, the line (YAML; for TOML the line where the key is written) and the key.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import WgsiemError
from ..settings import duration
from ..wgdump.parse import KEY_PATTERN
from .windows import ChangeWindow, WindowError, parse_windows

ROLES = ("laptop", "phone", "server", "site", "service")
_PEER_KEYS = ("name", "owner", "email", "role", "always_on", "networks", "countries", "tags")
_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# How long an always-on peer may go without a handshake, by default. A working site tunnel
# (PersistentKeepalive on, so its keepalives are traffic) renews its session every
# REKEY_AFTER_TIME (120 s, timers.c), so its latest handshake is never much more than two
# minutes old. Ten minutes is about five renewals missed: a lost packet or a router reboot
# stays under it, a line or a site really down does not.
SILENT_AFTER = 600
# The least `always_on: <duration>` may say: under the kernel's REJECT_AFTER_TIME (180 s) a
# healthy tunnel between two renewals would be called down.
MIN_SILENT_AFTER = 180


class RegistryError(WgsiemError):
    """A registry file that cannot be used; the message names the file, line and key."""


@dataclass(frozen=True, slots=True)
class RegisteredPeer:
    name: str
    owner: str | None = None
    email: str | None = None
    role: str | None = None
    always_on: bool = False
    networks: tuple[Network, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2, upper case, as GeoIP gives them
    tags: tuple[str, ...] = ()
    # An always-on peer's limit: seconds without a handshake after which it is down
    # (peer-silent). Means nothing for a peer that is not always on.
    silent_after: int = SILENT_AFTER


@dataclass(frozen=True, slots=True)
class Registry:
    peers: dict[str, RegisteredPeer] = field(default_factory=dict)
    change_windows: tuple[ChangeWindow, ...] | None = None  # None: the file has none

    @property
    def names(self) -> dict[str, str]:
        return {key: peer.name for key, peer in self.peers.items()}


def load_registry(path: Path) -> Registry:
    try:
        text = path.read_text()
    except OSError as err:
        raise RegistryError(f"{path}: cannot read: {err.strerror}") from None
    toml = path.suffix == ".toml"
    try:
        data = tomllib.loads(text) if toml else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        raise RegistryError(f"{path}: not valid {'TOML' if toml else 'YAML'}: {err}") from None
    lines = _toml_lines(text) if toml else _yaml_lines(text)
    return parse_registry(data, str(path), lines)


def parse_registry(data: Any, source: str, lines: Mapping[tuple[str, ...], int] | None = None) -> Registry:  # noqa: ANN401 - YAML or TOML data
    lines = lines or {}

    def fail(path: tuple[str, ...], why: str) -> RegistryError:
        line = _line_of(lines, path)
        return RegistryError(f"{source}{f':{line}' if line else ''}: {'.'.join(path) or '(top)'}: {why}")

    if data is None:
        return Registry()
    if not isinstance(data, dict):
        raise fail((), "expected a mapping of public key to name, or peers: and change_windows:")
    windows = None
    prefix: tuple[str, ...] = ()
    if "peers" in data or "change_windows" in data:
        unknown = sorted(set(data) - {"peers", "change_windows"})
        if unknown:
            raise fail((str(unknown[0]),), "unknown key beside peers and change_windows")
        if "change_windows" in data:
            try:
                at = [lines.get(("change_windows", f"[{i}]")) for i in range(len(data["change_windows"] or []))]
                windows = parse_windows(data["change_windows"], source, at)
            except WindowError as err:
                raise RegistryError(str(err)) from None
        data, prefix = data.get("peers") or {}, ("peers",)
        if not isinstance(data, dict):
            raise fail(prefix, "expected a mapping of public key to peer")
    peers = {}
    for key, value in data.items():
        where = (*prefix, str(key))
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise fail(where, "not a base64 WireGuard public key")
        peers[key] = _peer(value, where, fail)
    return Registry(peers, windows)


def _peer(value: Any, where: tuple[str, ...], fail: Any) -> RegisteredPeer:  # noqa: ANN401
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise fail(where, "expected a name, or a table with name (and owner, email, role, ...)")
    unknown = sorted(set(value) - set(_PEER_KEYS))
    if unknown:
        raise fail((*where, str(unknown[0])), f"unknown key (known: {', '.join(_PEER_KEYS)})")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail((*where, "name"), "expected the peer's name, a non-empty string")
    texts = {}
    for key in ("owner", "email", "role"):
        item = value.get(key)
        if item is not None and (not isinstance(item, str) or not item.strip()):
            raise fail((*where, key), "expected a non-empty string")
        texts[key] = item.strip() if isinstance(item, str) else None
    if texts["email"] is not None and not _EMAIL.fullmatch(texts["email"]):
        raise fail((*where, "email"), f"not an email address: {texts['email']!r}")
    if texts["role"] is not None and texts["role"] not in ROLES:
        raise fail((*where, "role"), f"{texts['role']!r} is not one of {', '.join(ROLES)}")
    always_on, silent_after = _always_on(value.get("always_on", False), (*where, "always_on"), fail)
    networks = []
    for item in _list(value, "networks", where, fail):
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise fail((*where, "networks"), f"not a network (CIDR) or address: {item!r}") from None
    countries = []
    for item in _list(value, "countries", where, fail):
        if not isinstance(item, str) or not _COUNTRY.fullmatch(item.upper()):
            raise fail((*where, "countries"), f"not an ISO 3166 two-letter country code: {item!r}")
        countries.append(item.upper())
    tags = []
    for item in _list(value, "tags", where, fail):
        if not isinstance(item, str) or not item.strip():
            raise fail((*where, "tags"), f"expected strings, got {item!r}")
        tags.append(item.strip())
    return RegisteredPeer(
        name.strip(), texts["owner"], texts["email"], texts["role"], always_on, tuple(networks), tuple(countries), tuple(tags),
        silent_after,
    )  # fmt: skip


def _always_on(value: Any, where: tuple[str, ...], fail: Any) -> tuple[bool, int]:  # noqa: ANN401
    """`always_on`: false, true (silent after SILENT_AFTER), or how long it may be silent."""
    if isinstance(value, bool):
        return value, SILENT_AFTER
    why = "expected true, false or how long the peer may be silent, like 15m"
    if not isinstance(value, str):
        raise fail(where, why)
    try:
        seconds = int(duration(value.strip()).total_seconds())
    except ValueError:
        raise fail(where, f"{why}: {value!r} is not a duration like 30s, 5m, 1h or 14d") from None
    if seconds < MIN_SILENT_AFTER:
        raise fail(where, f"{value!r} is too short: a working tunnel renews its session only every 2 minutes,"
                          f" so less than {MIN_SILENT_AFTER // 60}m would call it down between two")  # fmt: skip
    return True, seconds


def _list(value: dict[str, Any], key: str, where: tuple[str, ...], fail: Any) -> list[Any]:  # noqa: ANN401
    items = value.get(key, [])
    if not isinstance(items, list):
        raise fail((*where, key), "expected a list")
    return items


# -- where a key is written ---------------------------------------------------------------


def _yaml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Each mapping key's line, by its path from the top."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, child in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here = (*path, str(key.value))
                    lines[here] = key.start_mark.line + 1
                    walk(child, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, child in enumerate(node.value):
                lines[(*path, f"[{i}]")] = child.start_mark.line + 1

    if root is not None:
        walk(root, ())
    return lines


def _toml_lines(text: str) -> dict[tuple[str, ...], int]:
    """tomllib keeps no positions: the first line where each key is written, by its last name."""
    lines: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"([^"]+)"\s*=|^\s*([A-Za-z_][\w-]*)\s*=|\[+\s*"?([^\]"]+)"?\s*\]+', line):
            name = next(g for g in m.groups() if g)
            lines.setdefault((name.split(".")[-1],), number)
    return lines


def _line_of(lines: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int | None:
    """The line of the deepest part of `path` that was found (a value's line is its key's)."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
        if (path[end - 1],) in lines:
            return lines[(path[end - 1],)]
    return None
