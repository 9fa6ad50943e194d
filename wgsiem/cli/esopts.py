"""Options shared by the commands that talk to Elasticsearch (`--es URL` and credentials)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..adapters.elasticsearch import API_KEY_ENV, PASSWORD_ENV, EsSettings

Url = Annotated[str, typer.Option("--es", help="Elasticsearch URL, e.g. https://es.example:9200.", metavar="URL")]
OptionalUrl = Annotated[
    Optional[str], typer.Option("--es", help="Elasticsearch URL, e.g. https://es.example:9200.", metavar="URL")
]
CaFile = Annotated[Optional[Path], typer.Option("--ca-file", help="CA certificate (PEM) to verify the cluster's TLS certificate.")]
ApiKeyFile = Annotated[
    Optional[Path], typer.Option("--api-key-file", help=f"File holding an API key (encoded form). Default: ${API_KEY_ENV}.")
]
User = Annotated[Optional[str], typer.Option("--user", help=f"Basic auth user; the password comes from --password-file or ${PASSWORD_ENV}.")]
PasswordFile = Annotated[Optional[Path], typer.Option("--password-file", help="File holding the basic auth password.")]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify the cluster's TLS certificate (tests only).")]


def settings(
    url: str, ca_file: Path | None, api_key_file: Path | None, user: str | None, password_file: Path | None, insecure: bool
) -> EsSettings:
    return EsSettings(url, ca_file, api_key_file, user, password_file, insecure)
