"""The browser adapter on pages of known content: the text and pixels it reads are the
page's, what the page asks of the network is refused and recorded, and a missing or
failing Chromium is a clear error. The pixel helpers (tests/support/pixels.py) are checked
on the same screenshots, with a blank one to show they can fail.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tests.support import pixels
from wgsiem.adapters.browser import BrowserError, chromium_missing, find_chromium, render, screenshot

BLUE = "#1f77b4"
# The block's place on the page, in CSS pixels (= device pixels): left, top, right, bottom.
BLOCK = (200, 150, 680, 470)

STATIC = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>static</title>
<style>body {{ margin: 0; background: #ffffff; color: #111111; font: 16px sans-serif }}</style></head>
<body>
<h1>Peers seen this week</h1>
<p>Seven peers roamed.</p>
<div style="display: none">hidden words</div>
<svg style="position: absolute; left: {BLOCK[0]}px; top: {BLOCK[1]}px" width="{BLOCK[2] - BLOCK[0]}" height="{BLOCK[3] - BLOCK[1]}">
  <rect width="100%" height="100%" fill="{BLUE}"/>
</svg>
<script>document.body.insertAdjacentHTML("beforeend", "<p id=late>written by the script</p>")</script>
</body></html>
"""

# Each way a page reaches out: an image, a script's fetch, a web font in use. Each writes
# how it ended into the page, so the test sees that nothing arrived, not only that it was asked.
REACHING = """<!doctype html>
<html><head><meta charset="utf-8">
<style>
@font-face { font-family: Remote; src: url(https://fonts.example/remote.woff2) format("woff2") }
.remote { font-family: Remote, sans-serif }
</style></head>
<body>
<p class="remote">text in a web font</p>
<img src="http://example.invalid/x.png" onload="say('image: loaded')" onerror="say('image: failed')">
<pre id="out"></pre>
<script>
function say(line) { document.getElementById("out").textContent += line + "\\n" }
fetch("https://cdn.example/x.js").then(() => say("fetch: loaded"), () => say("fetch: failed"))
document.fonts.load("16px Remote").catch(() => {}).then(() => {
  for (const face of document.fonts) say("font " + face.family + ": " + face.status)
})
</script>
</body></html>
"""


def page(tmp_path: Path, html: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


@pytest.mark.browser
def test_static_page_text_and_pixels(tmp_path):
    rendered = render(page(tmp_path, STATIC), width=1000, height=700)

    assert "Peers seen this week" in rendered.text
    assert "Seven peers roamed." in rendered.text
    assert "written by the script" in rendered.text  # the DOM after scripts ran
    assert "hidden words" not in rendered.text  # visible text only...
    assert "hidden words" in rendered.dom  # ...while the DOM has it all
    assert 'id="late"' in rendered.dom
    assert (rendered.requests, rendered.resources, rendered.errors) == ([], [], [])

    img = pixels.image(rendered.png)
    assert img.size == (1000, 700)
    assert pixels.bounding_box(img, BLUE) == BLOCK
    assert pixels.fraction_near(img, BLUE, box=BLOCK) > 0.99
    assert pixels.fraction_near(img, BLUE, box=(0, 480, 1000, 700)) == 0.0
    assert pixels.background(img) == (255, 255, 255)
    pixels.assert_drawn(img, what="the static page")
    pixels.assert_drawn(img, box=(0, 0, 400, 120), min_ink=0.005, what="the heading")  # text was painted


@pytest.mark.browser
def test_every_reach_for_the_network_is_refused_and_recorded(tmp_path):
    rendered = render(page(tmp_path, REACHING))

    # The proxy saw each request: the image by URL, the HTTPS ones as tunnels to their host.
    assert "GET http://example.invalid/x.png" in rendered.requests
    assert "CONNECT cdn.example:443" in rendered.requests
    assert "CONNECT fonts.example:443" in rendered.requests
    assert set(rendered.resources) == {"http://example.invalid/x.png", "https://cdn.example/x.js", "https://fonts.example/remote.woff2"}
    # ...and the page got nothing.
    assert "image: failed" in rendered.text
    assert "fetch: failed" in rendered.text
    assert "font Remote: error" in rendered.text
    assert "loaded" not in rendered.text
    assert rendered.errors == []


@pytest.mark.browser
def test_loopback_too_goes_to_the_refusing_proxy(tmp_path):
    """A page could reach a server on the machine itself; it is refused like any other."""
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        rendered = render(page(tmp_path, f'<img src="http://127.0.0.1:{port}/a.png"><img src="http://localhost:{port}/b.png">'))
    finally:
        server.shutdown()
        server.server_close()
    assert served == []
    assert f"GET http://127.0.0.1:{port}/a.png" in rendered.requests
    assert f"GET http://localhost:{port}/b.png" in rendered.requests


@pytest.mark.browser
def test_a_file_beside_the_page_and_a_script_error_are_reported(tmp_path):
    (tmp_path / "beside.css").write_text("body { color: red }")
    rendered = render(page(tmp_path, '<link rel="stylesheet" href="beside.css"><script>nowhere.to.be.found()</script><p>still here</p>'))
    assert rendered.resources == [(tmp_path / "beside.css").resolve().as_uri()]
    assert rendered.requests == []  # a file is no network request
    assert len(rendered.errors) == 1 and "nowhere" in rendered.errors[0]
    assert "still here" in rendered.text


@pytest.mark.browser
def test_full_page_screenshot_written_to_a_file(tmp_path):
    tall = page(tmp_path, '<body style="margin:0"><div style="height:2400px"></div><div style="height:100px;background:#d62728"></div></body>')
    png = tmp_path / "shot.png"
    rendered = screenshot(tall, png, width=640, height=480)
    img = pixels.image(png.read_bytes())
    assert png.read_bytes() == rendered.png
    assert img.size == (640, 2500)
    assert pixels.bounding_box(img, "#d62728") == (0, 2400, 640, 2500)

    viewport = pixels.image(render(tall, width=640, height=480).png)
    assert viewport.size == (640, 480)
    assert pixels.bounding_box(viewport, "#d62728") is None


@pytest.mark.browser
def test_a_blank_page_fails_the_drawn_check(tmp_path):
    img = pixels.image(render(page(tmp_path, '<body style="background:#ffffff"></body>'), width=320, height=200).png)
    with pytest.raises(AssertionError, match="looks blank"):
        pixels.assert_drawn(img)


# --- no Chromium needed ------------------------------------------------------------------


def test_missing_chromium_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.delenv("WGSIEM_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserError, match=r"install the Debian package chromium \(apt-get install"):
        find_chromium()
    assert "chromium" in chromium_missing()
    with pytest.raises(BrowserError, match="no Chromium found"):
        render(page(tmp_path, "<p>x</p>"))


def test_wgsiem_chromium_that_is_not_there(monkeypatch, tmp_path):
    monkeypatch.setenv("WGSIEM_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(BrowserError, match="WGSIEM_CHROMIUM=.*no-such-chromium.* is not an executable file"):
        find_chromium()


def fake_chromium(tmp_path: Path, body: str) -> Path:
    binary = tmp_path / "fake-chromium"
    binary.write_text(f"#!/bin/sh\n{body}\n")
    binary.chmod(0o755)
    return binary


def test_chromium_that_fails_gives_its_status_and_last_words(monkeypatch, tmp_path):
    monkeypatch.setenv("WGSIEM_CHROMIUM", str(fake_chromium(tmp_path, "echo 'early noise' >&2\necho 'cannot open display' >&2\nexit 3")))
    html = page(tmp_path, "<p>x</p>")
    with pytest.raises(BrowserError) as caught:
        render(html, timeout=20)
    message = str(caught.value)
    assert message.startswith(f"{html}: ")
    assert "exited with status 3" in message
    assert "cannot open display" in message


def test_chromium_that_hangs_is_stopped_at_the_timeout_and_tried_once_more(monkeypatch, tmp_path):
    starts = tmp_path / "starts"
    monkeypatch.setenv("WGSIEM_CHROMIUM", str(fake_chromium(tmp_path, f"echo started >> {starts}\nexec sleep 60")))
    with pytest.raises(BrowserError, match=r"did not finish within 1 s \(it was answering Target.createBrowserContext\)"):
        render(page(tmp_path, "<p>x</p>"), timeout=1)
    assert starts.read_text().splitlines() == ["started", "started"]
