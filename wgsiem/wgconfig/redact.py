"""Redact a configuration file for a capture, the way `wgsiem record` redacts a dump.

`PrivateKey` becomes `(redacted)` (the snapshot keeps the public key it had beside it). A
preshared key, and any other key-shaped word or run that may be most of a key (in a hook,
a comment, a damaged line), becomes its keyed-hash stand-in of the same shape
(`parse.stand_in_keys`): a capture still shows a key set, rotated or a hook changed
without holding a key. Only a `PublicKey` line keeps its key. Line breaks and everything
else stay as written.
"""

from __future__ import annotations

from ..wgdump.parse import KEY_FRAGMENT, KEY_TOKEN, REDACTED
from ..wgdump.psk import PresharedKeyHasher
from .parse import SPACE, stand_in_keys


def redact_config(text: str, hasher: PresharedKeyHasher) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        compact = SPACE.sub("", line)
        spoken = compact.lower()
        if "privatekey" in spoken:
            # Everything base64-like on the line goes, not only a well-formed key.
            out.append(KEY_FRAGMENT.sub(REDACTED, line.split("=", 1)[0]) + ("= " + REDACTED + _eol(line) if "=" in line else ""))
        else:
            code, sign, comment = line.partition("#")
            if spoken.startswith("publickey=") and KEY_TOKEN.fullmatch(SPACE.sub("", code)[len("publickey=") :]):
                out.append(code + sign + stand_in_keys(comment, hasher))  # the key stays; a comment may hold anything
            else:
                out.append(stand_in_keys(line, hasher))
    return "".join(out)


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]
