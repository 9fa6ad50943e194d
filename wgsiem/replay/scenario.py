"""A scenario folder (docs/scenarios.md): scenario.yaml, captures/, kernel.log, events.ndjson."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, ShipConfig, load_config
from ..enrich.registry import Registry, RegistryError, parse_registry
from ..errors import WgsiemError

SCENARIO_FILE = "scenario.yaml"
GOLDEN_FILE = "events.ndjson"
KINDS = ("attack", "normal")
# Shipper settings a scenario may set: the diff engine's, and health_interval for the
# shipper-health events (none unless set: they are the running shipper's, not the capture's).
# Everything else about the shipper is I/O, which a replay does not have.
SHIPPER_SETTINGS = (
    "session_timeout", "spike_factor", "spike_min_bytes", "spike_min_history", "spike_window_days", "interfaces",
    "wg_config_drift_after", "health_interval",
)  # fmt: skip
_KEYS = {"name", "description", "kind", "host_name", "peers", "change_windows", "shipper", "geoip", "rules_start", "rules_end", "expect"}


class ScenarioError(WgsiemError):
    """A scenario folder that cannot be replayed; the message names the file and the key."""


@dataclass(frozen=True)
class Expectation:
    rule: str  # a rule name or rule_id
    count: int
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    kind: str
    host_name: str
    peers: dict[str, str]  # names
    registry: Registry  # peers: and change_windows:, as a names file gives them
    config: ShipConfig
    geoip: bool
    rules_start: datetime
    rules_end: datetime | None
    expectations: list[Expectation]
    # shipper: health_interval: the shipper-health events `ship` would have written (None: none).
    health_interval: float | None = None
    # expect: poll_failures: polls where wg failed, as the capture records them; any other
    # number of them is a replay problem.
    poll_failures: int = 0

    @property
    def captures(self) -> Path:
        return self.path / "captures"

    @property
    def kernel_logs(self) -> list[Path]:
        log = self.path / "kernel.log"
        return [log] if log.exists() else []

    @property
    def golden(self) -> Path:
        return self.path / GOLDEN_FILE


def load_scenario(path: Path) -> Scenario:
    file = path / SCENARIO_FILE
    if not file.exists():
        raise ScenarioError(f"{path}: not a scenario folder (no {SCENARIO_FILE})")
    try:
        raw = yaml.safe_load(file.read_text())
    except yaml.YAMLError as err:
        raise ScenarioError(f"{file}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{file}: expected a mapping")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ScenarioError(f"{file}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    for key in ("name", "description", "kind", "host_name", "rules_start", "expect"):
        if key not in raw:
            raise ScenarioError(f"{file}: {key}: missing")
    if raw["kind"] not in KINDS:
        raise ScenarioError(f"{file}: kind: {raw['kind']!r} is not one of {', '.join(KINDS)}")
    if raw["name"] != path.name:
        raise ScenarioError(f"{file}: name: {raw['name']!r} differs from the folder's name {path.name!r}")
    if not (path / "captures").is_dir():
        raise ScenarioError(f"{path}: no captures/ folder")
    peers = raw.get("peers") or {}
    if not isinstance(peers, dict):
        raise ScenarioError(f"{file}: peers: expected a mapping of public key to name or registry entry")
    names_file = path / "peers.yaml"  # written by the story generator, as a names file
    if names_file.exists():
        peers = {**(yaml.safe_load(names_file.read_text()) or {}), **peers}
    # peers: and change_windows: as a registry file gives them (enrich/registry.py).
    try:
        registry = parse_registry(
            {"peers": peers, **({"change_windows": raw["change_windows"]} if "change_windows" in raw else {})}, str(file)
        )
    except RegistryError as err:
        raise ScenarioError(str(err)) from None
    shipper = raw.get("shipper") or {}
    config = _config(file, shipper, str(raw["host_name"]))
    return Scenario(
        path=path,
        name=raw["name"],
        description=" ".join(str(raw["description"]).split()),
        kind=raw["kind"],
        host_name=str(raw["host_name"]),
        peers=registry.names,
        registry=registry,
        config=config,
        geoip=bool(raw.get("geoip", True)),
        rules_start=_time(file, "rules_start", raw["rules_start"]),
        rules_end=_time(file, "rules_end", raw["rules_end"]) if raw.get("rules_end") is not None else None,
        expectations=_expectations(file, raw["expect"]),
        health_interval=(config.health_interval or None) if "health_interval" in shipper else None,
        poll_failures=_poll_failures(file, raw["expect"]),
    )


def _config(file: Path, shipper: Any, host_name: str) -> ShipConfig:
    if not isinstance(shipper, dict):
        raise ScenarioError(f"{file}: shipper: expected a mapping of settings")
    for key in shipper:
        if key not in SHIPPER_SETTINGS:
            raise ScenarioError(f"{file}: shipper: {key}: not a setting a replay takes (known: {', '.join(SHIPPER_SETTINGS)})")
    values = dict(shipper)
    if "interfaces" in values:
        values["interfaces"] = tuple(values["interfaces"])
    try:
        config = load_config(None, {**values, "host_name": host_name})
    except ConfigError as err:
        raise ScenarioError(f"{file}: shipper: {err}") from None
    # Names come from the scenario, never from this machine's wg-quick configs.
    return replace(config, wg_config_dirs=())


def _time(file: Path, key: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{file}: {key}: {value!r} is not an ISO 8601 time like 2026-10-08T00:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _expectations(file: Path, expect: Any) -> list[Expectation]:
    if not isinstance(expect, dict) or not {"alerts"} <= set(expect) <= {"alerts", "poll_failures"} or not isinstance(expect["alerts"], list):
        raise ScenarioError(f"{file}: expect: expected `alerts:` with a list (empty for a quiet scenario), and optionally `poll_failures:`")
    out = []
    for i, entry in enumerate(expect["alerts"]):
        where = f"{file}: expect.alerts[{i}]"
        if not isinstance(entry, dict) or not set(entry) <= {"rule", "count", "where"} or "rule" not in entry:
            raise ScenarioError(f"{where}: expected rule, count and optionally where")
        count = entry.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise ScenarioError(f"{where}: count: must be a positive number")
        if not isinstance(entry.get("where") or {}, dict):
            raise ScenarioError(f"{where}: where: expected a mapping of dotted field to value")
        out.append(Expectation(str(entry["rule"]), count, dict(entry.get("where") or {})))
    return out


def _poll_failures(file: Path, expect: dict[str, Any]) -> int:
    count = expect.get("poll_failures", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ScenarioError(f"{file}: expect.poll_failures: {count!r} is not a number of polls")
    return count
