"""Java values as Painless holds them, and Java's semantics on them.

JSON values keep their Python types, read as Java reads them in Elasticsearch: str is String,
bool Boolean, int Integer when it fits 32 bits and Long otherwise, float Double, dict HashMap,
list ArrayList, None null. What only a script makes has a class of its own here: `JLong`
(a long computed or written `1L`, even a small one), `JFloat` (a float, its value rounded to
32 bits), `JChar` (a char), `JArray` (a Java array), `LinkedHashMap` / `TreeMap` (dicts that
iterate in insertion / key order), and the collection objects of `objects.py`.

Arithmetic follows Java: int and long wrap around, integer division truncates and throws
on zero, float results are rounded to 32 bits, `+` with a String concatenates Java's
rendering of the other side (`String.valueOf`: 1.0 is "1.0", 1e20 is "1.0E20").

A plain dict is a java.util.HashMap, and Java iterates a HashMap by bucket, not insertion:
`map_keys` gives the keys in that order (String.hashCode, spread, table size from the entry
count), which is what a script sees in `for (k : m.keySet())`, `m.toString()` or
`new ArrayList(m.values())`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from ..formats.convert import iso_timestamp, java_double_to_string, java_float32
from ..java.strings import utf16_units
from .errors import cce, java_cast_message, npe

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


# --- value classes ---------------------------------------------------------------------------


class JLong(int):
    """A Painless `long` (`1L`, or long arithmetic): equal to an int, but a Long for equals/instanceof."""

    __slots__ = ()
    # str() must stay the number: a Long leaving a script prints as one (String.valueOf).
    __str__ = int.__repr__

    def __repr__(self) -> str:
        return f"{int(self)}L"


class JFloat(float):
    """A Painless `float` (`1.5f`), its value rounded to 32 bits as Java stores it."""

    __slots__ = ()
    __str__ = float.__repr__

    def __repr__(self) -> str:
        return f"{float(self)!r}f"


class JChar(str):
    """A Java `char`: one UTF-16 code unit (`'abc'.charAt(0)`); a number for arithmetic."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"(char){str.__repr__(self)}"


class JArray(list):  # type: ignore[type-arg]
    """A Java array (`String[]` from splitOnToken, `new int[3]`): fixed length, a component type."""

    __slots__ = ("component",)

    def __init__(self, items: Iterable[Any] = (), component: str = "def") -> None:
        super().__init__(items)
        self.component = component


class LinkedHashMap(dict):  # type: ignore[type-arg]
    """java.util.LinkedHashMap: a HashMap that iterates in insertion order."""

    __slots__ = ()


class TreeMap(dict):  # type: ignore[type-arg]
    """java.util.TreeMap: iterates by key order (String.compareTo)."""

    __slots__ = ()


def f32(value: Any) -> float:
    """A number rounded to 32 bits as Java's (float) cast does (saturating to Infinity)."""
    try:
        return float(struct.unpack("f", struct.pack("f", to_double(value)))[0])
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_double(value: Any) -> float:
    # Java's doubleValue() saturates to Infinity; Python's float() raises past 1e308.
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def jfloat(value: Any) -> JFloat:
    return JFloat(f32(value))


def wrap_int(n: int) -> int:
    return ((n - INT_MIN) & 0xFFFFFFFF) + INT_MIN


def wrap_long(n: int) -> JLong:
    return JLong(((n - LONG_MIN) & 0xFFFFFFFFFFFFFFFF) + LONG_MIN)


def double_to_long(x: float, low: int = LONG_MIN, high: int = LONG_MAX) -> int:
    """Java's (long)/(int) of a double: NaN is 0, the range saturates, the rest truncates."""
    if x != x:
        return 0
    if x >= high:
        return high
    if x <= low:
        return low
    return int(x)


# --- Java classes of values ----------------------------------------------------------------------

# Number kinds for arithmetic and comparison; None when the value is not a number (nor a char).
INT, LONG, FLOAT, DOUBLE = 1, 2, 3, 4


def num_kind(v: Any) -> int | None:
    t = type(v)
    if t is int:
        return INT if INT_MIN <= v <= INT_MAX else LONG
    if t is float:
        return DOUBLE
    if t is JLong:
        return LONG
    if t is JFloat:
        return FLOAT
    if t is JChar:
        return INT
    return None


def is_number(v: Any) -> bool:
    t = type(v)
    return t is int or t is float or t is JLong or t is JFloat


def jclass(v: Any) -> str:
    """The Java class name of a value at run time (Object.getClass().getName())."""
    t = type(v)
    if t is str:
        return "java.lang.String"
    if t is dict:
        return "java.util.HashMap"
    if t is list:
        return "java.util.ArrayList"
    if t is bool:
        return "java.lang.Boolean"
    if t is int:
        return "java.lang.Integer" if INT_MIN <= v <= INT_MAX else "java.lang.Long"
    if t is float:
        return "java.lang.Double"
    name = _CLASS_NAMES.get(t)
    if name is not None:
        return name
    if isinstance(v, JArray):
        return f"[L{_TYPE_CLASSES.get(v.component, 'java.lang.Object')};"
    java = getattr(v, "java_class", None)
    if java is not None:
        return str(java)
    if isinstance(v, (datetime, date)):
        return "java.time.ZonedDateTime"
    if callable(v):
        return "$Lambda"
    return f"java.lang.Object ({t.__name__})"


_CLASS_NAMES: dict[type, str] = {
    JLong: "java.lang.Long",
    JFloat: "java.lang.Float",
    JChar: "java.lang.Character",
    LinkedHashMap: "java.util.LinkedHashMap",
    TreeMap: "java.util.TreeMap",
}

# Painless type names (as written in scripts) to Java class names.
_TYPE_CLASSES = {
    "def": "java.lang.Object",
    "Object": "java.lang.Object",
    "String": "java.lang.String",
    "CharSequence": "java.lang.CharSequence",
    "Boolean": "java.lang.Boolean",
    "Character": "java.lang.Character",
    "Integer": "java.lang.Integer",
    "Long": "java.lang.Long",
    "Float": "java.lang.Float",
    "Double": "java.lang.Double",
    "Number": "java.lang.Number",
    "Map": "java.util.Map",
    "HashMap": "java.util.HashMap",
    "LinkedHashMap": "java.util.LinkedHashMap",
    "TreeMap": "java.util.TreeMap",
    "List": "java.util.List",
    "ArrayList": "java.util.ArrayList",
    "Set": "java.util.Set",
    "HashSet": "java.util.HashSet",
    "Collection": "java.util.Collection",
    "Iterable": "java.lang.Iterable",
    "Map.Entry": "java.util.Map$Entry",
    "Iterator": "java.util.Iterator",
    "StringBuilder": "java.lang.StringBuilder",
    "Pattern": "java.util.regex.Pattern",
    "Matcher": "java.util.regex.Matcher",
}


def class_of_type(name: str) -> str:
    """java.lang.String for `String`; the primitive names stay as they are."""
    if name.endswith("[]"):
        return f"[L{class_of_type(name[:-2])};"
    return _TYPE_CLASSES.get(name, name)


def type_error_name(name: str) -> str:
    """How Painless names a type in a compile error: java.lang.String, int, def."""
    return "def" if name == "def" else class_of_type(name)


# --- equality ---------------------------------------------------------------------------------------


def _double_equals(a: float, b: float) -> bool:
    # Double.equals compares bits: NaN equals NaN, 0.0 does not equal -0.0.
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def java_equals(a: Any, b: Any) -> bool:  # noqa: PLR0911 - one answer per Java class
    """`Objects.equals(a, b)`: same Java class and value; Map, List and Set compare deeply."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and bool(a) == bool(b)
    ka, kb = num_kind(a), num_kind(b)
    if ka is not None or kb is not None:
        if ta is JChar or tb is JChar:
            return ta is tb and str.__eq__(a, b)
        if ka != kb:
            return False
        if ka in (DOUBLE, FLOAT):
            return _double_equals(float(a), float(b))
        return int(a) == int(b)
    if isinstance(a, str) and isinstance(b, str):
        return str.__eq__(a, b)
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or len(a) != len(b):
            return False
        return all(key in b and java_equals(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        if isinstance(a, JArray) or isinstance(b, JArray):
            return False  # arrays only equal themselves
        other = b if isinstance(b, list) else getattr(b, "as_list", lambda: None)()
        return other is not None and not isinstance(other, JArray) and len(a) == len(other) and all(
            java_equals(x, y) for x, y in zip(a, other, strict=False)
        )
    equals = getattr(a, "java_equals", None)
    if equals is not None:
        return bool(equals(b))
    return False


def num_eq(a: Any, b: Any) -> bool:
    """`==` of two numbers (or chars) after binary numeric promotion."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is int or ta is float):
        return bool(a == b)
    ka, kb = num_kind(a), num_kind(b)
    if ka == DOUBLE or kb == DOUBLE:
        return num_value(a) == num_value(b) if ka != LONG and kb != LONG else to_double(num_value(a)) == to_double(num_value(b))
    if ka == FLOAT or kb == FLOAT:
        return f32(num_value(a)) == f32(num_value(b))
    return int(num_value(a)) == int(num_value(b))


def num_value(v: Any) -> Any:
    """A number's value, a char's code."""
    if type(v) is JChar:
        return ord(v)
    return v


def def_eq(a: Any, b: Any) -> bool:
    """Painless `==` when a side is `def` (DefMath.eq): numbers and chars compare by promoted
    value, anything else by equals. A Boolean is never a Number, a Character never a String."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    ta, tb = type(a), type(b)
    if ta is str:
        return tb is str and a == b or isinstance(b, str) and tb is not JChar and str.__eq__(a, b)
    if ta is bool or tb is bool:
        return False  # `a is b` above already answered True == True and False == False
    if num_kind(a) is not None:
        return num_kind(b) is not None and num_eq(a, b)
    if num_kind(b) is not None:
        return False
    return java_equals(a, b)


def compare(a: Any, b: Any, op: Callable[[Any, Any], bool], symbol: str) -> bool:
    """`<`, `<=`, `>`, `>=` on def values: numbers (and chars) only, with numeric promotion."""
    if a is None or b is None:
        raise npe(f'Cannot invoke "Object.getClass()" because "{"leftObject" if a is None else "rightObject"}" is null')
    ka, kb = num_kind(a), num_kind(b)
    if ka is None or kb is None:
        raise cce(f"Cannot apply [{symbol}] operation to types [{jclass(a)}] and [{jclass(b)}].")
    a, b = num_value(a), num_value(b)
    if ka == DOUBLE or kb == DOUBLE:
        return op(to_double(a), to_double(b))
    if ka == FLOAT or kb == FLOAT:
        return op(f32(a), f32(b))
    return op(int(a), int(b))


def java_compare(a: Any, b: Any) -> int:
    """Comparable.compareTo for the values scripts sort: Strings (UTF-16 order), numbers, chars, booleans."""
    if a is None or b is None:
        raise npe('Cannot invoke "java.lang.Comparable.compareTo(Object)" because "c1" is null')
    if isinstance(a, str) and isinstance(b, str) and (type(a) is JChar) == (type(b) is JChar):
        return string_compare(a, b)
    ka, kb = num_kind(a), num_kind(b)
    if ka is not None and ka == kb and type(a) is not JChar or type(a) is JChar and type(b) is JChar:
        x, y = num_value(a), num_value(b)
        return int((x > y) - (x < y))
    if type(a) is bool and type(b) is bool:
        return (a > b) - (a < b)
    raise cce(java_cast_message(jclass(b), jclass(a)))


def string_compare(a: str, b: str) -> int:
    """String.compareTo: the difference of the first differing UTF-16 units, else of the lengths."""
    if a.isascii() and b.isascii() or a == b:
        for x, y in zip(a, b, strict=False):
            if x != y:
                return ord(x) - ord(y)
        return len(a) - len(b)
    ua, ub = utf16_units(a), utf16_units(b)
    for ux, uy in zip(ua, ub, strict=False):
        if ux != uy:
            return ux - uy
    return len(ua) - len(ub)


def java_hash(v: Any) -> int:  # noqa: PLR0911 - one rule per Java class
    """Object.hashCode of a value, as a signed 32-bit int."""
    if v is None:
        return 0
    t = type(v)
    if t is str or t is JChar:
        if t is JChar:
            return ord(v)
        h = 0
        for unit in (v.encode() if v.isascii() else utf16_units(v)):
            h = (31 * h + unit) & 0xFFFFFFFF
        return h - (1 << 32) if h & 0x80000000 else h
    if t is bool:
        return 1231 if v else 1237
    kind = num_kind(v)
    if kind == INT:
        return int(v)
    if kind == LONG:
        n = int(v) & 0xFFFFFFFFFFFFFFFF
        return wrap_int(n ^ (n >> 32))
    if kind == DOUBLE:
        x = float(v)
        if x != x:
            bits = 0x7FF8000000000000
        else:
            bits = struct.unpack(">Q", struct.pack(">d", x))[0]
        return wrap_int(bits ^ (bits >> 32))
    if kind == FLOAT:
        x = float(v)
        bits = 0x7FC00000 if x != x else struct.unpack(">I", struct.pack(">f", x))[0]
        return wrap_int(bits)
    if isinstance(v, Mapping):
        total = 0
        for key, value in v.items():
            total += java_hash(key) ^ java_hash(value)
        return wrap_int(total)
    if isinstance(v, list) and not isinstance(v, JArray):
        h = 1
        for item in v:
            h = wrap_int(31 * h + java_hash(item))
        return h
    own = getattr(v, "java_hash", None)
    if own is not None:
        return int(own())
    return wrap_int(id(v) >> 4)


def hash_order(items: list[Any], hash_of: Callable[[Any], int] = java_hash) -> list[Any]:
    """The order java.util.HashMap iterates keys added in this order: by bucket (the spread
    hash masked by the table size), then by insertion within a bucket. The table size is the
    one reached by adding the keys one by one (16, doubled past 3/4 full); a map that was
    larger and shrank keeps its larger table in Java, which this cannot know."""
    n = len(items)
    if n <= 1:
        return list(items)
    capacity = 16
    while n > capacity * 3 // 4:
        capacity *= 2
    mask = capacity - 1

    def bucket(index_item: tuple[int, Any]) -> tuple[int, int]:
        h = hash_of(index_item[1]) & 0xFFFFFFFF
        return ((h ^ (h >> 16)) & mask, index_item[0])

    return [item for _, item in sorted(enumerate(items), key=bucket)]


# The running script's ctx (set by Script.run): IngestCtxMap iterates the source's keys (a
# HashMap) and then the metadata's (a HashMap of its own), not one table of both.
CURRENT_CTX: list[Any] = [None]
CTX_METADATA = frozenset(
    {"_index", "_id", "_routing", "_version", "_version_type", "_if_seq_no", "_if_primary_term", "_dynamic_templates"}
)


def map_keys(m: Mapping[Any, Any]) -> list[Any]:
    """The keys of a map in the order Java iterates it (see hash_order)."""
    t = type(m)
    if t is LinkedHashMap:
        return list(m)
    if t is TreeMap:
        return sorted_keys(list(m))
    if m is CURRENT_CTX[0]:
        keys = list(m)
        return hash_order([k for k in keys if k not in CTX_METADATA]) + hash_order([k for k in keys if k in CTX_METADATA])
    own = getattr(m, "java_keys", None)
    if own is not None:
        return list(own())
    return hash_order(list(m))


def sorted_keys(keys: list[Any]) -> list[Any]:
    import functools

    return sorted(keys, key=functools.cmp_to_key(java_compare))


# --- String.valueOf ----------------------------------------------------------------------------------


def jstr(v: Any) -> str:  # noqa: PLR0911 - one rendering per Java class
    """`String.valueOf(v)`: what `+` with a String, toString() and String.join print."""
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]  # a str, by the test above
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int or t is JLong:
        return str(int(v))
    if t is float:
        return java_double_to_string(v)
    if t is JFloat:
        return java_double_to_string(java_float32(float(v)))
    if t is JChar:
        return str.__str__(v)
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_item(k, v, 'Map')}={_item(v[k], v, 'Map')}" for k in map_keys(v)) + "}"
    if isinstance(v, JArray):
        return f"{jclass(v)}@{java_hash(v) & 0xFFFFFFFF:x}"
    if isinstance(v, list):
        return "[" + ", ".join(_item(item, v, "Collection") for item in v) + "]"
    own = getattr(v, "java_string", None)
    if own is not None:
        return str(own())
    if isinstance(v, datetime):
        return iso_timestamp(v)
    if isinstance(v, str):
        return str.__str__(v)
    return f"{jclass(v)}@{java_hash(v) & 0xFFFFFFFF:x}"


def _item(item: Any, container: Any, kind: str) -> str:
    # AbstractMap / AbstractCollection.toString print a self-reference as "(this Map)".
    return f"(this {kind})" if item is container else jstr(item)


# --- casts ---------------------------------------------------------------------------------------------

NUMERIC_TYPES = ("byte", "short", "char", "int", "long", "float", "double")  # widening order
PRIMITIVES = frozenset(NUMERIC_TYPES) | {"boolean"}
BOXES = {
    "boolean": "Boolean", "byte": "Byte", "short": "Short", "char": "Character",
    "int": "Integer", "long": "Long", "float": "Float", "double": "Double",
}  # fmt: skip
UNBOXES = {box: prim for prim, box in BOXES.items()}


def to_int(v: Any) -> int:
    """(int) of a number or char."""
    kind = num_kind(v)
    if kind == INT:
        return ord(v) if type(v) is JChar else int(v)
    if kind == LONG:
        return wrap_int(int(v))
    return double_to_long(float(v), INT_MIN, INT_MAX)


def to_long(v: Any) -> JLong:
    kind = num_kind(v)
    if kind in (INT, LONG):
        return JLong(ord(v) if type(v) is JChar else int(v))
    return JLong(double_to_long(float(v)))


def to_char(v: Any) -> JChar:
    return JChar(chr(to_int(v) & 0xFFFF))


def convert_number(v: Any, to: str) -> Any:
    """A primitive numeric conversion (widening or, when explicit, narrowing) of a number or char."""
    if to == "int":
        return to_int(v)
    if to == "long":
        return to_long(v)
    if to == "double":
        return to_double(num_value(v))
    if to == "float":
        return jfloat(num_value(v))
    if to == "char":
        return to_char(v)
    if to == "short":
        return ((to_int(v) + 2**15) & 0xFFFF) - 2**15
    if to == "byte":
        return ((to_int(v) + 2**7) & 0xFF) - 2**7
    raise AssertionError(to)


# Which runtime kinds an implicit def-to-primitive cast accepts (Def.defTo*Implicit).
_IMPLICIT_FROM = {
    "int": {INT},
    "long": {INT, LONG},
    "float": {INT, LONG, FLOAT},
    "double": {INT, LONG, FLOAT, DOUBLE},
}


def def_to_primitive(v: Any, to: str, explicit: bool) -> Any:
    """A def value cast to a primitive: unboxing, widening, and (explicitly) narrowing."""
    if v is None:
        raise npe(f'Cannot invoke "java.lang.{"Boolean.booleanValue" if to == "boolean" else "Number." + to + "Value"}()" because "value" is null')
    if to == "boolean":
        if type(v) is bool:
            return v
        raise cce(java_cast_message(jclass(v), "java.lang.Boolean"))
    kind = num_kind(v)
    if kind is None:
        raise cce(java_cast_message(jclass(v), "java.lang.Number" if explicit else f"java.lang.{BOXES[to]}"))
    if to == "char":
        if type(v) is JChar:
            return v
        if not explicit:
            raise cce(java_cast_message(jclass(v), "java.lang.Character"))
        return to_char(v)
    if not explicit:
        allowed = _IMPLICIT_FROM.get(to, ())
        if kind not in allowed:
            raise cce(java_cast_message(jclass(v), f"java.lang.{BOXES[to]}"))
    return convert_number(v, to)


def is_instance(v: Any, type_name: str) -> bool:  # noqa: C901, PLR0911 - one answer per type
    """`v instanceof T` for the types scripts test."""
    if v is None:
        return False
    if type_name in ("def", "Object"):
        return True
    t = type(v)
    if type_name == "String":
        return isinstance(v, str) and t is not JChar
    if type_name == "CharSequence":
        return isinstance(v, str) and t is not JChar or getattr(v, "java_class", "") == "java.lang.StringBuilder"
    if type_name == "Character":
        return t is JChar
    if type_name == "Boolean":
        return t is bool
    if type_name in ("Number", "Comparable"):
        if type_name == "Comparable" and (isinstance(v, str) or t is bool):
            return True
        return is_number(v)
    kind = num_kind(v) if t is not JChar else None
    if type_name == "Integer":
        return kind == INT
    if type_name == "Long":
        return kind == LONG
    if type_name == "Double":
        return kind == DOUBLE
    if type_name == "Float":
        return kind == FLOAT
    if type_name in ("Short", "Byte"):
        return False  # JSON never yields these; a script cannot make them either
    if type_name.endswith("[]"):
        return isinstance(v, JArray) and (v.component == type_name[:-2] or type_name == "Object[]" or type_name == "def[]")
    if type_name == "Map":
        return isinstance(v, Mapping)
    if type_name == "HashMap":
        return isinstance(v, dict) and t is not TreeMap
    if type_name == "LinkedHashMap":
        return t is LinkedHashMap
    if type_name == "TreeMap":
        return t is TreeMap
    if type_name in ("List", "ArrayList"):
        return isinstance(v, list) and not isinstance(v, JArray) or type_name == "List" and getattr(v, "is_list", False)
    kinds = getattr(v, "java_types", ())
    if type_name in kinds:
        return True
    if type_name in ("Collection", "Iterable"):
        return isinstance(v, list) and not isinstance(v, JArray) or "Collection" in kinds
    return False
