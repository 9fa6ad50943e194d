"""java.lang.String's rules where they differ from Python's str.

A Java String is a sequence of UTF-16 code units: a character beyond the Basic Multilingual
Plane counts two in `length()`, `charAt`, `substring` and every index a method returns, and
splitting such a pair leaves lone surrogates. `trim()` strips every code point up to U+0020
(controls included), not Unicode whitespace.
"""

from __future__ import annotations

_TRIMMED = "".join(chr(c) for c in range(0x21))


def java_trim(text: str) -> str:
    """String.trim: strips the code points up to U+0020 at both ends."""
    return text.strip(_TRIMMED)


def utf16_units(s: str) -> list[int]:
    data = s.encode("utf-16-le", "surrogatepass")
    return [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]


def _is_bmp(s: str) -> bool:
    return s.isascii() or all(ord(c) <= 0xFFFF for c in s)


def utf16_len(s: str) -> int:
    """String.length(): UTF-16 code units."""
    if _is_bmp(s):
        return len(s)
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def utf16_slice(s: str, start: int, end: int | None = None) -> str:
    """s.substring(start, end) counted in UTF-16 units (a split pair gives lone surrogates)."""
    if _is_bmp(s):
        return s[start:end]
    data = s.encode("utf-16-le", "surrogatepass")
    return data[2 * start : None if end is None else 2 * end].decode("utf-16-le", "surrogatepass")


def utf16_char_at(s: str, index: int) -> str:
    if _is_bmp(s):
        return s[index]
    return utf16_slice(s, index, index + 1)


def utf16_index(s: str, python_index: int) -> int:
    """The UTF-16 index of a Python index into s."""
    if python_index <= 0 or _is_bmp(s):
        return python_index
    return python_index + sum(1 for c in s[:python_index] if ord(c) > 0xFFFF)


def py_index(s: str, unit_index: int) -> int:
    """The Python index of a UTF-16 index into s (for searches that start at an index)."""
    if unit_index <= 0 or _is_bmp(s):
        return unit_index
    units = 0
    for i, c in enumerate(s):
        if units >= unit_index:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(s)
