"""Field values of an event the way Elasticsearch's aggregations see them.

A `_source` may hold a field as nested objects (`{"source": {"ip": ...}}`), as a dotted
key (`{"source.ip": ...}`) or any mix of the two; arrays (also arrays of objects) make a
field multi-valued. Aggregations read doc values, not `_source`: per document a term is
there once however often the array repeats it, keyword values are strings, IP addresses
are in their canonical form, and a field without a value is absent. Terms aggregations
and composite sources order keyword keys by their bytes and IP keys by their 16-byte
binary form, which `sort_key` reproduces (it decides which buckets survive max_signals).
A search's `fields` option (what Kibana reads alert suppression terms from) is the same
but keeps every value, repeats included (`TermReader.values`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ..mappings.fields import raw_values

_KEYWORD = frozenset({"keyword", "constant_keyword", "wildcard", "version"})
_INTEGER = frozenset({"long", "integer", "short", "byte", "unsigned_long"})
_FLOAT = frozenset({"double", "float", "half_float", "scaled_float"})


class TermReader:
    """Reads one field's aggregatable terms, normalised for its mapped type (None: the
    field is not mapped, and dynamic mapping decides). A multi-field (`name.keyword`)
    reads its values at `source`, its parent's place; a keyword longer than
    `ignore_above` has no term."""

    def __init__(self, field: str, es_type: str | None, source: str | None = None, ignore_above: int | None = None) -> None:
        self.field = field
        self.type = es_type
        self.source = source or field
        self.ignore_above = ignore_above

    @classmethod
    def of(cls, field: str, types: Mapping[str, str]) -> TermReader:
        """The reader for `field` as `types` maps it (a FieldTypes gives the mapping options)."""
        from ..kql.field_types import FieldTypes  # on demand, as matching.py loads the KQL engine

        info = types.info(field) if isinstance(types, FieldTypes) else None
        if info is None:
            return cls(field, types.get(field))
        return cls(field, info.type, info.source, info.ignore_above)

    def terms(self, doc: Mapping[str, Any]) -> list[Any]:
        """The document's distinct terms for the field, in first-seen order."""
        out: list[Any] = []
        for term in self.values(doc):
            if term not in out:
                out.append(term)
        return out

    def values(self, doc: Mapping[str, Any]) -> list[Any]:
        """The field's values as a search's `fields` option returns them (what Kibana reads
        a new-terms alert's suppression terms from): in `_source` order, a repeated value
        repeated, normalised for the mapping, a keyword over `ignore_above` left out."""
        out: list[Any] = []
        limit = self.ignore_above
        for raw in raw_values(doc, self.source):
            value = normalize(self.type, raw)
            if value is None or (
                # a string of n characters has n to 2n UTF-16 units, Java's length
                limit is not None and isinstance(value, str) and len(value) > limit // 2 and len(value.encode("utf-16-le")) // 2 > limit
            ):
                continue
            out.append(value)
        return out


def normalize(es_type: str | None, value: Any) -> Any:
    """The doc value Elasticsearch indexes for `value` (None: it indexes nothing)."""
    if es_type is None:
        # Unmapped: dynamic mapping keeps JSON's own type (strings become keyword).
        return value
    if es_type in _KEYWORD:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    if es_type == "ip":
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return str(address)
    if es_type in _INTEGER:
        try:
            return int(float(value)) if not isinstance(value, int) else value
        except (TypeError, ValueError):
            return None
    if es_type in _FLOAT:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return value


def sort_key(es_type: str | None, term: Any) -> tuple[Any, ...]:
    """Ascending key order of a terms/composite source for one field."""
    if es_type == "ip":
        address = ipaddress.ip_address(term)
        packed = address.packed if address.version == 6 else b"\0" * 10 + b"\xff\xff" + address.packed
        return (0, packed)
    if isinstance(term, bool):
        return (1, term)
    if isinstance(term, (int, float)):
        return (2, term)
    if isinstance(term, str):
        return (3, term)
    return (4, repr(term))
