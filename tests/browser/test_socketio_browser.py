"""socket.io-client's browser bundle in headless Chromium against the reference server.

The test serves a page (``sio_page.html``) and the bundle from its own small HTTP server; the page connects to
the reference server (cross-origin, so CORS is exercised too) and POSTs its results back to ``/result``.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from chromium_kit import CHROMIUM, chromium_argv

ROOT = Path(__file__).resolve().parents[2]
# The reference-server fixture lives with the interop tests (the integrator may move it to a conftest).
sys.path.insert(0, str(ROOT / "tests" / "interop"))
from test_socketio_clients import Server  # noqa: E402
from test_socketio_clients import server as server  # noqa: E402  (the fixture)

PAGE = Path(__file__).with_name("sio_page.html")
BUNDLE = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (/usr/bin/chromium) is not installed"),
]


def page_server(results: queue.Queue[dict[str, Any]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body, kind = (
                (BUNDLE.read_bytes(), "text/javascript")
                if path == "/socket.io.min.js"
                else (PAGE.read_bytes(), "text/html")
            )
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            results.put(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def page() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    results: queue.Queue[dict[str, Any]] = queue.Queue()
    httpd = page_server(results)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", results
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_browser_bundle(
    page: tuple[str, queue.Queue[dict[str, Any]]], server: Server, tmp_path: Path
) -> None:
    if server.eio3 or server.parser != "json":
        pytest.skip("the browser page uses the default client: JSON over Engine.IO v4")
    url, results = page
    argv = chromium_argv(f"{url}?server={server.url}", tmp_path / "profile")
    browser = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = results.get(timeout=30)
    finally:
        browser.kill()
        browser.wait(timeout=10)
    assert "error" not in result, result
    assert len(result["id"]) == 20
    assert result["echo"] == [1, "two", {"three": [True]}]
    assert result["ack_bin"] == [1, 2, 3], result
    assert result["ack_text"] == "x"
