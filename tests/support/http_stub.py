"""What the local stand-ins for Kibana's APIs (kibana_stub.py, fleet_stub.py) share: a
threaded HTTP server on a free local port (TLS when given a certificate and key) that
records every request and answers JSON, and Kibana's check of the credentials a request
carries. Each stand-in says what its API answers, in `handle`; this is only the wire.
"""

from __future__ import annotations

import base64
import hmac
import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request as the stand-in received it, and what it answered."""

    method: str
    path: str  # as sent, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int | None = None
    response: Any = None


R = TypeVar("R", bound=Recorded)


class StubServer(Generic[R]):
    """A stand-in records each request as its `record_type` and answers it in `handle`
    with (status, JSON body, extra headers). Requests are kept in `requests`, in order."""

    record_type: type[R]
    thread_name = "http-stub"

    def __init__(
        self,
        *,
        api_key: str | None,
        user: str | None,
        password: str | None,
        tls: tuple[Path, Path] | None,  # (certificate, key)
    ) -> None:
        self.api_key = api_key
        self.user, self.password = user, password
        self.tls = tls
        self.requests: list[R] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, record: R) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def credentials_ok(self, headers: Mapping[str, str]) -> bool:
        """Kibana's authentication: any request passes when the stand-in has no
        credentials; otherwise the API key (`ApiKey <id:key base64>`) or the user and
        password (`Basic`) it was given."""
        if self.api_key is None and self.user is None:
            return True
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if self.api_key is not None and scheme.lower() == "apikey" and hmac.compare_digest(credentials.encode(), self.api_key.encode()):
            return True
        if self.user is not None and scheme.lower() == "basic":
            expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return hmac.compare_digest(credentials.encode(), expected.encode())
        return False

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stub first"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> Self:
        stub = self

        class Handler(_Handler):
            server_stub = stub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _served(self, record: R) -> tuple[int, Any, dict[str, str]]:
        status, answer, headers = self.handle(record)
        record.status, record.response = status, answer
        with self._lock:
            self.requests.append(record)
        return status, answer, headers


class _Handler(BaseHTTPRequestHandler):
    server_stub: StubServer[Any]
    server_version = "kibana-stub"

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        record = self.server_stub.record_type(
            self.command,
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {name.lower(): value for name, value in self.headers.items()},
            self.rfile.read(length) if length else b"",
        )
        status, answer, headers = self.server_stub._served(record)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, *_: Any) -> None:
        pass
