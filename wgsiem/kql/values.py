"""Values as Elasticsearch reads them: numbers, booleans, IP addresses, keyword strings.

Two directions for each type: what a document's `_source` value is indexed as (coercion
at index time; a value Elasticsearch would reject yields None, "no value", since the
evaluator cannot refuse a document), and what a query's value means (Java's parsing in
the field mappers, with their errors and their "matches nothing" cases).
"""

from __future__ import annotations

import ipaddress
import math
import re
import struct
from decimal import Decimal

from .ast import js_string

# -- Java's number parsing -------------------------------------------------------------------

# Double.parseDouble: surrounding characters <= ' ' are trimmed; NaN, Infinity, decimal
# with exponent, an optional f/F/d/D suffix, or a hexadecimal float.
_JAVA_DECIMAL = re.compile(r"([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?", re.ASCII)
_JAVA_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?", re.ASCII)
_JAVA_TRIM = "".join(chr(i) for i in range(33))
# new BigDecimal(String): no whitespace, no suffix, no NaN.
_BIG_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_JAVA_LONG = re.compile(r"[+-]?\d+", re.ASCII)

_UNSIGNED = re.compile(r"\+?\d+", re.ASCII)

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
ULONG_MAX = 2**64 - 1
INT_RANGES = {"byte": (-(2**7), 2**7 - 1), "short": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1), "long": (LONG_MIN, LONG_MAX)}
INTEGER_TYPES = frozenset(INT_RANGES)
FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES | {"unsigned_long"}


class JavaNumberFormat(ValueError):  # noqa: N818 - Java's NumberFormatException, caught where numbers are read
    """Java's NumberFormatException: `For input string: "abc"`."""

    def __init__(self, text: str) -> None:
        super().__init__(f'For input string: "{text}"')


def java_double(text: str) -> float:
    """Double.parseDouble."""
    s = text.strip(_JAVA_TRIM)
    m = _JAVA_DECIMAL.fullmatch(s)
    if m:
        sign, body = m.group(1), m.group(2)
        value = float(body) if body not in ("NaN", "Infinity") else (math.nan if body == "NaN" else math.inf)
        return -value if sign == "-" else value
    if _JAVA_HEX.fullmatch(s):
        return float.fromhex(s.rstrip("fFdD"))
    raise JavaNumberFormat(text)


def big_decimal(text: str) -> Decimal:
    """new BigDecimal(String)."""
    if not _BIG_DECIMAL.fullmatch(text):
        raise JavaNumberFormat(text)
    return Decimal(text)


def to_float32(value: float) -> float:
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def to_half(value: float) -> float:
    try:
        return struct.unpack("e", struct.pack("e", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def has_decimal_part(text: str) -> bool:
    """NumberType.hasDecimalPart for a string: through a double, as Java does."""
    d = java_double(text)
    return not math.isfinite(d) or d % 1 != 0


def _trunc_long(d: Decimal) -> int:
    return int(d)  # BigDecimal.toBigInteger truncates toward zero, as int() does


def numbers_to_long(text: str, coerce: bool = True) -> int:
    """org.elasticsearch.common.Numbers.toLong(String, coerce)."""
    if _JAVA_LONG.fullmatch(text):
        value = int(text)
        if LONG_MIN <= value <= LONG_MAX:
            return value
    d = big_decimal(text)
    if d >= Decimal(LONG_MAX) + 1 or d <= Decimal(LONG_MIN) - 1:
        raise ValueError(f"Value [{text}] is out of range for a long")
    if not coerce and d != d.to_integral_value():
        raise ValueError(f"Value [{text}] has a decimal part")
    return _trunc_long(d)


# -- query values ----------------------------------------------------------------------------


class NoMatch(Exception):  # noqa: N818 - a signal: the value matches no document
    """The value is well formed but cannot match any document (Elasticsearch answers with a
    match_none query and a reason, e.g. "Value [1.5] has a decimal part")."""


def integer_term(es_type: str, text: str) -> int:
    """NumberType.termQuery for byte/short/integer/long: the integer to look for."""
    if has_decimal_part(text):
        raise NoMatch(f"Value [{text}] has a decimal part")
    low, high = INT_RANGES[es_type]
    if es_type == "long":
        if not LONG_MIN <= big_decimal(text) <= LONG_MAX:
            raise NoMatch(f"Value [{text}] is out of range")
        return numbers_to_long(text)
    d = java_double(text)
    if not low <= d <= high:
        raise NoMatch(f"Value [{text}] is out of range")
    return int(d)


def integer_bound(es_type: str, text: str, lower: bool, inclusive: bool) -> int | None:
    """One bound of NumberType.rangeQuery for an integer type as an inclusive integer;
    None when the range is empty (a bound beyond the type's last value)."""
    low, high = INT_RANGES[es_type]
    d = java_double(text)
    if es_type == "long":
        if not LONG_MIN <= d <= LONG_MAX:  # compared as doubles, as objectToLong does
            raise ValueError(f"Value [{text}] is out of range for a long")
        value = numbers_to_long(text)
    else:
        if not low <= d <= high:
            name = "an integer" if es_type == "integer" else f"a {es_type}"
            raise ValueError(f"Value [{text}] is out of range for {name}")
        value = int(d)
    decimal = not math.isfinite(d) or d % 1 != 0
    if lower:
        if (not decimal and not inclusive) or (decimal and d > 0):
            if value == high:
                return None
            value += 1
    elif (not decimal and not inclusive) or (decimal and d < 0):
        if value == low:
            return None
        value -= 1
    return value


def unsigned_term(text: str) -> int:
    """UnsignedLongFieldType.parseTerm."""
    if _UNSIGNED.fullmatch(text) and int(text) <= ULONG_MAX:
        return int(text)
    java_double(text)  # a malformed number is an error; any other number matches nothing
    raise NoMatch(f"Value [{text}] is not an unsigned long")


def unsigned_bound(text: str, lower: bool, inclusive: bool) -> int | None:
    """parseLowerRangeTerm / parseUpperRangeTerm as an inclusive bound; None: empty range."""
    d = big_decimal(text)
    decimal = d != d.to_integral_value()
    if lower:
        if d <= 0:
            return 0
        if d > ULONG_MAX or (d == ULONG_MAX and not inclusive):
            return None
        value = _trunc_long(d)
        return value + 1 if (not inclusive or decimal) else value
    if d < 0 or (d == 0 and not inclusive):
        return None
    if d > ULONG_MAX:
        return ULONG_MAX
    value = _trunc_long(d)
    return value - 1 if (not inclusive and not decimal) else value


# -- document values -------------------------------------------------------------------------


def doc_integer(value: object, es_type: str) -> int | None:
    """An integer field's indexed value (coerce on: decimals truncate, numeric strings parse)."""
    low, high = INT_RANGES[es_type]
    cls = value.__class__
    if cls is int:
        result = value
    elif cls is float:
        if not math.isfinite(value):
            return None
        result = int(value)
    elif cls is str:
        text = value.strip(_JAVA_TRIM)
        if not text:
            return None
        try:
            if es_type == "long":
                result = numbers_to_long(text)
            else:
                result = int(java_double(text))
        except ValueError:
            return None
    else:
        return None
    return result if low <= result <= high else None


def doc_unsigned(value: object) -> int | None:
    cls = value.__class__
    if cls is int:
        return value if 0 <= value <= ULONG_MAX else None
    if cls is float:
        return int(value) if math.isfinite(value) and value == math.floor(value) and 0 <= value <= ULONG_MAX else None
    if cls is str:
        if value == "":
            return None
        if _UNSIGNED.fullmatch(value):
            n = int(value)
            return n if n <= ULONG_MAX else None
        try:
            d = big_decimal(value)
        except ValueError:
            return None
        if d != d.to_integral_value() or not 0 <= d <= ULONG_MAX:
            return None
        return int(d)
    return None


def doc_floating(value: object, es_type: str, scaling_factor: float | None = None) -> float | None:
    cls = value.__class__
    if cls is int or cls is float:
        d = float(value)
    elif cls is str:
        if value == "":
            return None
        try:
            d = java_double(value)
        except ValueError:
            return None
    else:
        return None
    if es_type == "float":
        d = to_float32(d)
    elif es_type == "half_float":
        d = to_half(d)
    elif es_type == "scaled_float" and scaling_factor is not None:
        if not math.isfinite(d):
            return None
        return float(math.floor(d * scaling_factor + 0.5))  # the stored long: Math.round
    return d if math.isfinite(d) else None


def doc_boolean(value: object) -> bool | None:
    if value is True or value is False:
        return value
    if value == "true":
        return True
    if value == "false" or value == "":
        return False  # an empty string is false to Elasticsearch's boolean parser
    return None


def query_boolean(value: object) -> bool:
    """BooleanFieldType.indexedValueForSearch."""
    text = js_string(value)
    if text == "true":
        return True
    if text == "false":
        return False
    raise ValueError(f"Can't parse boolean value [{text}], expected [true] or [false]")


def keyword_of(value: object) -> str | None:
    """A keyword field's indexed string for a `_source` scalar: JSON numbers and booleans
    index as their text (Python's float repr stands in for the JSON number's text)."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if cls is float:
        return repr(value) if math.isfinite(value) else None
    return None


def utf16_length(text: str) -> int:
    """Java's String.length, which ignore_above counts in."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF) if not text.isascii() else len(text)


# -- IP addresses ----------------------------------------------------------------------------

_V4_MAPPED = 0xFFFF << 32
_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)
IP_CACHE: dict[str, int | None] = {}
IP_CACHE_LIMIT = 200_000


def parse_ip(text: str) -> int:
    """InetAddresses.forString as a 128-bit number, IPv4 in the IPv4-mapped IPv6 range
    (as InetAddressPoint encodes it, so ::ffff:1.2.3.4 and 1.2.3.4 are one address)."""
    m = _IPV4.fullmatch(text)
    if m:
        octets = m.groups()
        if all(int(o) <= 255 and (len(o) == 1 or o[0] != "0") for o in octets):
            a, b, c, d = (int(o) for o in octets)
            return _V4_MAPPED | (a << 24) | (b << 16) | (c << 8) | d
        raise ValueError(f"'{text}' is not an IP string literal.")
    if ":" in text and "%" not in text:
        try:
            return int(ipaddress.IPv6Address(text))
        except ValueError:
            pass
    raise ValueError(f"'{text}' is not an IP string literal.")


def doc_ip(value: object) -> int | None:
    """A document's IP value as a number, None if Elasticsearch would reject it; memoised,
    since the same addresses come by again and again."""
    if value.__class__ is not str:
        return None
    hit = IP_CACHE.get(value, -1)
    if hit != -1:
        return hit
    try:
        result: int | None = parse_ip(value)
    except ValueError:
        result = None
    if len(IP_CACHE) >= IP_CACHE_LIMIT:
        IP_CACHE.clear()
    IP_CACHE[value] = result
    return result


def is_ipv4_mapped(number: int) -> bool:
    return number >> 32 == 0xFFFF


def parse_cidr(text: str) -> tuple[int, int]:
    """InetAddresses.parseCidr + InetAddressPoint.newPrefixQuery: the inclusive range of
    addresses the prefix covers."""
    fields = text.split("/")
    while len(fields) > 1 and fields[-1] == "":  # Java's split drops trailing empty strings
        fields.pop()
    if len(fields) != 2:
        raise ValueError(f"Expected [ip/prefix] but was [{text}]")
    address_text, prefix_text = fields
    address = parse_ip(address_text)
    v4 = _IPV4.fullmatch(address_text) is not None
    if ":" in address_text and is_ipv4_mapped(address):
        raise ValueError(
            f"CIDR notation is not allowed with IPv6-mapped IPv4 address [{address_text} as it introduces ambiguity as to "
            "whether the prefix length should be interpreted as a v4 prefix length or a v6 prefix length"
        )
    if not _JAVA_LONG.fullmatch(prefix_text):
        raise ValueError(f'For input string: "{prefix_text}"')
    prefix = int(prefix_text)
    bits = 32 if v4 else 128
    if not 0 <= prefix <= bits:
        raise ValueError(f"illegal prefixLength '{prefix}'. Must be 0-{bits}")
    prefix += 128 - bits
    span = (1 << (128 - prefix)) - 1
    low = address & ~span
    return low, low | span
