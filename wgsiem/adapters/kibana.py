"""Talking to Kibana: installing detection rules through its rule import API.

`POST [/s/<space>]/api/detection_engine/rules/_import?overwrite=...` with the NDJSON as a
multipart file field named `file` (a name ending in .ndjson), the `kbn-xsrf` header and
API version 2023-10-31. Kibana answers 200 even when rules fail; each failure is an entry
in `errors` (409 for a rule_id that exists and no overwrite, 400 for an invalid rule).

Credentials come from a file or the environment, never from the command line, where `ps`
and shell history would keep them: an API key file / WGSIEM_KIBANA_API_KEY, or a user with
a password file / WGSIEM_KIBANA_PASSWORD. TLS is verified unless `insecure` says
otherwise; `ca_file` adds a private CA. Plain http.client, not urllib: no proxy from the
environment and no followed redirect can carry the Authorization header elsewhere.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..errors import WgsiemError
from ..settings import setting
from .credentials import CredentialError, read_secret

API_KEY_ENV = "WGSIEM_KIBANA_API_KEY"
PASSWORD_ENV = "WGSIEM_KIBANA_PASSWORD"  # noqa: S105 - the name of a variable, not a password
API_VERSION = "2023-10-31"
IMPORT_PATH = "/api/detection_engine/rules/_import"
DEFAULT_SPACE = "default"
# Kibana reads a space only from /s/<id> with this alphabet; any other id leaves the path
# unrouted, and Kibana answers a bare 404.
_SPACE_ID = re.compile(r"[a-z0-9_\-]+")
_FILENAME = re.compile(r"[A-Za-z0-9._\- ]+\.ndjson", re.IGNORECASE)


class KibanaError(WgsiemError):
    """A request Kibana refused or could not be reached for; the message says which, and
    never holds a credential."""


@dataclass(frozen=True)
class KibanaSettings:
    """Where Kibana is and how to log in. Holds paths to secrets, not secrets, so a repr
    or a traceback shows nothing worth stealing."""

    url: str = setting(help="Kibana URL, e.g. https://kibana.example:5601.", flags=("--kibana",), metavar="URL")
    space: str | None = setting(None, help="Kibana space id (default: the default space).")  # None: the default space
    api_key_file: Path | None = setting(None, help="File holding a Kibana API key (encoded form).", path="file", default_text=f"${API_KEY_ENV}")
    user: str | None = setting(None, help=f"Basic auth user; the password comes from --password-file or ${PASSWORD_ENV}.")
    password_file: Path | None = setting(None, help="File holding the basic auth password.", path="file", default_text=f"${PASSWORD_ENV}")
    ca_file: Path | None = setting(None, help="CA certificate (PEM) to verify Kibana's TLS certificate.", path="file")
    insecure: bool = setting(False, help="Do not verify Kibana's TLS certificate (tests only).")
    timeout: float = 60.0


@dataclass(frozen=True)
class RefusedRule:
    """One entry of the answer's `errors`: 409 when the rule_id exists and overwrite is
    off, 400 for a rule Kibana refused. rule_id is None where Kibana could not tell."""

    rule_id: str | None
    status_code: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    success: bool
    success_count: int
    rules_count: int
    errors: tuple[RefusedRule, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def conflicts(self) -> tuple[str, ...]:
        """rule_ids that were already installed and kept (overwrite was off)."""
        return tuple(e.rule_id for e in self.errors if e.status_code == 409 and e.rule_id)


def _secret(path: Path | None, env: str, what: str) -> str | None:
    try:
        return read_secret(path, env, what)
    except CredentialError as error:
        raise KibanaError(str(error)) from None


def _credentials(settings: KibanaSettings) -> tuple[str | None, tuple[str, ...]]:
    """The Authorization header, and the secret strings to scrub from any message."""
    api_key = _secret(settings.api_key_file, API_KEY_ENV, "Kibana API key")
    if api_key:
        # Elasticsearch hands out both `encoded` and `id` + `api_key`; "id:api_key" is the
        # second pair written as one, which the header wants base64-encoded.
        encoded = base64.b64encode(api_key.encode()).decode() if ":" in api_key else api_key
        return f"ApiKey {encoded}", (api_key, encoded)
    if settings.user:
        if ":" in settings.user:
            raise KibanaError("a Kibana user name cannot contain ':' (HTTP basic authentication)")
        password = _secret(settings.password_file, PASSWORD_ENV, "Kibana password")
        if password is None:
            raise KibanaError(f"Kibana user {settings.user} needs a password file or {PASSWORD_ENV}")
        token = base64.b64encode(f"{settings.user}:{password}".encode()).decode()
        return f"Basic {token}", (password, token)
    return None, ()


def _scrub(text: str, secrets_: tuple[str, ...]) -> str:
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text


def space_prefix(space: str | None) -> str:
    if space is None or space == DEFAULT_SPACE:
        return ""
    if not _SPACE_ID.fullmatch(space):
        raise KibanaError(f"Kibana space id {space!r}: only lowercase letters, digits, '_' and '-'")
    return f"/s/{space}"


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int | None
    netloc: str
    base_path: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL is not echoed: whatever is in it is not known to be harmless.
            raise KibanaError("the Kibana URL must be http(s)://host[:port][/base-path]")
        if parts.username is not None or parts.password is not None:
            raise KibanaError(
                "the Kibana URL must not hold credentials; use an API key or password file or "
                f"{API_KEY_ENV} / {PASSWORD_ENV}"
            )
        if parts.query or parts.fragment:
            raise KibanaError("the Kibana URL must not have a query or fragment")
        try:
            port = parts.port
        except ValueError:
            raise KibanaError("the Kibana URL has an invalid port") from None
        return cls(parts.scheme, parts.hostname, port, parts.netloc, parts.path.rstrip("/"))

    def public(self, path: str) -> str:
        return f"{self.scheme}://{self.netloc}{self.base_path}{path}"


def _tls_context(settings: KibanaSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise KibanaError(f"CA file {settings.ca_file}: {getattr(error, 'strerror', None) or error}") from None
    if settings.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class _Response:
    status: int
    headers: http.client.HTTPMessage
    data: bytes
    where: str  # "METHOD url" for messages: no credentials, no body
    secrets: tuple[str, ...] = field(repr=False)

    def json(self) -> Any:
        """The JSON body of a 2xx answer; KibanaError for anything else."""
        try:
            body = json.loads(self.data) if self.data else None
        except ValueError:
            body = None
        if 300 <= self.status < 400:
            location = urlsplit(self.headers.get("location") or "").path or "?"
            raise KibanaError(
                f"{self.where}: HTTP {self.status} redirect to {location}; is the URL Kibana's, with its base path?"
            )
        if not 200 <= self.status < 300:
            message = body.get("message") if isinstance(body, dict) else None
            if not isinstance(message, str) or not message:
                message = _snippet(self.data) or http.client.responses.get(self.status, "")
            raise KibanaError(_scrub(f"{self.where}: HTTP {self.status}: {message}", self.secrets))
        if body is None:
            kind = self.headers.get("content-type") or "no content-type"
            raise KibanaError(
                _scrub(f"{self.where}: HTTP {self.status} but not JSON ({kind}): {_snippet(self.data)}", self.secrets)
            )
        return body


def _snippet(data: bytes) -> str:
    return " ".join(data.decode("utf-8", errors="replace").split())[:200]


def _request(
    settings: KibanaSettings, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None
) -> _Response:
    target = _Target.parse(settings.url)
    authorization, secrets_ = _credentials(settings)
    headers = {"accept": "application/json", "elastic-api-version": API_VERSION, **headers}
    if authorization:
        headers["authorization"] = authorization
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=settings.timeout, context=_tls_context(settings)
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=settings.timeout)
    where = f"{method} {target.public(path)}"
    try:
        connection.request(method, target.base_path + path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except ssl.SSLCertVerificationError as error:
        raise KibanaError(
            f"{where}: TLS certificate not trusted ({error.verify_message}); a private CA needs a CA file"
        ) from None
    except ssl.SSLError as error:
        raise KibanaError(f"{where}: TLS failed: {error.reason or error}") from None
    except ConnectionRefusedError:
        raise KibanaError(f"{where}: connection refused; is Kibana running at {target.netloc}?") from None
    except TimeoutError:
        raise KibanaError(f"{where}: no answer within {settings.timeout:g}s") from None
    except socket.gaierror as error:
        raise KibanaError(f"{where}: cannot resolve {target.host}: {error.strerror}") from None
    except (OSError, http.client.HTTPException) as error:
        raise KibanaError(f"{where}: {getattr(error, 'strerror', None) or type(error).__name__}") from None
    finally:
        connection.close()
    return _Response(response.status, response.headers, data, where, secrets_)


def check_space(settings: KibanaSettings) -> None:
    """Refuse a space that does not exist. Kibana does not check the /s/<id> of an API
    request: the import goes into a space no one can open, and reports success."""
    if space_prefix(settings.space) == "":
        return
    response = _request(settings, "GET", f"/api/spaces/space/{quote(settings.space or '')}", headers={})
    if response.status == 404:
        raise KibanaError(f"Kibana space {settings.space!r} does not exist ({response.where}: HTTP 404)")
    response.json()


def encode_multipart(field_name: str, filename: str, data: bytes) -> tuple[str, bytes]:
    """A multipart/form-data body with one file part holding `data` unchanged."""
    boundary = f"wgsiem-{secrets.token_hex(16)}"
    while boundary.encode() in data:
        boundary = f"wgsiem-{secrets.token_hex(16)}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        "Content-Type: application/x-ndjson\r\n"
        "\r\n"
    ).encode()
    return boundary, head + data + f"\r\n--{boundary}--\r\n".encode()


def import_rules(
    settings: KibanaSettings,
    ndjson: bytes | str,
    *,
    overwrite: bool,
    filename: str = "wgsiem-rules.ndjson",
    verify_space: bool = True,
) -> ImportResult:
    """Import the rules in `ndjson` into the settings' space. Without `overwrite` a rule
    whose rule_id is installed stays as it is and comes back as a 409 in `errors`."""
    if not _FILENAME.fullmatch(filename):
        # Kibana refuses any other extension (400 "Invalid file extension").
        raise KibanaError(f"import file name {filename!r}: letters, digits, '._- ' and ending in .ndjson")
    data = ndjson.encode("utf-8") if isinstance(ndjson, str) else bytes(ndjson)
    path = f"{space_prefix(settings.space)}{IMPORT_PATH}?{urlencode({'overwrite': 'true' if overwrite else 'false'})}"
    if verify_space:
        check_space(settings)
    boundary, body = encode_multipart("file", filename, data)
    headers = {"kbn-xsrf": "wgsiem", "content-type": f"multipart/form-data; boundary={boundary}"}
    response = _request(settings, "POST", path, headers=headers, body=body)
    return _import_result(response.json(), response.where)


def _rule_id(value: Any) -> str | None:
    # Errors Kibana cannot pin to a rule (an unparsable line, a rule failing its schema)
    # carry no rule_id, or "(unknown id)" in the versions that fill one in.
    return value if isinstance(value, str) and value != "(unknown id)" else None


def _import_result(body: Any, where: str) -> ImportResult:
    try:
        errors = tuple(
            RefusedRule(
                rule_id=_rule_id(item.get("rule_id")),
                status_code=int(item["error"]["status_code"]),
                message=str(item["error"]["message"]),
            )
            for item in body["errors"]
        )
        result = ImportResult(
            success=bool(body["success"]),
            success_count=int(body["success_count"]),
            rules_count=int(body["rules_count"]),
            errors=errors,
            raw=body,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KibanaError(f"{where}: not an import answer: {json.dumps(body)[:200]}") from None
    return result
