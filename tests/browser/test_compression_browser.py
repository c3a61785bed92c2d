"""socket.io-client's browser bundle in headless Chromium, served by sioactor itself (``serve_client``), with
compression on: gzip on the polling responses (seen in the page's Resource Timing: fewer bytes over the wire
than the body the browser hands on), permessage-deflate on the WebSocket after the upgrade.

The page and its ``/result`` endpoint are served by the same server (the ``SocketIo``'s other app), so the
page, the bundle and the Socket.IO connection share one origin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from chromium_kit import CHROMIUM, page_result

from sioactor.runtime.engineio import EngineConfig
from sioactor.runtime.engineio._http import Receive, Scope, Send, read_body, respond
from sioactor.runtime.socketio import AckSender, SocketIo, SocketIoConfig
from sioactor.runtime.socketio._extract import Args

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (/usr/bin/chromium) is not installed"),
    pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"]),
]

PAGE = b"""<!doctype html>
<html><head><script src="/socket.io/socket.io.min.js"></script></head><body><script>
(async () => {
  const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
  const big = { items: Array.from({ length: 300 }, (_, n) => ({ id: n, name: "item " + n })) };
  const ask = (socket, ...args) => new Promise((resolve) => socket.emit("echo", ...args, resolve));
  try {
    const socket = io({ transports: ["polling", "websocket"], reconnection: false });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const overPolling = await ask(socket, big);
    const polling = socket.io.engine.transport.name;
    if (polling !== "websocket") {
      await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
    }
    const overWs = await ask(socket, big);
    const bin = await ask(socket, new Uint8Array(4000).fill(9));
    const bytes = new Uint8Array(bin instanceof ArrayBuffer ? bin : bin.buffer);
    // A polling-only socket: the echo's answer must come in a polling response, which the browser
    // inflates unseen; Resource Timing tells what came over the wire (same origin, so sizes are shown).
    const pollingOnly = io({ transports: ["polling"], forceNew: true, reconnection: false });
    await new Promise((resolve) => pollingOnly.once("connect", resolve));
    const overPollingOnly = await ask(pollingOnly, big);
    pollingOnly.close();
    const gzipped = performance.getEntriesByType("resource").filter((e) =>
      e.name.includes("transport=polling") && e.encodedBodySize > 0 && e.encodedBodySize < e.decodedBodySize);
    report({
      polling: JSON.stringify(overPolling) === JSON.stringify(big),
      websocket: JSON.stringify(overWs) === JSON.stringify(big),
      binary: bytes.length === 4000 && bytes.every((b) => b === 9),
      transport: socket.io.engine.transport.name,
      extensions: socket.io.engine.transport.ws.extensions,
      pollingOnly: JSON.stringify(overPollingOnly) === JSON.stringify(big),
      pollingCompressed: gzipped.length > 0,
    });
    socket.close();
  } catch (err) {
    report({ error: String(err) });
  }
})();
</script></body></html>"""


async def test_browser_bundle_served_by_sioactor_with_compression(tmp_path: Path) -> None:
    send_result, results = anyio.create_memory_object_stream[dict[str, Any]](1)

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/result":
            body = await read_body(receive, 100_000, None)
            send_result.send_nowait(json.loads(body or b"{}"))
            await respond(send, 204, b"")
        else:
            await respond(send, 200, PAGE, b"text/html; charset=utf-8")

    io = SocketIo(
        SocketIoConfig(
            engine=EngineConfig(per_message_deflate=True),
            serve_client=str(ROOT / "node_modules" / "socket.io-client"),
        )
    )

    async def echo(args: Args, ack: AckSender) -> None:
        ack.send(args)

    io.on("echo", echo)
    async with anyio.create_task_group() as tg, send_result, results:
        port = await tg.start(_serve, io, page)
        url = f"http://127.0.0.1:{port}/"
        result = await page_result(url, tmp_path / "profile", results)
        tg.cancel_scope.cancel()
    assert result == {
        "polling": True,
        "websocket": True,
        "binary": True,
        "transport": "websocket",
        "extensions": result.get("extensions"),
        "pollingOnly": True,
        "pollingCompressed": True,
    }, result
    assert str(result["extensions"]).startswith("permessage-deflate")


async def _serve(io: SocketIo, other: Any, *, task_status: Any) -> None:
    from sioactor.runtime._server import ServerConfig, serve_asgi

    await serve_asgi(io.asgi(other), ServerConfig(host="127.0.0.1", port=0), task_status=task_status)
