"""`ship --metrics-listen`: GET /metrics in threads of its own, never in the poll's way.

After each poll the loop hands over a `PeerSnapshot` (`publish`): a reference swap, no
lock the poll could wait on. A render thread turns it into the peer families' text once
per poll (`PeerMetrics` keeps every unchanged peer's lines), and each scrape sends the
latest text, with the health and process metrics rendered then. A scrape never runs `wg`
and never waits for a poll; only the very first, before any rendering is done, waits
for it (at most `FIRST_RENDER_WAIT` seconds). Paths other than /metrics answer 404,
methods other than GET and HEAD 405, as prometheus_wireguard_exporter does.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import PROCESS_COLLECTOR
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import CollectorRegistry

from ..metrics.health import Health, HealthCollector
from ..metrics.listen import MetricsListenError
from ..metrics.peers import PeerMetrics, PeerSnapshot

log = logging.getLogger("wgsiem")

FIRST_RENDER_WAIT = 5.0  # well inside Prometheus's default scrape timeout (10 s)


class MetricsServer:
    def __init__(self, address: tuple[str, int], peers: PeerMetrics, health: Health) -> None:
        self.peers, self.health = peers, health
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(HealthCollector(health))
        self._registry.register(PROCESS_COLLECTOR)
        self._body: bytes | None = None  # the peer families of the latest rendered snapshot
        self._rendered = threading.Event()
        self._pending: PeerSnapshot | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._server = _Server(address, self)
        self.address: tuple[str, int] = self._server.server_address[:2]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="metrics-http", daemon=True),
            threading.Thread(target=self._render_loop, name="metrics-render", daemon=True),
        ]

    def start(self) -> MetricsServer:
        for thread in self._threads:
            thread.start()
        return self

    def publish(self, snap: PeerSnapshot) -> None:
        """The peers after a poll (called by the poll loop; returns at once)."""
        self._pending = snap
        self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def scrape(self) -> bytes:
        self._rendered.wait(FIRST_RENDER_WAIT)
        # Before any poll was rendered: the families, without peers (render is the render
        # thread's alone: its line cache is not for two threads).
        peers = self._body if self._body is not None else self.peers.headers()
        return peers + generate_latest(self._registry)

    def _render_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            snap, self._pending = self._pending, None
            if snap is None:
                continue
            try:
                self._body = self.peers.render(snap)
            except Exception:  # noqa: BLE001 - the metrics must never take the shipper down
                log.exception("metrics: rendering the peers failed; the last rendering is served")
            self._rendered.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: MetricsServer) -> None:
        self.metrics = metrics
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        try:
            super().__init__(address, _Handler)
        except OSError as err:
            raise MetricsListenError(f"metrics_listen {address[0]}:{address[1]}: cannot listen: {err.strerror}") from None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self._status(404)
            return
        body = self.server.metrics.scrape()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the scraper gave up (its timeout): nothing to do
                log.debug("metrics: %s went away during a scrape", self.address_string())

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_allowed(self) -> None:
        self._status(405)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        log.debug("metrics: %s %s", self.address_string(), format % args)
