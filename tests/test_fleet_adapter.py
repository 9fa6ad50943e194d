"""The Fleet upload client against tests/support/fleet_stub.py, a local stand-in for Kibana's
package upload endpoint that checks every request against
wgsiem/package/schemas/fleet-upload.schema.json and answers the way Fleet does."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.fleet_stub import FleetStub, request_violations
from wgsiem.adapters import fleet
from wgsiem.adapters.fleet import FleetError, UploadResult, package_identity, upload_package
from wgsiem.adapters.kibana import API_KEY_ENV, PASSWORD_ENV, KibanaSettings

API_KEY = "V2dzaWVtOmZsZWV0LWFwaS1rZXktMjcxODI4"
PASSWORD = "correct horse battery staple"
UPLOAD = "/api/fleet/epm/packages"
MANIFEST = {
    "format_version": "3.3.0",
    "name": "wireguard",
    "title": "WireGuard",
    "version": "1.2.0",
    "description": "WireGuard tunnels: peers, handshakes, transfers.",
    "type": "integration",
    "owner": {"github": "wgsiem/wgsiem", "type": "community"},
}


def package_zip(
    manifest: dict[str, Any] | None = None,
    *,
    top: str | None = None,
    extra: dict[str, str] | None = None,
    loose: dict[str, str] | None = None,
    stream_manifest: dict[str, Any] | None = None,
) -> bytes:
    """A tiny package: one data stream with an ingest pipeline, one dashboard; `extra`
    adds files in the package folder, `loose` files outside it."""
    manifest = MANIFEST if manifest is None else manifest
    top = top or f"{manifest.get('name')}-{manifest.get('version')}"
    files = {
        "manifest.yml": yaml.safe_dump(manifest),
        "docs/README.md": "# WireGuard\n",
        "data_stream/status/manifest.yml": yaml.safe_dump(stream_manifest or {"title": "WireGuard status", "type": "logs"}),
        "data_stream/status/fields/fields.yml": "- name: wireguard.peer.public_key\n  type: keyword\n",
        "data_stream/status/elasticsearch/ingest_pipeline/default.yml": "processors: []\n",
        "kibana/dashboard/wireguard-overview.json": json.dumps({"id": "wireguard-overview", "type": "dashboard"}),
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{top}/", "")  # a folder entry, as `zip -r` writes one
        for path, text in files.items():
            archive.writestr(f"{top}/{path}", text)
        for path, text in (loose or {}).items():
            archive.writestr(path, text)
    return buffer.getvalue()


PACKAGE = package_zip()
ASSETS = (
    "index_template/logs-wireguard.status",
    "component_template/logs-wireguard.status@package",
    "component_template/logs-wireguard.status@custom",
    "ingest_pipeline/logs-wireguard.status-1.2.0",
    "dashboard/wireguard-overview",
)


@pytest.fixture
def kibana() -> Iterator[FleetStub]:
    with FleetStub(api_key=API_KEY, user="wgsiem", password=PASSWORD, spaces=("wg-lab",)) as stub:
        yield stub
        assert stub.schema_problems == []  # the stand-in's own answers kept to the schema


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "kibana-api-key"
    path.write_text(API_KEY + "\n")
    return path


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


# --- the happy path -----------------------------------------------------------------------


def test_an_upload_sends_what_the_schema_asks_and_reports_the_assets(kibana: FleetStub, key_file: Path) -> None:
    result = upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), PACKAGE)

    assert (result.name, result.version, result.install_source) == ("wireguard", "1.2.0", "upload")
    assert result.asset_names == ASSETS and result.asset_count == 5
    [request] = kibana.requests
    assert (request.method, request.path, request.query, request.space) == ("POST", UPLOAD, {}, "default")
    assert request.violations == {}
    assert request.headers["content-type"] == "application/zip"
    assert request.headers["kbn-xsrf"] and request.headers["elastic-api-version"] == "2023-10-31"
    assert request.headers["authorization"] == f"ApiKey {API_KEY}"
    assert request.body == PACKAGE and request.package == ("wireguard", "1.2.0")
    assert kibana.installed["wireguard"]["version"] == "1.2.0"


def test_a_named_space_is_checked_then_uploaded_into(kibana: FleetStub, key_file: Path) -> None:
    result = upload_package(KibanaSettings(url=kibana.url, space="wg-lab", api_key_file=key_file), PACKAGE)

    assert result.asset_count == 5
    check, post = kibana.requests
    assert (check.method, check.path) == ("GET", "/api/spaces/space/wg-lab")
    assert (post.method, post.path, post.space, post.violations) == ("POST", f"/s/wg-lab{UPLOAD}", "wg-lab", {})
    assert kibana.installed["wireguard"]["space"] == "wg-lab"


def test_the_default_space_has_no_prefix_and_no_check(kibana: FleetStub, key_file: Path) -> None:
    upload_package(KibanaSettings(url=kibana.url, space="default", api_key_file=key_file), PACKAGE)
    assert [(r.method, r.path) for r in kibana.requests] == [("POST", UPLOAD)]


def test_an_unknown_space_is_refused_before_the_upload(kibana: FleetStub, key_file: Path) -> None:
    settings = KibanaSettings(url=kibana.url, space="wg-typo", api_key_file=key_file)
    with pytest.raises(FleetError, match=r"space 'wg-typo' does not exist .*HTTP 404"):
        upload_package(settings, PACKAGE)
    assert [r.method for r in kibana.requests] == ["GET"] and kibana.installed == {}

    # What the check prevents: Kibana (and the stand-in) take an upload into any space id.
    assert upload_package(settings, PACKAGE, verify_space=False).asset_count == 5
    assert kibana.installed["wireguard"]["space"] == "wg-typo"


def test_a_space_id_kibana_cannot_route_is_refused_locally(kibana: FleetStub, key_file: Path) -> None:
    with pytest.raises(FleetError, match="lowercase letters"):
        upload_package(KibanaSettings(url=kibana.url, space="WG Lab", api_key_file=key_file), PACKAGE)
    assert kibana.requests == []


def test_force_asks_fleet_to_carry_on_past_mapping_update_errors(kibana: FleetStub, key_file: Path) -> None:
    # Uploads have no force parameter (they always replace the installed version);
    # ignoreMappingUpdateErrors is the one that pushes an install through.
    settings = KibanaSettings(url=kibana.url, api_key_file=key_file)
    upload_package(settings, PACKAGE)
    upload_package(settings, package_zip({**MANIFEST, "version": "1.1.0"}), force=True)

    assert kibana.requests[-1].query == {"ignoreMappingUpdateErrors": ["true"]}
    assert kibana.requests[-1].violations == {}
    assert kibana.installed["wireguard"]["version"] == "1.1.0"  # an older version replaced the newer


def test_an_older_kibana_answer_without_the_name_still_reads(key_file: Path) -> None:
    body = {"items": [{"id": "logs-wireguard.status", "type": "index_template"}], "response": [], "_meta": {"install_source": "upload"}}
    with fixed_answer(200, json.dumps(body).encode()) as url:
        result = upload_package(KibanaSettings(url=url, api_key_file=key_file), PACKAGE)
    assert result == UploadResult("wireguard", "1.2.0", "upload", result.assets, raw={})
    assert result.asset_names == ("index_template/logs-wireguard.status",)


# --- credentials ---------------------------------------------------------------------------


def test_the_api_key_may_come_from_the_environment(kibana: FleetStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    assert upload_package(KibanaSettings(url=kibana.url), PACKAGE).asset_count == 5
    assert kibana.requests[0].headers["authorization"] == f"ApiKey {API_KEY}"


def test_an_id_and_key_pair_is_encoded_for_the_header(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"wgsiem-id:raw-key-value").decode()
    (tmp_path / "key").write_text("wgsiem-id:raw-key-value")
    with FleetStub(api_key=encoded) as stub:
        upload_package(KibanaSettings(url=stub.url, api_key_file=tmp_path / "key"), PACKAGE)
        assert stub.requests[0].headers["authorization"] == f"ApiKey {encoded}"


@pytest.mark.parametrize("where", ["file", "env"])
def test_basic_authentication(kibana: FleetStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    if where == "file":
        (tmp_path / "password").write_text(PASSWORD + "\n")
        settings = KibanaSettings(url=kibana.url, user="wgsiem", password_file=tmp_path / "password")
    else:
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        settings = KibanaSettings(url=kibana.url, user="wgsiem")
    assert upload_package(settings, PACKAGE).asset_count == 5
    expected = base64.b64encode(f"wgsiem:{PASSWORD}".encode()).decode()
    assert kibana.requests[0].headers["authorization"] == f"Basic {expected}"


def test_a_user_without_a_password_is_refused_before_any_request(kibana: FleetStub) -> None:
    with pytest.raises(FleetError, match=PASSWORD_ENV):
        upload_package(KibanaSettings(url=kibana.url, user="wgsiem"), PACKAGE)
    assert kibana.requests == []


# --- Fleet's refusals, as sentences --------------------------------------------------------


def test_a_package_fleet_refuses_names_fleets_reason(kibana: FleetStub, key_file: Path) -> None:
    no_owner = {key: value for key, value in MANIFEST.items() if key != "owner"}
    with pytest.raises(FleetError) as caught:
        upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), package_zip(no_owner))
    message = str(caught.value)
    assert f"POST {kibana.url}{UPLOAD}: HTTP 400: Fleet refused package wireguard-1.2.0: " in message
    assert "one or more fields missing of name, version, description, title, format_version, owner" in message
    assert kibana.installed == {}


def test_a_data_stream_without_a_type_is_refused_by_fleet(kibana: FleetStub, key_file: Path) -> None:
    with pytest.raises(FleetError, match=r"HTTP 400: Fleet refused .*data stream 'status'.*'title', 'type'"):
        upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), package_zip(stream_manifest={"title": "status"}))


def test_a_wrong_api_key_is_named_but_not_shown(kibana: FleetStub, tmp_path: Path) -> None:
    (tmp_path / "key").write_text("d3Jvbmc6a2V5LXRoYXQtaXMtbm90LXZhbGlk")
    with pytest.raises(FleetError) as caught:
        upload_package(KibanaSettings(url=kibana.url, api_key_file=tmp_path / "key"), PACKAGE)
    message = str(caught.value)
    assert f"HTTP 401: Kibana did not accept the API key in {tmp_path / 'key'}" in message
    assert "d3Jvbmc6" not in message and kibana.installed == {}


def test_a_wrong_password_names_the_user_and_where_the_password_came_from(kibana: FleetStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not the password")
    with pytest.raises(FleetError, match=rf"HTTP 401: Kibana did not accept user wgsiem with the password in \${PASSWORD_ENV}"):
        upload_package(KibanaSettings(url=kibana.url, user="wgsiem"), PACKAGE)


def test_no_credentials_at_all_says_a_login_is_wanted(kibana: FleetStub) -> None:
    with pytest.raises(FleetError, match=f"HTTP 401: Kibana wants a login and none was given .*{API_KEY_ENV}"):
        upload_package(KibanaSettings(url=kibana.url), PACKAGE)
    assert "authorization" not in kibana.requests[0].headers


def test_a_user_without_fleet_privileges_is_told_which(key_file: Path) -> None:
    with FleetStub(api_key=API_KEY, privileges={"integrations-all"}) as stub, pytest.raises(FleetError) as caught:
        upload_package(KibanaSettings(url=stub.url, api_key_file=key_file), PACKAGE)
    message = str(caught.value)
    assert f"HTTP 403: Kibana accepted the API key in {key_file} but refused the upload: " in message
    assert "granted by the Kibana privileges [fleet-agent-policies-all]" in message
    assert "needs the Kibana privileges integrations-all and fleet-agent-policies-all" in message
    assert stub.installed == {} and stub.schema_problems == []


def test_a_package_with_detection_rules_needs_rules_all(key_file: Path) -> None:
    rule = {"attributes": {"rule_id": "wg-1", "type": "query"}, "id": "wg-1", "type": "security-rule"}
    zip_bytes = package_zip(extra={"kibana/security_rule/wg-1.json": json.dumps(rule)})
    with FleetStub(api_key=API_KEY, privileges={"integrations-all", "fleet-agent-policies-all"}) as stub:
        with pytest.raises(FleetError, match=r"HTTP 403: .*Missing: api:rules-all; .*rules-all in the space"):
            upload_package(KibanaSettings(url=stub.url, api_key_file=key_file), zip_bytes)
        assert stub.installed == {}
    with FleetStub(api_key=API_KEY) as stub:
        result = upload_package(KibanaSettings(url=stub.url, api_key_file=key_file), zip_bytes)
        assert "security-rule/wg-1" in result.asset_names


def test_a_license_refusal_gets_no_privilege_advice(key_file: Path) -> None:
    # Older Kibana versions answered this from the handler: uploads were an Enterprise feature.
    with FleetStub(api_key=API_KEY) as stub:
        stub.fail_next.append((403, "Requires Enterprise license"))
        with pytest.raises(FleetError) as caught:
            upload_package(KibanaSettings(url=stub.url, api_key_file=key_file), PACKAGE)
    assert str(caught.value).endswith("refused the upload: Requires Enterprise license")


@pytest.mark.parametrize("space", [None, "wg-lab"])
def test_no_fleet_is_a_404_that_says_so(key_file: Path, space: str | None) -> None:
    with FleetStub(api_key=API_KEY, fleet=False, spaces=("wg-lab",)) as stub:
        settings = KibanaSettings(url=stub.url, space=space, api_key_file=key_file)
        with pytest.raises(FleetError) as caught:
            upload_package(settings, PACKAGE, verify_space=False)
    message = str(caught.value)
    assert "HTTP 404: no Fleet package API here: Fleet is not enabled in this Kibana" in message
    assert ("space 'wg-lab' does not exist" in message) == (space is not None)


@pytest.mark.parametrize(
    ("status", "fleet_says", "expected"),
    [
        (409, "Concurrent installation or upgrade of wireguard-1.2.0 detected, aborting.", "HTTP 409: Fleet is already busy with wireguard-1.2.0: Concurrent"),
        (413, "Payload content length greater than maximum allowed: 104857600", "HTTP 413: Kibana takes packages of at most 104857600 bytes: Payload"),
        (500, "index_template [logs-wireguard.status] failed", "HTTP 500: Kibana failed while installing wireguard-1.2.0: index_template"),
        (418, "I am a teapot", "HTTP 418: I am a teapot"),
    ],
)
def test_other_refusals_keep_fleets_words(kibana: FleetStub, key_file: Path, status: int, fleet_says: str, expected: str) -> None:
    kibana.fail_next.append((status, fleet_says))
    with pytest.raises(FleetError, match=expected):
        upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), PACKAGE)
    assert kibana.installed == {}


def test_a_second_upload_within_ten_seconds_is_told_when_to_retry(key_file: Path) -> None:
    with FleetStub(api_key=API_KEY, rate_limit=True) as stub:
        settings = KibanaSettings(url=stub.url, api_key_file=key_file)
        upload_package(settings, PACKAGE)
        with pytest.raises(FleetError, match=r"HTTP 429: Fleet takes one package upload every 10s; try again in 10s \(Too many"):
            upload_package(settings, PACKAGE)
        assert stub.requests[-1].status == 429 and stub.schema_problems == []


# --- zips refused before anything is sent -------------------------------------------------


@pytest.mark.parametrize(
    ("zip_bytes", "expected"),
    [
        (b"PK\x03\x04 not really", "not a package zip"),
        (b"", "not a package zip"),
        (package_zip(top="wireguard"), "Fleet wants the folder to be wireguard-1.2.0/"),
        (package_zip({**MANIFEST, "version": 1.2}), "needs a name and a version"),
        (package_zip(loose={"other-1.0.0/manifest.yml": "name: other\n"}), "one folder"),
        (package_zip(loose={"README.md": "# loose\n"}), "one folder"),
    ],
    ids=["not-zip", "empty", "top-folder", "version-not-string", "two-tops", "root-file"],
)
def test_a_zip_fleet_would_refuse_is_refused_locally(kibana: FleetStub, key_file: Path, zip_bytes: bytes, expected: str) -> None:
    with pytest.raises(FleetError, match=expected):
        upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), zip_bytes)
    assert kibana.requests == []


def test_a_zip_without_manifest_is_refused_locally() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("wireguard-1.2.0/docs/README.md", "# WireGuard\n")
    with pytest.raises(FleetError, match="no wireguard-1.2.0/manifest.yml"):
        package_identity(buffer.getvalue())


def test_a_package_over_fleets_limit_is_refused_locally(kibana: FleetStub, key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(FleetError, match=r"wireguard-1.2.0 is \d+ bytes; Fleet takes at most 100"):
        upload_package(KibanaSettings(url=kibana.url, api_key_file=key_file), PACKAGE)
    assert kibana.requests == []


# --- the connection: TLS, refusals, secrets -----------------------------------------------


def test_tls_is_verified_by_default(tls_certificate: tuple[Path, Path], key_file: Path) -> None:
    with FleetStub(api_key=API_KEY, tls=tls_certificate) as stub:
        assert stub.url.startswith("https://")
        with pytest.raises(FleetError, match="TLS certificate not trusted .*needs a CA file"):
            upload_package(KibanaSettings(url=stub.url, api_key_file=key_file), PACKAGE)
        assert stub.installed == {}

        trusted = KibanaSettings(url=stub.url, api_key_file=key_file, ca_file=tls_certificate[0])
        assert upload_package(trusted, PACKAGE).asset_count == 5

        unverified = KibanaSettings(url=stub.url, api_key_file=key_file, insecure=True)
        assert upload_package(unverified, PACKAGE).asset_count == 5


def test_connection_refused_names_the_url_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = KibanaSettings(url=f"http://127.0.0.1:{port}/kibana", user="wgsiem", timeout=5)

    with pytest.raises(FleetError) as caught:
        upload_package(settings, PACKAGE, force=True)

    message = str(caught.value)
    assert f"POST http://127.0.0.1:{port}/kibana{UPLOAD}?ignoreMappingUpdateErrors=true: connection refused" in message
    assert PASSWORD not in message and base64.b64encode(f"wgsiem:{PASSWORD}".encode()).decode() not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_credentials_in_the_url_are_refused_and_not_repeated() -> None:
    with pytest.raises(FleetError, match="must not hold credentials") as caught:
        upload_package(KibanaSettings(url="https://elastic:s3cr3t@kibana.example:5601"), PACKAGE)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("refusal", [401, 403])
@pytest.mark.parametrize("how", ["api-key-file", "api-key-env", "id-and-key-file", "password-file", "password-env"])
def test_credentials_a_server_quotes_back_are_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, refusal: int) -> None:
    secret = "wgsiem-id:raw-key-4815" if how == "id-and-key-file" else API_KEY if how.startswith("api-key") else PASSWORD
    encoded = base64.b64encode(secret.encode()).decode()
    token = base64.b64encode(f"wgsiem:{secret}".encode()).decode()
    (tmp_path / "secret").write_text(secret)
    settings = {
        "api-key-file": KibanaSettings(url="", api_key_file=tmp_path / "secret"),
        "api-key-env": KibanaSettings(url=""),
        "id-and-key-file": KibanaSettings(url="", api_key_file=tmp_path / "secret"),
        "password-file": KibanaSettings(url="", user="wgsiem", password_file=tmp_path / "secret"),
        "password-env": KibanaSettings(url="", user="wgsiem"),
    }[how]
    monkeypatch.setenv(API_KEY_ENV if how == "api-key-env" else PASSWORD_ENV, secret if how.endswith("env") else "")
    header = f"Basic {token}" if how.startswith("password") else f"ApiKey {encoded if how == 'id-and-key-file' else secret}"
    # 401: the stand-in expects someone else's key; 403: it takes these, and grants nothing.
    login: dict[str, Any] = {"api_key": "c29tZW9uZTplbHNl"}
    if refusal == 403:
        login = {"user": "wgsiem", "password": secret} if how.startswith("password") else {"api_key": header.split(" ", 1)[1]}
    with FleetStub(**login, privileges=(), echo_credentials=True) as stub:
        with pytest.raises(FleetError) as caught:
            upload_package(replace(settings, url=stub.url), PACKAGE)
        assert stub.requests[-1].headers["authorization"] == header  # the credentials did reach it

    message = str(caught.value)
    assert f"HTTP {refusal}" in message and "[credentials seen: " in message and "***" in message  # quoted back, scrubbed
    for form in (secret, encoded, token):
        assert form not in message
    assert secret not in repr(settings)


# --- what the stand-in itself answers, so the tests above lean on a faithful Fleet ----------


def _post(stub: FleetStub, path: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", int(stub.url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request(method, path, body=body, headers={"authorization": f"ApiKey {API_KEY}", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


GOOD = {"kbn-xsrf": "true", "content-type": "application/zip", "elastic-api-version": "2023-10-31"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "expected", "broken"),
    [
        ("POST", UPLOAD, {"content-type": "application/zip"}, PACKAGE, (400, "kbn-xsrf"), "headers.kbn-xsrf"),
        ("POST", UPLOAD, GOOD | {"content-type": "application/octet-stream"}, PACKAGE, (415, "Unsupported"), "headers.content-type"),
        ("POST", UPLOAD, GOOD | {"content-type": "application/zip; charset=binary"}, PACKAGE, (415, "Unsupported"), "headers.content-type"),
        ("POST", UPLOAD, GOOD | {"elastic-api-version": "2099-01-01"}, PACKAGE, (400, 'No version "2099-01-01"'), "headers.elastic-api-version"),
        ("POST", UPLOAD + "?force=true", GOOD, PACKAGE, (400, "[request query]"), "query"),
        ("POST", UPLOAD + "?skipDataStreamRollover=yes", GOOD, PACKAGE, (400, "[request query]"), "query.skipDataStreamRollover"),
        ("POST", UPLOAD + "?ignoreMappingUpdateErrors=true&ignoreMappingUpdateErrors=false", GOOD, PACKAGE, (400, "[request query]"), "query.ignoreMappingUpdateErrors"),
        ("PUT", UPLOAD, GOOD, PACKAGE, (404, "Not Found"), "method"),
        ("POST", "/s/WG" + UPLOAD, GOOD, PACKAGE, (404, "Not Found"), "path"),
        ("POST", "/api/fleet/epm/package", GOOD, PACKAGE, (404, "Not Found"), None),
    ],
    ids=["no-xsrf", "octet-stream", "type-params", "api-version", "force-param", "not-boolean", "repeated", "put", "caps-space", "other-path"],
)
def test_the_stand_in_refuses_requests_that_break_the_schema(
    kibana: FleetStub, method: str, path: str, headers: dict[str, str], body: bytes, expected: tuple[int, str], broken: str | None
) -> None:
    status, answer = _post(kibana, path, body, headers, method)
    assert (status, expected[1] in answer["message"]) == (expected[0], True), answer
    assert kibana.installed == {}
    if broken is not None:
        assert broken in kibana.requests[0].violations


@pytest.mark.parametrize(
    ("zip_bytes", "expected"),
    [
        (package_zip(top="wireguard-9.9.9"), "Name wireguard and version 1.2.0 do not match top-level directory wireguard-9.9.9"),
        (package_zip(loose={"other-1.0.0/manifest.yml": "name: other\n"}), "more than one top-level directory"),
        (package_zip({key: value for key, value in MANIFEST.items() if key != "title"}), "one or more fields missing"),
        (b"not a zip", "Error during extraction of package"),
        (b"", "Error during extraction of package"),
    ],
    ids=["folder-mismatch", "two-tops", "manifest-schema", "not-zip", "empty"],
)
def test_the_stand_in_refuses_archives_fleet_refuses(kibana: FleetStub, zip_bytes: bytes, expected: str) -> None:
    status, answer = _post(kibana, UPLOAD, zip_bytes, GOOD)
    assert (status, answer["statusCode"], answer["error"]) == (400, 400, "Bad Request")
    assert expected in answer["message"], answer
    assert kibana.requests[0].violations == {} and kibana.installed == {}


def test_a_request_the_schema_accepts_has_no_violations() -> None:
    document = {"method": "POST", "path": "/s/wg_2-lab" + UPLOAD, "headers": GOOD | {"accept": "*/*"}, "query": {"skipDataStreamRollover": "false"}, "bodyBytes": 10}
    assert request_violations(document) == {}
    assert set(request_violations({**document, "headers": {}, "bodyBytes": 104857601})) == {"headers.kbn-xsrf", "headers.content-type", "bodyBytes"}


# --- answers that are not Fleet's -----------------------------------------------------------


class _Fixed(BaseHTTPRequestHandler):
    status = 200
    body = b""
    content_type = "application/json"
    location = ""

    def do_POST(self) -> None:  # noqa: N802 - the base class's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(self.status)
        self.send_header("content-type", self.content_type)
        if self.location:
            self.send_header("location", self.location)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


class fixed_answer:  # noqa: N801 - used as a context manager, like a function
    """A server answering every POST with one status and body."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json", location: str = "") -> None:
        self.handler = type("Handler", (_Fixed,), {"status": status, "body": body, "content_type": content_type, "location": location})

    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "location", "expected"),
    [
        (200, b"<html>Welcome to nginx!</html>", "text/html", "", r"HTTP 200 but not JSON \(text/html\): <html>Welcome"),
        (200, b'{"acknowledged": true}', "application/json", "", 'not an upload answer: {"acknowledged": true}'),
        (200, b'{"items": [{"id": 1}], "_meta": {"install_source": "upload"}}', "application/json", "", "not an upload answer"),
        (302, b"", "text/html", "https://sso.example/login?next=/", "HTTP 302 redirect to /login; is the URL Kibana's"),
    ],
    ids=["html", "other-json", "bad-item", "redirect"],
)
def test_answers_that_are_not_fleets_are_errors(key_file: Path, status: int, body: bytes, content_type: str, location: str, expected: str) -> None:
    with fixed_answer(status, body, content_type, location) as url, pytest.raises(FleetError, match=expected):
        upload_package(KibanaSettings(url=url, api_key_file=key_file), PACKAGE)
