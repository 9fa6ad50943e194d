"""The Painless API this engine implements: instance methods per Java class, getters and
setters derived from them, static methods and fields, and constructors.

Only what is listed here can be called; the compiler refuses any other method name, type
or constructor at compile time. Each entry is (implementation, return type, parameter
types), from Painless's whitelist (modules/lang-painless/src/main/resources/org/
elasticsearch/painless/spi/java.lang.txt, java.util.txt, java.util.regex.txt,
java.util.stream.txt, java.util.function.txt and the Augmentation class): Painless
overloads by arity only, so a name and an argument count name one method. Arguments are
converted to the parameter types as Painless casts them (def arguments at run time).
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..java.strings import java_trim, py_index, utf16_char_at, utf16_index, utf16_len, utf16_slice
from .errors import PainlessRuntimeError, cce, iae, ioobe, java_cast_message, npe, unsupported_op
from .objects import (
    Collector,
    Comparator,
    EntrySet,
    HashSet,
    JavaObject,
    JCollection,
    JIterator,
    KeySet,
    MapEntry,
    Optional,
    Stream,
    StringBuilder,
    Values,
    list_iterator,
    sort_key,
)
from .regex import Matcher, Pattern, replace_with
from .values import (
    JArray,
    JChar,
    JFloat,
    JLong,
    LinkedHashMap,
    TreeMap,
    def_to_primitive,
    is_instance,
    java_equals,
    java_hash,
    jclass,
    jfloat,
    jstr,
    map_keys,
    num_kind,
    num_value,
    string_compare,
    to_double,
    wrap_int,
)

Method = tuple[Callable[..., Any], str, tuple[str, ...]]
Table = dict[tuple[str, int], Method]


# --- argument conversion ---------------------------------------------------------------------------

FUNCTIONAL = frozenset(
    {"Function", "Predicate", "Consumer", "BiConsumer", "BiFunction", "BiPredicate", "UnaryOperator", "Supplier",
     "ToDoubleFunction", "ToIntFunction", "ToLongFunction", "ObjIntConsumer", "BinaryOperator"}
)  # fmt: skip


def convert_arg(v: Any, ptype: str) -> Any:  # noqa: PLR0911 - one rule per parameter type
    """A def argument cast to a parameter type, as Painless casts def at a call."""
    if ptype == "def" or ptype == "Object":
        return v
    if ptype == "String":
        if type(v) is str or v is None:
            return v
        if isinstance(v, str) and type(v) is not JChar:
            return v
        raise cce(java_cast_message(jclass(v), "java.lang.String"))
    if ptype == "CharSequence":
        if v is None or isinstance(v, str) and type(v) is not JChar:
            return v
        if isinstance(v, StringBuilder):
            return v.text()
        raise cce(java_cast_message(jclass(v), "java.lang.CharSequence"))
    if ptype in ("int", "long", "double", "float", "boolean", "char"):
        return def_to_primitive(v, ptype, explicit=False)
    if ptype in FUNCTIONAL or ptype == "Comparator":
        if v is None or callable(v):
            return v
        raise cce(java_cast_message(jclass(v), f"java.util.function.{ptype}"))
    if v is None or is_instance(v, ptype):
        return v
    raise cce(java_cast_message(jclass(v), _JAVA_NAMES.get(ptype, ptype)))


_JAVA_NAMES = {
    "Map": "java.util.Map",
    "List": "java.util.List",
    "Collection": "java.util.Collection",
    "Iterable": "java.lang.Iterable",
    "Pattern": "java.util.regex.Pattern",
    "Collector": "java.util.stream.Collector",
}


def need_arg(v: Any, what: str = "value", message: str | None = None) -> Any:
    """The argument, or the NullPointerException Java throws for a null one (the JDK's
    helpful message when the method is one scripts use, else a generic one)."""
    if v is None:
        raise npe(message or f'Cannot invoke "Object.{what}()" because the argument is null')
    return v


def null_arg_message(invocation: str, name: str) -> str:
    return f'Cannot invoke "{invocation}" because "{name}" is null'


def truthy(v: Any) -> bool:
    """A lambda's result used as a Predicate's boolean."""
    if v is True or v is False:
        return v
    if v is None:
        raise npe('Cannot invoke "java.lang.Boolean.booleanValue()" because the result is null')
    raise cce(java_cast_message(jclass(v), "java.lang.Boolean"))


# --- mutability ----------------------------------------------------------------------------------------


class FrozenList(list):  # type: ignore[type-arg]
    """An unmodifiable List (Collections.emptyList, singletonList, unmodifiableList)."""

    java_class = "java.util.Collections$UnmodifiableRandomAccessList"


class FixedList(list):  # type: ignore[type-arg]
    """Arrays.asList: set works, changing the size does not."""

    java_class = "java.util.Arrays$ArrayList"


class FrozenMap(dict):  # type: ignore[type-arg]
    java_class = "java.util.Collections$UnmodifiableMap"


def _resizable(v: Any) -> None:
    if type(v) is not list and type(v) is not dict and type(v) not in (LinkedHashMap, TreeMap):
        raise unsupported_op()


def check_settable(v: Any) -> None:
    if type(v) is FrozenList or type(v) is FrozenMap:
        raise unsupported_op()


# --- Object ----------------------------------------------------------------------------------------------

OBJECT: Table = {
    ("equals", 1): (java_equals, "boolean", ("Object",)),
    ("hashCode", 0): (java_hash, "int", ()),
    ("toString", 0): (jstr, "String", ()),
}


def _table(entries: Table, *bases: Table) -> Table:
    merged: Table = {}
    for base in (OBJECT, *bases):
        merged.update(base)
    merged.update(entries)
    return merged


# --- String ------------------------------------------------------------------------------------------------

_NULL_PREFIX = 'Cannot invoke "String.length()" because "prefix" is null'
_NULL_OTHER = 'Cannot read field "value" because "anotherString" is null'


def _str_index(s: str, i: int) -> JChar:
    n = utf16_len(s)
    if i < 0 or i >= n:
        raise PainlessRuntimeError(f"Index {i} out of bounds for length {n}", "StringIndexOutOfBoundsException")
    return JChar(utf16_char_at(s, i))


def _substring(s: str, begin: int, end: int | None = None) -> str:
    n = utf16_len(s)
    stop = n if end is None else end
    if begin < 0 or stop > n or begin > stop:
        raise PainlessRuntimeError(f"Range [{begin}, {stop}) out of bounds for length {n}", "StringIndexOutOfBoundsException")
    return utf16_slice(s, begin, stop)


def _index_of(s: str, x: str, start: int = 0) -> int:
    need_arg(x, message=null_arg_message("String.coder()", "str"))
    found = s.find(x, py_index(s, max(start, 0)))
    return utf16_index(s, found) if found > 0 else found


def _last_index_of(s: str, x: str, start: int | None = None) -> int:
    need_arg(x, message=null_arg_message("String.coder()", "str"))
    if start is None:
        found = s.rfind(x)
    elif start < 0:
        return -1
    else:
        found = s.rfind(x, 0, py_index(s, start) + len(x))
    return utf16_index(s, found) if found > 0 else found


def simple_case(c: str, upper: bool) -> str:
    # Character.toUpperCase/toLowerCase map one char to one char; Python's may expand (ß -> SS).
    mapped = c.upper() if upper else c.lower()
    return mapped if len(mapped) == 1 else c


def equals_ignore_case(a: str, b: str | None) -> bool:
    if b is None:
        return False
    if a == b:
        return True
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        ux, uy = simple_case(x, True), simple_case(y, True)
        if ux != uy and simple_case(ux, False) != simple_case(uy, False):
            return False
    return True


def _compare_ignore_case(a: str, b: str) -> int:
    fold = [simple_case(simple_case(c, True), False) for c in a], [simple_case(simple_case(c, True), False) for c in b]
    return string_compare("".join(fold[0]), "".join(fold[1]))


def _starts_with_at(s: str, x: str, i: int) -> bool:
    need_arg(x, message=_NULL_PREFIX)
    return 0 <= i <= utf16_len(s) and utf16_slice(s, i).startswith(x)


def split_on_token(s: str, token: str, limit: int = -1) -> JArray:
    """The splitOnToken augmentation: split on a literal token, keeping empty parts; a positive
    limit caps the number of parts (the last one keeps the rest)."""
    if s is None or s == "" or token is None or token == "":
        return JArray([s], "String")
    parts: list[str] = []
    position = 0
    while limit != 1:
        found = s.find(token, position)
        if found < 0:
            break
        parts.append(s[position:found])
        position = found + len(token)
        limit -= 1
    parts.append(s[position:])
    return JArray(parts, "String")


def _replace(s: str, target: str, replacement: str) -> str:
    need_arg(target, message=null_arg_message("java.lang.CharSequence.toString()", "target"))
    need_arg(replacement, message=null_arg_message("java.lang.CharSequence.toString()", "replacement"))
    return s.replace(target, replacement)


def _concat(s: str, other: str) -> str:
    return s + str(need_arg(other, message=null_arg_message("String.isEmpty()", "str")))


def _decode_base64(s: str) -> str:
    try:
        return base64.b64decode(s.encode("latin-1") if s.isascii() else s.encode(), validate=True).decode("utf-8", "replace")
    except (ValueError, UnicodeEncodeError) as error:
        raise iae(f"Illegal base64 character: {error}") from None


STRING: Table = _table(
    {
        ("length", 0): (utf16_len, "int", ()),
        ("isEmpty", 0): (lambda s: len(s) == 0, "boolean", ()),
        ("charAt", 1): (_str_index, "char", ("int",)),
        ("substring", 1): (_substring, "String", ("int",)),
        ("substring", 2): (_substring, "String", ("int", "int")),
        ("indexOf", 1): (_index_of, "int", ("String",)),
        ("indexOf", 2): (_index_of, "int", ("String", "int")),
        ("lastIndexOf", 1): (_last_index_of, "int", ("String",)),
        ("lastIndexOf", 2): (_last_index_of, "int", ("String", "int")),
        ("contains", 1): (lambda s, x: need_arg(x, message=null_arg_message("java.lang.CharSequence.toString()", "s")) in s, "boolean", ("CharSequence",)),
        ("startsWith", 1): (lambda s, x: s.startswith(need_arg(x, message=_NULL_PREFIX)), "boolean", ("String",)),
        ("startsWith", 2): (_starts_with_at, "boolean", ("String", "int")),
        ("endsWith", 1): (lambda s, x: s.endswith(need_arg(x, message=null_arg_message("String.length()", "suffix"))), "boolean", ("String",)),
        ("equalsIgnoreCase", 1): (equals_ignore_case, "boolean", ("String",)),
        ("compareTo", 1): (lambda s, x: string_compare(s, need_arg(x, message=_NULL_OTHER)), "int", ("String",)),
        ("compareToIgnoreCase", 1): (lambda s, x: _compare_ignore_case(s, need_arg(x)), "int", ("String",)),
        ("concat", 1): (_concat, "String", ("String",)),
        ("replace", 2): (_replace, "String", ("CharSequence", "CharSequence")),
        ("toLowerCase", 0): (lambda s: s.lower(), "String", ()),
        ("toUpperCase", 0): (lambda s: s.upper(), "String", ()),
        ("trim", 0): (java_trim, "String", ()),
        ("splitOnToken", 1): (split_on_token, "String[]", ("String",)),
        ("splitOnToken", 2): (split_on_token, "String[]", ("String", "int")),
        ("toCharArray", 0): (lambda s: JArray([JChar(utf16_char_at(s, i)) for i in range(utf16_len(s))], "char"), "char[]", ()),
        ("encodeBase64", 0): (lambda s: base64.b64encode(s.encode()).decode(), "String", ()),
        ("decodeBase64", 0): (_decode_base64, "String", ()),
        ("replaceAll", 2): (lambda s, p, fn: replace_with(need_arg(p), s, fn), "String", ("Pattern", "Function")),
        ("replaceFirst", 2): (lambda s, p, fn: replace_with(need_arg(p), s, fn, 1), "String", ("Pattern", "Function")),
        ("sha1", 0): (lambda s: hashlib.sha1(s.encode()).hexdigest(), "String", ()),  # noqa: S324 - Painless's sha1()
        ("sha256", 0): (lambda s: hashlib.sha256(s.encode()).hexdigest(), "String", ()),
    }
)
# Methods of the ingest script context only (org.elasticsearch.script.ingest.txt).
SCRIPT_ONLY = frozenset({("sha1", 0), ("sha256", 0)})


# --- numbers, booleans, chars --------------------------------------------------------------------------


def number_compare(a: Any, b: Any) -> int:
    if b is None:
        raise npe('Cannot invoke "Number.compareTo()" because the argument is null')
    if num_kind(a) != num_kind(b) or type(b) is JChar:
        raise cce(java_cast_message(jclass(b), jclass(a)))
    x, y = float(a) if isinstance(a, float) else int(a), float(b) if isinstance(b, float) else int(b)
    if isinstance(x, float) and (x != x or y != y):
        return 0 if x != x and y != y else (1 if x != x else -1)
    return (x > y) - (x < y)


NUMBER: Table = _table(
    {
        ("intValue", 0): (lambda v: def_to_primitive(v, "int", True), "int", ()),
        ("longValue", 0): (lambda v: def_to_primitive(v, "long", True), "long", ()),
        ("doubleValue", 0): (lambda v: to_double(v), "double", ()),
        ("floatValue", 0): (lambda v: jfloat(v), "float", ()),
        ("compareTo", 1): (number_compare, "int", ("def",)),
        ("isNaN", 0): (lambda v: isinstance(v, float) and v != v, "boolean", ()),
        ("isInfinite", 0): (lambda v: isinstance(v, float) and math.isinf(v), "boolean", ()),
    }
)
BOOLEAN: Table = _table(
    {
        ("booleanValue", 0): (lambda v: v, "boolean", ()),
        ("compareTo", 1): (lambda a, b: (a > need_arg(b)) - (a < b), "int", ("Boolean",)),
    }
)
CHAR: Table = _table(
    {
        ("charValue", 0): (lambda v: v, "char", ()),
        ("compareTo", 1): (lambda a, b: ord(a) - ord(need_arg(b)), "int", ("def",)),
    }
)


# --- collections -----------------------------------------------------------------------------------------


def elements(v: Any) -> list[Any]:
    """The elements of a Collection/Iterable argument, in Java's iteration order."""
    if v is None:
        raise npe('Cannot invoke "java.util.Collection.toArray()" because "c" is null')
    if isinstance(v, list):
        return list(v)
    if isinstance(v, JCollection):
        return v.items()
    if isinstance(v, Mapping):
        raise cce(java_cast_message(jclass(v), "java.util.Collection"))
    raise cce(java_cast_message(jclass(v), "java.util.Collection"))


def collection_contains(c: Any, x: Any) -> bool:
    if isinstance(c, JCollection):
        return c.contains(x)
    if type(x) is str:
        return x in c  # str == non-str is False in Python as in Java, so `in` is exact here
    return any(java_equals(x, e) for e in c)


def _list_get(v: list[Any], i: int) -> Any:
    if 0 <= i < len(v):
        return v[i]
    raise ioobe(i, len(v))


def _list_set(v: list[Any], i: int, x: Any) -> Any:
    check_settable(v)
    if 0 <= i < len(v):
        old = v[i]
        v[i] = x
        return old
    raise ioobe(i, len(v))


def _list_add(v: list[Any], x: Any) -> bool:
    _resizable(v)
    v.append(x)
    return True


def _list_insert(v: list[Any], i: int, x: Any) -> None:
    _resizable(v)
    if not 0 <= i <= len(v):
        raise PainlessRuntimeError(f"Index: {i}, Size: {len(v)}", "IndexOutOfBoundsException")
    v.insert(i, x)


def _list_add_all(v: list[Any], c: Any) -> bool:
    _resizable(v)
    items = elements(c)
    v.extend(items)
    return bool(items)


def _list_add_all_at(v: list[Any], i: int, c: Any) -> bool:
    _resizable(v)
    if not 0 <= i <= len(v):
        raise ioobe(i, len(v))
    items = elements(c)
    v[i:i] = items
    return bool(items)


def _list_remove_at(v: list[Any], i: int) -> Any:
    _resizable(v)
    if 0 <= i < len(v):
        return v.pop(i)
    raise ioobe(i, len(v))


def _remove_if(c: Any, predicate: Callable[[Any], Any]) -> bool:
    need_arg(predicate, "removeIf")
    if isinstance(c, JCollection):
        return c.remove_if(lambda x: truthy(predicate(x)))
    keep = []
    removed = False
    for item in c:
        if truthy(predicate(item)):
            removed = True
        else:
            keep.append(item)
    if removed:
        _resizable(c)
        c[:] = keep
    return removed


def _remove_all(c: Any, other: Any) -> bool:
    others = elements(other)
    return _remove_if(c, lambda x: any(java_equals(x, o) for o in others))


def _retain_all(c: Any, other: Any) -> bool:
    others = elements(other)
    return _remove_if(c, lambda x: not any(java_equals(x, o) for o in others))


def _index_in(v: list[Any], x: Any) -> int:
    for i, e in enumerate(v):
        if java_equals(x, e):
            return i
    return -1


def _last_index_in(v: list[Any], x: Any) -> int:
    for i in range(len(v) - 1, -1, -1):
        if java_equals(x, v[i]):
            return i
    return -1


def _replace_all_list(v: list[Any], fn: Callable[[Any], Any]) -> None:
    check_settable(v)
    for i, item in enumerate(v):
        v[i] = need_arg(fn, "replaceAll")(item)


def sort_list(v: list[Any], comparator: Any) -> None:
    check_settable(v)
    v.sort(key=sort_key(comparator))


def _for_each(c: Any, fn: Callable[[Any], Any]) -> None:
    need_arg(fn, "forEach")
    for item in list(c) if not isinstance(c, JCollection) else c.items():
        fn(item)


def _iterator(c: Any) -> JIterator:
    if isinstance(c, list):
        if type(c) is list:
            return list_iterator(c)
        return JIterator(list(c), None)
    if isinstance(c, JCollection):
        return JIterator(c.items(), c.remove_item)
    raise iae(f"dynamic method [{jclass(c)}, iterator/0] not found")


def _join(c: Any, sep: str) -> str:
    return str(need_arg(sep)).join(jstr(x) for x in elements(c))


def _sum(c: Any, fn: Any = None) -> float:
    total = 0.0
    for x in elements(c):
        total += to_double(num_value(fn(x) if fn is not None else x))
    return total


def _group_by(c: Any, fn: Callable[[Any], Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for x in elements(c):
        out.setdefault(fn(x), []).append(x)
    return out


def _each_with_index(c: Any, fn: Callable[[Any, Any], Any]) -> Any:
    for i, x in enumerate(elements(c)):
        fn(x, i)
    return c


def _find(c: Any, predicate: Callable[[Any], Any]) -> Any:
    for x in elements(c):
        if truthy(predicate(x)):
            return x
    return None


def _find_result(c: Any, *args: Any) -> Any:
    default, fn = (None, args[0]) if len(args) == 1 else args
    for x in elements(c):
        result = fn(x)
        if result is not None:
            return result
    return default


def _split_by(c: Any, predicate: Callable[[Any], Any]) -> list[Any]:
    yes: list[Any] = []
    no: list[Any] = []
    for x in elements(c):
        (yes if truthy(predicate(x)) else no).append(x)
    return [yes, no]


def _get_by_path(root: Any, path: str, *default: Any) -> Any:
    """The getByPath augmentation: a dotted path through maps and (by number) lists."""
    current = root
    for element in need_arg(path).split("."):
        if isinstance(current, Mapping):
            if element not in current:
                if default:
                    return default[0]
                raise iae(f"Map at path [{path}] does not contain key [{element}]")
            current = current[element]
        elif isinstance(current, list):
            try:
                index = int(element)
            except ValueError:
                if default:
                    return default[0]
                raise iae(f"Could not parse [{element}] as a int index into list at path [{path}]") from None
            if not 0 <= index < len(current):
                if default:
                    return default[0]
                raise iae(f"Index [{index}] out of bounds for list at path [{path}]")
            current = current[index]
        else:
            if default:
                return default[0]
            raise iae(f"Non-container [{jclass(current)}] at path [{path}]")
    return current


class SubList(JCollection):
    """List.subList: a read view here; changing the list through it is not supported."""

    java_class = "java.util.ArrayList$SubList"
    java_types: tuple[str, ...] = ("List", "Collection", "Iterable")
    is_list = True

    def __init__(self, backing: list[Any], start: int, end: int) -> None:
        self.backing = backing
        self.start = start
        self.end = end

    def items(self) -> list[Any]:
        return self.backing[self.start : self.end]

    def remove_item(self, item: Any) -> None:
        raise unsupported_op("changing a list through subList is not supported by the offline engine")


def _sub_list(v: list[Any], start: int, end: int) -> SubList:
    if start < 0 or end > len(v) or start > end:
        raise PainlessRuntimeError(f"fromIndex: {start}, toIndex: {end}, size: {len(v)}", "IndexOutOfBoundsException")
    return SubList(v, start, end)


def _stream(c: Any) -> Stream:
    return Stream(elements(c))


def _to_array(c: Any, *_: Any) -> JArray:
    return JArray(elements(c), "def")


def _each(c: Any, fn: Callable[[Any], Any]) -> Any:
    _for_each(c, fn)
    return c


ITERABLE: Table = {
    ("forEach", 1): (_for_each, "void", ("Consumer",)),
    ("iterator", 0): (_iterator, "Iterator", ()),
    ("any", 1): (lambda c, p: any(truthy(p(x)) for x in elements(c)), "boolean", ("Predicate",)),
    ("every", 1): (lambda c, p: all(truthy(p(x)) for x in elements(c)), "boolean", ("Predicate",)),
    ("each", 1): (_each, "def", ("Consumer",)),
    ("eachWithIndex", 1): (_each_with_index, "def", ("ObjIntConsumer",)),
    ("findResults", 1): (lambda c, fn: [r for r in (fn(x) for x in elements(c)) if r is not None], "List", ("Function",)),
    ("groupBy", 1): (_group_by, "Map", ("Function",)),
    ("join", 1): (_join, "String", ("String",)),
    ("sum", 0): (_sum, "double", ()),
    ("sum", 1): (_sum, "double", ("ToDoubleFunction",)),
    ("asList", 0): (lambda c: c if isinstance(c, list) else list(elements(c)), "List", ()),
    ("asCollection", 0): (lambda c: c, "Collection", ()),
}
COLLECTION: Table = _table(
    {
        ("size", 0): (len, "int", ()),
        ("isEmpty", 0): (lambda c: len(c) == 0, "boolean", ()),
        ("contains", 1): (collection_contains, "boolean", ("def",)),
        ("containsAll", 1): (lambda c, o: all(collection_contains(c, x) for x in elements(o)), "boolean", ("Collection",)),
        ("removeIf", 1): (_remove_if, "boolean", ("Predicate",)),
        ("removeAll", 1): (_remove_all, "boolean", ("Collection",)),
        ("retainAll", 1): (_retain_all, "boolean", ("Collection",)),
        ("stream", 0): (_stream, "Stream", ()),
        ("toArray", 0): (_to_array, "def[]", ()),
        ("toArray", 1): (_to_array, "def[]", ("def",)),
        ("collect", 1): (lambda c, fn: [fn(x) for x in elements(c)], "List", ("Function",)),
        ("find", 1): (_find, "def", ("Predicate",)),
        ("findAll", 1): (lambda c, p: [x for x in elements(c) if truthy(p(x))], "List", ("Predicate",)),
        ("findResult", 1): (_find_result, "def", ("Function",)),
        ("findResult", 2): (_find_result, "def", ("def", "Function")),
        ("split", 1): (_split_by, "List", ("Predicate",)),
    },
    ITERABLE,
)


def _list_clear(v: list[Any]) -> None:
    _resizable(v)
    v.clear()


LIST: Table = _table(
    {
        ("add", 1): (_list_add, "boolean", ("def",)),
        ("add", 2): (_list_insert, "void", ("int", "def")),
        ("addAll", 1): (_list_add_all, "boolean", ("Collection",)),
        ("addAll", 2): (_list_add_all_at, "boolean", ("int", "Collection")),
        ("clear", 0): (_list_clear, "void", ()),
        ("get", 1): (_list_get, "def", ("int",)),
        ("set", 2): (_list_set, "def", ("int", "def")),
        ("remove", 1): (_list_remove_at, "def", ("int",)),
        ("indexOf", 1): (_index_in, "int", ("def",)),
        ("lastIndexOf", 1): (_last_index_in, "int", ("def",)),
        ("replaceAll", 1): (_replace_all_list, "void", ("UnaryOperator",)),
        ("sort", 1): (sort_list, "void", ("Comparator",)),
        ("subList", 2): (_sub_list, "List", ("int", "int")),
        ("getLength", 0): (len, "int", ()),
        ("getByPath", 1): (_get_by_path, "Object", ("String",)),
        ("getByPath", 2): (_get_by_path, "Object", ("String", "Object")),
        ("clone", 0): (lambda v: list(v), "def", ()),
    },
    COLLECTION,
)


def _set_add(s: Any, x: Any) -> bool:
    if not isinstance(s, HashSet):
        raise unsupported_op()
    return s.add(x)


def _set_add_all(s: Any, c: Any) -> bool:
    changed = False
    for x in elements(c):
        changed = _set_add(s, x) or changed
    return changed


def _set_clear(s: Any) -> None:
    if isinstance(s, HashSet):
        s.clear()
    else:
        s.backing.clear()


SET: Table = _table(
    {
        ("add", 1): (_set_add, "boolean", ("def",)),
        ("addAll", 1): (_set_add_all, "boolean", ("Collection",)),
        ("remove", 1): (lambda s, x: s.remove(x), "boolean", ("def",)),
        ("clear", 0): (_set_clear, "void", ()),
        ("clone", 0): (lambda s: HashSet(s.items()), "def", ()),
    },
    COLLECTION,
)
VALUES: Table = _table({("clear", 0): (_set_clear, "void", ())}, COLLECTION)


# --- Map ------------------------------------------------------------------------------------------------


def _map_get(m: Mapping[Any, Any], key: Any) -> Any:
    return m.get(key) if _hashable(key) else None


def _hashable(key: Any) -> bool:
    return type(key) is str or not isinstance(key, (dict, list, JCollection))


def _map_put(m: dict[Any, Any], key: Any, value: Any) -> Any:
    check_settable(m)
    if not _hashable(key):
        raise unsupported_op("a Map or List as a map key is not supported by the offline engine")
    old = m.get(key)
    m[key] = value
    return old


def _map_remove(m: dict[Any, Any], key: Any) -> Any:
    check_settable(m)
    return m.pop(key, None) if _hashable(key) else None


def _map_remove_pair(m: dict[Any, Any], key: Any, value: Any) -> bool:
    check_settable(m)
    if _hashable(key) and key in m and java_equals(m[key], value):
        del m[key]
        return True
    return False


def _put_all(m: dict[Any, Any], other: Mapping[Any, Any]) -> None:
    check_settable(m)
    for key in map_keys(need_arg(other, "putAll")):
        m[key] = other[key]


def _put_if_absent(m: dict[Any, Any], key: Any, value: Any) -> Any:
    current = m.get(key)
    if current is None:
        _map_put(m, key, value)
    return current


def _compute(m: dict[Any, Any], key: Any, fn: Callable[[Any, Any], Any]) -> Any:
    value = fn(key, m.get(key))
    if value is None:
        m.pop(key, None)
    else:
        _map_put(m, key, value)
    return value


def _compute_if_absent(m: dict[Any, Any], key: Any, fn: Callable[[Any], Any]) -> Any:
    current = m.get(key)
    if current is not None:
        return current
    value = fn(key)
    if value is not None:
        _map_put(m, key, value)
    return value


def _compute_if_present(m: dict[Any, Any], key: Any, fn: Callable[[Any, Any], Any]) -> Any:
    current = m.get(key)
    if current is None:
        return None
    value = fn(key, current)
    if value is None:
        m.pop(key, None)
    else:
        m[key] = value
    return value


def _merge(m: dict[Any, Any], key: Any, value: Any, fn: Callable[[Any, Any], Any]) -> Any:
    need_arg(value, "merge")
    current = m.get(key)
    new = value if current is None else fn(current, value)
    if new is None:
        m.pop(key, None)
    else:
        _map_put(m, key, new)
    return new


def _replace_key(m: dict[Any, Any], key: Any, value: Any) -> Any:
    if key in m:
        return _map_put(m, key, value)
    return None


def _replace_if(m: dict[Any, Any], key: Any, old: Any, value: Any) -> bool:
    if key in m and java_equals(m[key], old):
        _map_put(m, key, value)
        return True
    return False


def _replace_all_map(m: dict[Any, Any], fn: Callable[[Any, Any], Any]) -> None:
    check_settable(m)
    for key in map_keys(m):
        m[key] = fn(key, m[key])


def _map_for_each(m: Mapping[Any, Any], fn: Callable[[Any, Any], Any]) -> None:
    for key in map_keys(m):
        if key in m:
            fn(key, m[key])


def _map_each(m: Mapping[Any, Any], fn: Callable[[Any, Any], Any]) -> Any:
    _map_for_each(m, fn)
    return m


def _map_clear(m: dict[Any, Any]) -> None:
    check_settable(m)
    m.clear()


def _map_clone(m: dict[Any, Any]) -> dict[Any, Any]:
    return type(m)(m) if type(m) in (dict, LinkedHashMap, TreeMap) else dict(m)


def _map_find(m: Mapping[Any, Any], predicate: Callable[[Any, Any], Any]) -> Any:
    for key in map_keys(m):
        if truthy(predicate(key, m[key])):
            return MapEntry(m, key)  # type: ignore[arg-type]
    return None


def _map_find_result(m: Mapping[Any, Any], *args: Any) -> Any:
    default, fn = (None, args[0]) if len(args) == 1 else args
    for key in map_keys(m):
        result = fn(key, m[key])
        if result is not None:
            return result
    return default


def _map_group_by(m: Mapping[Any, Any], fn: Callable[[Any, Any], Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key in map_keys(m):
        out.setdefault(fn(key, m[key]), {})[key] = m[key]
    return out


MAP: Table = _table(
    {
        ("get", 1): (_map_get, "def", ("def",)),
        ("getOrDefault", 2): (lambda m, k, d: m.get(k, d) if _hashable(k) else d, "def", ("def", "def")),
        ("put", 2): (_map_put, "def", ("def", "def")),
        ("putAll", 1): (_put_all, "void", ("Map",)),
        ("putIfAbsent", 2): (_put_if_absent, "def", ("def", "def")),
        ("remove", 1): (_map_remove, "def", ("def",)),
        ("remove", 2): (_map_remove_pair, "boolean", ("def", "def")),
        ("containsKey", 1): (lambda m, k: _hashable(k) and k in m and (type(k) is str or any(java_equals(k, x) for x in m)), "boolean", ("def",)),
        ("containsValue", 1): (lambda m, x: any(java_equals(x, v) for v in m.values()), "boolean", ("def",)),
        ("keySet", 0): (KeySet, "Set", ()),
        ("values", 0): (Values, "Collection", ()),
        ("entrySet", 0): (EntrySet, "Set", ()),
        ("size", 0): (len, "int", ()),
        ("isEmpty", 0): (lambda m: len(m) == 0, "boolean", ()),
        ("clear", 0): (_map_clear, "void", ()),
        ("forEach", 1): (_map_for_each, "void", ("BiConsumer",)),
        ("compute", 2): (_compute, "def", ("def", "BiFunction")),
        ("computeIfAbsent", 2): (_compute_if_absent, "def", ("def", "Function")),
        ("computeIfPresent", 2): (_compute_if_present, "def", ("def", "BiFunction")),
        ("merge", 3): (_merge, "def", ("def", "def", "BiFunction")),
        ("replace", 2): (_replace_key, "def", ("def", "def")),
        ("replace", 3): (_replace_if, "boolean", ("def", "def", "def")),
        ("replaceAll", 1): (_replace_all_map, "void", ("BiFunction",)),
        ("getByPath", 1): (_get_by_path, "Object", ("String",)),
        ("getByPath", 2): (_get_by_path, "Object", ("String", "Object")),
        ("clone", 0): (_map_clone, "def", ()),
        ("collect", 1): (lambda m, fn: [fn(k, m[k]) for k in map_keys(m)], "List", ("BiFunction",)),
        ("count", 1): (lambda m, p: sum(1 for k in map_keys(m) if truthy(p(k, m[k]))), "int", ("BiPredicate",)),
        ("each", 1): (_map_each, "def", ("BiConsumer",)),
        ("every", 1): (lambda m, p: all(truthy(p(k, m[k])) for k in map_keys(m)), "boolean", ("BiPredicate",)),
        ("find", 1): (_map_find, "Map.Entry", ("BiPredicate",)),
        ("findAll", 1): (lambda m, p: {k: m[k] for k in map_keys(m) if truthy(p(k, m[k]))}, "Map", ("BiPredicate",)),
        ("findResult", 1): (_map_find_result, "def", ("BiFunction",)),
        ("findResult", 2): (_map_find_result, "def", ("def", "BiFunction")),
        ("findResults", 1): (lambda m, fn: [r for r in (fn(k, m[k]) for k in map_keys(m)) if r is not None], "List", ("BiFunction",)),
        ("groupBy", 1): (_map_group_by, "Map", ("BiFunction",)),
    }
)

ENTRY: Table = _table(
    {
        ("getKey", 0): (lambda e: e.key, "def", ()),
        ("getValue", 0): (lambda e: e.value(), "def", ()),
        ("setValue", 1): (lambda e, v: e.set_value(v), "def", ("def",)),
    }
)


def _next(it: JIterator) -> Any:
    try:
        return it.next()
    except PainlessRuntimeError:
        raise PainlessRuntimeError(None, "NoSuchElementException") from None


ITERATOR: Table = _table(
    {
        ("hasNext", 0): (lambda it: it.has_next(), "boolean", ()),
        ("next", 0): (_next, "def", ()),
        ("remove", 0): (lambda it: it.remove(), "void", ()),
        ("forEachRemaining", 1): (lambda it, fn: [fn(it.next()) for _ in iter(it.has_next, False)] and None, "void", ("Consumer",)),
    }
)


# --- StringBuilder --------------------------------------------------------------------------------------


def _sb_insert(sb: StringBuilder, i: int, value: Any) -> StringBuilder:
    text = sb.text()
    if not 0 <= i <= utf16_len(text):
        raise PainlessRuntimeError(f"offset {i}, length {utf16_len(text)}", "StringIndexOutOfBoundsException")
    sb.set_text(utf16_slice(text, 0, i) + jstr(value) + utf16_slice(text, i))
    return sb


def _sb_delete(sb: StringBuilder, start: int, end: int) -> StringBuilder:
    text = sb.text()
    n = utf16_len(text)
    end = min(end, n)
    if start < 0 or start > end:
        raise PainlessRuntimeError(f"start {start}, end {end}, length {n}", "StringIndexOutOfBoundsException")
    sb.set_text(utf16_slice(text, 0, start) + utf16_slice(text, end))
    return sb


def _sb_set_length(sb: StringBuilder, n: int) -> None:
    text = sb.text()
    length = utf16_len(text)
    sb.set_text(utf16_slice(text, 0, n) if n <= length else text + "\0" * (n - length))


def _sb_replace(sb: StringBuilder, start: int, end: int, value: str) -> StringBuilder:
    text = sb.text()
    end = min(end, utf16_len(text))
    sb.set_text(utf16_slice(text, 0, start) + need_arg(value) + utf16_slice(text, end))
    return sb


def _sb_set_char(sb: StringBuilder, i: int, c: Any) -> None:
    text = sb.text()
    _str_index(text, i)
    sb.set_text(utf16_slice(text, 0, i) + str(c) + utf16_slice(text, i + 1))


STRING_BUILDER: Table = _table(
    {
        ("append", 1): (lambda sb, v: sb.append(v), "StringBuilder", ("def",)),
        ("length", 0): (lambda sb: utf16_len(sb.text()), "int", ()),
        ("charAt", 1): (lambda sb, i: _str_index(sb.text(), i), "char", ("int",)),
        ("insert", 2): (_sb_insert, "StringBuilder", ("int", "def")),
        ("delete", 2): (_sb_delete, "StringBuilder", ("int", "int")),
        ("deleteCharAt", 1): (lambda sb, i: (_str_index(sb.text(), i), _sb_delete(sb, i, i + 1))[1], "StringBuilder", ("int",)),
        ("replace", 3): (_sb_replace, "StringBuilder", ("int", "int", "String")),
        ("reverse", 0): (lambda sb: (sb.set_text(sb.text()[::-1]), sb)[1], "StringBuilder", ()),
        ("setLength", 1): (_sb_set_length, "void", ("int",)),
        ("setCharAt", 2): (_sb_set_char, "void", ("int", "char")),
        ("indexOf", 1): (lambda sb, x: _index_of(sb.text(), x), "int", ("String",)),
        ("lastIndexOf", 1): (lambda sb, x: _last_index_of(sb.text(), x), "int", ("String",)),
        ("substring", 1): (lambda sb, b: _substring(sb.text(), b), "String", ("int",)),
        ("substring", 2): (lambda sb, b, e: _substring(sb.text(), b, e), "String", ("int", "int")),
        ("toString", 0): (lambda sb: sb.text(), "String", ()),
        ("equals", 1): (lambda sb, o: sb is o, "boolean", ("Object",)),
    }
)


# --- regex ------------------------------------------------------------------------------------------------

PATTERN: Table = _table(
    {
        ("matcher", 1): (lambda p, s: Matcher(p, need_arg(s, "matcher")), "Matcher", ("CharSequence",)),
        ("split", 1): (lambda p, s: p.split(need_arg(s, "split")), "String[]", ("CharSequence",)),
        ("split", 2): (lambda p, s, n: p.split(need_arg(s, "split"), n), "String[]", ("CharSequence", "int")),
        ("splitAsStream", 1): (lambda p, s: Stream(list(p.split(need_arg(s, "split")))), "Stream", ("CharSequence",)),
        ("pattern", 0): (lambda p: p.source, "String", ()),
        ("flags", 0): (lambda p: p.flag_bits(), "int", ()),
        ("asPredicate", 0): (lambda p: lambda s: p.regex.search(s) is not None, "Predicate", ()),
    }
)


def _group(m: Matcher, index: int = 0) -> str | None:
    return m.group(index)


MATCHER: Table = _table(
    {
        ("matches", 0): (lambda m: m.matches(), "boolean", ()),
        ("find", 0): (lambda m: m.find(), "boolean", ()),
        ("find", 1): (lambda m, i: m.find(i), "boolean", ("int",)),
        ("lookingAt", 0): (lambda m: m.looking_at(), "boolean", ()),
        ("group", 0): (_group, "String", ()),
        ("group", 1): (_group, "String", ("int",)),
        ("namedGroup", 1): (lambda m, name: m.named_group(need_arg(name)), "String", ("String",)),
        ("groupCount", 0): (lambda m: m.group_count(), "int", ()),
        ("start", 0): (lambda m: m.start(), "int", ()),
        ("start", 1): (lambda m, i: m.start(i), "int", ("int",)),
        ("end", 0): (lambda m: m.end(), "int", ()),
        ("end", 1): (lambda m, i: m.end(i), "int", ("int",)),
        ("replaceAll", 1): (lambda m, r: m.replace_all(need_arg(r)), "String", ("String",)),
        ("replaceFirst", 1): (lambda m, r: m.replace_first(need_arg(r)), "String", ("String",)),
        ("reset", 0): (lambda m: m.reset(), "Matcher", ()),
        ("pattern", 0): (lambda m: m.pattern, "Pattern", ()),
    }
)


# --- streams ------------------------------------------------------------------------------------------


def _distinct(items: list[Any]) -> list[Any]:
    seen = HashSet()
    out = []
    for x in items:
        if seen.add(x):
            out.append(x)
    return out


def _primitive(stream: Stream, fn: Callable[[Any], Any], kind: str) -> Stream:
    return Stream([def_to_primitive(fn(x), kind, False) for x in stream.take()], kind)


def _stream_sum(s: Stream) -> Any:
    items = s.take()
    if s.primitive == "double":
        return math.fsum(to_double(x) for x in items)
    total = sum(int(x) for x in items)
    return wrap_int(total) if s.primitive == "int" else JLong(total)


def _stream_reduce(s: Stream, identity: Any, fn: Callable[[Any, Any], Any]) -> Any:
    result = identity
    for x in s.take():
        result = fn(result, x)
    return result


def _extreme(s: Stream, comparator: Any, largest: bool) -> Optional:
    items = s.take()
    if not items:
        return Optional(False)
    key = sort_key(comparator)
    best = items[0]
    for x in items[1:]:
        if (key(x) > key(best)) if largest else (key(x) < key(best)):
            best = x
    return Optional(True, best)


def _first(s: Stream) -> Optional:
    items = s.take()
    if not items:
        return Optional(False)
    if items[0] is None:
        raise npe("findFirst found a null element")
    return Optional(True, items[0])


def _collect(s: Stream, collector: Any) -> Any:
    if not isinstance(collector, Collector):
        raise cce(java_cast_message(jclass(collector), "java.util.stream.Collector"))
    return collector.finish(s.take())


STREAM: Table = _table(
    {
        ("filter", 1): (lambda s, p: Stream([x for x in s.take() if truthy(p(x))], s.primitive), "Stream", ("Predicate",)),
        ("map", 1): (lambda s, fn: Stream([fn(x) for x in s.take()], s.primitive), "Stream", ("Function",)),
        ("mapToInt", 1): (lambda s, fn: _primitive(s, fn, "int"), "Stream", ("ToIntFunction",)),
        ("mapToLong", 1): (lambda s, fn: _primitive(s, fn, "long"), "Stream", ("ToLongFunction",)),
        ("mapToDouble", 1): (lambda s, fn: _primitive(s, fn, "double"), "Stream", ("ToDoubleFunction",)),
        ("mapToObj", 1): (lambda s, fn: Stream([fn(x) for x in s.take()]), "Stream", ("Function",)),
        ("boxed", 0): (lambda s: Stream(s.take()), "Stream", ()),
        ("flatMap", 1): (lambda s, fn: Stream([y for x in s.take() for y in need_arg(fn(x)).take()]), "Stream", ("Function",)),
        ("collect", 1): (_collect, "def", ("Collector",)),
        ("count", 0): (lambda s: JLong(len(s.take())), "long", ()),
        ("sum", 0): (_stream_sum, "def", ()),
        ("anyMatch", 1): (lambda s, p: any(truthy(p(x)) for x in s.take()), "boolean", ("Predicate",)),
        ("allMatch", 1): (lambda s, p: all(truthy(p(x)) for x in s.take()), "boolean", ("Predicate",)),
        ("noneMatch", 1): (lambda s, p: not any(truthy(p(x)) for x in s.take()), "boolean", ("Predicate",)),
        ("findFirst", 0): (_first, "Optional", ()),
        ("findAny", 0): (_first, "Optional", ()),
        ("forEach", 1): (lambda s, fn: [fn(x) for x in s.take()] and None, "void", ("Consumer",)),
        ("sorted", 0): (lambda s: Stream(sorted(s.take(), key=sort_key(None)), s.primitive), "Stream", ()),
        ("sorted", 1): (lambda s, c: Stream(sorted(s.take(), key=sort_key(c)), s.primitive), "Stream", ("Comparator",)),
        ("distinct", 0): (lambda s: Stream(_distinct(s.take()), s.primitive), "Stream", ()),
        ("limit", 1): (lambda s, n: Stream(s.take()[: max(0, n)], s.primitive), "Stream", ("long",)),
        ("skip", 1): (lambda s, n: Stream(s.take()[max(0, n) :], s.primitive), "Stream", ("long",)),
        ("toArray", 0): (lambda s: JArray(s.take(), s.primitive or "def"), "def[]", ()),
        ("reduce", 2): (_stream_reduce, "def", ("def", "BinaryOperator")),
        ("min", 1): (lambda s, c: _extreme(s, c, False), "Optional", ("Comparator",)),
        ("max", 1): (lambda s, c: _extreme(s, c, True), "Optional", ("Comparator",)),
        ("iterator", 0): (lambda s: JIterator(s.take(), None), "Iterator", ()),
    }
)


def _optional_get(o: Optional) -> Any:
    if not o.present:
        raise PainlessRuntimeError("No value present", "NoSuchElementException")
    return o.value


OPTIONAL: Table = _table(
    {
        ("isPresent", 0): (lambda o: o.present, "boolean", ()),
        ("isEmpty", 0): (lambda o: not o.present, "boolean", ()),
        ("get", 0): (_optional_get, "def", ()),
        ("orElse", 1): (lambda o, d: o.value if o.present else d, "def", ("def",)),
        ("orElseGet", 1): (lambda o, fn: o.value if o.present else fn(), "def", ("Supplier",)),
        ("ifPresent", 1): (lambda o, fn: fn(o.value) if o.present else None, "void", ("Consumer",)),
        ("map", 1): (lambda o, fn: Optional(*((True, fn(o.value)) if o.present else (False,))), "Optional", ("Function",)),
    }
)


def _then(c: Callable[[Any, Any], Any], other: Any) -> Comparator:
    def both(a: Any, b: Any) -> int:
        first = int(num_value(c(a, b)))
        return first if first != 0 else int(num_value(other(a, b)))

    return Comparator(both)


COMPARATOR: Table = _table(
    {
        ("compare", 2): (lambda c, a, b: int(num_value(c(a, b))), "int", ("def", "def")),
        ("reversed", 0): (lambda c: Comparator(lambda a, b: int(num_value(c(b, a)))), "Comparator", ()),
        ("thenComparing", 1): (_then, "Comparator", ("Comparator",)),
    }
)


class CIDR(JavaObject):
    """org.elasticsearch.painless.api.CIDR (org.elasticsearch.net.txt): an address range from
    `a.b.c.d/n` (or one address); contains() is false for null or "", an IllegalArgumentException
    for text that is not an IP address."""

    java_class = "org.elasticsearch.painless.api.CIDR"
    java_types = ("CIDR",)

    def __init__(self, cidr: str) -> None:
        import ipaddress

        need_arg(cidr, message=null_arg_message("String.contains(java.lang.CharSequence)", "cidr"))
        try:
            self.network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise iae(f"Expected [ip/prefix] but was [{cidr}]" if "/" in cidr else f"'{cidr}' is not an IP string literal.") from None

    def contains(self, address: str | None) -> bool:
        import ipaddress

        if address is None or address == "":
            return False
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise iae(f"'{address}' is not an IP string literal.") from None
        return parsed.version == self.network.version and parsed in self.network


CIDR_METHODS: Table = _table({("contains", 1): (lambda c, a: c.contains(a), "boolean", ("String",))})


class StringTokenizer(JavaObject):
    """java.util.StringTokenizer: tokens between delimiter characters (and, if asked, the
    delimiters themselves as tokens)."""

    java_class = "java.util.StringTokenizer"
    java_types = ("StringTokenizer",)

    def __init__(self, text: str, delimiters: str = " \t\n\r\f", return_delimiters: bool = False) -> None:
        self.text: str = need_arg(text, message=null_arg_message("String.length()", "str"))
        self.delimiters = delimiters
        self.return_delimiters = return_delimiters
        self.position = 0

    def _skip(self, position: int) -> int:
        if not self.return_delimiters:
            while position < len(self.text) and self.text[position] in (self.delimiters or ""):
                position += 1
        return position

    def has_more(self) -> bool:
        return self._skip(self.position) < len(self.text)

    def next_token(self, delimiters: str | None = None) -> str:
        if delimiters is not None:
            self.delimiters = delimiters
        start = self._skip(self.position)
        if start >= len(self.text):
            raise PainlessRuntimeError(None, "NoSuchElementException")
        end = start
        delims = self.delimiters or ""
        if self.return_delimiters and self.text[start] in delims:
            end = start + 1
        else:
            while end < len(self.text) and self.text[end] not in delims:
                end += 1
        self.position = end
        return self.text[start:end]

    def count(self) -> int:
        saved = self.position
        n = 0
        try:
            while self.has_more():
                self.next_token()
                n += 1
        finally:
            self.position = saved
        return n


TOKENIZER_METHODS: Table = _table(
    {
        ("hasMoreTokens", 0): (lambda t: t.has_more(), "boolean", ()),
        ("hasMoreElements", 0): (lambda t: t.has_more(), "boolean", ()),
        ("nextToken", 0): (lambda t: t.next_token(), "String", ()),
        ("nextToken", 1): (lambda t, d: t.next_token(need_arg(d)), "String", ("String",)),
        ("nextElement", 0): (lambda t: t.next_token(), "def", ()),
        ("countTokens", 0): (lambda t: t.count(), "int", ()),
    }
)


class CaughtException(JavaObject):
    """An exception a `catch` clause holds."""

    java_types = ("Exception",)

    def __init__(self, java_exception: str, message: str | None) -> None:
        self.java_class = _EXCEPTION_PACKAGES.get(java_exception, "java.lang.") + java_exception
        self.message = message
        self.java_exception = java_exception

    def java_string(self) -> str:
        return self.java_class + (f": {self.message}" if self.message is not None else "")


EXCEPTION: Table = _table(
    {
        ("getMessage", 0): (lambda e: e.message, "String", ()),
        ("getLocalizedMessage", 0): (lambda e: e.message, "String", ()),
    }
)

# Exceptions a script can name in catch, instanceof or `new`, with what each extends.
EXCEPTION_PARENTS = {
    "Exception": None,
    "RuntimeException": "Exception",
    "IllegalArgumentException": "RuntimeException",
    "IllegalStateException": "RuntimeException",
    "NullPointerException": "RuntimeException",
    "ClassCastException": "RuntimeException",
    "ArithmeticException": "RuntimeException",
    "UnsupportedOperationException": "RuntimeException",
    "NumberFormatException": "IllegalArgumentException",
    "IndexOutOfBoundsException": "RuntimeException",
    "ArrayIndexOutOfBoundsException": "IndexOutOfBoundsException",
    "StringIndexOutOfBoundsException": "IndexOutOfBoundsException",
    "NoSuchElementException": "RuntimeException",
    "ConcurrentModificationException": "RuntimeException",
    "NegativeArraySizeException": "RuntimeException",
}
_EXCEPTION_PACKAGES = {"NoSuchElementException": "java.util.", "ConcurrentModificationException": "java.util."}


def exception_is(java_exception: str, catch_type: str) -> bool:
    name: str | None = java_exception
    while name is not None:
        if name == catch_type:
            return True
        name = EXCEPTION_PARENTS.get(name, "RuntimeException" if name not in ("Exception", "RuntimeException") else None)
    return False


# --- dispatch by runtime class -------------------------------------------------------------------------

BY_TYPE: dict[type, Table] = {
    str: STRING,
    dict: MAP,
    LinkedHashMap: MAP,
    TreeMap: MAP,
    FrozenMap: MAP,
    list: LIST,
    FrozenList: LIST,
    FixedList: LIST,
    bool: BOOLEAN,
    int: NUMBER,
    float: NUMBER,
    JLong: NUMBER,
    JFloat: NUMBER,
    JChar: CHAR,
    JArray: OBJECT,
    HashSet: SET,
    KeySet: SET,
    EntrySet: SET,
    Values: VALUES,
    SubList: _table({("get", 1): (lambda s, i: _list_get(s.items(), i), "def", ("int",))}, COLLECTION),
    MapEntry: ENTRY,
    JIterator: ITERATOR,
    StringBuilder: STRING_BUILDER,
    Pattern: PATTERN,
    Matcher: MATCHER,
    Stream: STREAM,
    Optional: OPTIONAL,
    Comparator: COMPARATOR,
    CaughtException: EXCEPTION,
    CIDR: CIDR_METHODS,
    StringTokenizer: TOKENIZER_METHODS,
}

# Static types to the methods they have (for compile-time checks of typed receivers).
BY_STATIC_TYPE: dict[str, Table] = {
    "String": STRING,
    "CharSequence": STRING,
    "Map": MAP, "HashMap": MAP, "LinkedHashMap": MAP, "TreeMap": MAP,
    "List": LIST, "ArrayList": LIST,
    "Set": SET, "HashSet": SET,
    "Collection": COLLECTION, "Iterable": ITERABLE | OBJECT,
    "Map.Entry": ENTRY,
    "Iterator": ITERATOR,
    "StringBuilder": STRING_BUILDER,
    "Pattern": PATTERN, "Matcher": MATCHER,
    "Stream": STREAM, "Optional": OPTIONAL, "Comparator": COMPARATOR,
    "Integer": NUMBER, "Long": NUMBER, "Double": NUMBER, "Float": NUMBER, "Number": NUMBER,
    "Boolean": BOOLEAN, "Character": CHAR,
    "Object": OBJECT,
    "CIDR": CIDR_METHODS,
    "StringTokenizer": TOKENIZER_METHODS,
}  # fmt: skip
for _name in EXCEPTION_PARENTS:
    BY_STATIC_TYPE[_name] = EXCEPTION

ALL_METHOD_NAMES: frozenset[tuple[str, int]] = frozenset(key for table in BY_TYPE.values() for key in table)


def table_of(v: Any) -> Table | None:
    table = BY_TYPE.get(type(v))
    if table is not None:
        return table
    if v is None:
        return None
    for cls, candidate in BY_TYPE.items():
        if isinstance(v, cls):
            return candidate
    own = getattr(v, "painless_methods", None)
    if own is not None:
        return own  # type: ignore[no-any-return]
    return OBJECT


def invoke(v: Any, name: str, args: list[Any]) -> Any:
    """A method call on a def receiver: dispatch on the runtime class, cast the arguments."""
    table = BY_TYPE.get(type(v)) or table_of(v)
    if table is None:
        raise npe(f"cannot access method/field [{name}] from a null def reference")
    method = table.get((name, len(args)))
    if method is None:
        raise iae(f"dynamic method [{jclass(v)}, {name}/{len(args)}] not found")
    impl, _, params = method
    if params:
        args = [convert_arg(a, p) for a, p in zip(args, params, strict=True)]
    return impl(v, *args)


# --- getters and setters -------------------------------------------------------------------------------


def getter_name(name: str) -> tuple[str, str]:
    return "get" + name[:1].upper() + name[1:], "is" + name[:1].upper() + name[1:]


def get_field(v: Any, name: str) -> Any:  # noqa: PLR0911 - one rule per receiver
    """`v.name` on a def (Def.lookupGetter): a whitelisted getter wins, then the Map or List
    shortcut (map.get(name), list.get(number))."""
    t = type(v)
    if t is dict:
        return len(v) == 0 if name == "empty" else v.get(name)
    if v is None:
        raise npe(f"cannot access method/field [{name}] from a null def reference")
    if isinstance(v, JArray):
        if name == "length":
            return len(v)
        raise iae(f"dynamic getter [{jclass(v)}, {name}] not found")
    table = table_of(v) or OBJECT
    get, is_ = getter_name(name)
    method = table.get((get, 0)) or table.get((is_, 0))
    if method is not None:
        return method[0](v)
    if isinstance(v, Mapping):
        return v.get(name)
    if isinstance(v, list):
        if name.isdigit():
            return _list_get(v, int(name))
        raise iae(f"illegal list shortcut value [{name}]")
    if isinstance(v, float) and name in ("naN", "infinite"):
        return math.isnan(v) if name == "naN" else math.isinf(v)
    raise iae(f"dynamic getter [{jclass(v)}, {name}] not found")


def set_field(v: Any, name: str, value: Any) -> None:
    """`v.name = value` on a def (Def.lookupSetter): a setter, then the Map or List shortcut."""
    if v is None:
        raise npe(f"cannot access method/field [{name}] from a null def reference")
    t = type(v)
    if t is dict:
        v[name] = value
        return
    table = table_of(v) or OBJECT
    method = table.get(("set" + name[:1].upper() + name[1:], 1))
    if method is not None:
        impl, _, params = method
        impl(v, convert_arg(value, params[0]))
        return
    if isinstance(v, dict):
        _map_put(v, name, value)
        return
    if isinstance(v, list) and not isinstance(v, JArray):
        if name.isdigit():
            _list_set(v, int(name), value)
            return
        raise iae(f"illegal list shortcut value [{name}]")
    raise iae(f"dynamic setter [{jclass(v)}, {name}] not found")


def index_get(v: Any, key: Any) -> Any:
    """`v[key]` on a def: map get, list or array element (a negative index counts from the end)."""
    t = type(v)
    if t is dict:
        return v.get(key) if _hashable(key) else None
    if v is None:
        raise npe("cannot access method/field [[]] from a null def reference")
    if isinstance(v, Mapping):
        return v.get(key) if _hashable(key) else None
    if isinstance(v, list):
        i = def_to_primitive(key, "int", False) if key is not None else None
        if i is None:
            raise npe("null index")
        n = len(v)
        j = i + n if i < 0 else i
        if 0 <= j < n:
            return v[j]
        raise ioobe(i, n, "Array" if isinstance(v, JArray) else "Index")
    raise iae(f"Attempting to address a non-array-like type [{jclass(v)}] as an array.")


def index_set(v: Any, key: Any, value: Any) -> None:
    if v is None:
        raise npe("cannot access method/field [put] from a null def reference")
    if isinstance(v, dict):
        _map_put(v, key, value)
        return
    if isinstance(v, list):
        i = def_to_primitive(key, "int", False)
        n = len(v)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise ioobe(i, n, "Array" if isinstance(v, JArray) else "Index")
        if isinstance(v, JArray):
            v[j] = array_element(value, v.component)
        else:
            check_settable(v)
            v[j] = value
        return
    raise iae(f"Attempting to address a non-array-like type [{jclass(v)}] as an array.")


def array_element(value: Any, component: str) -> Any:
    """A value stored into an array of a component type (ArrayStoreException / casts)."""
    if component in ("int", "long", "double", "float", "boolean", "char"):
        return def_to_primitive(value, component, False)
    if component in ("def", "Object") or value is None or is_instance(value, component):
        return value
    raise PainlessRuntimeError(jclass(value), "ArrayStoreException")
