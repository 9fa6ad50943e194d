"""What the ingest contexts add to Painless: the rules of `ctx`, `metadata()`, `field(path)`,
`Json` and the `Processors.*` helpers.

`ctx` is the document's source and metadata in one map (IngestCtxMap). Its metadata keys
are checked as IngestDocMetadata checks them (`_index` a String, `_version` a non-null
Number, ...), with the same messages; `_ingest` is not in it (Elasticsearch 9 gives scripts
no ingest metadata, elastic/elasticsearch#60470). In a condition everything under `ctx` is
read-only (ConditionalProcessor's UnmodifiableIngestData). `field(path)` is WriteField in a
script and the read-only SourceMapField in a condition; both resolve `a.b.c` through maps
and, failing that, as a dotted key (WriteField.resolveDepthFlat).

`Processors.*` (modules/ingest-common ProcessorsWhitelistExtension, script context only)
run the engine's own processors: the host (processors/script.py) registers how, so this
package does not import the processors when it loads (only a compile that meets
`Processors.*` before they are loaded imports them, see processor_available).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .errors import PainlessRuntimeError, iae, npe, unsupported_op
from .methods import BY_TYPE, OBJECT, _table, convert_arg, truthy
from .objects import JavaObject, JCollection, MapEntry
from .values import JLong, jclass, jstr, map_keys, num_kind

CONDITION_MUTATION = "Mutating ingest documents in conditionals is not supported"
_VERSION_TYPES = ("internal", "external", "external_gte")
_STRING_KEYS = ("_index", "_id", "_routing")
_LONG_KEYS = ("_if_seq_no", "_if_primary_term")


def _wrong_type(key: str, value: Any, expected: str) -> PainlessRuntimeError:
    return iae(f"{key} [{jstr(value)}] is wrong type, expected assignable to [{expected}], not [{jclass(value)}]")


def check_metadata_value(key: str, value: Any) -> None:
    """IngestDocMetadata's check of one metadata key being set to value."""
    if key in _STRING_KEYS:
        if value is not None and not (isinstance(value, str) and num_kind(value) is None):
            raise _wrong_type(key, value, "java.lang.String")
    elif key == "_version_type":
        if value is None:
            return
        if not isinstance(value, str):
            raise _wrong_type(key, value, "java.lang.String")
        if value not in _VERSION_TYPES:
            raise iae(f"_version_type must be a null or one of [internal, external, external_gte] but was [{value}] with type [java.lang.String]")
    elif key == "_version" or key in _LONG_KEYS:
        if value is None:
            if key == "_version":
                raise iae("_version cannot be null")
            return
        kind = num_kind(value)
        if kind is None or type(value) is bool:
            raise _wrong_type(key, value, "java.lang.Number")
        if kind > 2:
            raise iae(f"{key} may only be set to an int or a long but was [{jstr(value)}] with type [{jclass(value)}]")
    elif key == "_dynamic_templates":
        if value is not None and not isinstance(value, Mapping):
            raise _wrong_type(key, value, "java.util.Map")
    elif key == "_type":
        raise iae("_type cannot be updated")


METADATA_KEYS = frozenset((*_STRING_KEYS, "_version_type", "_version", *_LONG_KEYS, "_dynamic_templates", "_type"))


def ctx_put(ctx: dict[str, Any], key: Any, value: Any) -> Any:
    if type(key) is str and key in METADATA_KEYS:
        check_metadata_value(key, value)
    old = ctx.get(key)
    ctx[key] = value
    return old


def ctx_remove(ctx: dict[str, Any], key: Any) -> Any:
    if key == "_version":
        raise iae("_version cannot be removed")
    return ctx.pop(key, None)


def check_ctx(ctx: dict[str, Any], had_version: bool) -> None:
    """After a script, every metadata key must still be valid (covers writes through aliases)."""
    for key in METADATA_KEYS:
        if key in ctx and key != "_type":
            check_metadata_value(key, ctx[key])
    if had_version and "_version" not in ctx:
        raise iae("_version cannot be removed")


def reachable(root: Any, target: Any) -> bool:
    """Whether target is root or is held (at any depth) in root's maps and lists."""
    if isinstance(target, (MapEntry, JCollection)) and hasattr(target, "backing"):
        target = target.backing
    if root is target:
        return True
    stack = [root]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if child is target:
                return True
            if isinstance(child, (dict, list)):
                stack.append(child)
    return False


def guard_condition(ctx: Any, target: Any) -> None:
    if reachable(ctx, target):
        raise unsupported_op(CONDITION_MUTATION)


# --- metadata() ---------------------------------------------------------------------------------------


class Metadata(JavaObject):
    """The ingest script's metadata() (org.elasticsearch.script.Metadata over the ctx map)."""

    java_class = "org.elasticsearch.ingest.IngestDocMetadata"
    java_types = ("Metadata",)

    def __init__(self, ctx: dict[str, Any], now: datetime | None) -> None:
        self.ctx = ctx
        self.now = now

    def get(self, key: str) -> Any:
        return self.ctx.get(key)

    def set(self, key: str, value: Any) -> None:
        check_metadata_value(key, value)
        self.ctx[key] = value


def _version(m: Metadata) -> JLong:
    value = m.get("_version")
    if value is None:
        raise npe('Cannot invoke "java.lang.Number.longValue()" because the return value of "getNumber" is null')
    return JLong(int(value))


METADATA_METHODS = _table(
    {
        ("getIndex", 0): (lambda m: m.get("_index"), "String", ()),
        ("setIndex", 1): (lambda m, v: m.set("_index", v), "void", ("String",)),
        ("getId", 0): (lambda m: m.get("_id"), "String", ()),
        ("setId", 1): (lambda m, v: m.set("_id", v), "void", ("String",)),
        ("getRouting", 0): (lambda m: m.get("_routing"), "String", ()),
        ("setRouting", 1): (lambda m, v: m.set("_routing", v), "void", ("String",)),
        ("getVersion", 0): (_version, "long", ()),
        ("setVersion", 1): (lambda m, v: m.set("_version", v), "void", ("long",)),
        ("getVersionType", 0): (lambda m: m.get("_version_type"), "String", ()),
        ("setVersionType", 1): (lambda m, v: m.set("_version_type", v), "void", ("String",)),
        ("getNow", 0): (lambda m: m.now, "ZonedDateTime", ()),
    }
)
Metadata.painless_methods = METADATA_METHODS  # type: ignore[attr-defined]


# --- field(path) -------------------------------------------------------------------------------------------

_MISSING = object()


class SourceMapField(JavaObject):
    """field(path) in a condition: reads only."""

    java_class = "org.elasticsearch.script.field.SourceMapField"
    java_types: tuple[str, ...] = ("SourceMapField",)

    def __init__(self, path: str, root: dict[str, Any]) -> None:
        self.path = path
        self.root = root
        self.container: dict[str, Any] | None = None
        self.leaf: str | None = None
        self.resolve()

    def resolve(self) -> None:
        """Segment by segment through maps; where a segment is not a map, the rest of the path
        is one key if that key exists (WriteField.resolveDepthFlat)."""
        container: Any = self.root
        path = self.path
        last = 0
        index = path.find(".")
        while index != -1:
            value = container.get(path[last:index])
            if isinstance(value, dict):
                container = value
                last = index + 1
                index = path.find(".", last)
            else:
                rest = path[last:]
                self.container, self.leaf = container, (rest if rest in container else None)
                return
        self.container, self.leaf = container, path[last:]

    def value(self, default: Any = _MISSING) -> Any:
        if self.leaf is None or self.container is None:
            return default
        return self.container.get(self.leaf, default)

    def exists(self) -> bool:
        return self.leaf is not None and self.container is not None and self.leaf in self.container

    def values(self) -> list[Any]:
        value = self.value()
        if value is _MISSING:
            return []
        return list(value) if isinstance(value, list) else [value]

    def get_at(self, index: int, default: Any) -> Any:
        value = self.value()
        if isinstance(value, list):
            return value[index] if 0 <= index < len(value) else default
        return value if value is not _MISSING and index == 0 else default

    def has_value(self, predicate: Callable[[Any], Any]) -> bool:
        return any(truthy(predicate(v)) for v in self.values())


class WriteField(SourceMapField):
    """field(path) in an ingest script (org.elasticsearch.script.field.WriteField)."""

    java_class = "org.elasticsearch.script.field.WriteField"
    java_types = ("WriteField", "Field")

    def set_leaf(self) -> None:
        if self.leaf is None:
            self.resolve()
        if self.leaf is None:
            self.create_depth()

    def create_depth(self) -> None:
        container: Any = self.root
        segments = self.path.split(".")
        while segments and segments[-1] == "":
            segments.pop()
        for i, segment in enumerate(segments[:-1]):
            value = container.get(segment, _MISSING)
            if isinstance(value, dict):
                container = value
            elif value is _MISSING:
                container[segment] = {}
                container = container[segment]
            else:
                raise iae(f"Segment [{i}:'{segment}'] has value [{jstr(value)}] of type [{jclass(value)}]")
        self.container, self.leaf = container, segments[-1]

    def set(self, value: Any) -> WriteField:
        self.set_leaf()
        assert self.container is not None and self.leaf is not None
        self.container[self.leaf] = value
        return self

    def append(self, value: Any) -> WriteField:
        self.set_leaf()
        assert self.container is not None and self.leaf is not None
        current = self.container.get(self.leaf)
        if current is None:
            self.container[self.leaf] = [value]
        elif isinstance(current, list):
            current.append(value)
        else:
            self.container[self.leaf] = [current, value]
        return self

    def remove(self) -> None:
        self.resolve()
        if self.leaf is not None and self.container is not None:
            self.container.pop(self.leaf, None)

    def size(self) -> int:
        return len(self.values())

    def transform(self, fn: Callable[[Any], Any]) -> WriteField:
        value = self.value()
        if value is _MISSING:
            return self
        if isinstance(value, list):
            value[:] = [fn(v) for v in value]
        else:
            assert self.container is not None and self.leaf is not None
            self.container[self.leaf] = fn(value)
        return self

    def deduplicate(self) -> WriteField:
        from .objects import HashSet

        value = self.value()
        if isinstance(value, list):
            value[:] = HashSet(value).items()
        return self

    def remove_values_if(self, predicate: Callable[[Any], Any]) -> WriteField:
        value = self.value()
        if value is _MISSING:
            return self
        if isinstance(value, list):
            value[:] = [v for v in value if not truthy(predicate(v))]
        elif truthy(predicate(value)):
            assert self.container is not None and self.leaf is not None
            del self.container[self.leaf]
        return self

    def remove_value(self, index: int) -> WriteField:
        value = self.value()
        if isinstance(value, list):
            if index < len(value):
                del value[index]
        elif value is not _MISSING and index == 0:
            assert self.container is not None and self.leaf is not None
            del self.container[self.leaf]
        return self

    def move(self, path: str, overwrite: bool) -> WriteField:
        if not overwrite and WriteField(path, self.root).size() != 0:
            raise iae(f"Cannot move to non-empty destination [{path}]")
        value = self.value()
        self.remove()
        self.path = path
        self.leaf = self.container = None
        if value is _MISSING:
            self.remove()
        else:
            self.set_leaf()
            self.set(value)
        return self


def _iterator(field: SourceMapField) -> Any:
    from .objects import JIterator

    return JIterator(field.values(), None)


SOURCE_FIELD_METHODS = _table(
    {
        ("exists", 0): (lambda fld: fld.exists(), "boolean", ()),
        ("get", 1): (lambda fld, d: fld.value(d), "def", ("def",)),
        ("get", 2): (lambda fld, i, d: fld.get_at(i, d), "def", ("int", "def")),
        ("hasValue", 1): (lambda fld, p: fld.has_value(p), "boolean", ("Predicate",)),
        ("iterator", 0): (_iterator, "Iterator", ()),
    }
)
WRITE_FIELD_METHODS = _table(
    {
        ("getName", 0): (lambda fld: fld.path, "String", ()),
        ("isEmpty", 0): (lambda fld: fld.size() == 0, "boolean", ()),
        ("size", 0): (lambda fld: fld.size(), "int", ()),
        ("set", 1): (lambda fld, v: fld.set(v), "WriteField", ("def",)),
        ("append", 1): (lambda fld, v: fld.append(v), "WriteField", ("def",)),
        ("remove", 0): (lambda fld: fld.remove(), "void", ()),
        ("move", 1): (lambda fld, p: fld.move(p, False), "WriteField", ("String",)),
        ("overwrite", 1): (lambda fld, p: fld.move(p, True), "WriteField", ("String",)),
        ("transform", 1): (lambda fld, fn: fld.transform(fn), "WriteField", ("Function",)),
        ("deduplicate", 0): (lambda fld: fld.deduplicate(), "WriteField", ()),
        ("removeValuesIf", 1): (lambda fld, p: fld.remove_values_if(p), "WriteField", ("Predicate",)),
        ("removeValue", 1): (lambda fld, i: fld.remove_value(i), "WriteField", ("int",)),
    },
    SOURCE_FIELD_METHODS,
)
SourceMapField.painless_methods = SOURCE_FIELD_METHODS  # type: ignore[attr-defined]
WriteField.painless_methods = WRITE_FIELD_METHODS  # type: ignore[attr-defined]


# --- ZonedDateTime (metadata().now) --------------------------------------------------------------------

DATETIME_METHODS = _table(
    {
        ("getYear", 0): (lambda d: d.year, "int", ()),
        ("getMonthValue", 0): (lambda d: d.month, "int", ()),
        ("getDayOfMonth", 0): (lambda d: d.day, "int", ()),
        ("getHour", 0): (lambda d: d.hour, "int", ()),
        ("getMinute", 0): (lambda d: d.minute, "int", ()),
        ("getSecond", 0): (lambda d: d.second, "int", ()),
        ("toEpochSecond", 0): (lambda d: JLong(int(d.timestamp())), "long", ()),
    },
    OBJECT,
)
BY_TYPE[datetime] = DATETIME_METHODS


# --- Json ----------------------------------------------------------------------------------------------------


def _json_load(text: str) -> Any:
    if text is None:
        raise npe("Json.load of null")
    try:
        return json.loads(text)
    except ValueError as error:
        raise PainlessRuntimeError(str(error), "XContentParseException", es_exception="x_content_parse_exception") from None


def json_dump(value: Any, pretty: bool = False) -> str:
    """Json.dump: XContent's JSON of a value (HashMap key order, Java number text)."""
    indent = "  " if pretty else ""

    def write(v: Any, depth: int) -> str:
        if v is None or type(v) is bool:
            return "null" if v is None else ("true" if v else "false")
        if isinstance(v, str) and num_kind(v) is None or type(v).__name__ == "JChar":
            return json.dumps(str(v), ensure_ascii=False)
        if num_kind(v) is not None:
            return jstr(v) if not (isinstance(v, float) and v != v) else '"NaN"'
        if isinstance(v, Mapping):
            keys = map_keys(v)
            if not keys:
                return "{}"
            parts = [f"{json.dumps(str(k), ensure_ascii=False)}{' : ' if pretty else ':'}{write(v[k], depth + 1)}" for k in keys]
            return _wrap("{", "}", parts, depth)
        items = list(v) if isinstance(v, (list, JCollection)) else None
        if items is None:
            raise iae(f"cannot write xcontent for unknown value of type class {jclass(v)}")
        if not items:
            return "[]"
        return _wrap("[", "]", [write(x, depth + 1) for x in items], depth)

    def _wrap(open_: str, close: str, parts: list[str], depth: int) -> str:
        if not pretty:
            return open_ + ",".join(parts) + close
        pad = "\n" + indent * (depth + 1)
        return open_ + pad + ("," + pad).join(parts) + "\n" + indent * depth + close

    return write(value, 0)


JSON_STATIC = {
    ("load", 1): (_json_load, "def", ("String",)),
    ("dump", 1): (json_dump, "String", ("def",)),
    ("dump", 2): (json_dump, "String", ("def", "boolean")),
}


# --- Processors.* ------------------------------------------------------------------------------------------

# The host registers a runner: (processor type, its options, a document map) -> None, raising
# PainlessRuntimeError for the processor's failures. None until processors/script.py loads.
_RUNNER: list[Callable[[str, dict[str, Any], dict[str, Any]], None]] = []
_AVAILABLE: list[Callable[[str], bool]] = []


def register_processor_runner(runner: Callable[[str, dict[str, Any], dict[str, Any]], None], available: Callable[[str], bool]) -> None:
    _RUNNER[:] = [runner]
    _AVAILABLE[:] = [available]


def processor_available(processor_type: str) -> bool:
    if not _AVAILABLE:
        # The runner comes with the processors (processors/script.py registers it on import).
        import wgsiem.ingest.processors  # noqa: F401
    return bool(_AVAILABLE) and _AVAILABLE[0](processor_type)


def _run(processor_type: str, options: dict[str, Any], document: dict[str, Any]) -> None:
    if not _RUNNER:
        raise unsupported_op(f"Processors need the [{processor_type}] processor, which is not loaded")
    _RUNNER[0](processor_type, options, document)


def _on_value(processor_type: str, options: dict[str, Any] | None = None) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        document = {"value": value}
        _run(processor_type, {"field": "value", **(options or {})}, document)
        return document.get("value")

    return apply


def _json_into(strict: bool) -> Callable[[Any, Any], None]:
    def apply(target: dict[str, Any], field: str) -> None:
        _run("json", {"field": field, "add_to_root": True, "strict_json_parsing": strict}, target)

    return apply


def _community_id(*args: Any) -> Any:
    names = ("source.ip", "destination.ip", "network.iana_number", "network.transport", "source.port",
             "destination.port", "icmp.type", "icmp.code")  # fmt: skip
    document: dict[str, Any] = {}
    for path, value in zip(names, args, strict=False):
        if value is None:
            continue
        parent = document
        head, leaf = path.split(".")
        parent = parent.setdefault(head, {})
        parent[leaf] = value
    options: dict[str, Any] = {"target_field": "community_id"}
    if len(args) == 9:
        options["seed"] = args[8]
    _run("community_id", options, document)
    return document.get("community_id")


def _bytes(value: Any) -> Any:
    result = _on_value("bytes")(value)
    return JLong(int(result)) if result is not None else result


def _uri_parts(uri: Any) -> Any:
    document = {"value": uri}
    _run("uri_parts", {"field": "value", "target_field": "parts", "keep_original": False}, document)
    return document.get("parts")


# Processor method -> (implementation, return type, parameter types, processor it needs).
PROCESSORS_STATIC: dict[tuple[str, int], tuple[Callable[..., Any], str, tuple[str, ...], str]] = {
    ("bytes", 1): (_bytes, "long", ("String",), "bytes"),
    ("lowercase", 1): (_on_value("lowercase"), "String", ("String",), "lowercase"),
    ("uppercase", 1): (_on_value("uppercase"), "String", ("String",), "uppercase"),
    ("json", 1): (_on_value("json", {"strict_json_parsing": True}), "Object", ("Object",), "json"),
    ("jsonLenient", 1): (_on_value("json", {"strict_json_parsing": False}), "Object", ("Object",), "json"),
    ("json", 2): (_json_into(True), "void", ("Map", "String"), "json"),
    ("jsonLenient", 2): (_json_into(False), "void", ("Map", "String"), "json"),
    ("urlDecode", 1): (_on_value("urldecode"), "String", ("String",), "urldecode"),
    ("communityId", 8): (_community_id, "String", ("String", "String") + ("Object",) * 6, "community_id"),
    ("communityId", 9): (_community_id, "String", ("String", "String") + ("Object",) * 6 + ("int",), "community_id"),
    ("uriParts", 1): (_uri_parts, "Map", ("String",), "uri_parts"),
}


def call_static(table: Mapping[tuple[str, int], Any], key: tuple[str, int], args: list[Any]) -> Any:
    impl, _, params = table[key][:3]
    return impl(*[convert_arg(a, p) for a, p in zip(args, params, strict=True)])
