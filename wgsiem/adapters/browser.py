"""Open a local HTML file in headless Chromium with the network blocked and watched: the
page's DOM and visible text after its scripts ran, a PNG screenshot, and every request
that tried to leave the machine.

Offline is checked, not assumed. Chromium resolves no host name, and sends all its traffic,
loopback included, to a proxy of ours that refuses every request and writes down what was
asked (`Rendered.requests`). The DevTools protocol also reports every URL the page asked
for, file:// ones too (`Rendered.resources`), so a page that needs a file beside it is
caught as well as one that needs a CDN.

One Chromium run, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
it reads fd 3 and writes fd 4, NUL-separated JSON), rather than `--dump-dom` and
`--screenshot` runs: the text is the page's own `innerText`, the page is read once it is
quiet instead of after a guessed time, and a full-page screenshot needs no guessed height.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import math
import os
import select
import shutil
import signal
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location, WgsiemError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
DEBIAN_PACKAGE = "chromium"

# The page is read once no request has been in flight for this long after its load event,
# or, should a request never be reported finished, this long after the wait began.
QUIET_SECONDS = 0.25
PATIENCE_SECONDS = 5.0
# Chromium will not make a bitmap much taller; a report is far shorter.
MAX_PAGE_HEIGHT = 16384

# Fonts ready and two frames painted: what a script or a web font changed is on screen. A
# page Chromium thinks hidden paints no frame, so the wait ends after a second regardless.
_SETTLED = (
    "Promise.race([document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))),"
    " new Promise(r => setTimeout(r, 1000))])"
)


class BrowserError(WgsiemError):
    """Chromium is missing, failed, or did not finish in time."""


class _TimeoutError(BrowserError):
    """Chromium did not finish in time."""


@dataclass(frozen=True)
class Rendered:
    dom: str  # document.documentElement.outerHTML once the page was quiet
    text: str  # document.body.innerText: what a reader sees, hidden elements left out
    png: bytes
    requests: list[str]  # what reached the refusing proxy: "GET http://host/path", "CONNECT host:443"
    resources: list[str] = field(default_factory=list)  # every URL the page asked for but itself and data: URLs
    errors: list[str] = field(default_factory=list)  # uncaught exceptions and console.error calls


def find_chromium() -> str:
    """The Chromium to run: $WGSIEM_CHROMIUM, else the first of CANDIDATES on PATH."""
    chosen = os.environ.get("WGSIEM_CHROMIUM")
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise BrowserError(f"WGSIEM_CHROMIUM={chosen!r} is not an executable file")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise BrowserError(
        f"no Chromium found (looked for {', '.join(CANDIDATES)} on PATH): install the Debian package "
        f"{DEBIAN_PACKAGE} (apt-get install --no-install-recommends {DEBIAN_PACKAGE}) or set WGSIEM_CHROMIUM"
    )


def chromium_missing() -> str | None:
    """Why no page can be rendered here, or None when Chromium is there."""
    try:
        find_chromium()
    except BrowserError as err:
        return str(err)
    return None


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 900, full_page: bool = True, timeout: float = 60.0) -> Rendered:
    """Render `html` and write its screenshot to `png`, `width` CSS pixels wide and
    `height` high (or the whole page's height when `full_page`)."""
    rendered = render(html, width=width, height=height, full_page=full_page, timeout=timeout)
    png.write_bytes(rendered.png)
    return rendered


def render(html: Path, *, width: int = 1280, height: int = 900, full_page: bool = False, timeout: float = 60.0) -> Rendered:
    """Open `html` (a local file) in a `width` x `height` viewport at one device pixel per
    CSS pixel, wait until the page is quiet, and read it. The screenshot is the viewport,
    or the whole page from the top when `full_page`. Raises BrowserError when Chromium is
    missing, fails, or takes longer than `timeout` seconds in all."""
    html = Path(html).resolve()
    if not html.is_file():
        raise BrowserError("no such file", Location(file=html))
    chromium = find_chromium()
    try:
        try:
            return _render(chromium, html, width, height, full_page, timeout)
        except _TimeoutError:
            # A Chromium that hangs once (seen on a loaded CI machine, with nothing on its
            # stderr) is the machine's trouble, not the page's: a fresh one gets one more go.
            return _render(chromium, html, width, height, full_page, timeout)
    except BrowserError as err:
        raise BrowserError(err.message, Location(file=html)) from None


def _render(chromium: str, html: Path, width: int, height: int, full_page: bool, timeout: float) -> Rendered:
    with _RefusingProxy() as chromiums, _RefusingProxy() as pages, tempfile.TemporaryDirectory(prefix="wgsiem-chromium-") as scratch:
        with _Chromium(chromium, _arguments(chromiums.port, Path(scratch) / "profile"), Path(scratch) / "stderr", timeout) as browser:
            page = _Page(browser, html.as_uri(), pages.port)
            rendered = page.read(width, height, full_page)
            browser.close()
        return Rendered(requests=pages.seen(), **rendered)


def _arguments(proxy_port: int, profile: Path) -> list[str]:
    return [
        "--headless",
        # The page is our own file, not the web, and the sandbox cannot start as root or in
        # most containers.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's /dev/shm is often too small for the renderer
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        # Fewer calls home from Chromium itself (updates, sync, network time): they are refused
        # anyway, and kept apart from the page's (see _Page).
        "--disable-background-networking",
        "--disable-features=NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--mute-audio",
        # Pixels are compared with colours written in the page: no colour management.
        "--force-color-profile=srgb",
        "--hide-scrollbars",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",  # localhost too goes through the proxy
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        # WebRTC's UDP would go around the proxy.
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--remote-debugging-pipe",
        "about:blank",
    ]


class _RefusingProxy:
    """A local HTTP proxy that answers every request 403 and records its request line."""

    def __init__(self) -> None:
        self._seen: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(8192).decode("latin-1").strip()
                    for _ in range(200):  # the headers, unread they would reset the connection
                        if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                except OSError:
                    return
                if line:
                    method, _, rest = line.partition(" ")
                    proxy._record(f"{method} {rest.rpartition(' ')[0] or rest}")
                with contextlib.suppress(OSError):
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=True)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="refusing-proxy", daemon=True)

    def _record(self, request: str) -> None:
        with self._lock:
            self._seen.append(request)

    def seen(self) -> list[str]:
        with self._lock:
            return list(self._seen)

    def __enter__(self) -> _RefusingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Chromium:
    """A Chromium process and its DevTools pipe: commands out, answers and events in."""

    def __init__(self, binary: str, arguments: list[str], stderr: Path, timeout: float) -> None:
        self.binary, self.arguments, self.stderr, self.timeout = binary, arguments, stderr, timeout
        self.deadline = time.monotonic() + timeout
        self.pid: int | None = None  # None once reaped
        self.status: int | None = None
        self.group: int | None = None
        self.events: list[dict[str, Any]] = []
        self.step = "starting"  # what it was doing, for the message should it never finish
        self._next_id = 0
        self._buffer = b""

    def __enter__(self) -> _Chromium:
        # posix_spawn places the pipe ends at fd 3 and 4 in the child without running Python
        # there (a preexec_fn is unsafe beside the proxy's thread). Every end is first moved
        # to fd 10 or above so that placing one cannot overwrite another.
        to_chromium, self._to = os.pipe()
        self._from, from_chromium = os.pipe()
        err = os.open(self.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chromium, from_chromium, err)]
        for fd in (to_chromium, from_chromium, err):
            os.close(fd)
        try:
            self.pid = os.posix_spawn(
                self.binary,
                [self.binary, *self.arguments],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_DUP2, high[2], 2),
                    (os.POSIX_SPAWN_DUP2, high[0], 3),
                    (os.POSIX_SPAWN_DUP2, high[1], 4),
                ],
                setsid=True,  # its own process group, so its renderer and helpers can be stopped with it
            )
            self.group = self.pid
        except OSError as error:
            self._close_pipes()
            raise BrowserError(f"cannot start {self.binary}: {error.strerror or error}") from None
        finally:
            for fd in high:
                os.close(fd)
        return self

    def __exit__(self, *_: object) -> None:
        self._close_pipes()
        if self.pid is not None and self._wait(time.monotonic() + 5) is None:
            self._kill()
        # Helpers that outlived the main process: a process group's id is not reused while
        # any of its members lives, so this reaches ours only.
        if self.group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signal.SIGKILL)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and return its result; events read meanwhile go to `events`."""
        self.step = f"answering {method}"
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            os.write(self._to, json.dumps(message).encode() + b"\0")
        except OSError:
            self._fail(f"closed its DevTools pipe before {method}")
        while True:
            for answer in self._read(self.deadline):
                if answer.get("id") == self._next_id:
                    if "error" in answer:
                        raise BrowserError(f"Chromium refused {method}: {answer['error'].get('message', answer['error'])}")
                    result: dict[str, Any] = answer.get("result", {})
                    return result
                if "method" in answer:
                    self.events.append(answer)

    def pump(self, until: float) -> None:
        """Read the events that arrive before `until` (or the deadline, if sooner)."""
        if until > self.deadline:
            until = self.deadline
        for message in self._read(until, wait=False):
            if "method" in message:
                self.events.append(message)

    def close(self) -> None:
        with contextlib.suppress(BrowserError):
            self.call("Browser.close")

    def _read(self, until: float, wait: bool = True) -> Iterator[dict[str, Any]]:
        """The messages that arrive before `until`; past the deadline, with `wait`, an error."""
        while True:
            *complete, self._buffer = self._buffer.split(b"\0")
            if complete:
                yield from (json.loads(part) for part in complete if part)
                return
            left = until - time.monotonic()
            if left <= 0:
                if wait or until >= self.deadline:
                    self._fail("did not finish", timed_out=True)
                return
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    self._fail("closed its DevTools pipe")
                self._buffer += chunk

    def _fail(self, what: str, timed_out: bool = False) -> None:
        status = self._wait(time.monotonic() + (0 if timed_out else 2))
        if status is None:
            self._kill()
        said = self._stderr_tail()
        if timed_out:
            message = f"{self.binary} {what} within {self.timeout:g} s (it was {self.step})"
        elif status is None:
            message = f"{self.binary} {what}"
        else:
            message = f"{self.binary} {what}: it exited with status {status}"
        raise (_TimeoutError if timed_out else BrowserError)(message + (f"; its last words: {said}" if said else ""))

    def _wait(self, until: float) -> int | None:
        """The exit status, once the process has ended before `until`; else None."""
        while self.pid is not None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.pid = None
                break
            if pid:
                self.pid, self.status = None, os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= until:
                return None
            time.sleep(0.05)
        return self.status

    def _kill(self) -> None:
        if self.pid is None or self.group is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.group, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid = None

    def _stderr_tail(self, lines: int = 8) -> str:
        try:
            text = self.stderr.read_text(errors="replace")
        except OSError:
            return ""
        # Without a D-Bus (a server, a container) Chromium complains of it at every start:
        # noise, not the reason it failed.
        said = [line.strip() for line in text.splitlines() if line.strip() and "dbus" not in line.lower()]
        return " | ".join(said[-lines:])

    def _close_pipes(self) -> None:
        for name in ("_to", "_from"):
            fd = getattr(self, name, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)


class _Page:
    """One tab: load the file, wait until it is quiet, read it."""

    def __init__(self, browser: _Chromium, url: str, proxy_port: int) -> None:
        self.browser, self.url = browser, url
        # A browser context of its own, with a proxy of its own: what that proxy sees came
        # from the page, while Chromium's own calls home (which no switch fully stops) go to
        # the proxy the command line names.
        context = browser.call("Target.createBrowserContext", {"proxyServer": f"http://127.0.0.1:{proxy_port}", "proxyBypassList": "<-loopback>"})
        target = browser.call("Target.createTarget", {"url": "about:blank", "browserContextId": context["browserContextId"]})["targetId"]
        self.session: str = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.loaded = False
        self.in_flight: set[str] = set()
        self.last_activity = time.monotonic()
        self.resources: list[str] = []
        self.errors: list[str] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.browser.call(method, params, self.session)
        self._take_events()
        return result

    def read(self, width: int, height: int, full_page: bool) -> dict[str, Any]:
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        # A tab in the background may paint nothing and never answer a screenshot.
        self.call("Page.bringToFront")
        navigated = self.call("Page.navigate", {"url": self.url})
        if navigated.get("errorText"):
            raise BrowserError(f"Chromium could not open {self.url}: {navigated['errorText']}")
        self._wait_until(lambda: self.loaded, "waiting for the page's load event")
        self._wait_quiet()
        self.evaluate(_SETTLED, await_promise=True)
        self._wait_quiet()
        dom = self.evaluate("document.documentElement.outerHTML")
        text = self.evaluate("document.body ? document.body.innerText : ''")
        return {"dom": dom, "text": text, "png": self._screenshot(width, full_page), "resources": self.resources, "errors": self.errors}

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": await_promise})
        if "exceptionDetails" in answer:
            raise BrowserError(f"reading the page failed: {_exception_text(answer['exceptionDetails'])}")
        return answer.get("result", {}).get("value")

    def _screenshot(self, width: int, full_page: bool) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            tall = min(MAX_PAGE_HEIGHT, math.ceil(size["height"]))
            params |= {"captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": tall, "scale": 1}}
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])

    def _wait_until(self, condition: Callable[[], bool], step: str) -> None:
        self.browser.step = step
        while not condition():
            if time.monotonic() >= self.browser.deadline:
                self.browser.pump(self.browser.deadline)  # raises: the time is up
            self.browser.pump(time.monotonic() + 0.05)
            self._take_events()

    def _wait_quiet(self) -> None:
        patience = time.monotonic() + PATIENCE_SECONDS
        self._wait_until(
            lambda: (not self.in_flight or time.monotonic() >= patience) and time.monotonic() - self.last_activity >= QUIET_SECONDS,
            "waiting for the page's requests to end",
        )

    def _take_events(self) -> None:
        events, self.browser.events = self.browser.events, []
        for event in events:
            if event.get("sessionId") == self.session:
                self._on(event["method"], event.get("params", {}))

    def _on(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Network.requestWillBeSent":
            self.last_activity = time.monotonic()
            self.in_flight.add(params["requestId"])
            url = params["request"]["url"]
            if url != self.url and not url.startswith("data:") and url not in self.resources:
                self.resources.append(url)
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self.last_activity = time.monotonic()
            self.in_flight.discard(params["requestId"])
        elif method == "Runtime.exceptionThrown":
            self.errors.append(_exception_text(params["exceptionDetails"]))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])))


def _exception_text(details: dict[str, Any]) -> str:
    exception = details.get("exception") or {}
    return str(exception.get("description") or details.get("text") or "an exception")
