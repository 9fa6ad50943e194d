"""Elasticsearch's ByteSizeValue.parseBytesSizeValue, for the bytes processor.

"1kb" is 1024, units k/kb m/mb g/gb t/tb p/pb b in any case, powers of 1024. A unit is
required except for "0" and "-1"; whitespace around the number is allowed. A whole number of
units must fit in a long; a decimal has at most two places and is rounded up to the next
byte ("1.1kb" is 1127), and "-1" (bytes) is the only negative value. Errors are
Elasticsearch's messages, `parse_exception`s naming the setting ("Ingest Field" for the
processor) and the value as given.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from wgsiem.errors import WgsiemError
from wgsiem.ingest.formats.convert import LONG_MAX, java_parse_integer
from wgsiem.ingest.java.strings import java_trim

_UNITS = {"k": 1, "kb": 1, "m": 2, "mb": 2, "g": 3, "gb": 3, "t": 4, "tb": 4, "p": 5, "pb": 5}
_SUFFIX = {1: "kb", 2: "mb", 3: "gb", 4: "tb", 5: "pb"}
_EXACT = {"0": 0, "0b": 0, "0B": 0, "1b": 1, "1B": 1, "-1": -1, "-1b": -1, "-1B": -1}
# java.math.BigDecimal's string form: sign, digits with an optional point, an exponent.
_BIG_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class ByteSizeError(WgsiemError):
    """A value ByteSizeValue refuses; the message is Elasticsearch's."""


def parse_byte_size(value: str, setting: str = "Ingest Field") -> int:
    """The number of bytes `value` stands for."""
    if value in _EXACT:
        return _EXACT[value]
    lower = java_trim(value.lower())
    for suffix in ("k", "kb", "m", "mb", "g", "gb", "t", "tb", "p", "pb"):
        if lower.endswith(suffix):
            return _with_unit(value, java_trim(lower[: -len(suffix)]), _UNITS[suffix], setting)
    if lower.endswith("b"):
        number = java_trim(lower[:-1])
        try:
            size = java_parse_integer(number, 10, 64)
        except ValueError:
            raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}]") from None
        if size < -1:
            raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}] as a size in bytes")
        return size
    raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}] as a size in bytes: unit is missing or unrecognized")


def _with_unit(value: str, number: str, power: int, setting: str) -> int:
    unit: int = 1024**power
    try:
        size = java_parse_integer(number, 10, 64)
    except ValueError:
        return _decimal(value, number, unit, setting)
    # ByteSizeValue.of: no negative count of a unit, nothing beyond a long.
    if size < 0 or size > LONG_MAX // unit:
        raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}] as a size in bytes")
    return size * unit


def _decimal(value: str, number: str, unit: int, setting: str) -> int:
    if not _BIG_DECIMAL.fullmatch(number):
        raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}]")
    try:
        decimal = Decimal(number)
    except InvalidOperation:
        raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}]") from None
    exponent = decimal.as_tuple().exponent
    assert isinstance(exponent, int)
    if not -(2**31) <= exponent < 2**31:  # BigDecimal's scale is an int
        raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}]")
    if decimal < 0:
        raise ByteSizeError(f"failed to parse setting [{setting}] with value [{value}]")
    if -exponent > 2:
        raise ByteSizeError(f"failed to parse setting [{setting}] with more than two decimals in value [{value}]")
    beyond = ByteSizeError(f"failed to parse setting [{setting}] with value beyond {LONG_MAX}: [{value}]")
    if decimal and decimal.adjusted() > 19:
        raise beyond  # checked before the exact product, which could be astronomically large
    numerator, denominator = decimal.as_integer_ratio()
    size: int = -(-numerator * unit // denominator)  # rounded up: BigDecimal's RoundingMode.UP on a positive value
    if size > LONG_MAX:
        raise beyond
    return size
