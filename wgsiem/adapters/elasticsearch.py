"""Talking to Elasticsearch: the connection (TLS, credentials) and idempotent installs.

Credentials come from a file or the environment, never from the command line, where
`ps` and shell history would keep them: `--api-key-file` / WGSIEM_ES_API_KEY, or
`--user` with `--password-file` / WGSIEM_ES_PASSWORD. TLS is verified unless
`--insecure` says otherwise; `--ca-file` adds a private CA.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import WgsiemError
from ..settings import setting
from .credentials import CredentialError, read_secret

# The client (and the aiohttp, requests and urllib3 it brings, a quarter of a second) is
# imported by the functions that talk to a cluster: settings and `convert` do without it.
if TYPE_CHECKING:
    from elasticsearch import ApiError, Elasticsearch

API_KEY_ENV = "WGSIEM_ES_API_KEY"
PASSWORD_ENV = "WGSIEM_ES_PASSWORD"  # noqa: S105 - the name of a variable, not a password
_JSON = {"accept": "application/json", "content-type": "application/json"}


class EsError(WgsiemError):
    """A request Elasticsearch refused or could not be reached for; the message says which."""


@dataclass(frozen=True)
class EsSettings:
    """Where the cluster is and how to log in: paths to secrets, never secrets."""

    url: str = setting(help="Elasticsearch URL, e.g. https://es.example:9200.", flags=("--es",), metavar="URL")
    ca_file: Path | None = setting(None, help="CA certificate (PEM) to verify the cluster's TLS certificate.", path="file")
    api_key_file: Path | None = setting(None, help="File holding an API key (encoded form).", path="file", default_text=f"${API_KEY_ENV}")
    user: str | None = setting(None, help=f"Basic auth user; the password comes from --password-file or ${PASSWORD_ENV}.")
    password_file: Path | None = setting(None, help="File holding the basic auth password.", path="file", default_text=f"${PASSWORD_ENV}")
    insecure: bool = setting(False, help="Do not verify the cluster's TLS certificate (tests only).")


def _secret(path: Path | None, env: str, what: str) -> str | None:
    try:
        return read_secret(path, env, what)
    except CredentialError as error:
        raise EsError(str(error)) from None


def connect(settings: EsSettings) -> Elasticsearch:
    options: dict[str, Any] = {"request_timeout": 30}
    api_key = _secret(settings.api_key_file, API_KEY_ENV, "API key")
    if api_key:
        options["api_key"] = api_key
    elif settings.user:
        password = _secret(settings.password_file, PASSWORD_ENV, "password")
        if password is None:
            raise EsError(f"--user {settings.user} needs --password-file or {PASSWORD_ENV}")
        options["basic_auth"] = (settings.user, password)
    if settings.url.startswith("https:"):
        if settings.ca_file is not None:
            options["ca_certs"] = str(settings.ca_file)
        if settings.insecure:
            options["verify_certs"] = False
            options["ssl_show_warn"] = False
    from elasticsearch import Elasticsearch

    return Elasticsearch(settings.url, **options)


def request(client: Elasticsearch, method: str, path: str, body: Any = None) -> Any:
    from elasticsearch import ApiError, TransportError

    path = path if path.startswith("/") else "/" + path
    try:
        return client.perform_request(method, path, headers=_JSON, body=body).body
    except ApiError as error:
        raise EsError(f"{method} {path}: HTTP {error.meta.status}: {error_reason(error)}") from None
    except TransportError as error:
        raise EsError(f"{method} {path}: {error}") from None


def field_mappings(client: Elasticsearch, indices: Sequence[str], names: Sequence[str]) -> Any:
    """`GET <indices>/_mapping/field/<names>`: how the indices map these fields (none: `{}`)."""
    from urllib.parse import quote

    target = ",".join(quote(i, safe="*-,.") for i in indices)
    fields = ",".join(quote(n, safe="*.") for n in names)
    return request(client, "GET", f"/{target}/_mapping/field/{fields}?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=open")


def error_reason(error: ApiError) -> str:
    """Elasticsearch's reason: `{"error": {"reason": ...}}` from most APIs, a bare
    `{"error": "no handler found ..."}` from the REST layer, or plain text."""
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            # A search's own reason is often only "all shards failed"; the root cause says why.
            for cause in [*(inner.get("root_cause") or [])[:1], inner]:
                if isinstance(cause, dict) and cause.get("reason"):
                    return str(cause["reason"])
        if isinstance(inner, str):
            return inner
        return json.dumps(body)[:300]
    return body if isinstance(body, str) and body else str(error.message)


def node_modules(client: Elasticsearch) -> frozenset[str]:
    """The modules and plugins every node of the cluster has: what can be relied on."""
    nodes = request(client, "GET", "/_nodes/plugins?filter_path=nodes.*.modules.name,nodes.*.plugins.name").get("nodes") or {}
    sets = [{m["name"] for m in n.get("modules", []) + n.get("plugins", [])} for n in nodes.values()]
    return frozenset(set.intersection(*sets)) if sets else frozenset()


# --- installing content -----------------------------------------------------------------

KINDS = {
    "pipeline": ("/_ingest/pipeline/{}", lambda body, name: body.get(name)),
    "component_template": (
        "/_component_template/{}",
        lambda body, name: next((t["component_template"] for t in body.get("component_templates", []) if t["name"] == name), None),
    ),
    "index_template": (
        "/_index_template/{}",
        lambda body, name: next((t["index_template"] for t in body.get("index_templates", []) if t["name"] == name), None),
    ),
}


def digest(body: dict[str, Any]) -> str:
    """A digest of what we install, kept in `_meta`, so a re-install can tell "unchanged"
    without comparing against the form Elasticsearch normalises the body into."""
    clean = {k: v for k, v in body.items() if k != "_meta"}
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:16]


def install(client: Elasticsearch, kind: str, name: str, body: dict[str, Any], *, force: bool = False) -> str:
    """PUT unless the same content is there: 'created', 'updated', 'unchanged' or 'kept newer'."""
    from elasticsearch import ApiError, TransportError

    path_format, extract = KINDS[kind]
    path = path_format.format(name)
    ours = dict(body)
    ours["_meta"] = {**(body.get("_meta") or {}), "wgsiem_digest": digest(body)}
    try:
        current = extract(client.perform_request("GET", path, headers=_JSON).body, name)
    except ApiError as error:
        if error.meta.status != 404:
            raise EsError(f"GET {path}: HTTP {error.meta.status}: {error.message}") from None
        current = None
    except TransportError as error:
        raise EsError(f"GET {path}: {error}") from None
    if current is not None:
        if (current.get("_meta") or {}).get("wgsiem_digest") == ours["_meta"]["wgsiem_digest"]:
            return "unchanged"
        theirs, mine = current.get("version"), body.get("version")
        if not force and isinstance(theirs, int) and isinstance(mine, int) and theirs > mine:
            return "kept newer"
    request(client, "PUT", path, ours)
    return "updated" if current is not None else "created"


# --- searching ---------------------------------------------------------------------------

def search(client: Elasticsearch, indices: Sequence[str], body: Any, params: Mapping[str, str] | None = None, *, endpoint: str = "_search") -> Any:
    """POST /<indices>/<endpoint> (`_search`, `_count`, `_pit`) with URL `params`; without
    indices POST /<endpoint>, as a search in a point in time must be sent."""
    from elasticsearch import ApiError, TransportError

    target = ",".join(quote(name, safe="*,-.:") for name in indices)
    path = f"/{target}/{endpoint}" if target else f"/{endpoint}"
    try:
        return client.perform_request("POST", path, params=dict(params or {}), headers=_JSON, body=body).body
    except ApiError as error:
        raise EsError(f"POST {path}: HTTP {error.meta.status}: {error_reason(error)}") from None
    except TransportError as error:
        raise EsError(f"POST {path}: {error}") from None


# --- bulk delivery (wgsiem ship --output elasticsearch) -------------------------------------

# Only what delivery reads: one status (and error) per item, in the order sent.
BULK_FILTER = "items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by.reason"


class EsUnavailableError(EsError):
    """A request that failed as a whole: `status` is the HTTP status, None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def bulk_sender(client: Elasticsearch, timeout: float) -> Any:  # noqa: ANN401 - Callable[[bytes], dict]
    """`send(body) -> response` for `bulk.attempt`: one POST /_bulk, no retries of the
    client's own (the caller retries, per document, with its own backoff)."""
    from elasticsearch import ApiError, TransportError

    quiet = client.options(request_timeout=timeout, max_retries=0, retry_on_timeout=False)

    def send(body: bytes) -> Any:  # noqa: ANN401 - the decoded JSON response
        try:
            return quiet.bulk(operations=body, filter_path=BULK_FILTER).body
        except ApiError as error:
            reason = " ".join(error_reason(error).split())  # a proxy's HTML error page, on one line
            raise EsUnavailableError(f"HTTP {error.meta.status}: {reason[:300]}", error.meta.status) from None
        except TransportError as error:
            raise EsUnavailableError(" ".join(str(error.message).split())[:300] or type(error).__name__) from None

    return send


def secret_values(settings: EsSettings) -> tuple[str, ...]:
    """What `connect` sends as credentials, in every form a message could echo it (the
    API key as given and decoded, the password, the basic auth token), for scrubbing."""
    found: list[str] = []
    for path, env in ((settings.api_key_file, API_KEY_ENV), (settings.password_file, PASSWORD_ENV)):
        try:
            value = read_secret(path, env, "secret")
        except CredentialError:
            continue
        if not value:
            continue
        found.append(value)
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            decoded = ""
        if ":" in decoded:  # an encoded API key is base64(id:key); the key is the secret part
            found += [decoded, decoded.split(":", 1)[1]]
        if env == PASSWORD_ENV and settings.user:
            found.append(base64.b64encode(f"{settings.user}:{value}".encode()).decode())
    return tuple(sorted({v for v in found if len(v) >= 4}, key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "(redacted)")
    return text
