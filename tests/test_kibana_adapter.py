"""The Kibana import client against tests/support/kibana_stub.py, a local stand-in for Kibana's
rule import endpoint that checks every request the way Kibana does."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.kibana_rules import NEW_TERMS_RULE, QUERY_RULE, THRESHOLD_RULE
from tests.support.kibana_stub import CONFLICT_MESSAGE, KibanaStub
from wgsiem.adapters.kibana import (
    API_KEY_ENV,
    PASSWORD_ENV,
    ImportResult,
    KibanaError,
    KibanaSettings,
    encode_multipart,
    import_rules,
)

API_KEY = "V2dzaWVtOnNlY3JldC1hcGkta2V5LTMxNDE1OQ=="
PASSWORD = "correct horse battery staple"
RULES = [QUERY_RULE, THRESHOLD_RULE, NEW_TERMS_RULE]
RULE_IDS = [rule["rule_id"] for rule in RULES]
IMPORT = "/api/detection_engine/rules/_import"


def ndjson(rules: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(rule) + "\n" for rule in rules)


@pytest.fixture
def kibana() -> Iterator[KibanaStub]:
    with KibanaStub(api_key=API_KEY, user="wgsiem", password=PASSWORD, spaces=("wg-lab",)) as stub:
        yield stub


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "kibana-api-key"
    path.write_text(API_KEY + "\n")
    return path


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


def test_import_with_an_api_key_sends_what_kibana_wants(kibana: KibanaStub, key_file: Path) -> None:
    result = import_rules(KibanaSettings(url=kibana.url, api_key_file=key_file), ndjson(RULES), overwrite=False)

    assert result == ImportResult(success=True, success_count=3, rules_count=3, errors=(), raw={})
    [request] = kibana.requests
    assert (request.method, request.path, request.query) == (
        "POST",
        "/api/detection_engine/rules/_import",
        {"overwrite": ["false"]},
    )
    assert request.headers["authorization"] == f"ApiKey {API_KEY}"
    assert request.headers["kbn-xsrf"]
    assert request.headers["elastic-api-version"] == "2023-10-31"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert (request.file_field, request.filename) == ("file", "wgsiem-rules.ndjson")
    assert [rule["rule_id"] for rule in request.rules] == RULE_IDS
    assert sorted(kibana.installed["default"]) == sorted(RULE_IDS)


def test_an_id_and_key_pair_is_encoded_for_the_header(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"wgsiem-id:raw-key-value").decode()
    (tmp_path / "key").write_text("wgsiem-id:raw-key-value")
    with KibanaStub(api_key=encoded) as stub:
        import_rules(KibanaSettings(url=stub.url, api_key_file=tmp_path / "key"), ndjson(RULES[:1]), overwrite=False)
        assert stub.requests[0].headers["authorization"] == f"ApiKey {encoded}"


def test_the_api_key_may_come_from_the_environment(kibana: KibanaStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    result = import_rules(KibanaSettings(url=kibana.url), ndjson(RULES[:1]), overwrite=False)
    assert result.success_count == 1
    assert kibana.requests[0].headers["authorization"] == f"ApiKey {API_KEY}"


def test_basic_authentication_with_a_password_file(kibana: KibanaStub, tmp_path: Path) -> None:
    (tmp_path / "password").write_text(PASSWORD + "\n")
    settings = KibanaSettings(url=kibana.url, user="wgsiem", password_file=tmp_path / "password")
    assert import_rules(settings, ndjson(RULES), overwrite=False).success
    expected = base64.b64encode(f"wgsiem:{PASSWORD}".encode()).decode()
    assert kibana.requests[0].headers["authorization"] == f"Basic {expected}"


def test_a_user_without_a_password_is_refused_before_any_request(kibana: KibanaStub) -> None:
    with pytest.raises(KibanaError, match=PASSWORD_ENV):
        import_rules(KibanaSettings(url=kibana.url, user="wgsiem"), ndjson(RULES), overwrite=False)
    assert kibana.requests == []


def test_a_wrong_key_is_a_401_without_the_key_in_the_message(kibana: KibanaStub, tmp_path: Path) -> None:
    (tmp_path / "key").write_text("d3Jvbmc6a2V5LXRoYXQtaXMtbm90LXZhbGlk")
    settings = KibanaSettings(url=kibana.url, api_key_file=tmp_path / "key")
    with pytest.raises(KibanaError, match=r"HTTP 401") as caught:
        import_rules(settings, ndjson(RULES), overwrite=False)
    assert "d3Jvbmc6" not in str(caught.value)
    assert kibana.url + "/api/detection_engine/rules/_import" in str(caught.value)
    assert kibana.installed == {}


def test_no_credentials_at_all_is_a_401_too(kibana: KibanaStub) -> None:
    with pytest.raises(KibanaError, match="HTTP 401"):
        import_rules(KibanaSettings(url=kibana.url), ndjson(RULES), overwrite=False)
    assert "authorization" not in kibana.requests[0].headers


def test_a_space_is_checked_then_imported_into(kibana: KibanaStub, key_file: Path) -> None:
    settings = KibanaSettings(url=kibana.url, space="wg-lab", api_key_file=key_file)
    assert import_rules(settings, ndjson(RULES), overwrite=False).success
    check, post = kibana.requests
    assert (check.method, check.path) == ("GET", "/api/spaces/space/wg-lab")
    assert (post.method, post.path, post.space) == ("POST", "/s/wg-lab/api/detection_engine/rules/_import", "wg-lab")
    assert sorted(kibana.installed["wg-lab"]) == sorted(RULE_IDS)
    assert "default" not in kibana.installed


def test_the_default_space_has_no_prefix(kibana: KibanaStub, key_file: Path) -> None:
    import_rules(KibanaSettings(url=kibana.url, space="default", api_key_file=key_file), ndjson(RULES), overwrite=False)
    assert [r.path for r in kibana.requests] == ["/api/detection_engine/rules/_import"]


def test_an_unknown_space_is_refused_because_kibana_would_not(kibana: KibanaStub, key_file: Path) -> None:
    settings = KibanaSettings(url=kibana.url, space="wg-typo", api_key_file=key_file)
    with pytest.raises(KibanaError, match=r"space 'wg-typo' does not exist .*HTTP 404"):
        import_rules(settings, ndjson(RULES), overwrite=False)
    assert [r.method for r in kibana.requests] == ["GET"]
    assert kibana.installed == {}

    # What the check prevents: Kibana (and the stub) take an import into any space id.
    result = import_rules(settings, ndjson(RULES), overwrite=False, verify_space=False)
    assert result.success and sorted(kibana.installed["wg-typo"]) == sorted(RULE_IDS)


def test_a_space_id_kibana_cannot_route_is_refused_locally(kibana: KibanaStub, key_file: Path) -> None:
    with pytest.raises(KibanaError, match="lowercase letters"):
        import_rules(KibanaSettings(url=kibana.url, space="WG Lab", api_key_file=key_file), "", overwrite=False)
    assert kibana.requests == []


def test_without_overwrite_a_second_import_conflicts_and_keeps_the_rules(kibana: KibanaStub, key_file: Path) -> None:
    settings = KibanaSettings(url=kibana.url, api_key_file=key_file)
    import_rules(settings, ndjson(RULES), overwrite=False)
    renamed = [dict(rule, name=rule["name"] + " (v2)") for rule in RULES]

    result = import_rules(settings, ndjson(renamed), overwrite=False)

    assert (result.success, result.success_count, result.rules_count) == (False, 0, 3)
    assert sorted(result.conflicts) == sorted(RULE_IDS)
    assert {(e.status_code, e.message) for e in result.errors} == {(409, CONFLICT_MESSAGE)}
    assert {rule["name"] for rule in kibana.installed["default"].values()} == {rule["name"] for rule in RULES}


def test_with_overwrite_a_second_import_replaces_the_rules(kibana: KibanaStub, key_file: Path) -> None:
    settings = KibanaSettings(url=kibana.url, api_key_file=key_file)
    import_rules(settings, ndjson(RULES), overwrite=False)
    first_ids = {rule_id: rule["id"] for rule_id, rule in kibana.installed["default"].items()}
    renamed = [dict(rule, name=rule["name"] + " (v2)") for rule in RULES]

    result = import_rules(settings, ndjson(renamed), overwrite=True)

    assert (result.success, result.success_count, result.errors) == (True, 3, ())
    assert kibana.requests[-1].query == {"overwrite": ["true"]}
    installed = kibana.installed["default"]
    assert {rule["name"] for rule in installed.values()} == {rule["name"] for rule in renamed}
    assert {rule_id: rule["id"] for rule_id, rule in installed.items()} == first_ids


def test_invalid_rules_come_back_as_per_rule_errors_in_a_200(kibana: KibanaStub, key_file: Path) -> None:
    broken = dict(THRESHOLD_RULE, threshold={"field": "source.ip"}, severity="urgent")
    text = ndjson([QUERY_RULE, broken, QUERY_RULE])

    result = import_rules(KibanaSettings(url=kibana.url, api_key_file=key_file), text, overwrite=False)

    assert (result.success, result.success_count, result.rules_count) == (False, 1, 3)
    invalid, duplicate = result.errors
    assert (invalid.rule_id, invalid.status_code) == (None, 400)  # Kibana: "(unknown id)"
    assert "severity: 'urgent' is not one of" in invalid.message
    assert "threshold.value: missing (required)" in invalid.message
    assert (duplicate.rule_id, duplicate.status_code) == (QUERY_RULE["rule_id"], 400)
    assert "More than one rule" in duplicate.message
    assert list(kibana.installed["default"]) == [QUERY_RULE["rule_id"]]


def test_the_multipart_body_carries_the_ndjson_byte_for_byte(kibana: KibanaStub, key_file: Path) -> None:
    # CRLF line ends, non-ASCII, a blank line and no final newline: all must arrive as sent.
    noted = dict(QUERY_RULE, note="Prüfen: wg0 ↔ peer")
    data = (json.dumps(noted, ensure_ascii=False) + "\r\n\r\n" + json.dumps(THRESHOLD_RULE)).encode()
    settings = KibanaSettings(url=kibana.url, api_key_file=key_file)

    result = import_rules(settings, data, overwrite=False, filename="WG-Rules.NDJSON")

    request = kibana.requests[0]
    assert request.ndjson == data
    assert request.filename == "WG-Rules.NDJSON"
    boundary = request.headers["content-type"].split("boundary=", 1)[1]
    assert request.body.startswith(f"--{boundary}\r\n".encode())
    assert request.body.endswith(f"\r\n--{boundary}--\r\n".encode())
    assert data in request.body
    assert result.success_count == 2


def test_the_boundary_never_occurs_in_the_content() -> None:
    data = b"--wgsiem-" + b"a" * 64
    boundary, body = encode_multipart("file", "r.ndjson", data)
    assert boundary.encode() not in data
    assert body.count(boundary.encode()) == 2


def test_a_file_name_kibana_would_refuse_is_refused_before_sending(kibana: KibanaStub, key_file: Path) -> None:
    with pytest.raises(KibanaError, match="ending in .ndjson"):
        import_rules(KibanaSettings(url=kibana.url, api_key_file=key_file), "", overwrite=False, filename="rules.json")
    assert kibana.requests == []


def test_connection_refused_names_the_url_and_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = KibanaSettings(url=f"http://127.0.0.1:{port}/kibana", user="wgsiem", timeout=5)

    with pytest.raises(KibanaError) as caught:
        import_rules(settings, ndjson(RULES), overwrite=True)

    message = str(caught.value)
    assert f"POST http://127.0.0.1:{port}/kibana/api/detection_engine/rules/_import?overwrite=true" in message
    assert "connection refused" in message
    assert PASSWORD not in message and base64.b64encode(f"wgsiem:{PASSWORD}".encode()).decode() not in message
    assert PASSWORD not in repr(settings)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_credentials_in_the_url_are_refused_and_not_repeated() -> None:
    with pytest.raises(KibanaError, match="must not hold credentials") as caught:
        import_rules(KibanaSettings(url="https://elastic:s3cr3t@kibana.example:5601"), "", overwrite=False)
    assert "s3cr3t" not in str(caught.value)


# --- what the stub itself answers, so the tests above lean on a faithful Kibana ------------


def _post(stub: KibanaStub, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", int(stub.url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request("POST", path, body=body, headers={"authorization": f"ApiKey {API_KEY}", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "field", "filename", "xsrf", "expected"),
    [
        pytest.param(IMPORT, "file", "r.ndjson", False, (400, "kbn-xsrf"), id="no-xsrf"),
        pytest.param(IMPORT, "rules", "r.ndjson", True, (500, "reading 'hapi'"), id="wrong-field"),
        pytest.param(IMPORT, "file", "r.json", True, (400, "Invalid file extension .json"), id="ext"),
        pytest.param(IMPORT + "s", "file", "r.ndjson", True, (404, "Not Found"), id="path"),
        pytest.param("/s/WG" + IMPORT, "file", "r.ndjson", True, (404, "Not Found"), id="caps"),
    ],
)
def test_the_stub_refuses_like_kibana(
    kibana: KibanaStub, path: str, field: str, filename: str, xsrf: bool, expected: tuple[int, str]
) -> None:
    boundary, body = encode_multipart(field, filename, ndjson(RULES).encode())
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    if xsrf:
        headers["kbn-xsrf"] = "true"
    status, answer = _post(kibana, path, body, headers)
    assert (status, expected[1] in answer["message"]) == (expected[0], True)
    assert kibana.installed == {}
    if status != 404 and xsrf:  # the part is only read after the path and header checks
        assert (kibana.requests[0].file_field, kibana.requests[0].filename) == (field, filename)


def test_the_stub_checks_the_api_version_and_payload_size(key_file: Path) -> None:
    with KibanaStub(max_bytes=200) as stub:
        boundary, body = encode_multipart("file", "r.ndjson", ndjson(RULES[:1]).encode())
        headers = {"content-type": f"multipart/form-data; boundary={boundary}", "kbn-xsrf": "1"}
        status, answer = _post(stub, IMPORT, body, headers)
        assert (status, answer["error"]) == (413, "Request Entity Too Large")
        with pytest.raises(KibanaError, match="HTTP 413: Payload content length greater"):
            import_rules(KibanaSettings(url=stub.url, api_key_file=key_file), ndjson(RULES), overwrite=False)
    with KibanaStub() as stub:
        status, answer = _post(stub, IMPORT, body, headers | {"elastic-api-version": "1"})
        assert status == 400 and 'No version "1"' in answer["message"]


# --- answers that are not Kibana's -------------------------------------------------------


class _NotKibana(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the base class's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("location", "https://sso.example/login?next=/kibana")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        page = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def not_kibana() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotKibana)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_non_json_answer_is_an_error(not_kibana: str, key_file: Path) -> None:
    with pytest.raises(KibanaError, match=r"HTTP 200 but not JSON \(text/html\): <html><body>Welcome to nginx"):
        import_rules(KibanaSettings(url=not_kibana, api_key_file=key_file), ndjson(RULES), overwrite=False)


def test_a_redirect_is_not_followed(not_kibana: str, key_file: Path) -> None:
    with pytest.raises(KibanaError, match="HTTP 302 redirect to /login; is the URL Kibana's"):
        settings = KibanaSettings(url=not_kibana + "/redirect", api_key_file=key_file)
        import_rules(settings, ndjson(RULES), overwrite=False)


# --- TLS ---------------------------------------------------------------------------------


def test_tls_is_verified_by_default(tls_certificate: tuple[Path, Path], key_file: Path) -> None:
    certificate = tls_certificate
    with KibanaStub(api_key=API_KEY, tls=certificate) as stub:
        assert stub.url.startswith("https://")
        with pytest.raises(KibanaError, match="TLS certificate not trusted .*needs a CA file"):
            import_rules(KibanaSettings(url=stub.url, api_key_file=key_file), ndjson(RULES), overwrite=False)
        assert stub.installed == {}

        trusted = KibanaSettings(url=stub.url, api_key_file=key_file, ca_file=certificate[0])
        assert import_rules(trusted, ndjson(RULES), overwrite=False).success_count == 3

        unverified = KibanaSettings(url=stub.url, api_key_file=key_file, insecure=True)
        assert import_rules(unverified, ndjson(RULES), overwrite=True).success_count == 3
