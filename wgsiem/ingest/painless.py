"""The Painless subset of ingest processor `if` conditions, compiled to Python closures.

Elasticsearch runs `if` as a Painless script in the `processor_conditional` context: `ctx`
is the document as a read-only `Map`, the value of the last expression is cast to
`boolean`. Real pipelines (elastic/integrations and the like) use a small part of the
language: field access with `?.`, `==`/`!=` against literals, `&&`/`||`/`!`, numeric
comparisons, `instanceof` and a handful of String/List/Map methods. This module accepts
exactly that part and refuses everything else with a `PainlessCompileError` that names the
construct and its position: a pipeline that uses more is reported, never run wrongly.

Evaluation follows Painless, not Python: values read from `ctx` are `def`, so `==` is
`equals` with numeric promotion (Integer 1 == Long 1 == Double 1.0) and a Boolean is never
a Number; `&&`, `||`, `!` and the result need real booleans; `.x` on null throws unless
written `?.x`, and `?.` guards only its own link (`ctx.a?.b.c` still throws when `a` is
missing, as Painless's generated code does). Failures raise `PainlessRuntimeError` where
Painless would throw.

The source is tokenized, parsed by recursive descent (precedence climbing for binary
operators, with Painless's precedence table) and turned directly into nested closures: a
condition runs once per document, so each node is one small Python function with the
common cases (dict lookups, str/None comparisons) on its fast path.

Java types of JSON values: str is String, bool Boolean, int Integer when it fits 32 bits
and Long otherwise, float Double, dict Map, list List. Literals keep their Painless type:
`1L` is a `JLong`, `1.5f` a `JFloat` (rounded to 32 bits), so `[1].contains(1L)` is false
as in Java.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import struct
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from ..errors import WgsiemError

__all__ = ["JFloat", "JLong", "PainlessCompileError", "PainlessRuntimeError", "compile_condition"]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


# --- errors ------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    # One character for one character, so positions in messages still point at the source.
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


class PainlessCompileError(WgsiemError):
    """An expression outside the supported subset or malformed."""

    def __init__(self, message: str, source: str, position: int, expected: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.position = position
        self.expected = expected


class PainlessRuntimeError(WgsiemError):
    """Evaluation failed the way Painless would throw (null pointer, class cast, index out of bounds).

    `java_exception` is the simple name of the exception Painless throws there
    (NullPointerException, ClassCastException, IndexOutOfBoundsException,
    IllegalArgumentException); `where` is the part of the condition that failed.
    """

    def __init__(self, message: str, java_exception: str, where: str) -> None:
        super().__init__(f"{message} (at [{where}])")
        self.java_exception = java_exception
        self.where = where


def _npe(message: str, where: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "NullPointerException", where)


def _cce(message: str, where: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "ClassCastException", where)


def _iae(message: str, where: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(message, "IllegalArgumentException", where)


def _ioobe(index: int, size: int, where: str) -> PainlessRuntimeError:
    return PainlessRuntimeError(f"index {index} out of bounds for length {size}", "IndexOutOfBoundsException", where)


# --- Java values -------------------------------------------------------------------------


class JLong(int):
    """A Painless `long` literal (`1L`): equal to an int, but a Long for equals/instanceof."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}L"


class JFloat(float):
    """A Painless `float` literal (`1.5f`), its value rounded to 32 bits as Java stores it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{float(self)!r}f"


def _double(value: Any) -> float:
    # Java's doubleValue() saturates to Infinity; Python's float() raises past 1e308.
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _f32(value: Any) -> float:
    try:
        return struct.unpack("f", struct.pack("f", _double(value)))[0]
    except OverflowError:  # past Float.MAX_VALUE: Java's floatValue() saturates too
        return math.inf if value > 0 else -math.inf


def _is_number(v: Any) -> bool:
    t = type(v)
    if t is int or t is float or t is JLong or t is JFloat:
        return True
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _java_type(v: Any) -> str:
    """The Java class a value has inside Painless (for messages and instanceof)."""
    if v is None:
        return "null"
    if isinstance(v, str):
        return "java.lang.String"
    if isinstance(v, bool):
        return "java.lang.Boolean"
    if isinstance(v, JLong):
        return "java.lang.Long"
    if isinstance(v, int):
        if _INT_MIN <= v <= _INT_MAX:
            return "java.lang.Integer"
        return "java.lang.Long" if _LONG_MIN <= v <= _LONG_MAX else "java.math.BigInteger"
    if isinstance(v, JFloat):
        return "java.lang.Float"
    if isinstance(v, float):
        return "java.lang.Double"
    if isinstance(v, Mapping):
        return "java.util.Map"
    if isinstance(v, (list, tuple)):
        return "java.util.List"
    if isinstance(v, (datetime, date)):
        return "java.time.ZonedDateTime"
    return f"java.lang.Object ({type(v).__name__})"


# Receiver kinds for method and getter dispatch.
_STR, _MAP, _LIST, _NULL, _BOOL, _NUM, _OTHER = range(7)


def _kind(v: Any) -> int:
    t = type(v)
    if t is str:
        return _STR
    if t is dict:
        return _MAP
    if t is list:
        return _LIST
    if v is None:
        return _NULL
    if t is bool:
        return _BOOL
    if t is int or t is float or t is JLong or t is JFloat:
        return _NUM
    if isinstance(v, str):
        return _STR
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, Mapping):
        return _MAP
    if isinstance(v, (list, tuple)):
        return _LIST
    if isinstance(v, (int, float)):
        return _NUM
    return _OTHER


def _double_equals(a: float, b: float) -> bool:
    # Double.equals compares bits: NaN equals NaN, 0.0 does not equal -0.0.
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def _java_equals(a: Any, b: Any) -> bool:  # noqa: PLR0911 - one answer per Java class
    """`a.equals(b)` (null-safe): same Java class and value; Map and List compare deeply with equals."""
    if a is None or b is None:
        return a is b
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka == _STR:
        return a == b
    if ka == _BOOL:
        return a is b or bool(a) == bool(b)
    if ka == _NUM:
        ta, tb = _java_type(a), _java_type(b)
        if ta != tb:
            return False
        if ta in ("java.lang.Double", "java.lang.Float"):
            return _double_equals(a, b)
        return a == b
    if ka == _MAP:
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b:
                return False
            if not _java_equals(value, b[key]):
                return False
        return True
    if ka == _LIST:
        return len(a) == len(b) and all(_java_equals(x, y) for x, y in zip(a, b, strict=False))
    return a == b


def _num_eq(a: Any, b: Any) -> bool:
    # Binary numeric promotion: the wider of the two types decides how they compare.
    ta, tb = type(a), type(b)
    if ta is tb and (ta is int or ta is float):
        return a == b
    if isinstance(a, float) and not isinstance(a, JFloat) or isinstance(b, float) and not isinstance(b, JFloat):
        return _double(a) == _double(b)
    if isinstance(a, JFloat) or isinstance(b, JFloat):
        return _f32(a) == _f32(b)
    return int(a) == int(b)


def _def_eq(a: Any, b: Any) -> bool:
    """Painless `==` when either side is `def`: numbers compare by promoted value, all else by equals.

    A Boolean against a number is false, never a numeric comparison. (Painless's first
    evaluation at a call site can throw ClassCastException for that pair instead; every
    later one answers false, and false is what this returns.)
    """
    if a is b:
        return True
    if a is None or b is None:
        return False
    ta, tb = type(a), type(b)
    if ta is str or tb is str:
        return ta is tb and a == b or isinstance(a, str) and isinstance(b, str) and a == b
    if ta is bool or tb is bool:
        return False  # `a is b` above already answered True == True and False == False
    if _is_number(a):
        return _is_number(b) and _num_eq(a, b)
    if _is_number(b):
        return False
    return _java_equals(a, b)


def _compare(a: Any, b: Any, op: Callable[[Any, Any], bool], symbol: str, where: str) -> bool:
    """`<`, `<=`, `>`, `>=` on def values: numbers only, with numeric promotion."""
    if a is None or b is None:
        raise _npe(f"cannot apply [{symbol}] to null", where)
    if not _is_number(a) or not _is_number(b):
        raise _cce(f"cannot apply [{symbol}] to [{_java_type(a)}] and [{_java_type(b)}]", where)
    if isinstance(a, float) and not isinstance(a, JFloat) or isinstance(b, float) and not isinstance(b, JFloat):
        return op(_double(a), _double(b))
    if isinstance(a, JFloat) or isinstance(b, JFloat):
        return op(_f32(a), _f32(b))
    return op(int(a), int(b))


def _bool_fail(v: Any, where: str) -> PainlessRuntimeError:
    if v is None:
        return _npe("cannot cast null to [boolean]", where)
    return _cce(f"cannot cast [{_java_type(v)}] to [boolean]", where)


# --- Java String helpers -----------------------------------------------------------------

# String.trim() strips every char up to U+0020, not Unicode whitespace.
_TRIM = "".join(chr(i) for i in range(0x21))


def _utf16_len(s: str) -> int:
    if s.isascii():
        return len(s)
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def _utf16_index(s: str, index: int) -> int:
    if index <= 0 or s.isascii():
        return index
    return index + sum(1 for c in s[:index] if ord(c) > 0xFFFF)


def _simple_case(c: str, upper: bool) -> str:
    # Character.toUpperCase/toLowerCase map one char to one char; Python's may expand (ß -> SS).
    mapped = c.upper() if upper else c.lower()
    return mapped if len(mapped) == 1 else c


def _equals_ignore_case(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        ux, uy = _simple_case(x, True), _simple_case(y, True)
        if ux != uy and _simple_case(ux, False) != _simple_case(uy, False):
            return False
    return True


def _str_arg(x: Any, method: str, where: str, param: str = "java.lang.String") -> str:
    if type(x) is str or isinstance(x, str):
        return x
    if x is None:
        raise _npe(f"argument of [String.{method}] is null", where)
    raise _cce(f"cannot cast [{_java_type(x)}] to [{param}] (argument of [String.{method}])", where)


def _int_arg(x: Any, method: str, where: str) -> int:
    if type(x) is int and _INT_MIN <= x <= _INT_MAX:
        return x
    if x is None:
        raise _npe(f"argument of [{method}] is null", where)
    raise _cce(f"cannot cast [{_java_type(x)}] to [int] (argument of [{method}])", where)


# --- Map and List helpers ----------------------------------------------------------------


def _map_get(m: Mapping[str, Any], key: Any) -> Any:
    # Keys of JSON objects are Strings; no other key equals one (and lists are unhashable).
    if type(key) is str or isinstance(key, str):
        return m.get(key)
    return None


def _list_index(v: Any, i: int, where: str) -> Any:
    if 0 <= i < len(v):
        return v[i]
    raise _ioobe(i, len(v), where)


# --- methods -------------------------------------------------------------------------------
# (kind, name, arity) -> implementation(receiver, *args, where). Only these are callable; a
# name not listed here is refused at compile time, a listed name on the wrong receiver
# fails at run time as Painless's dynamic dispatch does.


def _list_contains(v: Any, x: Any, where: str) -> bool:
    if type(x) is str:
        return x in v  # str == non-str is False in Python as in Java, so `in` is exact here
    return any(_java_equals(x, e) for e in v)


def _list_index_of(v: Any, x: Any, where: str) -> int:
    for i, e in enumerate(v):
        if _java_equals(x, e):
            return i
    return -1


def _map_contains_key(m: Any, k: Any, where: str) -> bool:
    if type(k) is str or isinstance(k, str):
        return k in m
    return False


def _str_index_of(s: str, x: Any, where: str) -> int:
    found = s.find(_str_arg(x, "indexOf", where))
    return _utf16_index(s, found) if found > 0 else found


_METHODS: dict[tuple[int, str, int], Callable[..., Any]] = {
    (_STR, "contains", 1): lambda s, x, w: _str_arg(x, "contains", w, "java.lang.CharSequence") in s,
    (_STR, "startsWith", 1): lambda s, x, w: s.startswith(_str_arg(x, "startsWith", w)),
    (_STR, "endsWith", 1): lambda s, x, w: s.endswith(_str_arg(x, "endsWith", w)),
    (_STR, "isEmpty", 0): lambda s, w: len(s) == 0,
    (_STR, "equalsIgnoreCase", 1): lambda s, x, w: x is not None and _equals_ignore_case(s, _str_arg(x, "equalsIgnoreCase", w)),
    (_STR, "length", 0): lambda s, w: _utf16_len(s),
    (_STR, "toLowerCase", 0): lambda s, w: s.lower(),
    (_STR, "toUpperCase", 0): lambda s, w: s.upper(),
    (_STR, "trim", 0): lambda s, w: s.strip(_TRIM),
    (_STR, "indexOf", 1): _str_index_of,
    (_LIST, "contains", 1): _list_contains,
    (_LIST, "size", 0): lambda v, w: len(v),
    (_LIST, "isEmpty", 0): lambda v, w: len(v) == 0,
    (_LIST, "get", 1): lambda v, i, w: _list_index(v, _int_arg(i, "List.get", w), w),
    (_LIST, "indexOf", 1): _list_index_of,
    (_MAP, "containsKey", 1): _map_contains_key,
    (_MAP, "containsValue", 1): lambda m, x, w: any(_java_equals(x, e) for e in m.values()),
    (_MAP, "get", 1): lambda m, k, w: _map_get(m, k),
    (_MAP, "size", 0): lambda m, w: len(m),
    (_MAP, "isEmpty", 0): lambda m, w: len(m) == 0,
}

# Object.equals is on every receiver.
_SUPPORTED_METHODS = {(name, arity) for (_, name, arity) in _METHODS} | {("equals", 1)}
_SUPPORTED_NAMES = sorted({name for name, _ in _SUPPORTED_METHODS})


def _invoke(v: Any, name: str, args: list[Any], where: str) -> Any:
    kind = _kind(v)
    impl = _METHODS.get((kind, name, len(args)))
    if impl is not None:
        return impl(v, *args, where)
    if kind == _NULL:
        raise _npe(f"cannot invoke method [{name}] on null", where)
    if name == "equals":
        return _java_equals(v, args[0])
    raise _iae(f"dynamic method [{_java_type(v)}, {name}/{len(args)}] not found", where)


# Static receivers resolve methods at compile time. (static type, name, arity) ->
# (result type, parameter kinds); "str" parameters take a String, "obj" any value.
_STATIC_METHODS: dict[tuple[str, str, int], tuple[str, tuple[str, ...]]] = {
    ("String", "contains", 1): ("boolean", ("str",)),
    ("String", "startsWith", 1): ("boolean", ("str",)),
    ("String", "endsWith", 1): ("boolean", ("str",)),
    ("String", "isEmpty", 0): ("boolean", ()),
    ("String", "equals", 1): ("boolean", ("obj",)),
    ("String", "equalsIgnoreCase", 1): ("boolean", ("str",)),
    ("String", "length", 0): ("int", ()),
    ("String", "toLowerCase", 0): ("String", ()),
    ("String", "toUpperCase", 0): ("String", ()),
    ("String", "trim", 0): ("String", ()),
    ("String", "indexOf", 1): ("int", ("str",)),
    ("Map", "containsKey", 1): ("boolean", ("obj",)),
    ("Map", "containsValue", 1): ("boolean", ("obj",)),
    ("Map", "get", 1): ("def", ("obj",)),
    ("Map", "size", 0): ("int", ()),
    ("Map", "isEmpty", 0): ("boolean", ()),
    ("Map", "equals", 1): ("boolean", ("obj",)),
}


# --- field access --------------------------------------------------------------------------
# Painless looks for a whitelisted getter before the Map/List shortcut: `x.empty` is
# isEmpty() on any Map, List or String, `x.length` is size() on a List (an augmentation),
# and `list.0` is list.get(0).


def _field(v: Any, name: str, where: str) -> Any:
    kind = _kind(v)
    if kind == _MAP:
        return len(v) == 0 if name == "empty" else v.get(name)
    if kind == _LIST:
        if name == "empty":
            return len(v) == 0
        if name == "length":
            return len(v)
        if name.isdigit():
            return _list_index(v, int(name), where)
        raise _iae(f"illegal list shortcut value [{name}]", where)
    if kind == _NULL:
        raise _npe(f"cannot access [{name}] of null", where)
    if kind == _STR and name == "empty":
        return len(v) == 0
    if kind == _NUM and isinstance(v, float) and name in ("naN", "infinite"):
        return math.isnan(v) if name == "naN" else math.isinf(v)
    raise _iae(f"dynamic getter [{_java_type(v)}, {name}] not found", where)


def _brace(v: Any, key: Any, where: str) -> Any:
    kind = _kind(v)
    if kind == _MAP:
        return _map_get(v, key)
    if kind == _LIST:
        i = _int_arg(key, "List index", where)
        # Brace access on a def list counts negative indexes from the end.
        return _list_index(v, i + len(v) if i < 0 else i, where)
    if kind == _NULL:
        raise _npe("cannot index null", where)
    raise _iae(f"attempting to address a non-array type [{_java_type(v)}] as an array", where)


# --- instanceof ----------------------------------------------------------------------------


def _instance_of_integer(v: Any) -> bool:
    return _java_type(v) == "java.lang.Integer"


def _instance_of_long(v: Any) -> bool:
    return _java_type(v) == "java.lang.Long"


_INSTANCEOF: dict[str, Callable[[Any], bool]] = {
    "Object": lambda v: v is not None,
    "String": lambda v: isinstance(v, str),
    "CharSequence": lambda v: isinstance(v, str),
    "Map": lambda v: isinstance(v, Mapping),
    "List": lambda v: isinstance(v, (list, tuple)),
    "Collection": lambda v: isinstance(v, (list, tuple)),
    "Boolean": lambda v: isinstance(v, bool),
    "Number": _is_number,
    "Integer": _instance_of_integer,
    "Long": _instance_of_long,
    "Double": lambda v: isinstance(v, float) and not isinstance(v, JFloat),
    "Float": lambda v: isinstance(v, JFloat),
    # JSON never yields these; they exist so a check for them answers false, not an error.
    "Short": lambda v: False,
    "Byte": lambda v: False,
    "Character": lambda v: False,
}

# Names Painless knows that this subset refuses: concrete classes would be wrong here, since
# Elasticsearch hands conditions read-only wrappers, not HashMap/ArrayList.
_KNOWN_TYPES = frozenset(
    {
        "def", "boolean", "byte", "short", "char", "int", "long", "float", "double", "HashMap", "ArrayList",
        "LinkedHashMap", "TreeMap", "Set", "HashSet", "Iterable", "Math", "Collections", "Arrays", "Objects",
        "Pattern", "Matcher", "Iterator", "StringBuilder", "Instant", "ZonedDateTime", "Locale",
    }
) | set(_INSTANCEOF)  # fmt: skip


# --- tokens ----------------------------------------------------------------------------------


class _Tok(NamedTuple):
    kind: str  # num, str, id, field (name after a dot), op, eof
    text: str
    start: int
    end: int
    value: Any = None


_PUNCTUATION = sorted(
    """>>>= >>> >>= <<= === !== ==~ == != <= >= << >> && || ?. ?: :: -> =~ ++ -- += -= *= /= %= &= ^= |=
    { } [ ] ( ) . , ; ! ~ * / % + - < > & ^ | ? : =""".split(),
    key=len,
    reverse=True,
)
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[lL]?|0[0-7]+[lL]?|(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[lLfFdD]?")
_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_DOT_INTEGER = re.compile(r"0|[1-9][0-9]*")
# After these a `/` divides; anywhere else Painless reads it as the start of a regex.
_VALUE_END = frozenset({")", "]"})


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    i, n = 0, len(source)
    while True:
        # Whitespace and comments, in Painless's default lexer mode.
        while i < n:
            c = source[i]
            if c in " \t\n\r":
                i += 1
            elif source.startswith("//", i):
                end = min((p for p in (source.find("\n", i), source.find("\r", i)) if p >= 0), default=-1)
                if end < 0:
                    # Painless's lexer ends a // comment only at a line break.
                    raise PainlessCompileError(
                        f"unterminated // comment at position {i} of [{_one_line(source)}]: expected a line break",
                        source, i, "a line break",
                    )  # fmt: skip
                i = end + 1
            elif source.startswith("/*", i):
                end = source.find("*/", i + 2)
                if end < 0:
                    raise PainlessCompileError(
                        f"unterminated /* comment at position {i} of [{_one_line(source)}]: expected '*/'", source, i, "'*/'"
                    )
                i = end + 2
            else:
                break
        if i >= n:
            tokens.append(_Tok("eof", "", n, n))
            return tokens
        c = source[i]
        if c == "'" or c == '"':
            tokens.append(_string(source, i))
            i = tokens[-1].end
            continue
        if "0" <= c <= "9":
            m = _NUMBER.match(source, i)
            assert m is not None  # any ASCII digit starts a number
            tokens.append(_Tok("num", m.group(), i, m.end()))
            i = m.end()
            continue
        m = _IDENT.match(source, i)
        if m:
            tokens.append(_Tok("id", m.group(), i, m.end()))
            i = m.end()
            continue
        if c == "/" and (
            not tokens
            or tokens[-1].kind == "op" and tokens[-1].text not in _VALUE_END
            or tokens[-1].kind == "id" and tokens[-1].text == "return"
        ):
            raise _unsupported("regular expression literal [/.../]", source, i)
        for p in _PUNCTUATION:
            if source.startswith(p, i):
                tokens.append(_Tok("op", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise PainlessCompileError(
                f"unexpected character {c!r} at position {i} of [{_one_line(source)}]: expected an expression or operator",
                source, i, "an expression or operator",
            )  # fmt: skip
        if p in (".", "?."):
            # Painless switches lexer mode after a dot: only a name or an integer may follow,
            # not even whitespace (`ctx. a` does not compile).
            m = _IDENT.match(source, i) or _DOT_INTEGER.match(source, i)
            if m is None:
                raise PainlessCompileError(
                    f"unexpected {_describe_at(source, i)} at position {i} of [{_one_line(source)}]: "
                    f"expected a field or method name right after '{p}'",
                    source, i, f"a field or method name right after '{p}'",
                )  # fmt: skip
            tokens.append(_Tok("field", m.group(), i, m.end()))
            i = m.end()


def _describe_at(source: str, i: int) -> str:
    if i >= len(source):
        return "end of input"
    return "whitespace" if source[i].isspace() else repr(source[i])


def _string(source: str, start: int) -> _Tok:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        c = source[i]
        if c == quote:
            return _Tok("str", source[start : i + 1], start, i + 1, "".join(chars))
        if c == "\\":
            # Painless knows two escapes per quote style: the quote itself and the backslash.
            nxt = source[i + 1 : i + 2]
            if nxt not in (quote, "\\"):
                raise PainlessCompileError(
                    f"invalid escape sequence in a {quote}-quoted string at position {i} of [{_one_line(source)}]: "
                    f"expected \\{quote} or \\\\",
                    source, i, f"\\{quote} or \\\\",
                )  # fmt: skip
            chars.append(nxt)
            i += 2
            continue
        chars.append(c)
        i += 1
    raise PainlessCompileError(
        f"unterminated string at position {start} of [{_one_line(source)}]: expected a closing {quote}", source, start, f"a closing {quote}"
    )


def _unsupported(construct: str, source: str, position: int, supported: str | None = None) -> PainlessCompileError:
    tail = f"; supported: {supported}" if supported else ""
    return PainlessCompileError(
        f"{construct} is not supported (at position {position} of [{_one_line(source)}]){tail}", source, position
    )


# --- compiled nodes --------------------------------------------------------------------------

_NOT_CONST = object()

# Static types: Painless resolves these at compile time; everything read from ctx is "def".
_NUMERIC = ("int", "long", "float", "double")  # in widening order
_PRIMITIVE = frozenset(_NUMERIC) | {"boolean"}
_TYPE_NAMES = {
    "String": "java.lang.String",
    "Map": "java.util.Map",
    "Object": "java.lang.Object",
    "null": "null",
    "def": "def",
}


def _type_name(t: str) -> str:
    return _TYPE_NAMES.get(t, t)


class _Node:
    """A compiled expression: `fn(ctx)` evaluates it; `type` is its Painless static type."""

    __slots__ = ("fn", "type", "start", "end", "const", "literal")

    def __init__(self, fn: Callable[[Any], Any], type_: str, start: int, end: int, const: Any = _NOT_CONST) -> None:
        self.fn = fn
        self.type = type_
        self.start = start
        self.end = end
        self.const = const
        self.literal: str | None = None  # the number's text, for folding a leading minus


def _const_fn(value: Any) -> Callable[[Any], Any]:
    return lambda ctx: value


def _root(ctx: Any) -> Any:
    return ctx


# --- parser ----------------------------------------------------------------------------------

# Binary operators by precedence, loosest first, from Painless's grammar. None marks an
# operator Painless has and this subset refuses.
_ELVIS, _COND, _OR, _AND, _EQ, _INSTANCEOF_PREC, _REL = 1, 2, 3, 4, 8, 9, 10
_BINARY: dict[str, tuple[int, str | None]] = {
    "?:": (_ELVIS, "elvis"),
    "?": (_COND, "cond"),
    "||": (_OR, "or"),
    "&&": (_AND, "and"),
    "|": (5, None), "^": (6, None), "&": (7, None),
    "==": (_EQ, "eq"), "!=": (_EQ, "ne"), "===": (_EQ, None), "!==": (_EQ, None),
    "instanceof": (_INSTANCEOF_PREC, "instanceof"),
    "<": (_REL, "lt"), "<=": (_REL, "le"), ">": (_REL, "gt"), ">=": (_REL, "ge"),
    "<<": (11, None), ">>": (11, None), ">>>": (11, None),
    "=~": (12, None), "==~": (12, None),
    "+": (13, None), "-": (13, None),
    "*": (14, None), "/": (14, None), "%": (14, None),
}  # fmt: skip
_ASSIGNMENTS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=", "<<=", ">>=", ">>>="})
_UNSUPPORTED_OPERATORS = {
    "=~": "find operator [=~] (regular expressions)",
    "==~": "match operator [==~] (regular expressions)",
    "===": "reference equality [===]",
    "!==": "reference inequality [!==]",
    "&": "non-short-circuit operator [&]",
    "|": "non-short-circuit operator [|]",
    "^": "operator [^]",
}
_STATEMENT_KEYWORDS = frozenset({"if", "else", "while", "do", "for", "in", "continue", "break", "try", "catch", "throw"})
_COMPARATORS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_WIDENINGS: dict[str, Callable[[Any], Any]] = {"long": JLong, "float": lambda v: JFloat(_f32(v)), "double": float}
_SUPPORTED_SUMMARY = "field access, ?., [], ==, !=, <, <=, >, >=, &&, ||, !, ?:, instanceof and a few methods"


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0

    # -- token helpers --

    def peek(self, ahead: int = 0) -> _Tok:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Tok:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def is_op(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "op" and tok.text == text

    def unexpected(self, tok: _Tok, expected: str) -> PainlessCompileError:
        what = "end of input" if tok.kind == "eof" else repr(tok.text)
        return PainlessCompileError(
            f"unexpected {what} at position {tok.start} of [{_one_line(self.source)}]: expected {expected}",
            self.source, tok.start, expected,
        )  # fmt: skip

    def expect(self, text: str) -> _Tok:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            return self.advance()
        raise self.unexpected(tok, repr(text))

    def unsupported(self, construct: str, position: int, supported: str | None = None) -> PainlessCompileError:
        return _unsupported(construct, self.source, position, supported)

    def error(self, reason: str, position: int, expected: str | None = None) -> PainlessCompileError:
        return PainlessCompileError(f"{reason} (at position {position} of [{_one_line(self.source)}])", self.source, position, expected)

    def where(self, start: int, end: int) -> str:
        return _one_line(self.source[start:end])

    # -- grammar --

    def parse(self) -> Callable[[Any], bool]:
        tok = self.peek()
        if tok.kind == "id" and tok.text == "return":
            self.advance()
        node = self.expression(_ELVIS)
        tok = self.peek()
        if tok.kind == "op" and tok.text == ";":
            self.advance()
            tok = self.peek()
            if tok.kind != "eof":
                raise self.unsupported("a second statement", tok.start, "one expression, optionally `return expr;`")
        if tok.kind != "eof":
            raise self.unexpected(tok, "an operator, ';' or end of input")
        return self.as_boolean(node, "the condition's result").fn

    def expression(self, min_prec: int) -> _Node:
        """Precedence climbing over Painless's operator table."""
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in _ASSIGNMENTS:
                raise self.unsupported(f"assignment [{tok.text}]", tok.start)
            if tok.kind == "op" and tok.text in ("++", "--"):
                raise self.unsupported(f"increment/decrement [{tok.text}]", tok.start)
            if tok.kind == "op" and tok.text in ("->", "::"):
                raise self.unsupported("lambda [->]" if tok.text == "->" else "method reference [::]", tok.start)
            key = tok.text if tok.kind == "op" or (tok.kind == "id" and tok.text == "instanceof") else None
            entry = _BINARY.get(key) if key else None
            if entry is None:
                return left
            prec, op = entry
            if op is None:
                construct = _UNSUPPORTED_OPERATORS.get(tok.text, f"arithmetic operator [{tok.text}]")
                raise self.unsupported(construct, tok.start, _SUPPORTED_SUMMARY)
            if prec < min_prec:
                return left
            self.advance()
            if op == "cond":
                middle = self.expression(_ELVIS)
                self.expect(":")
                right = self.expression(_COND)  # right-associative
                left = self.conditional(left, middle, right)
            elif op == "elvis":
                left = self.elvis(left, self.expression(_ELVIS), tok.start)
            elif op == "instanceof":
                left = self.instance_of(left)
            else:
                right = self.expression(prec + 1)
                if op in ("and", "or"):
                    left = self.logical(op, left, right)
                elif op in ("eq", "ne"):
                    left = self.equality(op == "ne", left, right, tok.start)
                else:
                    left = self.relational(op, tok.text, left, right)

    def unary(self) -> _Node:
        tok = self.peek()
        if tok.kind == "op":
            if tok.text == "!":
                self.advance()
                return self.negation(self.unary(), tok.start)
            if tok.text in ("-", "+"):
                self.advance()
                sign = "-" if tok.text == "-" else ""
                digits, after = self.peek(), self.peek(1)
                if digits.kind == "num" and not (after.kind == "op" and after.text in (".", "?.", "[")):
                    # Painless folds the sign into the literal: -2147483648 is a valid int.
                    self.advance()
                    return self.number(sign + digits.text, tok.start, digits.end)
                operand = self.unary()
                if operand.literal is None:
                    raise self.unsupported(f"unary [{tok.text}] on a non-literal", tok.start, "a sign in front of a number literal")
                text = operand.literal
                if sign:
                    text = text[1:] if text.startswith("-") else "-" + text
                return self.number(text, tok.start, operand.end)
            if tok.text == "~":
                raise self.unsupported("bitwise not [~]", tok.start)
            if tok.text in ("++", "--"):
                raise self.unsupported(f"increment/decrement [{tok.text}]", tok.start)
            if tok.text == "(" and self._is_cast():
                raise self.unsupported(f"cast [({self.peek(1).text})]", tok.start)
        return self.chain()

    def _at_lambda(self) -> bool:
        # `x -> ...` or `(a, b) -> ...`: say "lambda", not "cannot resolve symbol [x]".
        tok = self.peek()
        if tok.kind == "id":
            return self.is_op("->", 1)
        if not (tok.kind == "op" and tok.text == "("):
            return False
        ahead = 1
        while self.peek(ahead).kind == "id" or self.is_op(",", ahead):
            ahead += 1
        return self.is_op(")", ahead) and self.is_op("->", ahead + 1)

    def _is_cast(self) -> bool:
        name = self.peek(1)
        return name.kind == "id" and name.text in _KNOWN_TYPES and self.is_op(")", 2)

    def chain(self) -> _Node:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in (".", "?."):
                self.advance()
                name = self.advance()  # the tokenizer guarantees a `field` token here
                if self.is_op("("):
                    node = self.call(node, name, tok.text == "?.")
                else:
                    node = self.field(node, name, tok.text == "?.")
            elif tok.kind == "op" and tok.text == "[":
                self.advance()
                index = self.expression(_ELVIS)
                close = self.expect("]")
                node = self.brace(node, index, close.end)
            else:
                return node

    def primary(self) -> _Node:
        if self._at_lambda():
            raise self.unsupported("lambda [->]", self.peek().start)
        tok = self.advance()
        if tok.kind == "num":
            return self.number(tok.text, tok.start, tok.end)
        if tok.kind == "str":
            return _Node(_const_fn(tok.value), "String", tok.start, tok.end, tok.value)
        if tok.kind == "op":
            if tok.text == "(":
                inner = self.expression(_ELVIS)
                close = self.expect(")")
                node = _Node(inner.fn, inner.type, tok.start, close.end, inner.const)
                node.literal = inner.literal
                return node
            if tok.text in ("[", "{"):
                raise self.unsupported("list/map initializer" if tok.text == "[" else "block [{...}]", tok.start)
            raise self.unexpected(tok, "an expression")
        if tok.kind == "id":
            word = tok.text
            if word in ("true", "false"):
                return _Node(_const_fn(word == "true"), "boolean", tok.start, tok.end, word == "true")
            if word == "null":
                return _Node(_const_fn(None), "null", tok.start, tok.end, None)
            if word == "ctx":
                return _Node(_root, "Map", tok.start, tok.end)
            if word == "params":
                raise self.unsupported("variable [params]", tok.start, "ctx")
            if word == "new":
                raise self.unsupported("object creation [new]", tok.start)
            if word == "def" or word in _PRIMITIVE or (word in _KNOWN_TYPES and self.peek().kind == "id"):
                raise self.unsupported(f"variable declaration [{word} ...]", tok.start, "one expression")
            if word in _STATEMENT_KEYWORDS:
                raise self.unsupported(f"statement [{word}]", tok.start, "one expression, optionally `return expr;`")
            if word == "return":
                raise self.unexpected(tok, "an expression")
            if word == "this":
                raise self.unsupported("[this]", tok.start)
            if self.is_op("("):
                raise self.unsupported(f"function call [{word}(...)]", tok.start)
            if word in _KNOWN_TYPES:
                raise self.unsupported(f"static access to type [{word}]", tok.start)
            raise self.error(f"cannot resolve symbol [{word}]: the only variable is ctx", tok.start, "ctx")
        raise self.unexpected(tok, "an expression")

    # -- literals --

    def number(self, text: str, start: int, end: int) -> _Node:
        """A numeric literal with Painless's types: int unless suffixed L (long), f (float), d or decimal (double)."""
        negative = text.startswith("-")
        body = (text[1:] if negative else text).lower()
        value: Any
        if body.startswith("0x") or (len(body) > 1 and body[0] == "0" and body.rstrip("l").isdigit()):
            is_long = body.endswith("l")
            digits = body[:-1] if is_long else body
            magnitude = int(digits[2:], 16) if digits.startswith("0x") else int(digits, 8)
            jtype = "long" if is_long else "int"
            number: Any = -magnitude if negative else magnitude
        else:
            suffix = body[-1] if body[-1] in "lfd" else ""
            digits = body[:-1] if suffix else body
            is_decimal = "." in digits or "e" in digits
            if suffix == "l" and is_decimal:
                raise self.error(f"invalid number literal [{text}]: a decimal cannot be a long", start, "a number")
            if suffix in ("f", "d") or is_decimal:
                number = float(("-" if negative else "") + digits)
                if suffix == "f":
                    value = JFloat(_f32(number))
                    node = _Node(_const_fn(value), "float", start, end, value)
                    node.literal = text
                    return node
                node = _Node(_const_fn(number), "double", start, end, number)
                node.literal = text
                return node
            magnitude = int(digits)
            number = -magnitude if negative else magnitude
            jtype = "long" if suffix == "l" else "int"
        if jtype == "long":
            if not _LONG_MIN <= number <= _LONG_MAX:
                raise self.error(f"invalid long constant [{text}]", start, "a number in the long range")
            value = JLong(number)
        else:
            if not _INT_MIN <= number <= _INT_MAX:
                raise self.error(f"invalid int constant [{text}] (a long needs an L suffix)", start, "a number in the int range")
            value = number
        node = _Node(_const_fn(value), jtype, start, end, value)
        node.literal = text
        return node

    # -- postfixes --

    def field(self, recv: _Node, name_tok: _Tok, null_safe: bool) -> _Node:
        name, end = name_tok.text, name_tok.end
        where = self.where(recv.start, end)
        rfn = recv.fn
        if recv.type == "Map":
            # ctx: a Map for Painless, so `ctx.x` is ctx.get("x") unless a getter claims the name.
            if name == "empty":
                return self._nullable(_Node(lambda ctx: len(rfn(ctx)) == 0, "boolean", recv.start, end), null_safe, name_tok)
            if rfn is _root:
                return _Node(lambda ctx: ctx.get(name), "def", recv.start, end)
            return _Node(lambda ctx: rfn(ctx).get(name), "def", recv.start, end)
        if recv.type == "String":
            if name != "empty":
                raise self.error(f"unknown field [{name}] for type [java.lang.String]", name_tok.start)
            return self._nullable(_Node(lambda ctx: len(rfn(ctx)) == 0, "boolean", recv.start, end), null_safe, name_tok)
        if recv.type != "def":
            raise self.error(f"cannot access field [{name}] of a value of type [{_type_name(recv.type)}]", name_tok.start)
        if name == "empty":
            # Never a plain map lookup: the isEmpty() getter wins over the key "empty".
            def fn(ctx: Any) -> Any:
                v = rfn(ctx)
                if v is None and null_safe:
                    return None
                return _field(v, name, where)

        elif null_safe:

            def fn(ctx: Any) -> Any:
                v = rfn(ctx)
                if type(v) is dict:
                    return v.get(name)
                if v is None:
                    return None
                return _field(v, name, where)

        else:

            def fn(ctx: Any) -> Any:
                v = rfn(ctx)
                if type(v) is dict:
                    return v.get(name)
                return _field(v, name, where)

        return _Node(fn, "def", recv.start, end)

    def _nullable(self, node: _Node, null_safe: bool, at: _Tok) -> _Node:
        if null_safe and node.type in _PRIMITIVE:
            raise self.error(f"result of null safe operator must be nullable ([{at.text}] returns {node.type})", at.start)
        return node

    def brace(self, recv: _Node, index: _Node, end: int) -> _Node:
        where = self.where(recv.start, end)
        rfn, ifn = recv.fn, index.fn
        if recv.type == "Map":
            return _Node(lambda ctx: _map_get(rfn(ctx), ifn(ctx)), "def", recv.start, end)
        if recv.type != "def":
            raise self.error(f"cannot index a value of type [{_type_name(recv.type)}] with []", recv.start)

        def fn(ctx: Any) -> Any:
            v = rfn(ctx)
            k = ifn(ctx)
            if type(v) is dict and type(k) is str:
                return v.get(k)
            return _brace(v, k, where)

        return _Node(fn, "def", recv.start, end)

    def call(self, recv: _Node, name_tok: _Tok, null_safe: bool) -> _Node:
        name = name_tok.text
        self.expect("(")
        args: list[_Node] = []
        if not self.is_op(")"):
            args.append(self.expression(_ELVIS))
            while self.is_op(","):
                self.advance()
                args.append(self.expression(_ELVIS))
        close = self.expect(")")
        end = close.end
        where = self.where(recv.start, end)
        if (name, len(args)) not in _SUPPORTED_METHODS:
            label = f"method [{name}]" if name not in _SUPPORTED_NAMES else f"method [{name}] with {len(args)} argument(s)"
            raise self.unsupported(label, name_tok.start, ", ".join(_SUPPORTED_NAMES))
        if recv.type == "def":
            return _Node(self._dynamic_call(recv.fn, name, [a.fn for a in args], null_safe, where), "def", recv.start, end)
        if recv.type not in ("String", "Map"):
            raise self.error(f"cannot call method [{name}] on a value of type [{_type_name(recv.type)}]", name_tok.start)
        signature = _STATIC_METHODS.get((recv.type, name, len(args)))
        if signature is None:
            raise self.error(f"method [{name}/{len(args)}] not found for type [{_type_name(recv.type)}]", name_tok.start)
        result, params = signature
        for arg, param in zip(args, params, strict=False):
            if param == "str" and arg.type not in ("String", "def", "null"):
                raise self.error(f"cannot cast [{_type_name(arg.type)}] to [java.lang.String] (argument of [{name}])", arg.start)
        # A static receiver (a String literal or ctx) is never null: no null check needed.
        fn = self._dynamic_call(recv.fn, name, [a.fn for a in args], False, where)
        return self._nullable(_Node(fn, result, recv.start, end), null_safe, name_tok)

    @staticmethod
    def _dynamic_call(rfn: Callable, name: str, afns: list[Callable], null_safe: bool, where: str) -> Callable[[Any], Any]:
        # Java evaluates the receiver, then the arguments, then dispatches (so a null receiver
        # throws after the arguments ran); a null-safe call skips the arguments entirely.
        if len(afns) == 0:
            if null_safe:

                def fn(ctx: Any) -> Any:
                    v = rfn(ctx)
                    return None if v is None else _invoke(v, name, [], where)

            else:

                def fn(ctx: Any) -> Any:
                    return _invoke(rfn(ctx), name, [], where)

            return fn
        if len(afns) == 1:
            afn = afns[0]
            if name == "contains":
                # The commonest call (`ctx.tags?.contains('x')`): skip the dispatch table for a list.
                def fn(ctx: Any) -> Any:
                    v = rfn(ctx)
                    if v is None and null_safe:
                        return None
                    x = afn(ctx)
                    if type(v) is list:
                        return _list_contains(v, x, where)
                    return _invoke(v, name, [x], where)

                return fn

            def fn(ctx: Any) -> Any:
                v = rfn(ctx)
                if v is None and null_safe:
                    return None
                return _invoke(v, name, [afn(ctx)], where)

            return fn
        raise AssertionError("no supported method takes more than one argument")

    # -- operators --

    def as_boolean(self, node: _Node, role: str) -> _Node:
        """Painless casts operands of &&, ||, !, ?: and the result to boolean."""
        if node.type == "boolean":
            return node
        if node.type != "def":
            raise self.error(
                f"cannot cast [{_type_name(node.type)}] to [boolean]: {role} must be a boolean", node.start, "a boolean expression"
            )
        fn = node.fn
        where = self.where(node.start, node.end)

        def checked(ctx: Any) -> bool:
            v = fn(ctx)
            if v is True or v is False:
                return v
            raise _bool_fail(v, where)

        return _Node(checked, "boolean", node.start, node.end)

    def negation(self, operand: _Node, start: int) -> _Node:
        fn = self.as_boolean(operand, "the operand of !").fn
        return _Node(lambda ctx: not fn(ctx), "boolean", start, operand.end)

    def logical(self, op: str, left: _Node, right: _Node) -> _Node:
        lfn = self.as_boolean(left, f"the left operand of {'&&' if op == 'and' else '||'}").fn
        rfn = self.as_boolean(right, f"the right operand of {'&&' if op == 'and' else '||'}").fn
        if op == "and":
            fn = lambda ctx: lfn(ctx) and rfn(ctx)  # noqa: E731 - both sides are real bools by now
        else:
            fn = lambda ctx: lfn(ctx) or rfn(ctx)  # noqa: E731
        return _Node(fn, "boolean", left.start, right.end)

    def equality(self, negate: bool, left: _Node, right: _Node, at: int) -> _Node:
        lt, rt = left.type, right.type
        start, end = left.start, right.end
        if lt == "null" and rt == "null":
            raise self.error("extraneous comparison of null constants", at)
        if lt in _PRIMITIVE and rt in _PRIMITIVE and (lt == "boolean") != (rt == "boolean"):
            raise self.error(f"cannot compare [{lt}] with [{rt}]: a boolean is never a number", at)
        lfn, rfn = left.fn, right.fn
        # The constant side, if any, decides a cheap exact test.
        const_node, other = (right, left) if right.const is not _NOT_CONST else (left, right)
        k, ofn = const_node.const, other.fn
        if const_node.const is not _NOT_CONST and other.const is _NOT_CONST and other.type in ("def", "String", "Map", "Object"):
            if k is None:
                fn = (lambda ctx: ofn(ctx) is not None) if negate else (lambda ctx: ofn(ctx) is None)
                return _Node(fn, "boolean", start, end)
            if type(k) is str:
                # Python's str == anything-else is False, exactly Java's String.equals.
                fn = (lambda ctx: ofn(ctx) != k) if negate else (lambda ctx: ofn(ctx) == k)
                return _Node(fn, "boolean", start, end)
            if type(k) is bool:
                # Only the Boolean k equals k; identity keeps 1 == true false.
                fn = (lambda ctx: ofn(ctx) is not k) if negate else (lambda ctx: ofn(ctx) is k)
                return _Node(fn, "boolean", start, end)
        if lt == "def" or rt == "def":
            test = _def_eq
        elif lt in _PRIMITIVE and rt in _PRIMITIVE:
            test = _num_eq if lt != "boolean" else operator.eq
        else:
            test = _java_equals  # Object comparison: a.equals(b), no numeric promotion
        if negate:
            fn = lambda ctx: not test(lfn(ctx), rfn(ctx))  # noqa: E731
        else:
            fn = lambda ctx: test(lfn(ctx), rfn(ctx))  # noqa: E731
        return _Node(fn, "boolean", start, end)

    def relational(self, op: str, symbol: str, left: _Node, right: _Node) -> _Node:
        # With a def side Painless promotes to def and checks at run time (`ctx.a < 'x'`
        # compiles, then throws); only two static types are checked here.
        if left.type != "def" and right.type != "def":
            for side in (left, right):
                if side.type not in _NUMERIC:
                    raise self.error(f"cannot apply [{symbol}] to a value of type [{_type_name(side.type)}]", side.start, "a number")
        compare = _COMPARATORS[op]
        lfn, rfn = left.fn, right.fn
        where = self.where(left.start, right.end)

        def fn(ctx: Any) -> bool:
            a = lfn(ctx)
            b = rfn(ctx)
            t = type(a)
            if t is type(b) and (t is int or t is float):
                return compare(a, b)
            return _compare(a, b, compare, symbol, where)

        return _Node(fn, "boolean", left.start, right.end)

    def instance_of(self, left: _Node) -> _Node:
        tok = self.advance()
        if tok.kind != "id":
            raise self.unexpected(tok, "a type name after instanceof")
        name = tok.text
        if self.is_op("[") and self.is_op("]", 1):
            raise self.unsupported(f"array type [{name}[]]", tok.start)
        test = _INSTANCEOF.get(name)
        if test is None:
            if name in _KNOWN_TYPES:
                raise self.unsupported(f"instanceof [{name}]", tok.start, ", ".join(sorted(_INSTANCEOF)))
            raise self.error(f"unknown type [{name}]", tok.start, "a type name")
        fn = left.fn
        return _Node(lambda ctx: test(fn(ctx)), "boolean", left.start, tok.end)

    def conditional(self, cond: _Node, a: _Node, b: _Node) -> _Node:
        cfn = self.as_boolean(cond, "the condition of ?:").fn
        result = self._promote(a, b)
        afn, bfn = self._widen(a, result), self._widen(b, result)
        return _Node(lambda ctx: afn(ctx) if cfn(ctx) else bfn(ctx), result, cond.start, b.end)

    @staticmethod
    def _widen(node: _Node, to: str) -> Callable[[Any], Any]:
        # `c ? 1 : 2.0` is a double either way: the int branch must yield 1.0 (a Double).
        if node.type == to or node.type not in _NUMERIC or to not in _NUMERIC:
            return node.fn
        fn, convert = node.fn, _WIDENINGS[to]
        return lambda ctx: convert(fn(ctx))

    def elvis(self, a: _Node, b: _Node, at: int) -> _Node:
        if a.type in _PRIMITIVE:
            raise self.error(f"extraneous elvis operator: the left side is a primitive [{a.type}]", at)
        if a.type == "null":
            raise self.error("extraneous elvis operator: the left side is null", at)
        afn, bfn = a.fn, b.fn

        def fn(ctx: Any) -> Any:
            v = afn(ctx)
            return bfn(ctx) if v is None else v

        return _Node(fn, self._promote(a, b), a.start, b.end)

    @staticmethod
    def _promote(a: _Node, b: _Node) -> str:
        """The static type of `c ? a : b`: Painless's conditional promotion, coarsened."""
        if a.type == b.type:
            return a.type
        if "def" in (a.type, b.type):
            return "def"
        if a.type in _NUMERIC and b.type in _NUMERIC:
            return max(a.type, b.type, key=_NUMERIC.index)
        # Anything else, a null branch included, is an Object for Painless: no methods, no
        # fields, no boolean; only == and instanceof are left, and those handle null.
        return "Object"


@functools.lru_cache(maxsize=4096)
def compile_condition(source: str) -> Callable[[Mapping[str, Any]], bool]:
    """Compile an ingest `if` condition; the result takes `ctx` and returns True or False.

    Raises PainlessCompileError for anything outside the subset or malformed; the returned
    callable raises PainlessRuntimeError where Painless would throw. Cached by source.
    """
    return _Parser(source).parse()
