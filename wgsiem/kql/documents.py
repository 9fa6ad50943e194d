"""Reading a field's values out of a document's `_source`, the way Elasticsearch indexes them.

A field `a.b.c` takes its values from every place `_source` can hold them: nested objects
(`{"a": {"b": {"c": 1}}}`), dotted keys (`{"a.b.c": 1}`, `{"a.b": {"c": 1}}`, ...), and
arrays of objects at any level (`{"a": [{"b": {"c": 1}}, {"b": {"c": 2}}]}`), all at once.
Arrays of values, arrays of arrays, are flattened; null is no value.

Getters are built once per field and return the raw value as found (`MISSING` when there
is none; a list when there are several places or an array), without copying, since
matching a query calls them for every document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

Getter = Callable[[Mapping[str, Any]], Any]


def getter(path: str) -> Getter:
    """f(doc) -> the raw value(s) of the dotted field `path`, or MISSING."""
    lines, env = lookup_code(path, "v", "doc")
    return compile_function("def get(doc):\n" + "\n".join(lines) + "\n    return v\n", env, "get")


def lookup_code(path: str, target: str, source: str) -> tuple[list[str], dict[str, Any]]:
    """Python statements (indented for a function body) that set `target` to the raw
    value(s) of `path` in the mapping `source`, and the names they need.

    Matching calls this code for every document, so the usual case, objects nested as
    dicts, is straight-line code; dotted keys are a cheap `in` test per possible split,
    and arrays of objects take a function call."""
    env: dict[str, Any] = {"_M": MISSING, "_dict": dict, "_desc": _descend, "_merge": _merge}
    lines = _lookup_lines(tuple(path.split(".")), source, target, env, "    ", 0)
    return lines, env


def compile_function(source: str, env: dict[str, Any], name: str) -> Callable[..., Any]:
    namespace = dict(env)
    exec(compile(source, f"<kql {name}>", "exec"), namespace)  # noqa: S102 - code built here from repr()'d keys
    return namespace[name]


def _lookup_lines(parts: tuple[str, ...], src: str, target: str, env: dict[str, Any], ind: str, depth: int) -> list[str]:
    if len(parts) == 1:
        return [f"{ind}{target} = {src}.get({parts[0]!r}, _M)"]
    x = f"_x{depth}"
    sub = f"_g{depth}_{len(env)}"
    env[sub] = _build(parts[1:])
    lines = [
        f"{ind}{x} = {src}.get({parts[0]!r}, _M)",
        f"{ind}if {x}.__class__ is _dict:",
        *_lookup_lines(parts[1:], x, target, env, ind + "    ", depth + 1),
        f"{ind}elif {x} is _M:",
        f"{ind}    {target} = _M",
        f"{ind}else:",
        f"{ind}    {target} = _desc({x}, {sub})",
    ]
    for i in range(2, len(parts) + 1):
        key = ".".join(parts[:i])
        lines.append(f"{ind}if {key!r} in {src}:")
        if i == len(parts):
            lines.append(f"{ind}    {target} = _merge({target}, {src}[{key!r}])")
        else:
            rest = f"_g{depth}_{len(env)}"
            env[rest] = _build(parts[i:])
            lines.append(f"{ind}    {target} = _merge({target}, _desc({src}[{key!r}], {rest}))")
    return lines


def _merge(found: Any, more: Any) -> Any:
    if more is MISSING:
        return found
    return more if found is MISSING else [found, more]


def _build(parts: tuple[str, ...]) -> Getter:
    if len(parts) == 1:
        key = parts[0]

        def get_leaf(node: Mapping[str, Any]) -> Any:
            return node.get(key, MISSING)

        return get_leaf
    full = ".".join(parts)
    head = parts[0]
    rest = _build(parts[1:])
    # Other ways to split the path: a dotted key covering the first i parts.
    splits = tuple((".".join(parts[:i]), _build(parts[i:])) for i in range(2, len(parts)))

    if not splits:  # two parts: "a" then "b", or the key "a.b"

        def get_pair(node: Mapping[str, Any]) -> Any:
            v = node.get(head, MISSING)
            if v is MISSING:
                found = MISSING
            elif v.__class__ is dict:
                found = rest(v)
            else:
                found = _descend(v, rest)
            dotted = node.get(full, MISSING)
            if dotted is MISSING:
                return found
            return dotted if found is MISSING else [found, dotted]

        return get_pair

    def get_path(node: Mapping[str, Any]) -> Any:
        v = node.get(head, MISSING)
        if v is MISSING:
            found = MISSING
        elif v.__class__ is dict:
            found = rest(v)
        else:
            found = _descend(v, rest)
        for key, sub in splits:
            w = node.get(key, MISSING)
            if w is not MISSING:
                more = sub(w) if w.__class__ is dict else _descend(w, sub)
                if more is not MISSING:
                    found = more if found is MISSING else [found, more]
        dotted = node.get(full, MISSING)
        if dotted is MISSING:
            return found
        return dotted if found is MISSING else [found, dotted]

    return get_path


def _descend(value: Any, sub: Getter) -> Any:
    """Apply `sub` to the object(s) in `value`: a mapping, or arrays of them (others: nothing)."""
    if value.__class__ is dict:
        return sub(value)
    if isinstance(value, list):
        found = []
        for item in value:
            x = sub(item) if item.__class__ is dict else _descend(item, sub)
            if x is not MISSING:
                found.append(x)
        return found if found else MISSING
    if isinstance(value, Mapping):
        return sub(value)
    return MISSING


def scalars(value: Any) -> Iterator[Any]:
    """The scalar values inside what a getter returned (arrays flattened, null dropped).

    A mapping where a scalar belongs is dropped too: Elasticsearch would refuse such a
    document for a field that is not an object."""
    if value.__class__ is list:
        for item in value:
            if item.__class__ is list:
                yield from scalars(item)
            elif item is not None and not isinstance(item, Mapping):
                yield item
    elif value is not None and value is not MISSING and not isinstance(value, Mapping):
        yield value


def objects(value: Any) -> Iterator[Mapping[str, Any]]:
    """The objects inside what a getter returned: one per element of a nested field."""
    if value.__class__ is list:
        for item in value:
            yield from objects(item)
    elif isinstance(value, Mapping):
        yield value


def leaf_values(value: Any) -> Iterator[Any]:
    """Every scalar under a value, objects walked into (a flattened field's leaves)."""
    if value.__class__ is list:
        for item in value:
            yield from leaf_values(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from leaf_values(item)
    elif value is not None and value is not MISSING:
        yield value
