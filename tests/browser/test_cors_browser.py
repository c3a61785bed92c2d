"""``CorsConfig`` as a browser enforces it: socket.io-client's bundle in headless Chromium, on a page of
another origin, connects over polling with ``withCredentials`` and a custom header (so each request is
preflighted) to servers on asyncio and trio that differ only in their CORS options; the browser admits only
the one whose answers allow that origin, that header and credentials.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from chromium_kit import CHROMIUM, page_result

from sioactor import (
    AckSender,
    CorsConfig,
    EngineConfig,
    ServerConfig,
    Socket,
    SocketIo,
    SocketIoConfig,
    serve_asgi,
)
from sioactor.runtime.engineio._http import Receive, Scope, Send, read_body, respond

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (/usr/bin/chromium) is not installed"),
    pytest.mark.skipif(not BUNDLE.is_file(), reason="npm socket.io-client is not installed"),
    pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"]),
]

PAGE = b"""<!doctype html>
<html><head><script src="/socket.io.min.js"></script></head><body><script>
(async () => {
  const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
  const params = new URLSearchParams(location.search);
  const attempt = (url) => new Promise((resolve) => {
    const socket = io(url, {
      transports: ["polling"], reconnection: false, withCredentials: true, extraHeaders: { "x-token": "t1" },
    });
    socket.once("connect", () => socket.emit("handshake", (shake) => {
      socket.close();
      resolve({ connected: true, token: shake.headers["x-token"], origin: shake.headers["origin"] });
    }));
    socket.once("connect_error", (err) => {
      socket.close();
      resolve({ connected: false, error: err.message });
    });
  });
  const out = {};
  try {
    for (const name of JSON.parse(params.get("names"))) out[name] = await attempt(params.get(name));
    report(out);
  } catch (err) {
    report({ error: String(err) });
  }
})();
</script></body></html>"""


def cors_configs(page_origin: str) -> dict[str, CorsConfig]:
    allowed = CorsConfig(origins=page_origin, credentials=True, headers=["x-token"], max_age=60)
    return {
        "allowed": allowed,
        "other_origin": dataclasses.replace(allowed, origins=["http://elsewhere.example"]),
        "other_header": dataclasses.replace(allowed, headers=["x-other"]),
        "no_credentials": dataclasses.replace(allowed, credentials=False),
    }


def server_for(cors: CorsConfig) -> SocketIo:
    io = SocketIo(SocketIoConfig(engine=EngineConfig(cors=cors)))

    def handshake(socket: Socket, ack: AckSender) -> None:
        ack.send(dataclasses.asdict(socket.handshake))

    io.on("handshake", handshake)
    return io


async def test_the_browser_admits_only_what_the_cors_config_allows(tmp_path: Path) -> None:
    send_result, results = anyio.create_memory_object_stream[dict[str, Any]](1)

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/result":
            send_result.send_nowait(json.loads(await read_body(receive, 100_000, None) or b"{}"))
            await respond(send, 204, b"")
        elif scope["path"] == "/socket.io.min.js":
            await respond(send, 200, BUNDLE.read_bytes(), b"text/javascript")
        else:
            await respond(send, 200, PAGE, b"text/html; charset=utf-8")

    async with anyio.create_task_group() as tg, send_result, results:
        page_port = await tg.start(serve_asgi, page, ServerConfig(host="127.0.0.1", port=0))
        page_origin = f"http://127.0.0.1:{page_port}"
        query = {}
        for name, cors in cors_configs(page_origin).items():
            port = await tg.start(serve_asgi, server_for(cors).asgi(), ServerConfig(host="127.0.0.1", port=0))
            query[name] = f"http://127.0.0.1:{port}"
        names = json.dumps(list(query))
        url = f"{page_origin}/?names={names}&" + "&".join(f"{name}={to}" for name, to in query.items())
        result = await page_result(url, tmp_path / "profile", results)
        tg.cancel_scope.cancel()
    assert result["allowed"] == {"connected": True, "token": "t1", "origin": page_origin}, result
    for refused in ("other_origin", "other_header", "no_credentials"):
        assert result[refused] == {"connected": False, "error": "xhr poll error"}, (refused, result)
