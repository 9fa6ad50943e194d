"""The Java objects a script can make or get that JSON has no value for: a HashSet, the views
of a Map (keySet, values, entrySet) and its entries, iterators, a StringBuilder, streams,
Optionals and comparators.

Each class names its Java class (`java_class`) and the Painless types it is an instance of
(`java_types`); its Painless methods are in methods.py. Views write through to their map,
as Java's do: `map.values().removeIf(v -> v == null)` removes entries from the map.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import PainlessRuntimeError, iae, unsupported_op
from .values import (
    JArray,
    JChar,
    JFloat,
    JLong,
    hash_order,
    java_compare,
    java_equals,
    java_hash,
    jstr,
    map_keys,
    num_kind,
    num_value,
)


def _hashable_key(v: Any) -> Any:
    """A Python dict key that two values share exactly when Java's equals says they are equal;
    None for values (maps, lists) that are compared one by one instead."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return ("null",)
    if t is bool:
        return ("bool", v)
    if t is JChar:
        return ("char", str(v))
    kind = num_kind(v)
    if kind is not None:
        if isinstance(v, float):
            # Double.equals compares bits: -0.0 differs from 0.0, NaN equals NaN.
            return (kind, repr(float(v)))
        return (kind, int(v))
    if isinstance(v, str):
        return str(v)
    return None


class JavaObject:
    java_class = "java.lang.Object"
    java_types: tuple[str, ...] = ()

    def java_string(self) -> str:
        return f"{self.java_class}@{id(self) & 0xFFFFFFFF:x}"


class JCollection(JavaObject):
    """What the collections here share: iteration in Java's order, size, contains, streams."""

    java_types: tuple[str, ...] = ("Collection", "Iterable")

    def items(self) -> list[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def remove_item(self, item: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.items())

    def as_list(self) -> list[Any]:
        return self.items()

    def contains(self, x: Any) -> bool:
        return any(java_equals(x, e) for e in self.items())

    def remove_if(self, predicate: Callable[[Any], Any]) -> bool:
        removed = False
        for item in self.items():
            if predicate(item):
                self.remove_item(item)
                removed = True
        return removed

    def java_string(self) -> str:
        return "[" + ", ".join("(this Collection)" if item is self else jstr(item) for item in self.items()) + "]"

    def java_equals(self, other: Any) -> bool:
        if not isinstance(other, JCollection) or "Set" not in self.java_types or "Set" not in other.java_types:
            return other is self
        mine = self.items()
        return len(mine) == len(other) and all(other.contains(x) for x in mine)

    def java_hash(self) -> int:
        return sum(java_hash(x) for x in self.items()) & 0xFFFFFFFF


class HashSet(JCollection):
    """java.util.HashSet: equals-distinct elements, iterated in HashMap bucket order."""

    java_class = "java.util.HashSet"
    java_types = ("Set", "HashSet", "Collection", "Iterable")

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._keys: dict[Any, Any] = {}  # hashable key -> element
        self._others: list[Any] = []  # maps and lists, compared with equals
        for item in items:
            self.add(item)

    def add(self, item: Any) -> bool:
        key = _hashable_key(item)
        if key is None:
            if any(java_equals(item, other) for other in self._others):
                return False
            self._others.append(item)
            return True
        if key in self._keys:
            return False
        self._keys[key] = item
        return True

    def contains(self, x: Any) -> bool:
        key = _hashable_key(x)
        if key is not None:
            return key in self._keys
        return any(java_equals(x, other) for other in self._others)

    def remove_item(self, item: Any) -> None:
        self.remove(item)

    def remove(self, item: Any) -> bool:
        key = _hashable_key(item)
        if key is not None:
            return self._keys.pop(key, self) is not self
        for i, other in enumerate(self._others):
            if java_equals(item, other):
                del self._others[i]
                return True
        return False

    def clear(self) -> None:
        self._keys.clear()
        self._others.clear()

    def items(self) -> list[Any]:
        return hash_order(list(self._keys.values()) + self._others)

    def __len__(self) -> int:
        return len(self._keys) + len(self._others)


class KeySet(JCollection):
    """Map.keySet(): the keys, removable."""

    java_class = "java.util.HashMap$KeySet"
    java_types = ("Set", "Collection", "Iterable")

    def __init__(self, backing: dict[Any, Any]) -> None:
        self.backing = backing

    def items(self) -> list[Any]:
        return map_keys(self.backing)

    def __len__(self) -> int:
        return len(self.backing)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and x in self.backing or any(java_equals(x, k) for k in self.backing if not isinstance(k, str))

    def remove_item(self, item: Any) -> None:
        self.backing.pop(item, None)

    def remove(self, item: Any) -> bool:
        return self.backing.pop(item, self) is not self


class Values(JCollection):
    """Map.values(): removing a value removes its entry."""

    java_class = "java.util.HashMap$Values"
    java_types = ("Collection", "Iterable")

    def __init__(self, backing: dict[Any, Any]) -> None:
        self.backing = backing

    def items(self) -> list[Any]:
        return [self.backing[k] for k in map_keys(self.backing)]

    def __len__(self) -> int:
        return len(self.backing)

    def remove_if(self, predicate: Callable[[Any], Any]) -> bool:
        removed = False
        for key in map_keys(self.backing):
            if predicate(self.backing[key]):
                del self.backing[key]
                removed = True
        return removed

    def remove_item(self, item: Any) -> None:
        for key in map_keys(self.backing):
            if java_equals(item, self.backing[key]):
                del self.backing[key]
                return

    def remove(self, item: Any) -> bool:
        before = len(self.backing)
        self.remove_item(item)
        return len(self.backing) != before


class MapEntry(JavaObject):
    """A Map.Entry of a map: getValue reads and setValue writes the map."""

    java_class = "java.util.HashMap$Node"
    java_types = ("Map.Entry",)

    def __init__(self, backing: dict[Any, Any], key: Any) -> None:
        self.backing = backing
        self.key = key

    def value(self) -> Any:
        return self.backing.get(self.key)

    def set_value(self, value: Any) -> Any:
        old = self.backing.get(self.key)
        self.backing[self.key] = value
        return old

    def java_string(self) -> str:
        return f"{jstr(self.key)}={jstr(self.value())}"

    def java_equals(self, other: Any) -> bool:
        return isinstance(other, MapEntry) and java_equals(self.key, other.key) and java_equals(self.value(), other.value())

    def java_hash(self) -> int:
        return java_hash(self.key) ^ java_hash(self.value())


class EntrySet(JCollection):
    """Map.entrySet(): entries that write through; removing one removes its key."""

    java_class = "java.util.HashMap$EntrySet"
    java_types = ("Set", "Collection", "Iterable")

    def __init__(self, backing: dict[Any, Any]) -> None:
        self.backing = backing

    def items(self) -> list[Any]:
        return [MapEntry(self.backing, k) for k in map_keys(self.backing)]

    def __len__(self) -> int:
        return len(self.backing)

    def remove_item(self, item: Any) -> None:
        if isinstance(item, MapEntry):
            self.backing.pop(item.key, None)

    def remove(self, item: Any) -> bool:
        if isinstance(item, MapEntry) and item.key in self.backing and java_equals(item.value(), self.backing[item.key]):
            del self.backing[item.key]
            return True
        return False


class JIterator(JavaObject):
    """Iterator over a snapshot of a collection's elements; remove() removes the last one."""

    java_class = "java.util.Iterator"
    java_types = ("Iterator",)

    def __init__(self, items: list[Any], remover: Callable[[Any], None] | None) -> None:
        self._items = items
        self._next = 0
        self._remover = remover
        self._can_remove = False

    def has_next(self) -> bool:
        return self._next < len(self._items)

    def next(self) -> Any:
        if self._next >= len(self._items):
            raise PainlessRuntimeError(None, "NoSuchElementException")
        self._next += 1
        self._can_remove = True
        return self._items[self._next - 1]

    def remove(self) -> None:
        if not self._can_remove:
            raise PainlessRuntimeError(None, "IllegalStateException")
        if self._remover is None:
            raise unsupported_op("remove")
        self._can_remove = False
        self._remover(self._items[self._next - 1])


def list_iterator(items: list[Any]) -> JIterator:
    position = {"removed": 0}

    def remove(item: Any) -> None:
        # ArrayList's iterator removes by position: the element just returned.
        for i, candidate in enumerate(items):
            if candidate is item:
                del items[i]
                position["removed"] += 1
                return

    iterator = JIterator(list(items), remove)
    return iterator


class StringBuilder(JavaObject):
    java_class = "java.lang.StringBuilder"
    java_types = ("StringBuilder", "CharSequence")

    def __init__(self, text: str = "") -> None:
        self.parts = [text] if text else []

    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def set_text(self, text: str) -> None:
        self.parts = [text] if text else []

    def append(self, value: Any) -> StringBuilder:
        self.parts.append(jstr(value))
        return self

    def java_string(self) -> str:
        return self.text()


class Optional(JavaObject):
    java_class = "java.util.Optional"
    java_types = ("Optional",)

    def __init__(self, present: bool, value: Any = None) -> None:
        self.present = present
        self.value = value

    def java_string(self) -> str:
        return f"Optional[{jstr(self.value)}]" if self.present else "Optional.empty"

    def java_equals(self, other: Any) -> bool:
        return isinstance(other, Optional) and self.present == other.present and java_equals(self.value, other.value)


class Collector(JavaObject):
    """A Collectors.* result: what Stream.collect does with the elements."""

    java_class = "java.util.stream.Collectors$CollectorImpl"
    java_types = ("Collector",)

    def __init__(self, finish: Callable[[list[Any]], Any]) -> None:
        self.finish = finish


class Stream(JavaObject):
    """A java.util.stream.Stream, evaluated eagerly (the elements are a list): scripts use the
    pipeline shape filter/map/collect, for which eager and lazy give the same answers."""

    java_class = "java.util.stream.ReferencePipeline"
    java_types = ("Stream", "BaseStream")

    def __init__(self, items: list[Any], primitive: str | None = None) -> None:
        self.items = items
        self.primitive = primitive  # "int", "long", "double" for IntStream & co
        self.used = False

    def take(self) -> list[Any]:
        if self.used:
            raise PainlessRuntimeError("stream has already been operated upon or closed", "IllegalStateException")
        self.used = True
        return self.items


class Comparator(JavaObject):
    """A comparator made by Comparator.*/Collections.*: callable as (a, b) -> int."""

    java_class = "java.util.Comparator"
    java_types = ("Comparator",)

    def __init__(self, compare: Callable[[Any, Any], int]) -> None:
        self.compare = compare

    def __call__(self, a: Any, b: Any) -> int:
        return self.compare(a, b)


NATURAL = Comparator(java_compare)
REVERSE = Comparator(lambda a, b: java_compare(b, a))


def sort_key(comparator: Callable[[Any, Any], Any] | None) -> Any:
    """A sorted() key for a Java comparator (None: natural order); a comparator result that is
    not a number fails as Painless's cast to int would."""
    if comparator is None:
        return functools.cmp_to_key(java_compare)

    def cmp(a: Any, b: Any) -> int:
        result = comparator(a, b)
        if type(result) is not int and num_kind(result) is None:
            raise iae(f"comparator returned [{jstr(result)}], not an int")
        return int(num_value(result))

    return functools.cmp_to_key(cmp)


_JSON_SCALARS = frozenset({str, int, bool, float, type(None), JLong})


def to_plain(value: Any, seen: set[int] | None = None) -> Any:
    """The JSON value Elasticsearch would write for what a script left in the document: a
    char is a one-letter string, arrays, sets and views are lists, a float keeps Java's
    printed digits; anything XContent cannot write fails as it does. Maps and lists are
    fixed in place (the walk skips plain values without a call: it runs after every script)."""
    t = type(value)
    if t in _JSON_SCALARS:
        return value
    if isinstance(value, (dict, list)) and not isinstance(value, JArray):
        if seen is None:
            seen = set()
        key = id(value)
        if key in seen:
            raise iae("Iterable object is self-referencing itself (ingest script)")
        seen.add(key)
        scalars = _JSON_SCALARS
        if isinstance(value, dict):
            for k, v in value.items():
                if type(v) not in scalars:
                    plain = to_plain(v, seen)
                    if plain is not v:
                        value[k] = plain
        else:
            for i, v in enumerate(value):
                if type(v) not in scalars:
                    plain = to_plain(v, seen)
                    if plain is not v:
                        value[i] = plain
        seen.discard(key)
        return value
    if t is JFloat:
        from ..formats.convert import java_float32

        return java_float32(float(value))
    if t is JChar:
        return str(value)
    if isinstance(value, (JArray, JCollection)):
        return [to_plain(v, seen) for v in list(value)]
    if isinstance(value, StringBuilder):
        return value.text()
    from datetime import datetime

    if isinstance(value, datetime):
        from ..formats.convert import iso_timestamp

        return iso_timestamp(value)
    if isinstance(value, MapEntry):
        return {value.key: to_plain(value.value(), seen)}
    raise iae(f"cannot write xcontent for unknown value of type class {getattr(value, 'java_class', type(value).__name__)}")
