"""Fields no mapping defines, typed from the documents as Elasticsearch's default dynamic
mapping types a field it meets for the first time.

Elasticsearch reference, "Dynamic field mapping"
(https://www.elastic.co/guide/en/elasticsearch/reference/current/dynamic-field-mapping.html),
with the code behind it (DynamicFieldsBuilder, RootObjectMapper.Defaults):

- a JSON string: `text` with a `keyword` multi-field `.keyword` (ignore_above 256), or
  `date` when date detection (on by default) reads it. Detection leaves out strings Java
  reads as a long or a double, then tries `dynamic_date_formats` in turn, by default
  `strict_date_optional_time` and `yyyy/MM/dd HH:mm:ss||yyyy/MM/dd`, and the field keeps
  the format that read it (date_math.dynamic_date_format). numeric_detection is off by
  default, so `"42"` is text.
- a whole number: `long`; a number with a fraction or an exponent: `float`; true or
  false: `boolean`.
- an object: an object whose members are typed the same way; an array: what its first
  non-null value is; null and `[]`: no field.

The first value met decides, as the first document Elasticsearch indexes with the field
does. A later value that does not fit the type is not indexed, as everywhere in this
package (an index without ignore_malformed refuses such a document instead). These are the
defaults of an index without templates: wgsiem's own data streams map new strings as
keyword without date detection (ecs_mappings/templates.yml), which a schema file can say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import date_math, values
from .ast import And, Is, Literal, Nested, Node, Not, Or, Range, Wildcard
from .documents import MISSING, getter
from .field_types import CONTAINER_TYPES, FieldInfo, FieldTypes

DYNAMIC_KEYWORD = "keyword"  # the name of a dynamic text field's keyword multi-field
DYNAMIC_KEYWORD_IGNORE_ABOVE = 256

# Long.parseLong: a sign, then digits (Character.digit takes any Unicode decimal digit).
_JAVA_LONG = re.compile(r"[+-]?\d+")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1

_SETTLED = "settled"  # a name whose type is decided and that holds no fields to look for


def dynamic_fields(docs: Iterable[Mapping[str, Any]], known: FieldTypes, names: Iterable[str] | None = None) -> dict[str, FieldInfo]:
    """The leaf fields of `docs` that `known` lacks, typed by their first value (in order of
    first sight), each text field followed by its `.keyword` multi-field. With `names`,
    only what those names need: the fields under their outermost object `known` lacks
    (a document is then a few lookups, not a walk). Fields under a known leaf or
    flattened field are not new fields, and are left out."""
    walker = _Walker(known)
    if names is None:
        for doc in docs:
            walker.object(doc, "")
        return walker.found
    roots = sorted({r for name in names if (r := _root(name, known)) is not None})
    reads = [(root, getter(root)) for root in roots]
    for doc in docs:
        for root, get in reads:
            value = get(doc)
            if value is not MISSING and value is not None:
                walker.value(root, value)
    return walker.found


def fields_beyond(query: Node, types: FieldTypes) -> set[str] | None:
    """The field names the query reads that `types` lacks; None when it may read any field
    (a name pattern or free text: Kibana expands those over every field of the data view)."""
    found: set[str] = set()
    for node, prefix in _leaves(query, ""):
        name = node.path if isinstance(node, Nested) else node.field
        if isinstance(name, Wildcard):
            if isinstance(node, Is) and name.is_lone() and isinstance(node.value, Wildcard) and node.value.is_lone():
                continue  # `*:*` matches every document whatever the fields
            return None
        if name.value is None:
            return None  # free text
        full = prefix + name.text()
        if full not in types and not types.is_parent(full) and types.flattened_root(full) is None:
            found.add(full)
    return found


def _leaves(node: Node, prefix: str) -> Iterator[tuple[Is | Range | Nested, str]]:
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from _leaves(child, prefix)
    elif isinstance(node, Not):
        yield from _leaves(node.child, prefix)
    elif isinstance(node, Nested):
        yield node, prefix
        if isinstance(node.path, Literal):
            yield from _leaves(node.query, f"{prefix}{node.path.text()}.")
    else:
        yield node, prefix


def _root(name: str, known: FieldTypes) -> str | None:
    """The outermost prefix of `name` (or itself) that `known` lacks; None when there is
    none, or a known leaf comes first (the name is a multi-field of it, or nothing)."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        es_type = known.get(prefix)
        if es_type is not None:
            if es_type in CONTAINER_TYPES:
                continue
            return None
        if known.is_parent(prefix):
            continue
        return prefix
    return None


class _Walker:
    def __init__(self, known: FieldTypes) -> None:
        self.known = known
        self.found: dict[str, FieldInfo] = {}
        self.kinds: dict[str, str] = {}  # name -> _SETTLED, or its members' prefix when a container
        self.members: dict[str, dict[str, str]] = {}  # prefix -> key -> kind: the fast path of object()

    def object(self, obj: Mapping[str, Any], prefix: str) -> None:
        table = self.members.get(prefix)
        if table is None:
            table = self.members[prefix] = {}
        for key, value in obj.items():
            kind = table.get(key)
            if kind is _SETTLED or value is None:
                continue
            if kind is not None:
                self.into(value, kind)
                continue
            if key.__class__ is not str or not key:
                continue
            if "." in key:
                # Elasticsearch reads a dotted name as objects, one per part.
                parts = key.split(".")
                if "" in parts:
                    continue  # a name Elasticsearch refuses
                for part in reversed(parts[1:]):
                    value = {part: value}
                self.value(prefix + parts[0], value)
                continue
            kind = self.value(prefix + key, value)
            if kind is not None:
                table[key] = kind

    def value(self, name: str, value: Any) -> str | None:
        """Types `name` by `value` if it is new; walks into it if it is a container. Returns
        what `name` is (None: not decided yet, for want of a value)."""
        kind = self.kinds.get(name)
        if kind is None:
            kind = self._known_kind(name) or self._new(name, value)
            if kind is None:
                return None
            self.kinds[name] = kind
        if kind is not _SETTLED:
            self.into(value, kind)
        return kind

    def into(self, value: Any, prefix: str) -> None:
        if value.__class__ is dict:
            self.object(value, prefix)
        elif value.__class__ is list:
            for item in _flat(value):
                if isinstance(item, Mapping):
                    self.object(item, prefix)

    def _known_kind(self, name: str) -> str | None:
        known = self.known
        es_type = known.get(name)
        if es_type is not None:
            return name + "." if es_type in CONTAINER_TYPES else _SETTLED
        if known.is_parent(name):
            return name + "."
        if known.flattened_root(name) is not None:
            return _SETTLED
        return None

    def _new(self, name: str, value: Any) -> str | None:
        first = next((x for x in _flat(value) if x is not None), None)
        if first is None:
            return None
        if isinstance(first, Mapping):
            return name + "."
        info = _leaf(name, first)
        if info is not None:
            self.found[name] = info
            if info.type == "text":
                keyword = f"{name}.{DYNAMIC_KEYWORD}"
                self.found[keyword] = FieldInfo(keyword, "keyword", source=name, ignore_above=DYNAMIC_KEYWORD_IGNORE_ABOVE)
        return _SETTLED


def _leaf(name: str, value: Any) -> FieldInfo | None:
    cls = value.__class__
    if cls is bool:
        return FieldInfo(name, "boolean", source=name)
    if cls is int:
        return FieldInfo(name, "long", source=name)
    if cls is float:
        return FieldInfo(name, "float", source=name)
    if cls is str:
        if not _java_number(value):
            date_format = date_math.dynamic_date_format(value)
            if date_format is not None:
                own = None if date_format == date_math.DEFAULT_DATE_FORMAT else date_format
                return FieldInfo(name, "date", source=name, format=own)
        return FieldInfo(name, "text", source=name)
    return None


def _java_number(text: str) -> bool:
    """Long.parseLong or Double.parseDouble would read it."""
    if _JAVA_LONG.fullmatch(text):
        try:
            return _LONG_MIN <= int(text) <= _LONG_MAX
        except ValueError:
            pass
    try:
        values.java_double(text)
    except ValueError:
        return False
    return True


def _flat(value: Any) -> Iterator[Any]:
    """A value, or an array's items at any depth."""
    if value.__class__ is list:
        for item in value:
            yield from _flat(item)
    else:
        yield value


def fields_from_mappings(answer: Mapping[str, Any]) -> tuple[dict[str, FieldInfo], list[str]]:
    """The fields of a `GET <indices>/_mapping/field/<names>` answer as queries see them, and
    the names whose type differs between indices (the first index's type is used, as a
    search of each index would use its own; Kibana's data view calls them conflicts). A
    multi-field (`name.keyword`) reads its values from its parent's place in _source."""
    found: dict[str, FieldInfo] = {}
    conflicts: list[str] = []
    for index in sorted(answer):
        for full_name, entry in (answer[index].get("mappings") or {}).items():
            mapping = next(iter((entry.get("mapping") or {}).values()), {})
            es_type = mapping.get("type")
            if not isinstance(es_type, str):
                continue  # an object or nested parent: its leaves are asked for by name
            info = FieldInfo(full_name, es_type, source=full_name, ignore_above=mapping.get("ignore_above"), format=mapping.get("format"))
            known = found.get(full_name)
            if known is None:
                found[full_name] = info
            elif known.type != es_type and full_name not in conflicts:
                conflicts.append(full_name)
            for sub, sub_mapping in (mapping.get("fields") or {}).items():
                name = f"{full_name}.{sub}"
                if name not in found and isinstance(sub_mapping.get("type"), str):
                    found[name] = FieldInfo(name, sub_mapping["type"], source=full_name, ignore_above=sub_mapping.get("ignore_above"))
    return found, conflicts
