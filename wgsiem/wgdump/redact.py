"""Redact a dump for a capture file: what `wg show all dump` printed, minus the secrets.

The private key becomes `(redacted)`. A preshared key becomes a stand-in of the same
shape derived by keyed hash (`PresharedKeyHasher.stand_in`), so a capture still shows a
key being set, removed or rotated without holding the key. Lines that are not a
well-formed interface or peer line have every key-shaped token redacted.
"""

from __future__ import annotations

import re

from .parse import NONE
from .psk import PresharedKeyHasher

REDACTED = "(redacted)"
_KEY_TOKEN = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


def redact_dump(text: str, hasher: PresharedKeyHasher, *, with_interface: bool = True) -> str:
    shift = 0 if with_interface else 1
    out = []
    for line in text.split("\n"):
        fields = line.split("\t")
        if len(fields) == 5 - shift:
            fields[1 - shift] = REDACTED
        elif len(fields) == 9 - shift:
            psk = fields[2 - shift]
            if psk != NONE:
                fields[2 - shift] = hasher.stand_in(psk)
        else:
            out.append(_KEY_TOKEN.sub(REDACTED, line))
            continue
        out.append("\t".join(fields))
    return "\n".join(out)
