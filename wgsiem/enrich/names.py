"""Peer names: public key → a name people use, from wg-quick configs and a names file.

wg-quick configs carry names as a comment in the peer's section (the convention of
prometheus_wireguard_exporter):

    [Peer]
    # friendly_name = alice
    PublicKey = ...

The names file is the peer registry (registry.py): YAML or TOML mapping public keys to
names, or to tables with a `name` (and owner, email, role, ...), under an optional
`peers:` key beside `change_windows`. Where both name a key, the names file wins: it is
the operator's explicit word. Config files also hold PrivateKey and PresharedKey lines;
this reader looks only at section headers, PublicKey lines and friendly_* comments, and
never quotes a line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import WgsiemError
from ..wgdump.parse import KEY_PATTERN
from .registry import Registry, RegistryError, load_registry

_SECTION = re.compile(r"^\s*\[(?P<name>[A-Za-z]+)\]\s*$")
_PUBLIC = re.compile(r"^\s*PublicKey\s*=\s*(?P<key>\S+)\s*$", re.IGNORECASE)
_FRIENDLY = re.compile(r"^\s*#\s*friendly_(?P<kind>name|json)\s*=\s*(?P<value>.+?)\s*$")


class NamesError(WgsiemError):
    pass


def names_from_config(text: str, source: str) -> dict[str, str]:
    return friendly_from_config(text, source)[0]


def friendly_from_config(text: str, source: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Each peer's name, and the labels of its `# friendly_json` comment: the JSON object's
    keys and values as text (numbers as written, booleans as true/false), which
    prometheus_wireguard_exporter's -n turns into labels. The last comment of a section wins."""
    names: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    in_peer = False
    key: str | None = None
    name: str | None = None
    json_labels: dict[str, str] | None = None

    def close() -> None:
        if in_peer and key and name:
            names[key] = name
            if json_labels is not None:
                labels[key] = json_labels

    for lineno, line in enumerate(text.splitlines(), 1):
        if m := _SECTION.match(line):
            close()
            in_peer = m["name"].lower() == "peer"
            key = name = json_labels = None
        elif not in_peer:
            continue
        elif m := _PUBLIC.match(line):
            if not KEY_PATTERN.match(m["key"]):
                raise NamesError(f"{source}:{lineno}: PublicKey: not a base64 WireGuard key")
            key = m["key"]
        elif m := _FRIENDLY.match(line):
            name, json_labels = _friendly(m["kind"], m["value"], f"{source}:{lineno}")
    close()
    return names, labels


def _friendly(kind: str, value: str, where: str) -> tuple[str, dict[str, str] | None]:
    if kind == "name":
        return value, None
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise NamesError(f"{where}: friendly_json: not JSON ({err.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise NamesError(f"{where}: friendly_json: expected an object with a string \"name\"")
    labels = {}
    for label, item in data.items():
        if isinstance(item, bool):
            labels[label] = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            labels[label] = str(item)
        else:  # the exporter cannot make a label of it either
            raise NamesError(f"{where}: friendly_json: {label!r}: expected a string, number or boolean")
    return data["name"], labels


def names_from_file(path: Path) -> dict[str, str]:
    return _registry(path).names


def _registry(path: Path) -> Registry:
    try:
        return load_registry(path)
    except RegistryError as err:
        raise NamesError(str(err)) from None


def load_names(
    config_dirs: Iterable[Path] = (),
    names_file: Path | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> dict[str, str]:
    """Names from every `*.conf` in the config directories, then the names file over them.

    Names only enrich events, so a config directory or file that cannot be read or
    parsed is skipped with a warning: the audit trail must not stop for it. The names
    file is the operator's explicit choice, and its errors are raised."""
    return load_friendly(config_dirs, names_file, warn)[0]


def load_friendly(
    config_dirs: Iterable[Path] = (),
    names_file: Path | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """`load_names`, and the `# friendly_json` labels of the configs' peers."""
    names: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    for directory in config_dirs:
        if not directory.is_dir():
            continue
        if not os.access(directory, os.R_OK | os.X_OK):
            warn(f"{directory}: cannot read it, so no peer names from its wg-quick configs"
                 " (give this user read access, or a names file with --peers)")  # fmt: skip
            continue
        for conf in sorted(directory.glob("*.conf")):
            try:
                found, found_labels = friendly_from_config(conf.read_text(), str(conf))
            except (OSError, UnicodeDecodeError) as err:
                reason = err.strerror if isinstance(err, OSError) else "not text"
                warn(f"{conf}: skipped for peer names: {reason}")
            except NamesError as err:
                warn(f"skipped for peer names: {err}")
            else:
                names.update(found)
                labels.update(found_labels)
    if names_file is not None:
        try:
            names.update(names_from_file(names_file))
        except OSError as err:
            raise NamesError(f"{names_file}: cannot read: {err.strerror}") from None
    return names, labels


class NamesWatcher:
    """Reloads the names when a config or the names file changes, so a running shipper
    names a peer added today without a restart. Checks modification times only."""

    def __init__(
        self,
        config_dirs: Iterable[Path] = (),
        names_file: Path | None = None,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.config_dirs = tuple(config_dirs)
        self.names_file = names_file
        self.warn = warn
        self._stamp = self._current_stamp()
        self._load()

    def _load(self) -> None:
        names, labels = load_friendly(self.config_dirs, None, self.warn)
        registry = _registry(self.names_file) if self.names_file is not None else Registry()
        names.update(registry.names)
        self.names = names
        # json_labels: per public key, the labels of its `# friendly_json` comment (metrics -n)
        self.json_labels = labels
        # The names file's change_windows (None: it has none, or there is no names file).
        self.windows = registry.change_windows
        # The names file's registry entries (owner, email, role, expected places), by key.
        self.registry = registry.peers

    def _current_stamp(self) -> tuple[tuple[str, int, int], ...]:
        paths: list[Path] = []
        for directory in self.config_dirs:
            if directory.is_dir():
                paths.extend(sorted(directory.glob("*.conf")))
        if self.names_file is not None:
            paths.append(self.names_file)
        stamp = []
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def refresh(self) -> dict[str, str] | None:
        """The new names if anything changed since the last look, else None."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return None
        self._load()  # a bad names file raises here, and the caller keeps what it had
        self._stamp = stamp
        return self.names
