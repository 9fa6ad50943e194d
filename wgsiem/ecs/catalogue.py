"""The action catalogue (`actions.yaml`): ECS categorization and message of each action."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from ..errors import WgsiemError

# ECS allows these event.kind / event.category / event.type values (ECS categorization fields).
KINDS = {"alert", "event", "metric", "state", "pipeline_error", "signal", "enrichment", "asset"}
CATEGORIES = {
    "authentication", "configuration", "file", "network", "session", "host", "intrusion_detection", "process", "threat",
}  # fmt: skip
TYPES = {
    "access", "allowed", "change", "connection", "creation", "deletion", "denied", "end",
    "error", "info", "protocol", "start", "indicator",
}  # fmt: skip
OUTCOMES = {"success", "failure", "unknown"}


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    kind: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None
    when: str
    message: str
    fields: tuple[str, ...]


class CatalogueError(WgsiemError):
    pass


def load(text: str, source: str) -> dict[str, Action]:
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: expected a mapping of action names")
    actions = {}
    for name, spec in raw.items():
        where = f"{source}: action {name}"
        if not isinstance(spec, dict):
            raise CatalogueError(f"{where}: expected a mapping")
        unknown = set(spec) - {"kind", "category", "type", "outcome", "when", "message", "fields"}
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("category", "type", "when", "message"):
            if key not in spec:
                raise CatalogueError(f"{where}: missing {key!r}")
        action = Action(
            name=name,
            kind=spec.get("kind", "event"),
            category=tuple(spec["category"]),
            type=tuple(spec["type"]),
            outcome=spec.get("outcome"),
            when=" ".join(str(spec["when"]).split()),
            message=spec["message"],
            fields=tuple(spec.get("fields", ())),
        )
        for key, allowed, values in (
            ("kind", KINDS, (action.kind,)),
            ("category", CATEGORIES, action.category),
            ("type", TYPES, action.type),
            ("outcome", OUTCOMES, (action.outcome,) if action.outcome else ()),
        ):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise CatalogueError(f"{where}: {key} {bad} is not an ECS {key} value")
        actions[name] = action
    return actions


@cache
def status_actions() -> dict[str, Action]:
    """wireguard.status: the diff engine's actions."""
    text = resources.files("wgsiem.ecs").joinpath("actions.yaml").read_text()
    return load(text, "wgsiem/ecs/actions.yaml")


@cache
def log_actions() -> dict[str, Action]:
    """wireguard.log: the kernel and wg-quick lines' actions."""
    text = resources.files("wgsiem.ecs").joinpath("log_actions.yaml").read_text()
    return load(text, "wgsiem/ecs/log_actions.yaml")


@cache
def flow_actions() -> dict[str, Action]:
    """wireguard.flow: the inner connections' actions."""
    text = resources.files("wgsiem.ecs").joinpath("flow_actions.yaml").read_text()
    return load(text, "wgsiem/ecs/flow_actions.yaml")
