"""Installing an integration package through Fleet's upload API.

`POST [/s/<space>]/api/fleet/epm/packages` with the package zip as the whole body
(`content-type: application/zip`), the `kbn-xsrf` header and API version 2023-10-31;
wgsiem/package/schemas/fleet-upload.schema.json describes the request and the answers, and
names the Kibana sources they were read from. Fleet answers 200 with the installed assets
(`items`) and `_meta: {install_source: "upload", name}`, or an error body whose `message`
says why; `upload_package` turns each refusal into a `FleetError` that says what to do.

Fleet's upload has no `force` parameter: every upload is installed as if forced, replacing
whatever version of the package is installed. `force=True` here sends the one parameter
that makes Fleet push an install through a failure it would otherwise stop at:
`ignoreMappingUpdateErrors=true` (a data stream whose write index refuses the new mappings
keeps its old ones instead of failing the install).

The connection (URL, credentials from a file or the environment, TLS, scrubbing secrets
from messages) is kibana_http.py's, shared with the rule import.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import yaml

from ..errors import WgsiemError
from .kibana_http import KibanaSettings, Response, check_space, request, scrub, snippet, space_prefix

UPLOAD_PATH = "/api/fleet/epm/packages"
CONTENT_TYPE = "application/zip"
# The route's body limit (hapi maxBytes); Kibana answers 413 above it.
MAX_UPLOAD_BYTES = 104_857_600
MANIFEST = "manifest.yml"
# Kibana's own route privileges for the upload, named in a 403's advice.
PRIVILEGES = "integrations-all and fleet-agent-policies-all"
# Fleet's extra check for archives holding detection rules (upload_preflight_authz.ts).
_RULES_PRIVILEGE = ", and rules-all in the space for a package with detection rules"


class FleetError(WgsiemError):
    """A package Fleet refused, or an upload that did not reach it; the message says which
    and what to do, and never holds a credential."""


@dataclass(frozen=True)
class InstalledAsset:
    """One entry of the answer's `items`: an Elasticsearch asset (index_template,
    ingest_pipeline, ...) or a Kibana saved object (dashboard, security-rule, ...)."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"


@dataclass(frozen=True)
class UploadResult:
    name: str  # as Fleet read it from the manifest (the zip's, where Fleet does not say)
    version: str  # from the zip: Fleet's answer does not carry it
    install_source: str  # "upload"
    assets: tuple[InstalledAsset, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def asset_count(self) -> int:
        return len(self.assets)

    @property
    def asset_names(self) -> tuple[str, ...]:
        """Each asset as "type/id", in Fleet's order."""
        return tuple(str(asset) for asset in self.assets)


def package_identity(zip_bytes: bytes) -> tuple[str, str]:
    """(name, version) of a package zip, checked the way Fleet checks it first: one
    top-level folder `<name>-<version>/` holding a manifest.yml that names both. A zip
    Fleet would refuse for these reasons is refused here, before anything is sent."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        # Fleet ignores folder entries; only files say what the top-level folders are.
        files = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise FleetError(f"not a package zip: {error}") from None
    tops = sorted({name.split("/", 1)[0] for name in files})
    if not files or len(tops) != 1 or any("/" not in name for name in files):
        raise FleetError(f"not a package zip: Fleet wants every file in one folder <name>-<version>/, found {tops or 'no files'}")
    top = tops[0]
    try:
        manifest = yaml.safe_load(archive.read(f"{top}/{MANIFEST}"))
    except KeyError:
        raise FleetError(f"not a package zip: no {top}/{MANIFEST}") from None
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as error:
        # A damaged entry, an unknown compression method, an encrypted file.
        raise FleetError(f"not a package zip: {top}/{MANIFEST}: {error}") from None
    except yaml.YAMLError as error:
        raise FleetError(f"{top}/{MANIFEST}: not YAML: {error}") from None
    name = manifest.get("name") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        raise FleetError(f"{top}/{MANIFEST}: needs a name and a version (strings)")
    if top != f"{name}-{version}":
        raise FleetError(f"{top}/{MANIFEST}: names {name} {version}, but Fleet wants the folder to be {name}-{version}/")
    return name, version


def upload_package(
    settings: KibanaSettings,
    zip_bytes: bytes,
    *,
    force: bool = False,
    verify_space: bool = True,
) -> UploadResult:
    """Install the package in `zip_bytes` through Fleet, its Kibana assets into the
    settings' space. With `force`, a data stream that refuses the new mappings does not
    fail the install (`ignoreMappingUpdateErrors`); see the module docstring."""
    name, version = package_identity(zip_bytes)
    if len(zip_bytes) > MAX_UPLOAD_BYTES:
        raise FleetError(f"package {name}-{version} is {len(zip_bytes)} bytes; Fleet takes at most {MAX_UPLOAD_BYTES}")
    path = space_prefix(settings.space, FleetError) + UPLOAD_PATH
    if force:
        path += "?" + urlencode({"ignoreMappingUpdateErrors": "true"})
    if verify_space:
        # Kibana takes an upload into a space that does not exist; its dashboards would be
        # out of everyone's sight.
        check_space(settings, FleetError)
    headers = {"kbn-xsrf": "wgsiem", "content-type": CONTENT_TYPE}
    response = request(settings, "POST", path, headers=headers, body=bytes(zip_bytes), error=FleetError)
    if not 200 <= response.status < 300:
        raise FleetError(_refusal(response, f"{name}-{version}", settings.space))
    return _upload_result(response, name, version)


def _refusal(response: Response, package: str, space: str | None) -> str:
    """Fleet's error body as a sentence: what was refused, why (Fleet's words), what to do."""
    if (redirect := response.redirect()) is not None:
        return redirect
    status, message, where = response.status, response.message(), response.where
    head = f"{where}: HTTP {status}"
    if status == 400:
        return f"{head}: Fleet refused package {package}: {message}"
    if status == 401:
        if not response.secrets:
            return f"{head}: Kibana wants a login and none was given ({response.credential}): {message}"
        return f"{head}: Kibana did not accept {response.credential}: {message}"
    if status == 403:
        # A license refusal (older Kibana: uploads were an Enterprise feature) is not helped
        # by privileges; anything else is a missing privilege.
        advice = "" if "license" in message.lower() else f"; uploading needs the Kibana privileges {PRIVILEGES}{_RULES_PRIVILEGE}"
        return f"{head}: Kibana accepted {response.credential} but refused the upload: {message}{advice}"
    if status == 404:
        cause = f"space {space!r} does not exist, " if space_prefix(space, FleetError) else ""
        return f"{head}: no Fleet package API here: Fleet is not enabled in this Kibana, {cause}or the URL is not Kibana's (with its base path)"
    if status == 409:
        return f"{head}: Fleet is already busy with {package}: {message.rstrip('.')}; try again when that install has finished"
    if status == 413:
        return f"{head}: Kibana takes packages of at most {MAX_UPLOAD_BYTES} bytes: {message}"
    if status == 429:
        wait = response.headers.get("retry-after") or "10"
        return f"{head}: Fleet takes one package upload every {wait}s; try again in {wait}s ({message})"
    if status >= 500:
        return f"{head}: Kibana failed while installing {package}: {message}"
    return f"{head}: {message}"


def _upload_result(response: Response, name: str, version: str) -> UploadResult:
    body = response.body()
    if body is None:
        raise FleetError(response.not_json())
    try:
        meta = body["_meta"]
        assets = tuple(_asset(item) for item in body["items"])
        source = meta["install_source"]
        # Older Kibana versions leave the name out of _meta.
        reported = meta.get("name", name)
        if not isinstance(source, str) or not isinstance(reported, str):
            raise TypeError
    except (KeyError, TypeError, AttributeError):
        raise FleetError(scrub(f"{response.where}: not an upload answer: {snippet(response.data)}", response.secrets)) from None
    return UploadResult(name=reported, version=version, install_source=source, assets=assets, raw=body)


def _asset(item: Any) -> InstalledAsset:
    kind, ident = item["type"], item["id"]
    if not isinstance(kind, str) or not isinstance(ident, str):
        raise TypeError
    return InstalledAsset(type=kind, id=ident)
