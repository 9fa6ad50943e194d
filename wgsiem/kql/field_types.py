"""What the query's fields are: name -> Elasticsearch type, from ecs_mappings/ and schema files.

`FieldTypes.default()` holds the fields of ecs_mappings/ (with their multi-fields, e.g.
`user.name.text`, and mapping options that change what a query can match: ignore_above,
index / doc_values, scaling_factor, a constant_keyword's value, a date's format). A schema
file adds types, and overrides ours where they disagree: a JSON object
`{"dotted.field": "es_type", ...}`. Fields neither defines can be typed from the documents
(dynamic.py).

A name under a field of a leaf type is a multi-field of it (Elasticsearch allows nothing
else there), so its value comes from its parent's place in `_source`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from wgsiem.mappings.fields import DEFAULT_IGNORE_ABOVE, default_fields

from .errors import KqlSchemaError

# The types a schema may name. Everything here has known query semantics in this package.
ES_TYPES = frozenset(
    {
        "keyword", "constant_keyword", "wildcard", "text", "match_only_text",
        "long", "integer", "short", "byte", "unsigned_long",
        "double", "float", "half_float", "scaled_float",
        "boolean", "date", "date_nanos", "ip", "geo_point",
        "object", "nested", "flattened",
    }
)  # fmt: skip
CONTAINER_TYPES = frozenset({"object", "nested"})
STRING_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "text", "match_only_text"})
TEXT_TYPES = frozenset({"text", "match_only_text"})


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One mapped field as a query sees it."""

    name: str
    type: str
    source: str  # where _source holds its values: the parent's name for a multi-field
    ignore_above: int | None = None  # keyword: longer strings are not indexed
    indexed: bool = True
    doc_values: bool = True
    scaling_factor: float | None = None
    constant: str | None = None  # constant_keyword: the mapping's value, when it has one
    format: str | None = None  # date: the mapping's format when not the type's default

    @property
    def searchable(self) -> bool:
        return self.indexed or self.doc_values


class FieldTypes(Mapping[str, str]):
    """Dotted field name -> Elasticsearch type, with the mapping options queries depend on."""

    def __init__(self, types: Mapping[str, str], infos: Mapping[str, FieldInfo] | None = None) -> None:
        infos = dict(infos or {})
        for name, es_type in types.items():
            if name not in infos or infos[name].type != es_type:
                infos[name] = _plain_info(name, es_type, types)
        self._infos = infos
        self._types = {name: info.type for name, info in infos.items()}
        self._parents = frozenset(p for name in self._types for p in _prefixes(name))
        self._sorted = sorted(self._types)

    @classmethod
    def default(cls) -> FieldTypes:
        """The fields of ecs_mappings/ and their multi-fields (built once per process)."""
        return _default()

    @classmethod
    def _from_mappings(cls) -> FieldTypes:
        infos: dict[str, FieldInfo] = {}
        for name, f in default_fields().items():
            options = f.options
            ignore_above = options.get("ignore_above") if f.type == "keyword" else None
            infos[name] = FieldInfo(
                name=name,
                type=f.type,
                source=name,
                ignore_above=ignore_above,
                indexed=options.get("index", True),
                doc_values=options.get("doc_values", True),
                scaling_factor=options.get("scaling_factor"),
                constant=options.get("value"),
            )
            for sub, spec in options.get("fields", {}).items():
                sub_type = spec["type"]
                infos[f"{name}.{sub}"] = FieldInfo(
                    name=f"{name}.{sub}",
                    type=sub_type,
                    source=name,
                    ignore_above=spec.get("ignore_above", DEFAULT_IGNORE_ABOVE) if sub_type == "keyword" else None,
                )
        return cls({n: i.type for n, i in infos.items()}, infos)

    def with_types(self, types: Mapping[str, str], *, origin: str = "types") -> FieldTypes:
        """These types added, winning where ours disagree: ours for the same names go, and
        so do our fields that cannot coexist with them (fields under a name the new types
        make a leaf, other than its multi-fields; a leaf above a new name, other than one
        the new name is a multi-field of). Types that disagree among themselves are an
        error naming `origin`."""
        for name, es_type in types.items():
            _check_entry(name, es_type, origin)
        alone = FieldTypes(types)
        for name in types:
            problem = alone._conflict(name)
            if problem:
                raise KqlSchemaError(f"{origin}: field {name!r}: {problem}")
        gone = {n for n, info in self._infos.items() if n not in types and _gives_way(info, types)}
        # a leaf that goes takes its multi-fields with it
        gone |= {n for n, info in self._infos.items() if info.source in gone}
        infos = {n: i for n, i in self._infos.items() if n not in gone and n not in types}
        return FieldTypes({**{n: i.type for n, i in infos.items()}, **types}, infos)

    def with_fields(self, infos: Mapping[str, FieldInfo]) -> FieldTypes:
        """These fields added as they are: fields we lack, typed from documents (dynamic.py)."""
        return FieldTypes({**self._types, **{n: i.type for n, i in infos.items()}}, {**self._infos, **infos})

    def with_schema(self, path: str | Path) -> FieldTypes:
        """The types of a schema file added: see load_schema."""
        return self.with_types(load_schema(path), origin=str(path))

    # -- lookups ------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> str:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def info(self, name: str) -> FieldInfo | None:
        return self._infos.get(name)

    def is_parent(self, name: str) -> bool:
        """Whether fields are mapped under `name` (an object, whether mapped or implied)."""
        return name in self._parents

    def children(self, name: str) -> list[str]:
        prefix = name + "."
        return [n for n in self._sorted if n.startswith(prefix)]

    def nested_path(self, name: str) -> str | None:
        """The innermost field of type nested that `name` is under, if any."""
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            candidate = ".".join(parts[:i])
            if self._types.get(candidate) == "nested":
                return candidate
        return None

    def flattened_root(self, name: str) -> str | None:
        """The flattened field `name` is a key of, if any."""
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            candidate = ".".join(parts[:i])
            if self._types.get(candidate) == "flattened":
                return candidate
        return None

    def names(self) -> list[str]:
        """Every field name, sorted (as Kibana sorts a data view's fields)."""
        return list(self._sorted)

    def _conflict(self, name: str) -> str | None:
        for parent in _prefixes(name):
            parent_type = self._types.get(parent)
            if parent_type == "flattened":
                return f"{parent!r} is a flattened field: its keys are not mapped one by one"
            if parent_type is not None and parent_type not in CONTAINER_TYPES and parent != _parent(name):
                return f"{parent!r} is a {parent_type} field; a multi-field can only be one level below it"
        return None


@cache
def _default() -> FieldTypes:
    return FieldTypes._from_mappings()


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def _plain_info(name: str, es_type: str, types: Mapping[str, str]) -> FieldInfo:
    parent = _parent(name)
    parent_type = types.get(parent)
    is_multi = bool(parent) and parent_type is not None and parent_type not in CONTAINER_TYPES
    return FieldInfo(
        name=name,
        type=es_type,
        source=parent if is_multi else name,
        ignore_above=None,  # Elasticsearch's own default for a keyword: no limit
    )


def _gives_way(info: FieldInfo, types: Mapping[str, str]) -> bool:
    """Whether an existing field cannot stay beside `types` (which win)."""
    name = info.name
    for new, new_type in types.items():
        if name.startswith(new + "."):
            multi_field = info.source == new and _parent(name) == new
            if new_type in CONTAINER_TYPES or new_type == "flattened":
                if multi_field or new_type == "flattened":
                    return True
            elif not multi_field:
                return True
        elif new.startswith(name + ".") and info.type not in CONTAINER_TYPES and (info.type == "flattened" or _parent(new) != name):
            return True
    return False


def _check_entry(name: object, es_type: object, origin: str) -> None:
    if not isinstance(name, str) or not name or name.startswith(".") or name.endswith(".") or ".." in name:
        raise KqlSchemaError(f"{origin}: {name!r} is not a dotted field name")
    if not isinstance(es_type, str):
        raise KqlSchemaError(
            f"{origin}: field {name!r}: the type must be a string naming an Elasticsearch type, not {json.dumps(es_type)}"
        )
    if es_type not in ES_TYPES:
        raise KqlSchemaError(
            f"{origin}: field {name!r}: unknown Elasticsearch type {es_type!r} (known: {', '.join(sorted(ES_TYPES))})"
        )


def load_schema(path: str | Path) -> dict[str, str]:
    """A schema file's field types: a JSON object of dotted field name -> Elasticsearch type.

    Raises KqlSchemaError naming the file for a file that cannot be read, is not JSON, is
    not an object, or has a type that is not a string or not a known Elasticsearch type.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise KqlSchemaError(f"{path}: cannot read the schema file: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise KqlSchemaError(f"{path}: not UTF-8 text: {err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise KqlSchemaError(f"{path}: not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from err
    if not isinstance(data, dict):
        raise KqlSchemaError(f"{path}: expected a JSON object of field name -> type, found a {type(data).__name__}")
    for name, es_type in data.items():
        _check_entry(name, es_type, str(path))
    return dict(data)
