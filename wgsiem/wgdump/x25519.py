"""The public key of a WireGuard private key (X25519 with the base point, RFC 7748).

The parser uses it to check an interface line: `wg` prints the interface's public key
beside its private key, and the one is always derived from the other. A line where they
do not match has its columns out of place, and its "public key" may be the private one.

Pure Python: a few milliseconds per key, and the parser needs it once per interface
line that changed, not per peer.
"""

from __future__ import annotations

import base64
import binascii

_P = 2**255 - 19
_A24 = 121665


def public_key_of(private_key: str) -> str | None:
    """The base64 public key of a base64 private key, or None if it is not 32 bytes of base64."""
    try:
        raw = base64.b64decode(private_key, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    return base64.b64encode(_scalar_mult_base(raw)).decode()


def _scalar_mult_base(private: bytes) -> bytes:
    # The clamping every X25519 implementation applies, then the Montgomery ladder on u = 9.
    k = bytearray(private)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in range(254, -1, -1):
        bit = (scalar >> t) & 1
        if swap ^ bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = x2 + z2, x2 - z2
        c, d = x3 + z3, x3 - z3
        aa, bb = a * a % _P, b * b % _P
        da, cb = d * a % _P, c * b % _P
        e = aa - bb
        x3, z3 = (da + cb) ** 2 % _P, x1 * (da - cb) ** 2 % _P
        x2, z2 = aa * bb % _P, e * (aa + _A24 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")
