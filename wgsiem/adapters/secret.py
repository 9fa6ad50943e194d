"""The install's random secret, the key of the preshared-key hashes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .files import write_atomic

SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = secrets.token_bytes(SECRET_BYTES)
        write_atomic(path, data, mode=0o600)
        return data
    if len(data) != SECRET_BYTES:
        raise ValueError(f"{path}: expected {SECRET_BYTES} random bytes; delete it to make a new one")
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return data
