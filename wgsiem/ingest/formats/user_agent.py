"""User-agent parsing the way Elasticsearch's `user_agent` processor parses.

Elasticsearch bundles uap-core's regexes.yaml and applies it with its own code
(UserAgentParserImpl): for each of the three lists (user agents, operating systems,
devices) the first regex that `find`s a match wins. From the match:

- the name is the name replacement with its first `$1` replaced by group 1 (when the
  replacement has a `$1` and group 1 took part), the replacement as written otherwise,
  or group 1 when there is no replacement; no name means no match;
- each version part is its replacement taken literally (Elasticsearch does not expand
  `$N` there, unlike uap-core's reference parsers), or else groups 2 to 5;
- the version is "major[.minor[.patch[.build]]]", cut at the first empty part, and none
  when there is no major.

The regexes are uap-core's, read from the pinned `ua-parser-builtins` package (its
generated rule list, parsed as data, not imported): Elasticsearch's bundled copy is an
older uap-core with a few additions of its own, so some agents get other names (see
docs/ingest.md). The device type (`extract_device_type`) follows Elasticsearch's
DeviceTypeParser with rules of our own, in user_agent_device_types.yaml.

A `regex_file` names a YAML file in Elasticsearch's regexes.yaml format: `user_agent_parsers`,
`os_parsers`, `device_parsers`, each a list of `{regex, regex_flag, *_replacement}`.
"""

from __future__ import annotations

import ast
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ...errors import WgsiemError

DEFAULT_PARSER_NAME = "_default_"
_CACHE_SIZE = 1000  # Elasticsearch's user_agent.cache_size default


class UserAgentRegexError(WgsiemError):
    """A regex file that is not in regexes.yaml's format, or a regex Python cannot compile."""


@dataclass(frozen=True, slots=True)
class VersionedName:
    name: str
    version: str | None


@dataclass(frozen=True, slots=True)
class Details:
    """UserAgentParserImpl's Details: what the processor writes comes from these."""

    name: str | None
    version: str | None
    os: VersionedName | None
    os_full: str | None
    device: VersionedName | None
    device_type: str | None


def version_string(major: str | None, minor: str | None, patch: str | None, build: str | None) -> str | None:
    """UserAgentParserImpl.versionToString."""
    if not major:
        return None
    out = major
    if minor:
        out += "." + minor
        if patch:
            out += "." + patch
            if build:
                out += "." + build
    return out


class _Subpattern:
    """One regex and its replacements (UserAgentSubpattern)."""

    __slots__ = ("pattern", "groups", "name", "versions")

    def __init__(self, regex: str, flag: str | None, name: str | None, versions: tuple[str | None, ...], where: str) -> None:
        flags = re.ASCII | (re.IGNORECASE if flag == "i" else 0)  # Java's classes and case folding are ASCII
        try:
            self.pattern = re.compile(regex, flags)
        except re.error as error:
            raise UserAgentRegexError(f"{where}: regex [{regex}] does not compile: {error}") from None
        self.groups = self.pattern.groups
        self.name = name
        self.versions = versions

    def match(self, agent: str) -> VersionedName | None:
        m = self.pattern.search(agent)
        if m is None:
            return None
        groups = self.groups
        name: str | None
        if self.name is not None:
            first = m.group(1) if groups >= 1 else None
            name = self.name.replace("$1", first, 1) if "$1" in self.name and first is not None else self.name
        else:
            name = m.group(1) if groups >= 1 else None
        if name is None:
            return None
        parts = [
            replacement if replacement is not None else (m.group(index) if groups >= index else None)
            for index, replacement in enumerate(self.versions, start=2)
        ]
        return VersionedName(name, version_string(*parts))


def _first(patterns: list[_Subpattern], agent: str) -> VersionedName | None:
    for pattern in patterns:
        found = pattern.match(agent)
        if found is not None:
            return found
    return None


class DeviceTypes:
    """DeviceTypeParser: the agent string first, then the OS, browser and device names; the
    strongest type found wins (Robot, Tablet, Phone, Desktop), Other when none."""

    _ORDER = ("Robot", "Tablet", "Phone", "Desktop")

    def __init__(self, rules: dict[str, list[tuple[re.Pattern[str], str]]]) -> None:
        self.agent = rules["agent"]
        self.os = rules["os"]
        self.browser = rules["browser"]
        self.device = rules["device"]

    @staticmethod
    def _find(rules: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
        for pattern, kind in rules:
            if pattern.search(text):
                return kind
        return None

    def find(self, agent: str, browser: VersionedName | None, os: VersionedName | None, device: VersionedName | None) -> str:
        found = self._find(self.agent, agent)
        if found is not None:
            return found
        kinds = set()
        for rules, named in ((self.os, os), (self.browser, browser), (self.device, device)):
            if named is not None:
                kind = self._find(rules, named.name)
                if kind is not None:
                    kinds.add(kind)
        for kind in self._ORDER:
            if kind in kinds:
                return kind
        return "Other"


@lru_cache(maxsize=1)
def device_types() -> DeviceTypes:
    text = resources.files("wgsiem.ingest.formats").joinpath("user_agent_device_types.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    rules: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for section in ("agent", "os", "browser", "device"):
        entries = data.get(section) if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise UserAgentRegexError(f"user_agent_device_types.yaml: [{section}] must be a list of {{regex, type}}")
        rules[section] = [(re.compile(entry["regex"], re.ASCII), entry["type"]) for entry in entries]
    return DeviceTypes(rules)


class UserAgentParser:
    """One regex set (the default, or a regex_file), with Elasticsearch's per-parser cache."""

    def __init__(self, name: str, agents: list[_Subpattern], systems: list[_Subpattern], devices: list[_Subpattern]) -> None:
        if not agents and not systems and not devices:
            raise UserAgentRegexError(f"{name}: not a valid regular expression file")
        self.name = name
        self.agents = agents
        self.systems = systems
        self.devices = devices
        self._cache: OrderedDict[tuple[str, bool], Details] = OrderedDict()

    def parse(self, agent: str, extract_device_type: bool) -> Details:
        key = (agent, extract_device_type)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        browser = _first(self.agents, agent)
        os = _first(self.systems, agent)
        device = _first(self.devices, agent)
        kind = device_types().find(agent, browser, os, device) if extract_device_type else None
        details = Details(
            name=browser.name if browser else None,
            version=browser.version if browser else None,
            os=os,
            os_full=f"{os.name} {os.version}" if os is not None and os.version is not None else None,
            device=device,
            device_type=kind,
        )
        self._cache[key] = details
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return details


# --- the regex sets -------------------------------------------------------------------------

_UA_KEYS = ("family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement")
_OS_KEYS = ("os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement")


def _pad(values: list[Any], size: int) -> list[Any]:
    return values + [None] * (size - len(values))


@lru_cache(maxsize=1)
def default_parser() -> UserAgentParser:
    """uap-core's rules from ua-parser-builtins: its generated matcher list read as literals.

    The module is parsed, not imported: importing it needs ua-parser's runtime, and only the
    regexes and replacements (with None where regexes.yaml gives none) are wanted.
    """
    where = "ua-parser-builtins lazy.py"
    source = resources.files("ua_parser_builtins").joinpath("lazy.py").read_text("utf-8")
    lists: list[list[list[Any]]] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Tuple):
            lists = [[[ast.literal_eval(arg) for arg in call.args] for call in group.elts] for group in node.value.elts]  # type: ignore[attr-defined]
    if len(lists) != 3:
        raise UserAgentRegexError(f"{where}: no (user agents, operating systems, devices) matcher lists")
    # UserAgentMatcher and OSMatcher take (regex, name, v1, v2, v3, v4); DeviceMatcher takes
    # (regex, regex_flag, device, brand, model), of which Elasticsearch reads the device.
    agents = [_Subpattern(a[0], None, a[1], tuple(a[2:6]), where) for a in (_pad(x, 6) for x in lists[0])]
    systems = [_Subpattern(a[0], None, a[1], tuple(a[2:6]), where) for a in (_pad(x, 6) for x in lists[1])]
    devices = [_Subpattern(a[0], a[1], a[2], (None, None, None, None), where) for a in (_pad(x, 5) for x in lists[2])]
    return UserAgentParser(DEFAULT_PARSER_NAME, agents, systems, devices)


def parse_regex_file(path: Path) -> UserAgentParser:
    """A regex file as UserAgentParserImpl.init reads it (the three known lists, others ignored)."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UserAgentRegexError(f"{where}: error parsing regular expression file: {error}") from None
    sections: dict[str, list[_Subpattern]] = {"user_agent_parsers": [], "os_parsers": [], "device_parsers": []}
    if isinstance(data, dict):
        for key, out in sections.items():
            entries = data.get(key)
            if entries is None:
                continue
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise UserAgentRegexError(f"{where}: [{key}]: malformed regular expression file, expecting a list of objects")
            for index, entry in enumerate(entries):
                out.append(_from_entry(key, {k: None if v is None else str(v) for k, v in entry.items()}, f"{where}: {key}[{index}]"))
    return UserAgentParser(path.name, sections["user_agent_parsers"], sections["os_parsers"], sections["device_parsers"])


def _from_entry(section: str, entry: dict[str, str | None], where: str) -> _Subpattern:
    regex = entry.get("regex")
    if regex is None:
        raise UserAgentRegexError(f"{where}: no [regex]")
    flag = entry.get("regex_flag")
    if section == "device_parsers":
        return _Subpattern(regex, flag, entry.get("device_replacement"), (None, None, None, None), where)
    keys = _UA_KEYS if section == "user_agent_parsers" else _OS_KEYS
    return _Subpattern(regex, flag, entry.get(keys[0]), tuple(entry.get(k) for k in keys[1:]), where)


class UserAgentParsers:
    """Elasticsearch's UserAgentParserRegistry: `_default_`, and every *.yml file directly in
    the given folders (by file name, extension included), read when first asked for."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = list(folders)
        self._files: dict[str, UserAgentParser] | None = None

    def get(self, name: str) -> UserAgentParser | None:
        if name == DEFAULT_PARSER_NAME:
            return default_parser()
        if self._files is None:
            files: dict[str, UserAgentParser] = {}
            for folder in self.folders:
                if folder.is_dir():
                    for path in sorted(folder.glob("*.yml")):
                        if path.is_file():
                            files[path.name] = parse_regex_file(path)
            self._files = files
        return self._files.get(name)
