"""Redact a dump for a capture file: what `wg show all dump` printed, minus the secrets.

The private key becomes `(redacted)`. A preshared key becomes a stand-in of the same
shape derived by keyed hash (`PresharedKeyHasher.stand_in`), so a capture still shows a
key being set, removed or rotated without holding the key. A key-shaped token in any
other column (a name, an endpoint), and every one of a line that is not a well-formed
interface or peer line, is redacted.
"""

from __future__ import annotations

from .parse import KEY_TOKEN, NONE
from .psk import PresharedKeyHasher

REDACTED = "(redacted)"


def redact_dump(text: str, hasher: PresharedKeyHasher, *, with_interface: bool = True) -> str:
    shift = 0 if with_interface else 1
    out = []
    for line in text.split("\n"):
        fields = line.split("\t")
        if len(fields) == 5 - shift:
            fields[1 - shift] = REDACTED
            keep = (1 - shift, 2 - shift)
        elif len(fields) == 9 - shift:
            psk = fields[2 - shift]
            if psk != NONE:
                fields[2 - shift] = hasher.stand_in(psk)
            keep = (1 - shift, 2 - shift)
        else:
            out.append(KEY_TOKEN.sub(REDACTED, line))
            continue
        # A key where no key belongs (a name, an endpoint) has no business in a capture either.
        out.append("\t".join(f if i in keep else KEY_TOKEN.sub(REDACTED, f) for i, f in enumerate(fields)))
    return "\n".join(out)
