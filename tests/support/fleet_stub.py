"""A local stand-in for Kibana's Fleet package upload API, for tests where no Kibana runs.

Every request to the upload path is checked against
wgsiem/package/schemas/fleet-upload.schema.json (`$defs.UploadRequest`: method, path with
its /s/<space> prefix, headers, content type, query, body size), and what the schema
names as violated decides the answer, in Kibana's order: no such route (wrong method or
path, Fleet disabled) 404, authentication 401, body too large 413, content type 415,
kbn-xsrf 400, route privileges 403, API version 400, query 400. Then the handler, like
Fleet's: one upload per 10 s (when `rate_limit`) 429, an answer queued with `fail_next`
(409, 500, ... on demand), the archive (a zip whose one top folder is `<name>-<version>/`
with a manifest.yml satisfying `$defs.Manifest` and naming both, data stream manifests
with title and type) 400, security rules without rules-all 403, and otherwise 200 with
the installed assets. Every answer it gives is checked against the schema too
(`schema_problems` stays empty), so the stand-in cannot drift from what the client is
built against.

Like Kibana, it does not check that the space in /s/<id>/api/... exists;
GET /api/spaces/space/<id> answers 404 for spaces not configured. With `echo_credentials`
every error message quotes the credentials received, as a careless proxy might, so tests
can check that the client scrubs them. Not modelled: tar.gz uploads, ILM policies,
transforms and other assets the stand-in does not name, the list route (GET on the same
path answers 404 here).

    with FleetStub(api_key="secret-key", spaces=("wg",)) as fleet:
        upload_package(KibanaSettings(url=fleet.url, ...), zip_bytes)
        fleet.requests[-1].violations, fleet.installed["wireguard"]
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tests.support.http_stub import Recorded, StubServer

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "wgsiem" / "package" / "schemas" / "fleet-upload.schema.json"
UPLOAD_PATH = "/api/fleet/epm/packages"
_SPACE_PATH = re.compile(r"^/s/([^/]+)(/.*)$")
_SPACE_API = re.compile(r"^/api/spaces/space/([^/]+)$")
ROUTE_PRIVILEGES = ("fleet-agent-policies-all", "integrations-all")
ALL_PRIVILEGES = frozenset({*ROUTE_PRIVILEGES, "rules-all"})
RETRY_AFTER_S = 10


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def validator(definition: str) -> Draft202012Validator:
    """A validator for one of the schema's $defs (the document stays the root, so its
    $refs resolve)."""
    document = {**schema(), "$ref": f"#/$defs/{definition}"}
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def request_violations(document: dict[str, Any]) -> dict[str, list[str]]:
    """What an upload request (as the schema models it) breaks, by the part broken:
    "method", "path", "headers.kbn-xsrf", "headers.content-type", "query", "bodyBytes", ..."""
    found: dict[str, list[str]] = {}
    for error in validator("UploadRequest").iter_errors(document):
        where = [str(part) for part in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            keys = [".".join([*where, name]) for name in error.validator_value if name not in error.instance]
        else:
            keys = [".".join(where[:2])]
        for key in keys:
            found.setdefault(key, []).append(f"{key or '(request)'}: {error.message}")
    return found


@dataclass
class RecordedRequest(Recorded):
    space: str | None = None  # None: not an upload request
    violations: dict[str, list[str]] = field(default_factory=dict)  # of $defs.UploadRequest
    package: tuple[str, str] | None = None  # (name, version) read from the archive


class _Answer(Exception):  # noqa: N818 - a signal carrying the stand-in's answer
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Answer:
    """Kibana's error body (core's customError / hapi Boom): statusCode, error, message."""
    body = {"statusCode": status, "error": http.client.responses.get(status, "Error"), "message": message}
    return _Answer(status, body, headers)


@dataclass
class _Archive:
    top: str
    name: str
    version: str
    files: dict[str, bytes]  # path below the top folder -> content
    streams: dict[str, dict[str, Any]]  # data stream folder -> its manifest


class FleetStub(StubServer[RecordedRequest]):
    record_type = RecordedRequest
    thread_name = "fleet-stub"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        user: str | None = None,
        password: str | None = None,
        spaces: Iterable[str] = ("default",),
        tls: tuple[Path, Path] | None = None,  # (certificate, key)
        fleet: bool = True,  # False: a Kibana with Fleet disabled (no route)
        privileges: Iterable[str] = ALL_PRIVILEGES,
        rate_limit: bool = False,  # Fleet's one upload per 10 s
        echo_credentials: bool = False,
    ) -> None:
        super().__init__(api_key=api_key, user=user, password=password, tls=tls)
        self.spaces = set(spaces) | {"default"}
        self.fleet = fleet
        self.privileges = frozenset(privileges)
        self.rate_limit = rate_limit
        self.echo_credentials = echo_credentials
        self.fail_next: list[tuple[int, str]] = []  # (status, message) the handler answers first
        self.installed: dict[str, dict[str, Any]] = {}  # package name -> version, space, assets
        self.schema_problems: list[str] = []  # answers of ours that break the schema
        self._last_upload: float | None = None

    # --- what Kibana and Fleet do --------------------------------------------------------

    def handle(self, record: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        try:
            body = self._route(record)
        except _Answer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
            if self.echo_credentials and isinstance(body, dict):
                body["message"] += f" [credentials seen: {self._seen(record)}]"
        else:
            status, headers = 200, {}
        if record.space is not None:  # only the upload route's answers are the schema's
            self._check_answer(status, body)
        return status, body, headers

    def _route(self, record: RecordedRequest) -> Any:
        path, space = record.path, "default"
        if match := _SPACE_PATH.match(path):
            space, path = match.groups()
        if (match := _SPACE_API.match(path)) and record.method == "GET":
            self._authenticate(record)
            if match.group(1) not in self.spaces:
                raise _error(404, f"Saved object [space/{match.group(1)}] not found")
            return {"id": match.group(1), "name": match.group(1), "disabledFeatures": []}
        if path != UPLOAD_PATH:
            raise _error(404, "Not Found")
        record.space = space
        return self._upload(record, space)

    def _upload(self, record: RecordedRequest, space: str) -> Any:
        document = {
            "method": record.method,
            "path": record.path,
            "headers": record.headers,
            # A key given once is a string, as Kibana sees it; given twice, a list.
            "query": {key: values[0] if len(values) == 1 else values for key, values in record.query.items()},
            "bodyBytes": len(record.body),
        }
        record.violations = broken = request_violations(document)
        if not record.body:
            # An empty body passes hapi; Fleet's unpacker is what refuses it (400).
            broken.pop("bodyBytes", None)
        if not self.fleet or "method" in broken or "path" in broken:
            raise _error(404, "Not Found")  # Kibana has no such route
        self._authenticate(record)
        if "bodyBytes" in broken:
            raise _error(413, "Payload content length greater than maximum allowed: 104857600")
        if "headers.content-type" in broken:
            raise _error(415, "Unsupported Media Type")
        if "headers.kbn-xsrf" in broken:
            raise _error(400, "Request must contain a kbn-xsrf header.")
        missing = [name for name in ROUTE_PRIVILEGES if name not in self.privileges]
        if missing:
            raise _error(
                403,
                f"API [POST {UPLOAD_PATH}] is unauthorized for user, this action is granted by the Kibana "
                f"privileges [{','.join(missing)}]",
            )
        if "headers.elastic-api-version" in broken:
            version = record.headers.get("elastic-api-version")
            raise _error(400, f'No version "{version}" available for [post] [{UPLOAD_PATH}]. Available versions are: [2023-10-31]')
        if problems := [message for key, messages in broken.items() if key.startswith("query") for message in messages]:
            raise _error(400, f"[request query]: {'; '.join(problems)}")
        assert not broken, broken  # every part the schema names is answered above
        return self._install(record, space)

    def _authenticate(self, record: RecordedRequest) -> None:
        if not self.credentials_ok(record.headers):
            raise _error(401, "[security_exception]: unable to authenticate")

    def _install(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        with self._lock:
            if self.rate_limit and self._last_upload is not None and time.monotonic() - self._last_upload < RETRY_AFTER_S:
                raise _error(
                    429, f"Too many requests. Please wait {RETRY_AFTER_S}s before uploading again.", {"retry-after": str(RETRY_AFTER_S)}
                )
            if self.fail_next:
                raise _error(*self.fail_next.pop(0))
        archive = _read_archive(record.body)
        record.package = (archive.name, archive.version)
        with self._lock:
            self._last_upload = time.monotonic()
        if any(path.startswith("kibana/security_rule/") for path in archive.files) and "rules-all" not in self.privileges:
            raise _error(403, "Insufficient privileges to upload this package. Missing: api:rules-all")
        assets = _assets(archive)
        with self._lock:
            # Uploads are installed as if forced: any installed version is replaced.
            self.installed[archive.name] = {"version": archive.version, "space": space, "assets": assets}
        return {"items": assets, "_meta": {"install_source": "upload", "name": archive.name}}

    def _seen(self, record: RecordedRequest) -> str:
        given = record.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "basic":
            try:
                given += f" ({base64.b64decode(value).decode()})"
            except ValueError:
                pass
        return given or "none"

    def _check_answer(self, status: int, body: Any) -> None:
        for error in validator("InstallPackageResponse" if status == 200 else "ErrorResponse").iter_errors(body):
            self.schema_problems.append(f"HTTP {status}: {error.message}")


def _read_archive(body: bytes) -> _Archive:
    """The zip as Fleet's archive parser reads it, refusing (400) what Fleet refuses."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _error(400, f"Error during extraction of package: {error}. Assumed content type was application/zip") from None
    if not files:
        raise _error(400, "Archive seems empty. Assumed content type was application/zip")
    paths = list(files)
    top = paths[0].split("/")[0]
    for path in paths:
        if path.split("/")[0] != top or "/" not in path:
            raise _error(400, f"Package contains more than one top-level directory; top-level directory found: {top}; filePath: {path}")
    manifest = _yaml(
        files,
        f"{top}/manifest.yml",
        missing=f"Manifest file {top}/manifest.yml not found in paths.",
        unparsable=f"Could not parse top-level package manifest at top-level directory {top}",
    )
    required = schema()["$defs"]["Manifest"]["required"]
    if list(validator("Manifest").iter_errors(manifest)):
        name = manifest.get("name") if isinstance(manifest, dict) else None
        raise _error(
            400,
            f"Invalid top-level package manifest at top-level directory {top} (package name: {name}): "
            f"one or more fields missing of {', '.join(required)}.",
        )
    name, version = manifest["name"], manifest["version"]
    if top != f"{name}-{version}":
        raise _error(400, f"Name {name} and version {version} do not match top-level directory {top}")
    inner = {path[len(top) + 1 :]: content for path, content in files.items()}
    return _Archive(top, name, version, inner, _data_streams(inner))


def _yaml(files: dict[str, bytes], path: str, *, missing: str, unparsable: str) -> Any:
    if path not in files:
        raise _error(400, missing)
    try:
        return yaml.safe_load(files[path])
    except yaml.YAMLError as error:
        raise _error(400, f"{unparsable}: {error}.") from None


def _data_streams(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """Each data_stream/<name>/ folder's manifest, which needs a title and a type."""
    names = sorted({path.split("/")[1] for path in files if path.startswith("data_stream/") and path.count("/") >= 2})
    streams = {}
    for name in names:
        manifest = _yaml(
            files,
            f"data_stream/{name}/manifest.yml",
            missing=f"No manifest.yml file found for data stream '{name}'",
            unparsable=f"Could not parse package manifest for data stream '{name}'",
        )
        if not isinstance(manifest, dict) or not manifest.get("title") or not manifest.get("type"):
            raise _error(400, f"Invalid manifest for data stream '{name}': one or more fields missing of 'title', 'type'")
        streams[name] = manifest
    return streams


def _assets(archive: _Archive) -> list[dict[str, str]]:
    """The assets Fleet would report, named the way Fleet names them (an approximation:
    index and component templates, ingest pipelines, Kibana saved objects)."""
    assets: list[dict[str, str]] = []
    for name, manifest in archive.streams.items():
        stream = f"{manifest['type']}-{manifest.get('dataset') or f'{archive.name}.{name}'}"
        assets.append({"id": stream, "type": "index_template"})
        assets += [{"id": f"{stream}@package", "type": "component_template"}, {"id": f"{stream}@custom", "type": "component_template"}]
        prefix = f"data_stream/{name}/elasticsearch/ingest_pipeline/"
        for path in sorted(p for p in archive.files if p.startswith(prefix)):
            stem = Path(path).stem
            suffix = "" if stem == "default" else f"-{stem}"
            assets.append({"id": f"{stream}-{archive.version}{suffix}", "type": "ingest_pipeline"})
    for path in sorted(p for p in archive.files if p.startswith("kibana/") and p.endswith(".json") and p.count("/") == 2):
        _, kind, filename = path.split("/")
        assets.append({"id": Path(filename).stem, "type": kind.replace("_", "-")})
    return assets
