"""Secrets for Elasticsearch and Kibana: read from a file or the environment, never from the
command line, where `ps` and shell history would show them."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import WgsiemError


class CredentialError(WgsiemError):
    """A secret file that cannot be used; the message names the file, never its content."""


def read_secret(path: Path | None, env: str, what: str) -> str | None:
    """The secret in `path` (stripped), else `$env`, else None."""
    if path is not None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CredentialError(f"{what} file {path}: {error.strerror}") from None
        if not value:
            raise CredentialError(f"{what} file {path} is empty")
        return value
    return os.environ.get(env) or None
