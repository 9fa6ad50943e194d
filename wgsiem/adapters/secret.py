"""The install's random secret, the key of the preshared-key hashes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import Location, WgsiemError
from .files import write_atomic

SECRET_BYTES = 32


class SecretError(WgsiemError):
    """The secret file cannot be read or made, or is not a secret this install made."""


def load_or_create_secret(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = secrets.token_bytes(SECRET_BYTES)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, mode=0o600)
        except OSError as err:
            raise SecretError(f"cannot create the install secret: {err.strerror}", Location(path)) from None
        return data
    except OSError as err:
        raise SecretError(f"cannot read the install secret: {err.strerror}", Location(path)) from None
    if len(data) != SECRET_BYTES:
        raise SecretError(f"expected {SECRET_BYTES} random bytes; delete it to make a new one", Location(path))
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return data
