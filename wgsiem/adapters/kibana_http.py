"""What every call to a Kibana API shares: where Kibana is, how to log in, TLS, one request.

The rule import (`kibana.py`) and Fleet's package upload (`fleet.py`) both go through
`request`. Each passes its own error class, so a failure is born as the error of the
operation that failed (`KibanaError`, `FleetError`), with the same wording for what they
share: an unusable URL or secret file, an untrusted certificate, a refused connection.

Credentials come from a file or the environment, never from the command line, where `ps`
and shell history would keep them: an API key file / WGSIEM_KIBANA_API_KEY, or a user with
a password file / WGSIEM_KIBANA_PASSWORD. TLS is verified unless `insecure` says
otherwise; `ca_file` adds a private CA. Plain http.client, not urllib: no proxy from the
environment and no followed redirect can carry the Authorization header elsewhere. Every
message is scrubbed of the secrets in play, since a proxy or an impostor may quote them.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import WgsiemError
from ..settings import setting
from .credentials import CredentialError, read_secret

API_KEY_ENV = "WGSIEM_KIBANA_API_KEY"
PASSWORD_ENV = "WGSIEM_KIBANA_PASSWORD"  # noqa: S105 - the name of a variable, not a password
# Kibana's public API version; every public route of the rule import and Fleet takes it.
API_VERSION = "2023-10-31"
DEFAULT_SPACE = "default"
# Kibana reads a space only from /s/<id> with this alphabet; any other id leaves the path
# unrouted, and Kibana answers a bare 404.
_SPACE_ID = re.compile(r"[a-z0-9_\-]+")

ErrorClass = type[WgsiemError]


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
class Credentials:
    """The Authorization header to send, which credential it is (for messages: where it
    came from, never its value), and every form of the secret to scrub from messages."""

    authorization: str | None = field(repr=False)
    described: str
    secrets: tuple[str, ...] = field(repr=False, default=())


def _secret(path: Path | None, env: str, what: str, error: ErrorClass) -> str | None:
    try:
        return read_secret(path, env, what)
    except CredentialError as problem:
        raise error(str(problem)) from None


def credentials(settings: KibanaSettings, error: ErrorClass = KibanaError) -> Credentials:
    """The credential the settings name: an API key (file, then environment) before a user
    and password; none at all is allowed (a Kibana without security)."""
    api_key = _secret(settings.api_key_file, API_KEY_ENV, "Kibana API key", error)
    if api_key:
        # Elasticsearch hands out both `encoded` and `id` + `api_key`; "id:api_key" is the
        # second pair written as one, which the header wants base64-encoded.
        encoded = base64.b64encode(api_key.encode()).decode() if ":" in api_key else api_key
        source = str(settings.api_key_file) if settings.api_key_file else f"${API_KEY_ENV}"
        return Credentials(f"ApiKey {encoded}", f"the API key in {source}", (api_key, encoded))
    if settings.user:
        if ":" in settings.user:
            raise error("a Kibana user name cannot contain ':' (HTTP basic authentication)")
        password = _secret(settings.password_file, PASSWORD_ENV, "Kibana password", error)
        if password is None:
            raise error(f"Kibana user {settings.user} needs a password file or {PASSWORD_ENV}")
        token = base64.b64encode(f"{settings.user}:{password}".encode()).decode()
        source = str(settings.password_file) if settings.password_file else f"${PASSWORD_ENV}"
        return Credentials(f"Basic {token}", f"user {settings.user} with the password in {source}", (password, token))
    return Credentials(None, f"no credentials (neither an API key file, ${API_KEY_ENV} nor a user was given)")


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def space_prefix(space: str | None, error: ErrorClass = KibanaError) -> str:
    if space is None or space == DEFAULT_SPACE:
        return ""
    if not _SPACE_ID.fullmatch(space):
        raise error(f"Kibana space id {space!r}: only lowercase letters, digits, '_' and '-'")
    return f"/s/{space}"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int | None
    netloc: str
    base_path: str

    @classmethod
    def parse(cls, url: str, error: ErrorClass = KibanaError) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL is not echoed: whatever is in it is not known to be harmless.
            raise error("the Kibana URL must be http(s)://host[:port][/base-path]")
        if parts.username is not None or parts.password is not None:
            raise error(
                "the Kibana URL must not hold credentials; use an API key or password file or "
                f"{API_KEY_ENV} / {PASSWORD_ENV}"
            )
        if parts.query or parts.fragment:
            raise error("the Kibana URL must not have a query or fragment")
        try:
            port = parts.port
        except ValueError:
            raise error("the Kibana URL has an invalid port") from None
        return cls(parts.scheme, parts.hostname, port, parts.netloc, parts.path.rstrip("/"))

    def public(self, path: str) -> str:
        return f"{self.scheme}://{self.netloc}{self.base_path}{path}"


def tls_context(settings: KibanaSettings, error: ErrorClass = KibanaError) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    except (OSError, ssl.SSLError) as problem:
        raise error(f"CA file {settings.ca_file}: {getattr(problem, 'strerror', None) or problem}") from None
    if settings.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def snippet(data: bytes) -> str:
    return " ".join(data.decode("utf-8", errors="replace").split())[:200]


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    data: bytes
    where: str  # "METHOD url" for messages: no credentials, no body
    secrets: tuple[str, ...] = field(repr=False)
    credential: str = ""  # Credentials.described: which credential was sent

    def body(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        try:
            return json.loads(self.data) if self.data else None
        except ValueError:
            return None

    def message(self) -> str:
        """What Kibana says went wrong: the error body's `message`, else the start of the
        body, else the status's reason phrase. Scrubbed."""
        body = self.body()
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message:
            message = snippet(self.data) or http.client.responses.get(self.status, "")
        return scrub(message, self.secrets)

    def redirect(self) -> str | None:
        """A message for a 3xx (never followed: it could carry the credentials elsewhere)."""
        if not 300 <= self.status < 400:
            return None
        location = urlsplit(self.headers.get("location") or "").path or "?"
        return f"{self.where}: HTTP {self.status} redirect to {location}; is the URL Kibana's, with its base path?"

    def not_json(self) -> str:
        kind = self.headers.get("content-type") or "no content-type"
        return scrub(f"{self.where}: HTTP {self.status} but not JSON ({kind}): {snippet(self.data)}", self.secrets)

    def json(self, error: ErrorClass = KibanaError) -> Any:
        """The JSON body of a 2xx answer; `error` for anything else."""
        if (redirect := self.redirect()) is not None:
            raise error(redirect)
        if not 200 <= self.status < 300:
            raise error(scrub(f"{self.where}: HTTP {self.status}: {self.message()}", self.secrets))
        body = self.body()
        if body is None:
            raise error(self.not_json())
        return body


def request(
    settings: KibanaSettings,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    error: ErrorClass = KibanaError,
) -> Response:
    """One request to Kibana; `path` is below the URL's base path, query included. Answers
    of any status come back; only a request that got no answer raises."""
    target = Target.parse(settings.url, error)
    login = credentials(settings, error)
    headers = {"accept": "application/json", "elastic-api-version": API_VERSION, **headers}
    if login.authorization:
        headers["authorization"] = login.authorization
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=settings.timeout, context=tls_context(settings, error)
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=settings.timeout)
    where = f"{method} {target.public(path)}"
    try:
        connection.request(method, target.base_path + path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except ssl.SSLCertVerificationError as problem:
        raise error(
            f"{where}: TLS certificate not trusted ({problem.verify_message}); a private CA needs a CA file"
        ) from None
    except ssl.SSLError as problem:
        raise error(f"{where}: TLS failed: {problem.reason or problem}") from None
    except ConnectionRefusedError:
        raise error(f"{where}: connection refused; is Kibana running at {target.netloc}?") from None
    except TimeoutError:
        raise error(f"{where}: no answer within {settings.timeout:g}s") from None
    except socket.gaierror as problem:
        raise error(f"{where}: cannot resolve {target.host}: {problem.strerror}") from None
    except (OSError, http.client.HTTPException) as problem:
        raise error(f"{where}: {getattr(problem, 'strerror', None) or type(problem).__name__}") from None
    finally:
        connection.close()
    return Response(response.status, response.headers, data, where, login.secrets, login.described)


def check_space(settings: KibanaSettings, error: ErrorClass = KibanaError) -> None:
    """Refuse a space that does not exist. Kibana does not check the /s/<id> of an API
    request: what is sent there goes into a space no one can open, and reports success."""
    if space_prefix(settings.space, error) == "":
        return
    response = request(settings, "GET", f"/api/spaces/space/{quote(settings.space or '')}", headers={}, error=error)
    if response.status == 404:
        raise error(f"Kibana space {settings.space!r} does not exist ({response.where}: HTTP 404)")
    response.json(error)
