"""The MITRE ATT&CK catalogue the rules map to (detection_rules/etc/attack.yaml), and the
check of a rule's `[[rule.threat]]` against it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from wgsiem.content import DETECTION_RULES

CATALOGUE = DETECTION_RULES / "etc" / "attack.yaml"
_SITE = "https://attack.mitre.org"


@dataclass(frozen=True, slots=True)
class Technique:
    id: str
    name: str
    tactics: frozenset[str]
    subtechniques: dict[str, str]


@dataclass(frozen=True, slots=True)
class Attack:
    tactics: dict[str, str]  # id → name
    techniques: dict[str, Technique]


@cache
def load_attack(path: Path = CATALOGUE) -> Attack:
    raw = yaml.safe_load(path.read_text())
    techniques = {
        tid: Technique(tid, t["name"], frozenset(t["tactics"]), dict(t.get("subtechniques") or {}))
        for tid, t in raw["techniques"].items()
    }
    return Attack(dict(raw["tactics"]), techniques)


def reference(kind: str, ident: str) -> str:
    """The attack.mitre.org page of a tactic or (sub)technique, as detection-rules writes it."""
    if kind == "tactic":
        return f"{_SITE}/tactics/{ident}/"
    return f"{_SITE}/techniques/{ident.replace('.', '/')}/"


def threat_problems(threat: list[dict[str, Any]], attack: Attack | None = None) -> Iterator[str]:
    """Each way `threat` disagrees with ATT&CK: unknown ids, wrong names or references, a
    technique under a tactic it does not belong to, a subtechnique of another technique."""
    attack = attack or load_attack()
    for i, entry in enumerate(threat):
        where = f"rule.threat[{i}]"
        tactic = entry["tactic"]
        yield from _entry(f"{where}.tactic", "tactic", tactic, attack.tactics.get(tactic["id"]))
        for j, tech in enumerate(entry.get("technique") or []):
            at = f"{where}.technique[{j}]"
            known = attack.techniques.get(tech["id"])
            yield from _entry(at, "technique", tech, known.name if known else None)
            if known is None:
                continue
            if tactic["id"] not in known.tactics:
                yield f"{at}: {tech['id']} ({known.name}) is not a technique of tactic {tactic['id']}"
            for k, sub in enumerate(tech.get("subtechnique") or []):
                sat = f"{at}.subtechnique[{k}]"
                if not sub["id"].startswith(tech["id"] + "."):
                    yield f"{sat}: {sub['id']} is not a subtechnique of {tech['id']}"
                    continue
                yield from _entry(sat, "subtechnique", sub, known.subtechniques.get(sub["id"]))


def _entry(where: str, kind: str, entry: dict[str, Any], name: str | None) -> Iterator[str]:
    if name is None:
        yield f"{where}: {entry['id']} is not a known ATT&CK {kind} (detection_rules/etc/attack.yaml)"
        return
    if entry["name"] != name:
        yield f"{where}: {entry['id']} is named {name!r}, not {entry['name']!r}"
    expected = reference("tactic" if kind == "tactic" else "technique", entry["id"])
    if entry["reference"] != expected:
        yield f"{where}: reference of {entry['id']} should be {expected}"
