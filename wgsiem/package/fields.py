"""A data stream's field definitions (fields/*.yml), what is wrong with them, and whether a
document's fields are defined by them.

The files are package-spec field definitions (schemas/fields.schema.json): a list of
entries, a `group` holding entries under `fields`, dotted names split into objects,
`multi_fields` for other ways of indexing a value, `external: ecs` for an ECS field whose
definition ECS gives. Beyond the schema, per data stream and across its files:

- a name is defined once (groups of one name may repeat: they only add fields);
- no field sits under a field that holds a value (`a` a keyword and `a.b` a long cannot
  both be mapped): only group, object and nested fields hold others;
- an option is only on the types that take it (table OPTION_TYPES);
- `external: ecs` names an ECS field. What is ECS is what ecs_mappings/ecs.yml holds: the
  ECS 9.0 fields wgsiem's documents use, with ECS's types (the repository vendors no full
  ECS list, and a field ECS has but ecs.yml lacks has no type wgsiem has vetted). Such a
  field takes its type, and its multi-fields, from there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wgsiem.mappings import Field, value_error
from wgsiem.mappings.fields import TYPES as CHECKED_TYPES

from .files import Document, PackageFolder, text_of
from .problems import Problem, join_key, key_path
from .schema_checks import schema_problems

# Types that hold other fields under their name.
CONTAINERS = frozenset({"group", "object", "nested"})
# Types whose value in a document is itself an object or a structure: a document is not
# walked below them (an object's members are mapped dynamically, a flattened field's keys
# are not mapped at all).
WHOLE_VALUES = frozenset({
    "object", "flattened", "geo_point", "geo_shape", "histogram", "aggregate_metric_double",
    "integer_range", "float_range", "long_range", "double_range", "date_range", "ip_range",
})  # fmt: skip

# Options and the types that take them (package-spec's fields.spec.yml says so for each, in
# its schema or its descriptions: Fleet honours multi_fields and ignore_above only there).
OPTION_TYPES: dict[str, frozenset[str]] = {
    "scaling_factor": frozenset({"scaled_float"}),
    "analyzer": frozenset({"text"}),
    "search_analyzer": frozenset({"text"}),
    "value": frozenset({"constant_keyword"}),
    "ignore_above": frozenset({"keyword", "wildcard"}),
    "normalizer": frozenset({"keyword"}),
    "multi_fields": frozenset({"keyword", "text", "wildcard"}),
    "path": frozenset({"alias"}),
    "object_type": frozenset({"object"}),
    "object_type_mapping_type": frozenset({"object"}),
    "subobjects": frozenset({"object"}),
    "enabled": frozenset({"object", "group"}),
    "include_in_parent": frozenset({"nested"}),
    "include_in_root": frozenset({"nested"}),
    "inference_id": frozenset({"semantic_text"}),
    "date_format": frozenset({"date", "date_nanos"}),
    "metrics": frozenset({"aggregate_metric_double"}),
    "default_metric": frozenset({"aggregate_metric_double"}),
}
# Options a type cannot do without.
REQUIRED_OPTIONS: dict[str, tuple[str, ...]] = {"alias": ("path",)}


@dataclass(frozen=True)
class FieldDef:
    """One defined name: a field, a group, or a multi-field (`name.sub`, indexed from the
    parent's value, never in a document)."""

    name: str
    type: str  # the effective type; "" for an external field ECS does not give one for
    file: str
    path: tuple[str | int, ...]  # where the entry is in its file
    line: int | None
    external: str | None = None
    multi: bool = False
    entry: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return key_path(self.path)

    def problem(self, option: str | None, message: str) -> Problem:
        return Problem(self.file, key_path((*self.path, option)) if option else self.key, message, self.line)


class FieldSet:
    """The fields of one data stream (or of several, for a rule that reads them all)."""

    def __init__(self, defs: Sequence[FieldDef], where: str) -> None:
        self.defs = list(defs)
        self.where = where  # "data_stream/status/fields/", for messages
        self.by_name: dict[str, FieldDef] = {}
        for d in self.defs:
            self.by_name.setdefault(d.name, d)
        self._wildcards = [(re.compile(".*".join(map(re.escape, d.name.split("*")))), d) for d in self.defs if "*" in d.name]

    def __or__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.defs + other.defs, f"{self.where} or {other.where}")

    def lookup(self, name: str, *, multi: bool = False) -> FieldDef | None:
        """The definition a document's field `name` falls under: its own, a wildcard
        name's, or an object or flattened field's above it; None when undefined."""
        own = self.by_name.get(name)
        if own is not None and own.type != "group" and (multi or not own.multi):
            return own
        for pattern, d in self._wildcards:
            if pattern.fullmatch(name) and d.type != "group":
                return d
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            parent = self.by_name.get(".".join(parts[:i]))
            if parent is not None and parent.type in ("object", "flattened"):
                return parent
        return None

    def matching(self, pattern: str) -> list[FieldDef]:
        """The fields (multi-fields included, groups not) a name with `*` stands for."""
        regex = re.compile(".*".join(map(re.escape, pattern.split("*"))))
        return [d for d in self.defs if d.type != "group" and regex.fullmatch(d.name)]

    def types(self) -> dict[str, str]:
        """Name -> type of every field and multi-field (groups left out)."""
        return {name: d.type for name, d in self.by_name.items() if d.type and d.type != "group"}


# -- loading -----------------------------------------------------------------------------


def load_fields(package: PackageFolder, data_stream: str, ecs: Mapping[str, Field]) -> tuple[FieldSet, list[Problem]]:
    """The fields of data_stream/<data_stream>/fields/*.yml, and every problem with them."""
    folder = f"data_stream/{data_stream}/fields"
    problems: list[Problem] = []
    defs: list[FieldDef] = []
    for rel in package.files(folder, (".yml",)):
        doc, load_problems = package.load(rel)
        problems += load_problems
        if doc is None:
            continue
        problems += schema_problems("fields", doc)
        if isinstance(doc.data, list):
            defs += _with_ecs(_flatten(doc.data, doc, (), ""), ecs)
    fields = FieldSet(defs, f"{folder}/")
    problems += _duplicates(defs) + _parent_problems(fields) + _option_problems(defs) + _external_problems(defs, ecs)
    return fields, problems


def _flatten(entries: list[Any], doc: Document, path: tuple[str | int, ...], prefix: str) -> Iterator[FieldDef]:
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        here = (*path, i)
        name = f"{prefix}.{entry['name']}" if prefix else entry["name"]
        kind = text_of(entry.get("type"))
        yield FieldDef(name, kind, doc.file, here, doc.line(here), entry.get("external"), entry=entry)
        if isinstance(entry.get("fields"), list):
            yield from _flatten(entry["fields"], doc, (*here, "fields"), name)
        for j, multi in enumerate(entry.get("multi_fields") or []):
            if isinstance(multi, dict) and isinstance(multi.get("name"), str):
                at = (*here, "multi_fields", j)
                yield FieldDef(f"{name}.{multi['name']}", text_of(multi.get("type")), doc.file, at, doc.line(at), multi=True, entry=multi)


def _with_ecs(defs: Iterator[FieldDef], ecs: Mapping[str, Field]) -> Iterator[FieldDef]:
    """External ECS fields with ECS's type (unless the entry sets one) and multi-fields."""
    for d in defs:
        known = ecs.get(d.name) if d.external == "ecs" else None
        if known is None:
            yield d
            continue
        yield FieldDef(d.name, d.type or known.type, d.file, d.path, d.line, d.external, entry=d.entry)
        if "multi_fields" not in d.entry:
            for sub, sub_type in known.multi_fields.items():
                yield FieldDef(f"{d.name}.{sub}", sub_type, d.file, d.path, d.line, multi=True)


# -- what is wrong with the definitions ----------------------------------------------------


def _duplicates(defs: list[FieldDef]) -> list[Problem]:
    first: dict[str, FieldDef] = {}
    problems = []
    for d in defs:
        seen = first.setdefault(d.name, d)
        if seen is d or (seen.type == "group" and d.type == "group"):
            continue
        problems.append(d.problem("name", f"field {d.name} is defined twice: also in {seen.file} at {seen.key}"))
    return problems


def _parent_problems(fields: FieldSet) -> list[Problem]:
    problems = []
    for d in fields.defs:
        if d.multi or "*" in d.name:
            continue
        parts = d.name.split(".")
        for i in range(1, len(parts)):
            parent = fields.by_name.get(".".join(parts[:i]))
            if parent is not None and not parent.multi and parent.type and parent.type not in CONTAINERS:
                problems.append(d.problem("name", (
                    f"field {d.name} is under {parent.name}, a {parent.type} field ({parent.file} at {parent.key}); "
                    "only group, object and nested fields hold others (multi_fields index one value another way)"
                )))  # fmt: skip
                break
    return problems


def _option_problems(defs: list[FieldDef]) -> list[Problem]:
    problems = []
    for d in defs:
        if not d.type or not isinstance(d.entry, dict):
            continue
        # An object's values are mapped by a dynamic template of its object_type, which
        # takes that type's options (Fleet's keyword gives an object_type keyword no
        # ignore_above unless the field sets one).
        member = d.entry.get("object_type") if d.type == "object" else None
        for option, types in OPTION_TYPES.items():
            if option in d.entry and d.type not in types and member not in types:
                problems.append(d.problem(option, f"{option} is an option of {_either(types)} fields, not of {d.type} ({d.name})"))
        for option in REQUIRED_OPTIONS.get(d.type, ()):
            if option not in d.entry:
                article = "an" if d.type[0] in "aeiou" else "a"
                problems.append(d.problem(option, f"missing: {article} {d.type} field names its {option} ({d.name})"))
    return problems


def _external_problems(defs: list[FieldDef], ecs: Mapping[str, Field]) -> list[Problem]:
    return [
        d.problem("external", (
            f"{d.name} is not an ECS field wgsiem knows (ecs_mappings/ecs.yml holds the ECS fields its documents use); "
            "define it with its type, or add it to ecs.yml if ECS has it"
        ))
        for d in defs
        if d.external == "ecs" and d.name not in ecs
    ]  # fmt: skip


def _either(types: frozenset[str]) -> str:
    names = sorted(types)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# -- documents -----------------------------------------------------------------------------


def document_problems(doc: Any, fields: FieldSet, file: str, key: str | None = None, *, values: bool = True) -> list[Problem]:
    """Every field of a document (a sample event, a pipeline test's expected output) that
    the fields do not define, or (with `values`) whose value does not fit its type."""
    if not isinstance(doc, dict):
        return [Problem(file, key, f"expected a document (a JSON object), found {type(doc).__name__}")]
    problems = []
    for name, value in _leaves(doc, fields, ""):
        d = fields.lookup(name)
        where = join_key(key, name)
        if d is None:
            problems.append(Problem(file, where, f"field {name} is not defined in {fields.where}"))
        elif values and d.name == name and d.type in CHECKED_TYPES:
            error = value_error(d.type, value)
            if error is not None:
                problems.append(Problem(file, where, f"{error} (field {name} is of type {d.type}: {d.file} at {d.key})"))
    return problems


def _leaves(doc: Mapping[str, Any], fields: FieldSet, prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of a document's values; lists of objects are walked into (each
    object's members are fields of the same names), a whole-value type is not."""
    for key, value in doc.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        d = fields.by_name.get(name)
        if value is None or (d is not None and d.type in WHOLE_VALUES):
            if value is not None:
                yield name, value
            continue
        if isinstance(value, dict):
            yield from _leaves(value, fields, name)
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for item in value:
                if isinstance(item, dict):
                    yield from _leaves(item, fields, name)
                elif item is not None:
                    yield name, item
        else:
            yield name, value
