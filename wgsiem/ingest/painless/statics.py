"""Painless's static classes (Math, Integer, Long, Double, Float, Boolean, Character, String,
Collections, Arrays, Objects, Comparator, Map.Entry, Collectors, Pattern) and the
constructors a script can call with `new`, from the whitelists in
modules/lang-painless/src/main/resources/org/elasticsearch/painless/spi/ (java.lang.txt,
java.util.txt, java.util.stream.txt, java.util.regex.txt). Painless overloads by arity only:
Math's methods take and return doubles, so Math.max(1, 2) is 2.0.

Each entry is (implementation, return type, parameter types), as in methods.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..formats.convert import java_parse_double, java_parse_float, java_parse_integer
from ..java.strings import java_trim
from .errors import PainlessRuntimeError, cce, java_cast_message, npe, unsupported_op
from .methods import (
    CIDR,
    EXCEPTION_PARENTS,
    CaughtException,
    FixedList,
    FrozenList,
    FrozenMap,
    Method,
    StringTokenizer,
    check_settable,
    collection_contains,
    elements,
    need_arg,
    null_arg_message,
    number_compare,
    simple_case,
    sort_list,
)
from .objects import NATURAL, REVERSE, Collector, Comparator, HashSet, StringBuilder, sort_key
from .values import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    JArray,
    JChar,
    JFloat,
    JLong,
    LinkedHashMap,
    TreeMap,
    f32,
    java_compare,
    java_equals,
    java_hash,
    jclass,
    jfloat,
    jstr,
    map_keys,
    num_kind,
    num_value,
    to_double,
    wrap_int,
)

# --- static classes --------------------------------------------------------------------------------------


def _parse_int(s: str, radix: int = 10, bits: int = 32) -> int:
    if s is None:
        raise PainlessRuntimeError("Cannot parse null string", "NumberFormatException")
    if radix < 2:
        raise PainlessRuntimeError(f"radix {radix} less than Character.MIN_RADIX", "NumberFormatException")
    if radix > 36:
        raise PainlessRuntimeError(f"radix {radix} greater than Character.MAX_RADIX", "NumberFormatException")
    try:
        return java_parse_integer(s, radix, bits)
    except ValueError:
        radix_note = f" under radix {radix}" if radix != 10 else ""
        raise PainlessRuntimeError(f'For input string: "{s}"{radix_note}', "NumberFormatException") from None


def _parse_decimal(s: str, parse: Callable[[str], float]) -> float:
    """Double.parseDouble / Float.parseFloat (which rounds the decimal once, to 32 bits)."""
    if s is None:
        raise npe('Cannot invoke "String.length()" because "in" is null')
    try:
        return parse(s)
    except ValueError:
        text = java_trim(s)  # Java's message quotes the trimmed text
        raise PainlessRuntimeError(f'For input string: "{text}"' if text else "empty String", "NumberFormatException") from None


def _parse_double(s: str) -> float:
    return _parse_decimal(s, java_parse_double)


def _parse_float(s: str) -> JFloat:
    return jfloat(_parse_decimal(s, java_parse_float))


def _to_radix(n: int, radix: int) -> str:
    if not 2 <= radix <= 36:
        radix = 10
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = []
    while n:
        n, r = divmod(n, radix)
        out.append(digits[r])
    return sign + "".join(reversed(out))


def _unsigned(n: int, bits: int, shift: int) -> str:
    value = n & ((1 << bits) - 1)
    return format(value, {1: "b", 3: "o", 4: "x"}[shift])


def _math(fn: Callable[..., float]) -> Callable[..., float]:
    def call(*args: Any) -> float:
        try:
            return float(fn(*(to_double(num_value(a)) for a in args)))
        except (ValueError, OverflowError):
            return math.nan
        except ZeroDivisionError:
            return math.inf

    return call


def _java_round(x: float) -> JLong:
    # Math.round: floor(x + 0.5), NaN -> 0, saturating at the long range.
    if x != x:
        return JLong(0)
    if x >= 2**63:
        return JLong(LONG_MAX)
    if x <= -(2**63):
        return JLong(LONG_MIN)
    return JLong(math.floor(x + 0.5))


def _java_max(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    if a == b == 0.0:
        return a if math.copysign(1, a) > 0 else b
    return max(a, b)


def _java_min(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    if a == b == 0.0:
        return a if math.copysign(1, a) < 0 else b
    return min(a, b)


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except ZeroDivisionError:
        return math.inf
    except (ValueError, OverflowError):
        return math.nan if a < 0 else math.inf


def _log(x: float) -> float:
    if x < 0 or x != x:
        return math.nan
    return -math.inf if x == 0 else math.log(x)


def _log10(x: float) -> float:
    if x < 0 or x != x:
        return math.nan
    return -math.inf if x == 0 else math.log10(x)


def _sqrt(x: float) -> float:
    return math.nan if x < 0 or x != x else math.sqrt(x)


def _rint(x: float) -> float:
    return float(round(x)) if math.isfinite(x) else x


Static = dict[tuple[str, int], Method]

MATH: Static = {
    ("abs", 1): (_math(abs), "double", ("double",)),
    ("max", 2): (_math(_java_max), "double", ("double", "double")),
    ("min", 2): (_math(_java_min), "double", ("double", "double")),
    ("floor", 1): (_math(lambda x: math.floor(x) if math.isfinite(x) else x), "double", ("double",)),
    ("ceil", 1): (_math(lambda x: math.ceil(x) if math.isfinite(x) else x), "double", ("double",)),
    ("round", 1): (lambda x: _java_round(to_double(x)), "long", ("double",)),
    ("rint", 1): (_math(_rint), "double", ("double",)),
    ("sqrt", 1): (_math(_sqrt), "double", ("double",)),
    ("cbrt", 1): (_math(lambda x: math.copysign(abs(x) ** (1 / 3), x)), "double", ("double",)),
    ("pow", 2): (_math(_pow), "double", ("double", "double")),
    ("exp", 1): (_math(math.exp), "double", ("double",)),
    ("log", 1): (_math(_log), "double", ("double",)),
    ("log10", 1): (_math(_log10), "double", ("double",)),
    ("signum", 1): (_math(lambda x: x if x == 0 or x != x else math.copysign(1.0, x)), "double", ("double",)),
    ("hypot", 2): (_math(math.hypot), "double", ("double", "double")),
    ("sin", 1): (_math(math.sin), "double", ("double",)),
    ("cos", 1): (_math(math.cos), "double", ("double",)),
    ("tan", 1): (_math(math.tan), "double", ("double",)),
    ("atan", 1): (_math(math.atan), "double", ("double",)),
    ("atan2", 2): (_math(math.atan2), "double", ("double", "double")),
    ("toRadians", 1): (_math(math.radians), "double", ("double",)),
    ("toDegrees", 1): (_math(math.degrees), "double", ("double",)),
}
MATH_FIELDS = {"PI": (math.pi, "double"), "E": (math.e, "double")}


def _integer_value_of(*args: Any) -> int:
    if len(args) == 1:
        return int(args[0])
    return _parse_int(args[0], args[1])


def _decode(s: str, bits: int) -> int:
    text = need_arg(s)
    negative = text.startswith("-")
    body = text[1:] if text[:1] in "+-" else text
    radix = 10
    if body.lower().startswith("0x"):
        radix, body = 16, body[2:]
    elif body.startswith("#"):
        radix, body = 16, body[1:]
    elif body.startswith("0") and len(body) > 1:
        radix, body = 8, body[1:]
    if body[:1] in ("+", "-"):
        raise PainlessRuntimeError("Sign character in wrong position", "NumberFormatException")
    return _parse_int(("-" if negative else "") + body, radix, bits)


INTEGER: Static = {
    ("parseInt", 1): (lambda s: _parse_int(s), "int", ("String",)),
    ("parseInt", 2): (lambda s, r: _parse_int(s, r), "int", ("String", "int")),
    ("valueOf", 1): (_integer_value_of, "Integer", ("int",)),
    ("valueOf", 2): (_integer_value_of, "Integer", ("String", "int")),
    ("decode", 1): (lambda s: _decode(s, 32), "Integer", ("String",)),
    ("toString", 1): (lambda n: str(n), "String", ("int",)),
    ("toString", 2): (_to_radix, "String", ("int", "int")),
    ("toHexString", 1): (lambda n: _unsigned(n, 32, 4), "String", ("int",)),
    ("toBinaryString", 1): (lambda n: _unsigned(n, 32, 1), "String", ("int",)),
    ("toOctalString", 1): (lambda n: _unsigned(n, 32, 3), "String", ("int",)),
    ("compare", 2): (lambda a, b: (a > b) - (a < b), "int", ("int", "int")),
    ("max", 2): (max, "int", ("int", "int")),
    ("min", 2): (min, "int", ("int", "int")),
    ("signum", 1): (lambda n: (n > 0) - (n < 0), "int", ("int",)),
    ("sum", 2): (lambda a, b: wrap_int(a + b), "int", ("int", "int")),
}
INTEGER_FIELDS = {"MAX_VALUE": (INT_MAX, "int"), "MIN_VALUE": (INT_MIN, "int"), "SIZE": (32, "int"), "BYTES": (4, "int")}
LONG: Static = {
    ("parseLong", 1): (lambda s: JLong(_parse_int(s, 10, 64)), "long", ("String",)),
    ("parseLong", 2): (lambda s, r: JLong(_parse_int(s, r, 64)), "long", ("String", "int")),
    ("valueOf", 1): (lambda n: n, "Long", ("long",)),
    ("valueOf", 2): (lambda s, r: JLong(_parse_int(s, r, 64)), "Long", ("String", "int")),
    ("decode", 1): (lambda s: JLong(_decode(s, 64)), "Long", ("String",)),
    ("toString", 1): (lambda n: str(int(n)), "String", ("long",)),
    ("toString", 2): (lambda n, r: _to_radix(int(n), r), "String", ("long", "int")),
    ("toHexString", 1): (lambda n: _unsigned(int(n), 64, 4), "String", ("long",)),
    ("toBinaryString", 1): (lambda n: _unsigned(int(n), 64, 1), "String", ("long",)),
    ("compare", 2): (lambda a, b: (a > b) - (a < b), "int", ("long", "long")),
    ("max", 2): (lambda a, b: JLong(max(a, b)), "long", ("long", "long")),
    ("min", 2): (lambda a, b: JLong(min(a, b)), "long", ("long", "long")),
    ("sum", 2): (lambda a, b: JLong(((a + b - LONG_MIN) & 0xFFFFFFFFFFFFFFFF) + LONG_MIN), "long", ("long", "long")),
    ("signum", 1): (lambda n: (n > 0) - (n < 0), "int", ("long",)),
}
LONG_FIELDS = {"MAX_VALUE": (JLong(LONG_MAX), "long"), "MIN_VALUE": (JLong(LONG_MIN), "long"), "SIZE": (64, "int"), "BYTES": (8, "int")}
DOUBLE: Static = {
    ("parseDouble", 1): (_parse_double, "double", ("String",)),
    ("valueOf", 1): (lambda x: x, "Double", ("double",)),
    ("toString", 1): (jstr, "String", ("double",)),
    ("isNaN", 1): (lambda x: x != x, "boolean", ("double",)),
    ("isInfinite", 1): (math.isinf, "boolean", ("double",)),
    ("isFinite", 1): (math.isfinite, "boolean", ("double",)),
    ("compare", 2): (lambda a, b: number_compare(a, b), "int", ("double", "double")),
    ("max", 2): (_java_max, "double", ("double", "double")),
    ("min", 2): (_java_min, "double", ("double", "double")),
    ("sum", 2): (lambda a, b: a + b, "double", ("double", "double")),
}
DOUBLE_FIELDS = {
    "MAX_VALUE": (1.7976931348623157e308, "double"), "MIN_VALUE": (5e-324, "double"), "NaN": (math.nan, "double"),
    "POSITIVE_INFINITY": (math.inf, "double"), "NEGATIVE_INFINITY": (-math.inf, "double"),
}  # fmt: skip
FLOAT: Static = {
    ("parseFloat", 1): (_parse_float, "float", ("String",)),
    ("valueOf", 1): (lambda x: x, "Float", ("float",)),
    ("toString", 1): (jstr, "String", ("float",)),
    ("isNaN", 1): (lambda x: x != x, "boolean", ("float",)),
    ("compare", 2): (lambda a, b: number_compare(a, b), "int", ("float", "float")),
}
FLOAT_FIELDS = {"MAX_VALUE": (JFloat(f32(3.4028234663852886e38)), "float"), "MIN_VALUE": (JFloat(f32(1.401298464324817e-45)), "float")}


def _parse_boolean(s: Any) -> bool:
    return isinstance(s, str) and s.lower() == "true"


BOOLEAN_STATIC: Static = {
    ("parseBoolean", 1): (_parse_boolean, "boolean", ("String",)),
    ("valueOf", 1): (lambda b: b, "Boolean", ("boolean",)),
    ("toString", 1): (jstr, "String", ("boolean",)),
    ("compare", 2): (lambda a, b: (a > b) - (a < b), "int", ("boolean", "boolean")),
    ("logicalAnd", 2): (lambda a, b: a and b, "boolean", ("boolean", "boolean")),
    ("logicalOr", 2): (lambda a, b: a or b, "boolean", ("boolean", "boolean")),
    ("logicalXor", 2): (lambda a, b: a != b, "boolean", ("boolean", "boolean")),
}
BOOLEAN_FIELDS = {"TRUE": (True, "Boolean"), "FALSE": (False, "Boolean")}


def _code_point(v: Any) -> int:
    return ord(v) if type(v) is JChar else int(v)


def _char_test(test: Callable[[str], bool]) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        code = _code_point(v)
        return 0 <= code <= 0x10FFFF and test(chr(code))

    return check


def _java_whitespace(c: str) -> bool:
    # Character.isWhitespace: Unicode space separators except no-break ones, and \t\n\x0b\f\r\x1c-\x1f.
    return c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f" or c.isspace() and c not in "\xa0\u2007\u202f\x85"


def _numeric_value(v: Any) -> int:
    c = chr(_code_point(v))
    if c.isdecimal():
        return int(c)
    return ord(c.lower()) - ord("a") + 10 if c.isascii() and c.isalpha() else -1


CHARACTER: Static = {
    ("isDigit", 1): (_char_test(lambda c: c.isdecimal()), "boolean", ("int",)),
    ("isLetter", 1): (_char_test(str.isalpha), "boolean", ("int",)),
    ("isLetterOrDigit", 1): (_char_test(lambda c: c.isalpha() or c.isdecimal()), "boolean", ("int",)),
    ("isAlphabetic", 1): (_char_test(str.isalpha), "boolean", ("int",)),
    ("isWhitespace", 1): (_char_test(_java_whitespace), "boolean", ("int",)),
    ("isSpaceChar", 1): (_char_test(lambda c: c in " \xa0\u1680\u2028\u2029\u202f\u205f\u3000" or "\u2000" <= c <= "\u200a"), "boolean", ("int",)),
    ("isUpperCase", 1): (_char_test(str.isupper), "boolean", ("int",)),
    ("isLowerCase", 1): (_char_test(str.islower), "boolean", ("int",)),
    ("toUpperCase", 1): (lambda c: JChar(simple_case(str(c), True)), "char", ("char",)),
    ("toLowerCase", 1): (lambda c: JChar(simple_case(str(c), False)), "char", ("char",)),
    ("toString", 1): (lambda c: str(c), "String", ("char",)),
    ("valueOf", 1): (lambda c: c, "Character", ("char",)),
    ("getNumericValue", 1): (_numeric_value, "int", ("int",)),
    ("compare", 2): (lambda a, b: ord(a) - ord(b), "int", ("char", "char")),
}


def _java_format(fmt: str, *args: Any) -> str:
    """String.format for %s, %d, %x, %f, %n and %% (width, flags and precision as in Java for
    those); any other conversion is refused rather than printed differently."""
    import re

    values = list(args[0]) if len(args) == 1 and isinstance(args[0], JArray) else list(args)
    out: list[str] = []
    position = 0
    index = 0
    for m in re.finditer(r"%(\d+\$)?([-#+ 0,(]*)(\d+)?(\.\d+)?([a-zA-Z%])", need_arg(fmt)):
        out.append(fmt[position : m.start()])
        position = m.end()
        conv = m.group(5)
        if conv == "%":
            out.append("%")
            continue
        if conv == "n":
            out.append("\n")
            continue
        if m.group(1):
            value = values[int(m.group(1)[:-1]) - 1]
        else:
            if index >= len(values):
                raise PainlessRuntimeError(f"Format specifier '{m.group()}'", "MissingFormatArgumentException")
            value = values[index]
            index += 1
        flags, width, precision = m.group(2) or "", m.group(3) or "", m.group(4) or ""
        if conv in "sS":
            text = jstr(value)
            if precision:
                text = text[: int(precision[1:])]
            text = text.upper() if conv == "S" else text
        elif conv in "dxXo":
            if num_kind(value) not in (1, 2) or type(value) is JChar:
                raise PainlessRuntimeError(f"{conv} != {jclass(value)}", "IllegalFormatConversionException")
            n = int(value)
            if conv == "d":
                text = format(n, ("," if "," in flags else "") + "d")
            else:
                bits = 32 if num_kind(value) == 1 else 64
                text = format(n & ((1 << bits) - 1) if n < 0 else n, {"x": "x", "X": "X", "o": "o"}[conv])
        elif conv in "fe":
            if num_kind(value) not in (3, 4):
                raise PainlessRuntimeError(f"{conv} != {jclass(value)}", "IllegalFormatConversionException")
            text = format(float(value), ("," if "," in flags else "") + (precision or ".6") + conv)
        else:
            raise unsupported_op(f"the format conversion %{conv} is not supported by the offline engine")
        if "+" in flags and conv in "dfe" and not text.startswith("-"):
            text = "+" + text
        if width:
            pad = "0" if "0" in flags and conv not in "sS" else " "
            text = text.ljust(int(width)) if "-" in flags else (text.rjust(int(width), pad) if pad == " " else _zero_pad(text, int(width)))
        out.append(text)
    out.append(fmt[position:])
    return "".join(out)


def _zero_pad(text: str, width: int) -> str:
    sign = text[0] if text[:1] in "+-" else ""
    return sign + text[len(sign) :].rjust(width - len(sign), "0")


def _string_join(sep: str, items: Any) -> str:
    """String.join(CharSequence, Iterable): each element must be a CharSequence (null prints "null")."""
    parts = []
    for x in elements(items) if not isinstance(items, JArray) else list(items):
        if x is not None and not (isinstance(x, str) and type(x) is not JChar or isinstance(x, StringBuilder)):
            raise cce(java_cast_message(jclass(x), "java.lang.CharSequence"))
        parts.append(jstr(x))
    return str(need_arg(sep, message=null_arg_message("java.lang.CharSequence.toString()", "delimiter"))).join(parts)


STRING_STATIC: Static = {
    ("valueOf", 1): (jstr, "String", ("def",)),
    ("join", 2): (_string_join, "String", ("CharSequence", "def")),
    ("format", 1): (_java_format, "String", ("String",)),
    ("copyValueOf", 1): (lambda chars: "".join(str(c) for c in chars), "String", ("char[]",)),
}
STRING_VARARGS = {"format"}


def _sort(v: list[Any], comparator: Any = None) -> None:
    sort_list(v, comparator)


def _collections_max(c: Any, comparator: Any = None) -> Any:
    items = elements(c)
    if not items:
        raise PainlessRuntimeError(None, "NoSuchElementException")
    return max(items, key=sort_key(comparator))


def _collections_min(c: Any, comparator: Any = None) -> Any:
    items = elements(c)
    if not items:
        raise PainlessRuntimeError(None, "NoSuchElementException")
    return min(items, key=sort_key(comparator))


def _reverse(v: list[Any]) -> None:
    check_settable(v)
    v.reverse()


COLLECTIONS: Static = {
    ("sort", 1): (_sort, "void", ("List",)),
    ("sort", 2): (_sort, "void", ("List", "Comparator")),
    ("reverse", 1): (_reverse, "void", ("List",)),
    ("emptyList", 0): (lambda: FrozenList(), "List", ()),
    ("emptyMap", 0): (lambda: FrozenMap(), "Map", ()),
    ("emptySet", 0): (lambda: HashSet(), "Set", ()),
    ("singletonList", 1): (lambda x: FrozenList([x]), "List", ("def",)),
    ("singletonMap", 2): (lambda k, v: FrozenMap({k: v}), "Map", ("def", "def")),
    ("singleton", 1): (lambda x: HashSet([x]), "Set", ("def",)),
    ("unmodifiableList", 1): (lambda v: FrozenList(need_arg(v)), "List", ("List",)),
    ("unmodifiableMap", 1): (lambda m: FrozenMap(need_arg(m)), "Map", ("Map",)),
    ("max", 1): (_collections_max, "def", ("Collection",)),
    ("max", 2): (_collections_max, "def", ("Collection", "Comparator")),
    ("min", 1): (_collections_min, "def", ("Collection",)),
    ("min", 2): (_collections_min, "def", ("Collection", "Comparator")),
    ("frequency", 2): (lambda c, x: sum(1 for e in elements(c) if java_equals(x, e)), "int", ("Collection", "def")),
    ("nCopies", 2): (lambda n, x: FrozenList([x] * n), "List", ("int", "def")),
    ("reverseOrder", 0): (lambda: REVERSE, "Comparator", ()),
    ("disjoint", 2): (lambda a, b: not any(collection_contains(b, x) for x in elements(a)), "boolean", ("Collection", "Collection")),
}


def _as_list(*args: Any) -> FixedList:
    if len(args) == 1 and isinstance(args[0], JArray):
        return FixedList(args[0])
    return FixedList(args)


ARRAYS: Static = {("asList", 1): (_as_list, "List", ("def",))}
ARRAYS_VARARGS = {"asList"}


def _require_non_null(v: Any, message: str | None = None) -> Any:
    if v is None:
        raise npe(message or "")
    return v


OBJECTS: Static = {
    ("equals", 2): (java_equals, "boolean", ("Object", "Object")),
    ("isNull", 1): (lambda v: v is None, "boolean", ("Object",)),
    ("nonNull", 1): (lambda v: v is not None, "boolean", ("Object",)),
    ("hashCode", 1): (java_hash, "int", ("Object",)),
    ("toString", 1): (jstr, "String", ("Object",)),
    ("toString", 2): (lambda v, d: d if v is None else jstr(v), "String", ("Object", "String")),
    ("requireNonNull", 1): (_require_non_null, "def", ("def",)),
    ("requireNonNull", 2): (_require_non_null, "def", ("def", "String")),
}


def _key_extractor(fn: Callable[[Any], Any], then: Any = None) -> Comparator:
    inner = then or java_compare
    return Comparator(lambda a, b: int(num_value(inner(fn(a), fn(b)))))


COMPARATOR_STATIC: Static = {
    ("comparing", 1): (_key_extractor, "Comparator", ("Function",)),
    ("comparing", 2): (_key_extractor, "Comparator", ("Function", "Comparator")),
    ("comparingInt", 1): (_key_extractor, "Comparator", ("ToIntFunction",)),
    ("comparingLong", 1): (_key_extractor, "Comparator", ("ToLongFunction",)),
    ("comparingDouble", 1): (_key_extractor, "Comparator", ("ToDoubleFunction",)),
    ("naturalOrder", 0): (lambda: NATURAL, "Comparator", ()),
    ("reverseOrder", 0): (lambda: REVERSE, "Comparator", ()),
}
ENTRY_STATIC: Static = {
    ("comparingByKey", 0): (lambda: Comparator(lambda a, b: java_compare(a.key, b.key)), "Comparator", ()),
    ("comparingByValue", 0): (lambda: Comparator(lambda a, b: java_compare(a.value(), b.value())), "Comparator", ()),
    ("comparingByKey", 1): (lambda c: Comparator(lambda a, b: int(num_value(c(a.key, b.key)))), "Comparator", ("Comparator",)),
    ("comparingByValue", 1): (lambda c: Comparator(lambda a, b: int(num_value(c(a.value(), b.value())))), "Comparator", ("Comparator",)),
}


def _to_map(key_fn: Callable[[Any], Any], value_fn: Callable[[Any], Any], merge: Any = None) -> Collector:
    def finish(items: list[Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for x in items:
            key, value = key_fn(x), value_fn(x)
            if value is None:
                raise npe("toMap value is null")
            if key in out:
                if merge is None:
                    raise PainlessRuntimeError(
                        f"Duplicate key {jstr(key)} (attempted merging values {jstr(out[key])} and {jstr(value)})", "IllegalStateException"
                    )
                value = merge(out[key], value)
            out[key] = value
        return out

    return Collector(finish)


def _grouping_by(fn: Callable[[Any], Any]) -> Collector:
    def finish(items: list[Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for x in items:
            out.setdefault(fn(x), []).append(x)
        return out

    return Collector(finish)


def _joining(sep: str, prefix: str, suffix: str) -> Collector:
    return Collector(lambda xs: jstr(prefix) + jstr(sep).join(jstr(x) for x in xs) + jstr(suffix))


COLLECTORS: Static = {
    ("toList", 0): (lambda: Collector(list), "Collector", ()),
    ("toSet", 0): (lambda: Collector(HashSet), "Collector", ()),
    ("joining", 0): (lambda: Collector(lambda xs: "".join(need_arg(x, "toString") and jstr(x) for x in xs)), "Collector", ()),
    ("joining", 1): (lambda sep: Collector(lambda xs: jstr(sep).join(jstr(x) for x in xs)), "Collector", ("CharSequence",)),
    ("joining", 3): (_joining, "Collector", ("CharSequence", "CharSequence", "CharSequence")),
    ("toMap", 2): (_to_map, "Collector", ("Function", "Function")),
    ("toMap", 3): (_to_map, "Collector", ("Function", "Function", "BinaryOperator")),
    ("groupingBy", 1): (_grouping_by, "Collector", ("Function",)),
    ("counting", 0): (lambda: Collector(lambda xs: JLong(len(xs))), "Collector", ()),
}
PATTERN_STATIC: Static = {("quote", 1): (lambda s: "\\Q" + need_arg(s) + "\\E", "String", ("String",))}

# Static classes: name -> (methods, fields).
STATIC_CLASSES: dict[str, tuple[Static, dict[str, tuple[Any, str]]]] = {
    "Math": (MATH, MATH_FIELDS),
    "StrictMath": (MATH, MATH_FIELDS),
    "Integer": (INTEGER, INTEGER_FIELDS),
    "Long": (LONG, LONG_FIELDS),
    "Double": (DOUBLE, DOUBLE_FIELDS),
    "Float": (FLOAT, FLOAT_FIELDS),
    "Boolean": (BOOLEAN_STATIC, BOOLEAN_FIELDS),
    "Character": (CHARACTER, {"MIN_VALUE": (JChar("\0"), "char"), "MAX_VALUE": (JChar("\uffff"), "char")}),
    "String": (STRING_STATIC, {}),
    "Collections": (COLLECTIONS, {}),
    "Arrays": (ARRAYS, {}),
    "Objects": (OBJECTS, {}),
    "Comparator": (COMPARATOR_STATIC, {}),
    "Map.Entry": (ENTRY_STATIC, {}),
    "Collectors": (COLLECTORS, {}),
    "Pattern": (PATTERN_STATIC, {}),
}
VARARGS = {("String", "format"), ("Arrays", "asList")}

# Types a script may name that this engine deliberately leaves out: a clear compile error.
UNSUPPORTED_TYPES = frozenset(
    {
        "byte", "short", "Byte", "Short", "ZonedDateTime", "Instant", "LocalDate", "LocalDateTime", "LocalTime",
        "OffsetDateTime", "ZoneId", "ZoneOffset", "Duration", "Period", "DateTimeFormatter", "ChronoUnit",
        "ChronoField", "TemporalAdjusters", "DayOfWeek", "Month", "Year", "Date", "Calendar", "TimeZone",
        "BigInteger", "BigDecimal", "UUID", "Base64", "Random", "Locale", "TreeSet", "LinkedHashSet", "LinkedList",
        "ArrayDeque", "Deque", "Queue", "Stack", "Vector", "Hashtable", "IdentityHashMap", "StringBuffer",
        "StringJoiner", "BitSet", "Formatter", "InetAddress", "DecimalFormat", "NumberFormat",
        "SimpleDateFormat", "IntStream", "LongStream", "DoubleStream", "Function", "BiFunction", "Predicate",
        "Consumer", "Supplier", "Debug", "JodaCompatibleZonedDateTime",
    }
)  # fmt: skip


def constructor(type_name: str, arity: int) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
    """`new T(args)`: the implementation and parameter types, or None if not available."""
    return _CONSTRUCTORS.get((type_name, arity))


def _new_map(kind: type) -> Callable[..., Any]:
    def make(*args: Any) -> Any:
        m = kind()
        if args:
            for key in map_keys(need_arg(args[0], "putAll")):
                m[key] = args[0][key]
        return m

    return make


def _new_exception(name: str) -> Callable[..., Any]:
    return lambda *args: CaughtException(name, args[0] if args else None)


_CONSTRUCTORS: dict[tuple[str, int], tuple[Callable[..., Any], tuple[str, ...]]] = {
    ("HashMap", 0): (_new_map(dict), ()),
    ("HashMap", 1): (_new_map(dict), ("Map",)),
    ("LinkedHashMap", 0): (_new_map(LinkedHashMap), ()),
    ("LinkedHashMap", 1): (_new_map(LinkedHashMap), ("Map",)),
    ("TreeMap", 0): (_new_map(TreeMap), ()),
    ("TreeMap", 1): (_new_map(TreeMap), ("Map",)),
    ("ArrayList", 0): (lambda: [], ()),
    ("ArrayList", 1): (lambda c: list(elements(c)), ("Collection",)),
    ("HashSet", 0): (lambda: HashSet(), ()),
    ("HashSet", 1): (lambda c: HashSet(elements(c)), ("Collection",)),
    ("StringBuilder", 0): (lambda: StringBuilder(), ()),
    ("StringBuilder", 1): (lambda s: StringBuilder(need_arg(s)), ("CharSequence",)),
    ("String", 0): (lambda: "", ()),
    ("CIDR", 1): (CIDR, ("String",)),
    ("StringTokenizer", 1): (StringTokenizer, ("String",)),
    ("StringTokenizer", 2): (StringTokenizer, ("String", "String")),
    ("StringTokenizer", 3): (StringTokenizer, ("String", "String", "boolean")),
}
for _exception in EXCEPTION_PARENTS:
    _CONSTRUCTORS[(_exception, 0)] = (_new_exception(_exception), ())
    _CONSTRUCTORS[(_exception, 1)] = (_new_exception(_exception), ("String",))
