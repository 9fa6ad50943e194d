"""Fleet's templates for the package against `wgsiem templates install`'s, field by field.

    ours = compose_mappings(shared_mappings, dataset_package_mappings)   # templates install
    fleets = fleet_templates(...)["logs-wireguard.status@package"]["template"]["mappings"]
    for d in compare_mappings(ours, fleets):
        print(d)            # source.ip: type: ours 'ip', Fleet's 'keyword' -- unexplained

A `Difference` names the field (a dotted name; `(mapping)` for an option of the whole
mapping, `(dynamic_templates)` for a dynamic template, `(settings)` for an index setting),
the aspect (a mapping parameter such as `ignore_above`, `fields.text.type` for a
multi-field's, `(field)` for a field only one side maps) and both values (None: absent).
Its `reason` comes from `fleet_differences.yaml`, where every difference that is meant to
stay is written down with why; a difference that has none is a finding.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DIFFERENCES_FILE = Path(__file__).with_name("fleet_differences.yaml")
MAPPING = "(mapping)"
DYNAMIC_TEMPLATES = "(dynamic_templates)"
SETTINGS = "(settings)"
WHOLE_FIELD = "(field)"
_UNSET = object()


@dataclass(frozen=True, slots=True)
class Known:
    """A difference meant to stay: `field` (a glob), `aspect`, the values if given (a
    value left out of the table matches any), and why."""

    field: str
    aspect: str
    why: str
    ours: Any = _UNSET
    fleet: Any = _UNSET

    def matches(self, d: Difference) -> bool:
        return (
            fnmatch.fnmatchcase(d.field, self.field)
            and d.aspect == self.aspect
            and (self.ours is _UNSET or self.ours == d.ours)
            and (self.fleet is _UNSET or self.fleet == d.fleet)
        )


@dataclass(frozen=True, slots=True)
class Difference:
    field: str
    aspect: str
    ours: Any  # None: ours has no such parameter (or field)
    fleet: Any  # None: Fleet's has none
    reason: str | None = None  # from the table; None: nobody has said why

    def __str__(self) -> str:
        why = self.reason if self.reason is not None else "unexplained"
        return f"{self.field}: {self.aspect}: ours {self.ours!r}, Fleet's {self.fleet!r} -- {why}"


def load_known(path: Path = DIFFERENCES_FILE) -> tuple[Known, ...]:
    """The table of differences meant to stay (fleet_differences.yaml)."""
    raw = yaml.safe_load(path.read_text())
    out = []
    for number, entry in enumerate(raw, 1):
        unknown = set(entry) - {"field", "aspect", "ours", "fleet", "why"}
        missing = {"field", "aspect", "why"} - set(entry)
        if unknown or missing:
            raise ValueError(f"{path.name}: entry {number}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
        out.append(Known(**entry))
    return tuple(out)


@cache
def known_differences() -> tuple[Known, ...]:
    return load_known()


def explain(differences: Iterable[Difference], known: Iterable[Known] | None = None) -> list[Difference]:
    """The differences, each with the reason of the first table entry that matches."""
    table = tuple(known_differences() if known is None else known)
    out = []
    for d in differences:
        entry = next((k for k in table if k.matches(d)), None)
        out.append(Difference(d.field, d.aspect, d.ours, d.fleet, entry.why if entry else None))
    return out


# -- mappings ---------------------------------------------------------------------------------


def compose_mappings(*mappings: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping an index template composed of these component templates' mappings gives
    (Elasticsearch's merge for index templates): objects merge property by property, a
    field defined again replaces the earlier definition, a dynamic template of a name seen
    before replaces it in its place, any other option is the last one's."""
    out: dict[str, Any] = {}
    for mapping in mappings:
        for key, value in mapping.items():
            if key == "properties":
                out["properties"] = _merge_properties(out.get("properties", {}), value)
            elif key == "dynamic_templates":
                by_name = {next(iter(t)): t for t in out.get("dynamic_templates", [])}
                by_name.update({next(iter(t)): copy.deepcopy(t) for t in value})
                out["dynamic_templates"] = list(by_name.values())
            else:
                out[key] = copy.deepcopy(value)
    return out


def _merge_properties(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for name, spec in extra.items():
        here = out.get(name)
        if here is not None and "properties" in here and "properties" in spec and _is_object(here) and _is_object(spec):
            merged = {**here, **{k: v for k, v in spec.items() if k != "properties"}}
            merged["properties"] = _merge_properties(here["properties"], spec["properties"])
            out[name] = merged
        else:
            out[name] = copy.deepcopy(spec)
    return out


def _is_object(spec: Mapping[str, Any]) -> bool:
    return bool(spec.get("type", "object") == "object")


def field_mappings(mapping: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Dotted name → mapping parameters of every field and every object on the way
    (`properties` left out, and an object's `type: object`, which Elasticsearch implies)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(properties: Mapping[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            path = f"{prefix}{name}"
            params = {k: v for k, v in spec.items() if k != "properties"}
            if "properties" in spec and params.get("type") == "object":
                del params["type"]
            out[path] = params
            if "properties" in spec:
                walk(spec["properties"], path + ".")

    walk(mapping.get("properties", {}), "")
    return out


def _flat(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(`fields.text.type`, value) for every leaf of a field's parameters."""
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def compare_mappings(ours: Mapping[str, Any], fleets: Mapping[str, Any], known: Iterable[Known] | None = None) -> list[Difference]:
    """Every difference between two `mappings` bodies: field by field and parameter by
    parameter, then the options of the whole mapping and the dynamic templates by name;
    each with its reason from the table (`known`, default fleet_differences.yaml)."""
    found: list[Difference] = []
    a, b = field_mappings(ours), field_mappings(fleets)
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            found.append(Difference(name, WHOLE_FIELD, a.get(name), b.get(name)))
            continue
        found += _params(name, a[name], b[name])
    for key in sorted((set(ours) | set(fleets)) - {"properties", "dynamic_templates"}):
        if ours.get(key) != fleets.get(key):
            found.append(Difference(MAPPING, key, ours.get(key), fleets.get(key)))
    ta = {next(iter(t)): next(iter(t.values())) for t in ours.get("dynamic_templates", [])}
    tb = {next(iter(t)): next(iter(t.values())) for t in fleets.get("dynamic_templates", [])}
    for name in sorted(set(ta) | set(tb)):
        if ta.get(name) != tb.get(name):
            found.append(Difference(DYNAMIC_TEMPLATES, name, ta.get(name), tb.get(name)))
    return explain(found, known)


def _params(name: str, ours: Mapping[str, Any], fleets: Mapping[str, Any]) -> list[Difference]:
    fa, fb = dict(_flat(ours)), dict(_flat(fleets))
    return [Difference(name, key, fa.get(key), fb.get(key)) for key in sorted(set(fa) | set(fb)) if fa.get(key) != fb.get(key)]


# -- settings -----------------------------------------------------------------------------------


def flat_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Index settings as dotted names under `index.` (`{"index": {"codec": ..}}` and
    `{"index.codec": ..}` and `{"codec": ..}` all give `index.codec`)."""
    out = {}
    for key, value in _flat(settings):
        out[key if key.startswith("index.") else f"index.{key}"] = value
    return out


def compare_settings(ours: Mapping[str, Any], fleets: Mapping[str, Any], known: Iterable[Known] | None = None) -> list[Difference]:
    """Every index setting that differs, as `(settings)` differences with their reasons."""
    a, b = flat_settings(ours), flat_settings(fleets)
    found = [Difference(SETTINGS, key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    return explain(found, known)


def unused(known: Iterable[Known], differences: Iterable[Difference]) -> list[Known]:
    """Table entries no difference matches any more: reasons for something that is gone."""
    found = list(differences)
    return [k for k in known if not any(k.matches(d) for d in found)]
