"""The document a pipeline works on, with Elasticsearch's field-path rules.

Elasticsearch keeps the source and the metadata (`_index`, `_id`, ...) in one map, the
ingest metadata (`_ingest.timestamp`, ...) in another, and resolves dotted paths through
maps and, by numeric segment, lists ("classic" access). The messages of the errors are
Elasticsearch's, because they end up in `error.message` of failed documents and in
`_simulate` answers.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from wgsiem.ingest.errors import invalid
from wgsiem.ingest.formats.convert import iso_timestamp, java_str
from wgsiem.ingest.java.types import INT_MAX, INT_MIN, java_type

METADATA_KEYS = (
    "_index",
    "_id",
    "_routing",
    "_version",
    "_version_type",
    "_if_seq_no",
    "_if_primary_term",
    "_dynamic_templates",
)
_METADATA = frozenset(METADATA_KEYS)
_CAST_NAMES: dict[type, str] = {str: "java.lang.String", list: "java.util.List", dict: "java.util.Map"}
_MISSING = object()
_JAVA_INT = re.compile(r"[+-]?[0-9]+")


class Path:
    """A parsed field path: which map it starts from and its segments."""

    __slots__ = ("text", "ingest", "keys", "parents", "leaf")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise invalid("path cannot be null nor empty")
        self.text = text
        self.ingest = text.startswith("_ingest.")
        rest = text[8:] if self.ingest else text[8:] if text.startswith("_source.") else text
        keys = rest.split(".")
        # Java's String.split drops trailing empty strings; a path of only dots has none left.
        while keys and keys[-1] == "":
            keys.pop()
        if not keys:
            raise invalid(f"path [{text}] is not valid")
        if "" in keys:
            raise invalid("fieldName cannot be empty")
        self.keys = tuple(keys)
        self.parents = self.keys[:-1]  # the containers on the way, walked by every write
        self.leaf = keys[-1]


@lru_cache(maxsize=4096)
def path(text: str) -> Path:
    return Path(text)


def java_int(key: str) -> int | None:
    """Integer.parseInt, or None where it throws (signs allowed; no spaces, no overflow)."""
    if not _JAVA_INT.fullmatch(key):
        return None
    value = int(key)
    return value if INT_MIN <= value <= INT_MAX else None


def _index(path_text: str, key: str, size: int) -> int:
    index = java_int(key)
    if index is None:
        raise invalid(f"[{key}] is not an integer, cannot be used as an index as part of path [{path_text}]")
    if index < 0 or index >= size:
        raise invalid(f"[{index}] is out of bounds for array with length [{size}] as part of path [{path_text}]")
    return index


def _step(context: Any, key: str, path_text: str) -> Any:
    if context is None:
        raise invalid(f"cannot resolve [{key}] from null as part of path [{path_text}]")
    if isinstance(context, dict):
        value = context.get(key, _MISSING)
        if value is _MISSING:
            raise invalid(f"field [{key}] not present as part of path [{path_text}]")
        return value
    if isinstance(context, list):
        return context[_index(path_text, key, len(context))]
    raise invalid(f"cannot resolve [{key}] from object of type [{java_type(context)}] as part of path [{path_text}]")


class IngestDocument:
    """Source and metadata in `ctx` (one dict, like Elasticsearch's ctx map), plus `ingest`."""

    __slots__ = ("ctx", "ingest", "executed", "rerouted", "terminated")

    def __init__(self, ctx: dict[str, Any], ingest: dict[str, Any] | None = None, *, now: datetime | None = None) -> None:
        self.ctx = ctx
        self.ingest: dict[str, Any] = ingest if ingest is not None else {"timestamp": now or datetime.now(UTC)}
        self.executed: list[str] = []  # pipelines on the call stack, for cycle detection
        # IngestDocument.isReroute: set by `reroute`, never cleared while the document runs
        # (Elasticsearch resets it only between the pipelines of different targets).
        self.rerouted = False
        self.terminated = False  # IngestDocument.terminate: the rest of the current pipeline skipped

    @classmethod
    def from_source(
        cls, source: dict[str, Any], *, index: str = "_index", id: str = "_id", now: datetime | None = None, **metadata: Any
    ) -> IngestDocument:
        ctx = dict(source)
        ctx["_index"] = index
        ctx["_id"] = id
        for key, value in metadata.items():
            if value is not None:
                ctx[f"_{key}"] = value
        return cls(ctx, now=now)

    # --- reading ------------------------------------------------------------------------

    def get(self, path_text: str, ignore_missing: bool = False) -> Any:
        p = path(path_text)
        context = self.ingest if p.ingest else self.ctx
        try:
            for key in p.keys:
                if type(context) is dict and key in context:  # the common case, inline
                    context = context[key]
                else:
                    context = _step(context, key, path_text)
        except Exception:
            if ignore_missing:
                return None
            raise
        return context

    def subject(self, path_text: str, if_null: str, *, ignore_missing: bool = False, kind: type | None = None) -> Any:
        """The value a processor works on, checked as Elasticsearch's processors check it:
        None when ignore_missing lets the processor skip; a null otherwise fails with
        `field [x] is null, <if_null>`; a value not of `kind` fails with IngestDocument's
        cast message."""
        value = self.get(path_text, ignore_missing)
        if value is None:
            if ignore_missing:
                return None
            raise invalid(f"field [{path_text}] is null, {if_null}")
        if kind is not None and not isinstance(value, kind):
            raise invalid(f"field [{path_text}] of type [{java_type(value)}] cannot be cast to [{_CAST_NAMES[kind]}]")
        return value

    def has(self, path_text: str, fail_out_of_range: bool = False) -> bool:
        p = path(path_text)
        context = self.ingest if p.ingest else self.ctx
        for key in p.keys:
            if type(context) is dict:  # the common case first: JSON objects all the way down
                context = context.get(key, _MISSING)
                if context is _MISSING:
                    return False
            elif isinstance(context, list):
                index = java_int(key)
                if index is None:
                    return False
                if 0 <= index < len(context):
                    context = context[index]
                elif fail_out_of_range:
                    raise invalid(
                        f"[{index}] is out of bounds for array with length [{len(context)}] as part of path [{path_text}]"
                    )
                else:
                    return False
            elif isinstance(context, dict):
                context = context.get(key, _MISSING)
                if context is _MISSING:
                    return False
            else:
                return False
        return True

    # --- writing ------------------------------------------------------------------------

    def _parent(self, p: Path, path_text: str, create: bool) -> Any:
        context = self.ingest if p.ingest else self.ctx
        for key in p.parents:
            if type(context) is dict:  # the common case first
                value = context.get(key, _MISSING)
                if value is not _MISSING:
                    context = value
                    continue
            if context is None:
                raise invalid(f"cannot resolve [{key}] from null as part of path [{path_text}]")
            if isinstance(context, dict):
                value = context.get(key, _MISSING)
                if value is _MISSING:
                    if not create:
                        raise invalid(f"field [{key}] not present as part of path [{path_text}]")
                    value = context[key] = {}
                context = value
            elif isinstance(context, list):
                context = context[_index(path_text, key, len(context))]
            else:
                raise invalid(
                    f"cannot resolve [{key}] from object of type [{java_type(context)}] as part of path [{path_text}]"
                )
        return context

    def set(self, path_text: str, value: Any) -> None:
        p = path(path_text)
        parent = self._parent(p, path_text, create=True)
        leaf = p.leaf
        if isinstance(parent, dict):
            parent[leaf] = value
        elif isinstance(parent, list):
            parent[_index(path_text, leaf, len(parent))] = value
        elif parent is None:
            raise invalid(f"cannot set [{leaf}] with null parent as part of path [{path_text}]")
        else:
            raise invalid(f"cannot set [{leaf}] with parent object of type [{java_type(parent)}] as part of path [{path_text}]")

    def append(self, path_text: str, value: Any, allow_duplicates: bool = True) -> None:
        p = path(path_text)
        parent = self._parent(p, path_text, create=True)
        leaf = p.leaf
        if isinstance(parent, dict):
            existing = parent.get(leaf, _MISSING)
            if existing is _MISSING:
                # A new list, deduplicated too without allow_duplicates.
                parent[leaf] = _append_values([], value, allow_duplicates)
            else:
                parent[leaf] = _append_values(existing, value, allow_duplicates)
        elif isinstance(parent, list):
            index = _index(path_text, leaf, len(parent))
            parent[index] = _append_values(parent[index], value, allow_duplicates)
        elif parent is None:
            raise invalid(f"cannot set [{leaf}] with null parent as part of path [{path_text}]")
        else:
            raise invalid(f"cannot set [{leaf}] with parent object of type [{java_type(parent)}] as part of path [{path_text}]")

    def remove(self, path_text: str, ignore_missing: bool = False) -> None:
        p = path(path_text)
        try:
            parent = self._parent(p, path_text, create=False)
        except Exception:
            if ignore_missing:
                return
            raise
        leaf = p.leaf
        if isinstance(parent, dict):
            if leaf in parent:
                del parent[leaf]
            elif not ignore_missing:
                raise invalid(f"field [{leaf}] not present as part of path [{path_text}]")
        elif isinstance(parent, list):
            try:
                del parent[_index(path_text, leaf, len(parent))]
            except Exception:
                if not ignore_missing:
                    raise
        elif not ignore_missing:
            if parent is None:
                raise invalid(f"cannot remove [{leaf}] from null as part of path [{path_text}]")
            raise invalid(f"cannot remove [{leaf}] from object of type [{java_type(parent)}] as part of path [{path_text}]")

    def reroute(self, index: str) -> None:
        """IngestDocument.reroute: a new target, and the rest of the pipeline chain skipped
        (Pipeline.execute stops at the flag, in every pipeline on the call stack)."""
        self.ctx["_index"] = index
        self.rerouted = True

    # --- views --------------------------------------------------------------------------

    def source(self) -> dict[str, Any]:
        return {k: v for k, v in self.ctx.items() if k not in _METADATA}

    def metadata(self) -> dict[str, Any]:
        return {k: self.ctx[k] for k in METADATA_KEYS if self.ctx.get(k) is not None}

    def snapshot(self) -> IngestDocument:
        """A deep copy, for verbose results (Elasticsearch copies the document per processor)."""
        clone = IngestDocument(copy.deepcopy(self.ctx), copy.deepcopy(self.ingest))
        clone.executed = list(self.executed)
        clone.rerouted = self.rerouted
        clone.terminated = self.terminated
        return clone

    def to_simulate(self) -> dict[str, Any]:
        """The `doc` object of a `_simulate` answer."""
        doc: dict[str, Any] = {key: java_str(value) for key, value in self.metadata().items()}
        doc["_source"] = _rendered(self.source())
        doc["_ingest"] = {k: (iso_timestamp(v) if isinstance(v, datetime) else v) for k, v in self.ingest.items()}
        return doc


def _rendered(value: Any, within: frozenset[int] = frozenset()) -> Any:
    """`_ingest.timestamp` copied into the source (set or append copy_from, rename) is a
    ZonedDateTime there too, and XContent writes it as `_ingest` shows it. The same objects
    come back where there is none, and a map inside itself is left for simulate to refuse.
    A NaN or an infinity (a script's 10.0 / 0) is written as Jackson writes it by default
    (QUOTE_NON_NUMERIC_NUMBERS): the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (dict, list)):
        if id(value) in within:
            return value
        inner = within | {id(value)}
        if isinstance(value, dict):
            items = {k: _rendered(v, inner) for k, v in value.items()}
            return items if any(items[k] is not v for k, v in value.items()) else value
        out = [_rendered(v, inner) for v in value]
        return out if any(a is not b for a, b in zip(out, value, strict=True)) else value
    return value


def _append_values(existing: Any, value: Any, allow_duplicates: bool) -> Any:
    """Elasticsearch's appendValues: a scalar becomes a list; without duplicates, an append
    that adds nothing leaves the field exactly as it was (even a scalar)."""
    target = existing if isinstance(existing, list) else [existing]
    values = value if isinstance(value, list) else [value]
    if allow_duplicates:
        target.extend(values)
        return target
    appended = False
    for item in values:
        if not any(_java_equals(item, have) for have in target):
            target.append(item)
            appended = True
    return target if appended else existing


def _java_equals(a: Any, b: Any) -> bool:
    """`Object.equals` on JSON values: Boolean never equals a number, Integer never a Double."""
    if isinstance(a, list) and isinstance(b, list):  # List.equals: element by element
        return len(a) == len(b) and all(_java_equals(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):  # Map.equals: same keys, equal values
        return a.keys() == b.keys() and all(_java_equals(value, b[key]) for key, value in a.items())
    return type(a) is type(b) and a == b
