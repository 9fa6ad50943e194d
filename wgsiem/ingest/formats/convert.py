"""The convert processor's value conversion, with Elasticsearch's (Java's) semantics.

Elasticsearch converts by printing the value with Java's `toString()` and parsing that text
with the Java parser of the target type (`Integer.parseInt`, `Long.decode`,
`Float.parseFloat`, ...). The quirks that follow are kept on purpose:

* `integer`/`long`: decimal digits with an optional sign, or hex when the text starts with
  `0x` or `-0x` (not `0X`, not `+0x`); out of the 32/64-bit range is an error; `123.0`, a
  double `123.0` and `true` are errors.
* `float`/`double`: Java's floating-point grammar (surrounding whitespace, `1e5`, `1.5f`,
  `0x1.8p1`, `NaN`, `Infinity`); `0x7b` (hex without a `p` exponent) is an error. A float is
  rounded to 32 bits and then given as the Python float that prints the way Java prints that
  float (123.45f prints "123.45", so 123.45 here, not 123.44999694824219).
* `boolean`: only "true"/"false", any case; `1`, "yes", "on" are errors.
* `ip`: the value must be a string holding an address Elasticsearch's parser accepts; it is
  kept unchanged.
* `string`: Java's `toString()` (1.0 stays "1.0", 1e20 gives "1.0E20", True gives "true").
* `auto`: only strings are converted, trying boolean, integer, long, float, double in that
  order and keeping the string when none fits; anything else is returned as it is.

Sources: ConvertProcessor.java and ConvertProcessorTests.java (its NumericConversionTestMatrix)
in modules/ingest-common, and the ES 9 convert processor page
(docs/reference/enrich-processor/convert-processor.md).
"""

from __future__ import annotations

import ipaddress
import math
import re
import struct
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ...errors import WgsiemError
from ..java.strings import java_trim

CONVERT_TYPES: tuple[str, ...] = ("integer", "long", "float", "double", "string", "boolean", "ip", "auto")

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


class ConvertError(WgsiemError):
    """The value cannot be converted; the message has Elasticsearch's meaning."""


# --- Java's toString ----------------------------------------------------------------------


def java_str(value: Any) -> str:
    """`String.valueOf(value)` for a JSON value as Elasticsearch holds it (and the ingest
    timestamp): what templates and string conversions print."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: True is an int in Python
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, dict):  # AbstractMap.toString
        return "{" + ", ".join(f"{java_str(k)}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):  # AbstractCollection.toString
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if isinstance(value, datetime):
        return iso_timestamp(value)
    return str(value)


def iso_timestamp(moment: datetime) -> str:
    """ZonedDateTime's ISO form in UTC, as `_ingest.timestamp` renders."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def _shortest_digits(x: float, round_trips: Any, max_digits: int) -> tuple[str, int]:
    """Digits and exponent of the decimal Java's Double/Float.toString picks for |x| > 0.

    The shortest decimal that rounds back to x; when that has one digit, Java (JDK 19+,
    which Elasticsearch 9 bundles) also considers two-digit decimals and takes the closest
    to x (why Double.MIN_VALUE prints 4.9E-324, not 5.0E-324). Returns (digits, exponent)
    with value = 0.digits * 10**exponent.
    """
    exact = Decimal(abs(x))
    chosen = None
    for precision in range(1, max_digits + 1):
        text = f"{abs(x):.{precision - 1}e}"
        if round_trips(Decimal(text)):
            chosen = Decimal(text)
            if precision == 1:
                two = Decimal(f"{abs(x):.1e}")
                if round_trips(two) and abs(two - exact) < abs(chosen - exact):
                    chosen = two
            break
    if chosen is None:  # cannot happen for finite values; keep the full repr
        chosen = Decimal(repr(abs(x)))
    sign, digits, exponent = chosen.normalize().as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return text, exponent + len(digits)


def _java_decimal_text(negative: bool, digits: str, point: int) -> str:
    """Java's layout: plain for 1e-3 <= |v| < 1e7, else d.dddE±n; always a fraction digit."""
    sign = "-" if negative else ""
    if -2 <= point <= 7:  # 10**-3 <= v < 10**7 (point = position of the decimal point)
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole = digits[:point].ljust(point, "0")
        fraction = digits[point:] or "0"
        return f"{sign}{whole}.{fraction}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def java_double_to_string(x: float) -> str:
    """Java's `Double.toString(x)`: "1.0", "1.0E20", "1.0E-4", "NaN", "-Infinity"."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    digits, point = _shortest_digits(x, lambda d: float(d) == abs(x), 17)
    return _java_decimal_text(x < 0, digits, point)


# --- 32-bit floats -------------------------------------------------------------------------

_F32_MAX_HALF_UP = Fraction(2**128) - Fraction(2**103)  # midway between FLT_MAX and 2**128


def _fraction_to_f32(q: Fraction) -> float:
    """The float32 nearest to q (ties to even), as the exact Python float of it."""
    if q == 0:
        return 0.0
    negative = q < 0
    q = abs(q)
    if q >= _F32_MAX_HALF_UP:
        return -math.inf if negative else math.inf
    exponent = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** exponent > q:
        exponent -= 1
    exponent = max(exponent, -126)  # below that, subnormal spacing 2**-149
    scale = Fraction(2) ** (exponent - 23)
    mantissa = q / scale
    whole = mantissa.numerator // mantissa.denominator
    rest = mantissa - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    value = float(whole * scale)
    return -value if negative else value


def _f32_bits_equal(a: float, b: float) -> bool:
    return struct.pack(">f", a) == struct.pack(">f", b)


def java_float32(q: Fraction | float) -> float:
    """A float32 as the Python float that prints like Java's Float.toString of it.

    JSON written by Elasticsearch for a Float has Float.toString's digits (123.45f gives
    123.45), so that decimal, read back as a double, is what a document holds afterwards.
    """
    if isinstance(q, float):
        if math.isnan(q) or math.isinf(q):
            return q
        q = Fraction(q)
    f32 = _fraction_to_f32(q)
    if f32 == 0 or math.isinf(f32):
        return f32
    digits, point = _shortest_digits(
        f32, lambda d: _f32_bits_equal(_fraction_to_f32(Fraction(d)), abs(f32)), 9
    )
    return float(("-" if f32 < 0 else "") + f"0.{digits}e{point}")


# --- Java number parsing -------------------------------------------------------------------


def _java_digit(char: str, radix: int) -> int:
    """`Character.digit(char, radix)`: Unicode decimal digits, ASCII and fullwidth letters."""
    value = -1
    if char.isdecimal():
        value = unicodedata.decimal(char)
    elif "a" <= char.lower() <= "z" and char.isascii():
        value = ord(char.lower()) - ord("a") + 10
    elif "\uff21" <= char <= "\uff3a":
        value = ord(char) - 0xFF21 + 10
    elif "\uff41" <= char <= "\uff5a":
        value = ord(char) - 0xFF41 + 10
    return value if value < radix else -1


def java_parse_integer(text: str, radix: int = 10, bits: int = 64) -> int:
    """`Integer.parseInt`/`Long.parseLong`: optional sign, digits only, range checked."""
    if not text:
        raise ValueError("empty")
    sign, digits = 1, text
    if text[0] in "+-":
        sign, digits = (-1 if text[0] == "-" else 1), text[1:]
    if not digits:
        raise ValueError("sign only")
    value = 0
    for char in digits:
        digit = _java_digit(char, radix)
        if digit < 0:
            raise ValueError(f"bad digit {char!r}")
        value = value * radix + digit
    value *= sign
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if not low <= value <= high:
        raise ValueError("out of range")
    return value


def _java_decode_hex(text: str, bits: int) -> int:
    """`Integer.decode`/`Long.decode` for the "0x..." / "-0x..." texts ES hands it."""
    negative = text.startswith("-")
    body = text[3:] if negative else text[2:]
    if not body or body[0] in "+-":
        raise ValueError("sign character in wrong position")
    magnitude = java_parse_integer(body, 16, bits + 1)  # MIN_VALUE's magnitude is one over MAX
    value = -magnitude if negative else magnitude
    if not -(2 ** (bits - 1)) <= value <= 2 ** (bits - 1) - 1:
        raise ValueError("out of range")
    return value


_JAVA_FLOAT = re.compile(
    r"""(?P<sign>[+-])?(?:
        (?P<special>NaN|Infinity)
      | (?P<dec>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?
      | 0[xX](?P<hex>[0-9a-fA-F]+\.?|[0-9a-fA-F]*\.[0-9a-fA-F]+)[pP](?P<hexexp>[+-]?\d+)[fFdD]?
    )""",
    re.VERBOSE | re.ASCII,
)


def java_parse_decimal(text: str) -> Fraction | float:
    """The exact value of a text `Double.parseDouble` accepts (NaN/±inf as floats).

    Java trims characters <= ' ' first; digits are ASCII only. Raises ValueError otherwise.
    """
    match = _JAVA_FLOAT.fullmatch(java_trim(text))
    if match is None:
        raise ValueError(f"not a Java floating-point literal: {text!r}")
    negative = match["sign"] == "-"
    if match["special"]:
        value: Fraction | float = math.nan if match["special"] == "NaN" else math.inf
        return -value if negative and not math.isnan(value) else value
    if match["dec"] is not None:
        value = Fraction(Decimal(match["dec"]))
    else:
        mantissa = match["hex"]
        whole, _, fraction = mantissa.partition(".")
        digits = (whole + fraction) or "0"
        value = Fraction(int(digits, 16), 16 ** len(fraction)) * Fraction(2) ** int(match["hexexp"])
    if negative:
        value = -value
        if value == 0:
            return -0.0
    return value


def java_parse_double(text: str) -> float:
    """`Double.parseDouble(text)` (correctly rounded, as Java's is)."""
    value = java_parse_decimal(text)
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def java_parse_float(text: str) -> float:
    """`Float.parseFloat(text)`, rounded once to 32 bits, as `java_float32` gives it."""
    value = java_parse_decimal(text)
    if isinstance(value, float):
        return value
    return java_float32(value)


def _equals_ignore_case(a: str, b: str) -> bool:
    """`String.equalsIgnoreCase`: char by char, upper then lower case compared."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        ux, uy = x.upper(), y.upper()
        ux, uy = (ux if len(ux) == 1 else x), (uy if len(uy) == 1 else y)
        if ux == uy or ux.lower() == uy.lower():
            continue
        return False
    return True


# --- IP addresses (Elasticsearch's InetAddresses.forString) -------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ipv4_bytes(text: str) -> bytes | None:
    parts = text.split(".")
    if len(parts) != 4:
        return None
    out = bytearray()
    for part in parts:
        if not part or not part.isascii() or not part.isdigit():
            return None
        if len(part) > 1 and part.startswith("0"):  # no leading zeros: octal or decimal?
            return None
        octet = int(part)
        if octet > 255:
            return None
        out.append(octet)
    return bytes(out)


def _ipv6_bytes(text: str) -> bytes | None:
    parts = text.split(":")
    if len(parts) < 3 or len(parts) > 9:
        return None
    skip = -1
    for i in range(1, len(parts) - 1):
        if parts[i] == "":
            if skip >= 0:
                return None  # more than one "::"
            skip = i
    if skip >= 0:
        high, low = skip, len(parts) - skip - 1
        if parts[0] == "":
            high -= 1
            if high != 0:
                return None  # ":" at the start needs "::"
        if parts[-1] == "":
            low -= 1
            if low != 0:
                return None  # ":" at the end needs "::"
    else:
        high, low = len(parts), 0
    skipped = 8 - (high + low)
    if not (skipped >= 1 if skip >= 0 else skipped == 0):
        return None
    hextets: list[int] = []
    try:
        for part in parts[:high]:
            hextets.append(_hextet(part))
        hextets.extend([0] * skipped)
        for part in parts[len(parts) - low :]:
            hextets.append(_hextet(part))
    except ValueError:
        return None
    return b"".join(h.to_bytes(2, "big") for h in hextets)


def _hextet(part: str) -> int:
    # Integer.parseInt(part, 16) <= 0xffff: ES's copy of Guava takes "00001" (5 digits).
    if not part or not all(c in "0123456789abcdefABCDEF" for c in part):
        raise ValueError(part)
    value = int(part, 16)
    if value > 0xFFFF:
        raise ValueError(part)
    return value


def parse_ip(text: str) -> IPAddress:
    """Elasticsearch's `InetAddresses.forString`: no DNS, no zone ids, no leading zeros.

    An IPv4-mapped IPv6 address (::ffff:a.b.c.d) comes back as IPv4, as Java's
    InetAddress.getByAddress makes it. Raises ValueError "'x' is not an IP string literal.".
    """
    error = ValueError(f"'{text}' is not an IP string literal.")
    has_colon = has_dot = False
    for char in text:
        if char == ".":
            has_dot = True
        elif char == ":":
            if has_dot:
                raise error  # colons never come after dots
            has_colon = True
        elif char not in "0123456789abcdefABCDEF":
            raise error
    raw: bytes | None = None
    if has_colon:
        if has_dot:  # trailing dotted quad: rewrite it as two hextets
            head, _, quad = text.rpartition(":")
            quad_bytes = _ipv4_bytes(quad)
            if quad_bytes is None:
                raise error
            text = f"{head}:{quad_bytes[0] << 8 | quad_bytes[1]:x}:{quad_bytes[2] << 8 | quad_bytes[3]:x}"
        raw = _ipv6_bytes(text)
    elif has_dot:
        raw = _ipv4_bytes(text)
    if raw is None:
        raise error
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw)
    address = ipaddress.IPv6Address(raw)
    return address.ipv4_mapped or address


# --- the conversion ------------------------------------------------------------------------


def _to_integer(value: Any, bits: int, name: str) -> int:
    text = java_str(value)
    try:
        if text.startswith(("0x", "-0x")):
            return _java_decode_hex(text, bits)
        return java_parse_integer(text, 10, bits)
    except ValueError:
        raise ConvertError(f"unable to convert [{text}] to {name}") from None


def _to_floating(value: Any, name: str) -> float:
    text = java_str(value)
    try:
        return java_parse_float(text) if name == "float" else java_parse_double(text)
    except ValueError:
        raise ConvertError(f"unable to convert [{text}] to {name}") from None


def _to_boolean(value: Any) -> bool:
    text = java_str(value)
    if _equals_ignore_case(text, "true"):
        return True
    if _equals_ignore_case(text, "false"):
        return False
    raise ConvertError(f"[{text}] is not a boolean value, cannot convert to boolean")


def _to_ip(value: Any) -> str:
    if not isinstance(value, str):
        # ES casts to String and fails with a ClassCastException.
        raise ConvertError(f"[{java_str(value)}] is not a string, cannot convert to ip")
    try:
        parse_ip(value)
    except ValueError as error:
        raise ConvertError(str(error)) from None
    return value


def _auto(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for attempt in (
        _to_boolean,
        lambda v: _to_integer(v, 32, "integer"),
        lambda v: _to_integer(v, 64, "long"),
        lambda v: _to_floating(v, "float"),
        lambda v: _to_floating(v, "double"),
    ):
        try:
            return attempt(value)
        except ConvertError:
            pass
    return value


def _convert_one(value: Any, kind: str) -> Any:
    if value is None:
        if kind == "auto":
            return None  # not a String: left as it is
        # ES calls value.toString() (or parses it) and fails with a NullPointerException.
        raise ConvertError(f"cannot convert [null] to type [{kind}]")
    if kind == "integer":
        return _to_integer(value, 32, "integer")
    if kind == "long":
        return _to_integer(value, 64, "long")
    if kind in ("float", "double"):
        return _to_floating(value, kind)
    if kind == "boolean":
        return _to_boolean(value)
    if kind == "ip":
        return _to_ip(value)
    if kind == "string":
        return java_str(value)
    return _auto(value)


def convert_value(value: Any, type: str) -> Any:  # noqa: A002 - the processor's option name
    """Convert `value` as the convert processor does; a list is converted element by element.

    `type` is one of CONVERT_TYPES, in any case (ES upper-cases it to find its enum). Raises
    ConvertError with Elasticsearch's message when the value does not convert (or the type
    is unknown). A list's elements are converted one level deep, as ES does.
    """
    kind = type.lower() if isinstance(type, str) else type
    if kind not in CONVERT_TYPES:
        raise ConvertError(f"type [{type}] not supported, cannot convert field.")
    if isinstance(value, list):
        return [_convert_one(item, kind) for item in value]
    return _convert_one(value, kind)
