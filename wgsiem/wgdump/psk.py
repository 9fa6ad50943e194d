"""Preshared keys, kept only as a keyed hash.

The dump prints preshared keys in full. wgsiem needs to know whether one is set and
whether it changed, nothing more, so the parser replaces the key with an HMAC-SHA256
under a random secret that belongs to the install (`wgsiem.adapters.secret`). Without
that secret the hash says nothing about the key; with it, equal keys hash equal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

_digest = hmac.digest


class PresharedKeyHasher:
    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the install secret must be at least 16 bytes")
        self._secret = secret

    def hash(self, preshared_key: str) -> str:
        # hmac.digest is the one-shot C path; this runs for every peer with a PSK every poll.
        return _digest(self._secret, preshared_key.encode(), "sha256")[:16].hex()

    def hash_all(self, values: Iterable[str], batch: int = 4096) -> str:
        """One keyed hash over `values` in order, each ended by a newline, fed a few
        thousand at a time: never all of them in memory, nor one call per value."""
        h = hmac.new(self._secret, digestmod=hashlib.sha256)
        pending: list[str] = []
        for value in values:
            pending.append(value)
            if len(pending) == batch:
                h.update(("\n".join(pending) + "\n").encode())
                pending.clear()
        if pending:
            h.update(("\n".join(pending) + "\n").encode())
        return h.digest()[:16].hex()

    def stand_in(self, preshared_key: str) -> str:
        """A key-shaped replacement for captures: same for the same key, says nothing about it."""
        digest = hmac.digest(self._secret, b"capture\0" + preshared_key.encode(), "sha256")
        return base64.b64encode(digest).decode()

    def __repr__(self) -> str:  # never show the secret
        return "PresharedKeyHasher(<secret>)"
