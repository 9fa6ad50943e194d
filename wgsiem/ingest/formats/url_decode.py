"""java.net.URLDecoder.decode(text, UTF-8), for the urldecode processor.

'+' is a space; a run of %XY escapes is collected as bytes and decoded as UTF-8 (malformed
bytes become U+FFFD); every other character stays. The two hex digits are read by
Integer.parseInt(s, i + 1, i + 3, 16), so a sign is accepted ("%+4" is byte 4, "%-1" is
refused as negative) and so are Unicode digits. Positions count UTF-16 code units, as Java
does. Errors are URLDecoder's messages.
"""

from __future__ import annotations

import sys
from array import array

from wgsiem.errors import WgsiemError
from wgsiem.ingest.formats.convert import _java_digit


class UrlDecodeError(WgsiemError, ValueError):
    """A malformed escape; the message is URLDecoder's."""


def _hex_pair(units: array[int], begin: int) -> int:
    """Integer.parseInt over units[begin:begin + 2] in base 16, with its NumberFormatException text."""
    text = _paired(_chars(units, begin, begin + 2))

    def error(index: int) -> UrlDecodeError:
        return UrlDecodeError(f'URLDecoder: Illegal hex characters in escape (%) pattern - Error at index {index} in: "{text}"')

    chars = [chr(u) for u in units[begin : begin + 2]]
    negative, index = False, 0
    if chars[0] < "0":
        if chars[0] not in "+-":
            raise error(0)
        negative, index = chars[0] == "-", 1
    value = 0
    for position in range(index, 2):
        digit = _java_digit(chars[position], 16)
        if digit < 0:
            raise error(position)
        value = value * 16 + digit
    return -value if negative else value


def _chars(units: array[int], begin: int, end: int) -> str:
    return "".join(map(chr, units[begin:end]))


def _paired(text: str) -> str:
    """Surrogate halves that make a pair joined into one character (Python keeps them apart)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def java_url_decode(text: str) -> str:
    units = array("H", text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    count = len(units)
    out: list[str] = []
    plain_start = 0
    i = 0
    while i < count:
        unit = units[i]
        if unit == 0x2B:  # '+'
            out.append(_chars(units, plain_start, i) + " ")
            i += 1
            plain_start = i
        elif unit == 0x25:  # '%'
            out.append(_chars(units, plain_start, i))
            raw = bytearray()
            current = unit
            while i + 2 < count and current == 0x25:
                value = _hex_pair(units, i + 1)
                if value < 0:
                    raise UrlDecodeError("URLDecoder: Illegal hex characters in escape (%) pattern - negative value")
                raw.append(value)
                i += 3
                if i < count:
                    current = units[i]
            if i < count and current == 0x25:
                raise UrlDecodeError("URLDecoder: Incomplete trailing escape (%) pattern")
            out.append(raw.decode("utf-8", "replace"))
            plain_start = i
        else:
            i += 1
    out.append(_chars(units, plain_start, count))
    return _paired("".join(out))
