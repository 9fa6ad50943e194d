"""The processor that hashes the content of chosen fields: fingerprint.

FingerprintProcessor feeds its hash the salt, then for each field in sorted name order, walking
lists in order and maps by sorted key, a zero byte before every key and every leaf value, and
the value's bytes: a string in UTF-8, an int as 4 little-endian bytes and a long as 8, a double
as its 8 IEEE bytes little-endian, true as 1 and false as 2, null as nothing, a timestamp as
its fields. The output is the base64 of the digest.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import datetime
from typing import Any

from wgsiem.ingest.document import INT_MAX, INT_MIN, IngestDocument, java_type
from wgsiem.ingest.errors import invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

METHODS = ("MD5", "SHA-1", "SHA-256", "SHA-512", "MurmurHash3")
_HASHLIB = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}
_DELIMITER = b"\x00"


def _java_order(text: str) -> bytes:
    """String.compareTo's order (UTF-16 code units) as a sort key."""
    return text.encode("utf-16-be", "surrogatepass")


def _java_whitespace(char: str) -> bool:
    """Character.isWhitespace: Unicode spaces except the no-break ones, and the ASCII controls."""
    return char.isspace() and char not in "\u00a0\u2007\u202f\x85"


def _utf8(text: str) -> bytes:
    # String.getBytes(UTF_8) writes '?' for a lone surrogate, as the replace handler does.
    return text.encode("utf-8", "replace")


def value_bytes(value: Any) -> bytes:
    """FingerprintProcessor.toBytes for a JSON value (or the ingest timestamp)."""
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, bool):
        return b"\x01" if value else b"\x02"
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return struct.pack("<i", value)
        if -(2**63) <= value < 2**63:
            return struct.pack("<q", value)
    if isinstance(value, float):
        return struct.pack("<d", value)
    if value is None:
        return b""
    if isinstance(value, datetime):
        from wgsiem.ingest.formats.date_formats import zone_id

        offset = value.utcoffset()
        fields = (value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond * 1000)
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return struct.pack("<8i", *fields, seconds) + _utf8(zone_id(value.tzinfo))
    name = "java.math.BigInteger" if isinstance(value, int) else java_type(value)
    raise invalid(f"cannot convert object of type [{name}] to bytes")


class Fingerprint(Processor):
    type = "fingerprint"

    def __init__(self, opts: Options, builder: Any) -> None:
        fields = opts.list("fields")
        if not fields:
            raise opts.error("must specify at least one field", "fields")
        for field in fields:
            if not isinstance(field, str):
                raise opts.error(f"every field must be a string, not [{java_type(field)}]", "fields")
        self.fields = sorted(fields, key=_java_order)
        self.target = opts.string("target_field", "fingerprint")
        salt = opts.string("salt", "")
        # Strings.hasText: a salt of only (Java) whitespace is no salt.
        self.salt = _utf8(salt) if any(not _java_whitespace(c) for c in salt) else b""
        self.method = opts.string("method", "SHA-1")
        if self.method not in METHODS:
            raise opts.error(f"[{self.method}] must be one of the supported hash methods [{','.join(METHODS)}]", "method")
        self.ignore_missing = opts.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        values = []
        for field in self.fields:
            value = doc.get(field, True)
            if value is None:
                if self.ignore_missing:
                    continue
                raise invalid(f"missing field [{field}] when calculating fingerprint")
            values.append(value)
        if not values:
            return
        data = bytearray(self.salt)
        stack = values[::-1]
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                for key in sorted(value, key=_java_order, reverse=True):
                    stack.append(_Entry(key, value[key]))
            elif isinstance(value, _Entry):
                data += _DELIMITER + _utf8(value.key)
                stack.append(value.value)
            else:
                data += _DELIMITER + value_bytes(value)
        doc.set(self.target, base64.b64encode(self._digest(bytes(data))).decode())

    def _digest(self, data: bytes) -> bytes:
        if self.method == "MurmurHash3":
            from wgsiem.ingest.java.murmur3 import murmur3_x64_128

            return murmur3_x64_128(data)
        return hashlib.new(_HASHLIB[self.method], data, usedforsecurity=False).digest()

    def produced_fields(self) -> list[str]:
        return [self.target]


class _Entry:
    """A map entry waiting on the stack: its key is hashed, then its value is walked."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value
