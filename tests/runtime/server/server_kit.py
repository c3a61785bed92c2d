"""The embedded server's test kit: a small ASGI app, a running-server helper and a raw WebSocket client.

The raw client (websockets' sans-IO ``ClientProtocol`` over an anyio TCP stream) runs on both backends,
so every WebSocket test also runs on trio, where the ``websockets`` asyncio client cannot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
from raw_ws_client import RawWsClient
from websockets.frames import Frame

from sioactor.runtime._server import ServerConfig, serve_asgi


@dataclass
class Recorder:
    """What the test app saw, for the tests to assert on."""

    lifespan: list[str] = field(default_factory=list)
    disconnected: anyio.Event = field(default_factory=anyio.Event)
    ws_messages: list[dict[str, Any]] = field(default_factory=list)
    ws_closed: anyio.Event = field(default_factory=anyio.Event)


class DemoApp:
    """Routes by path; each route exercises one part of the ASGI contract."""

    def __init__(self) -> None:
        self.seen = Recorder()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif scope["type"] == "http":
            await getattr(self, "http_" + scope["path"].strip("/").replace("-", "_"))(scope, receive, send)
        else:
            await getattr(self, "ws_" + scope["path"].strip("/").replace("-", "_"))(scope, receive, send)

    async def _lifespan(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            self.seen.lifespan.append(message["type"])
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "hello"
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return

    async def http_scope(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        shown = {k: v for k, v in scope.items() if k not in ("headers", "extensions")}
        shown["headers"] = [[k.decode(), v.decode()] for k, v in scope["headers"]]
        shown["extensions"] = sorted(scope.get("extensions", {}))  # their objects are not JSON
        for key in ("raw_path", "query_string"):
            shown[key] = scope[key].decode()
        await respond(send, orjson.dumps(shown))

    async def http_body(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        messages = []
        while True:
            message = await receive()
            messages.append(message)
            if not message.get("more_body"):
                break
        body = b"".join(m["body"] for m in messages)
        await respond(send, orjson.dumps({"size": len(body), "body": body.decode(), "parts": len(messages)}))

    async def http_stream(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def http_long_poll(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.seen.disconnected.set()

    async def http_boom(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("the app failed on purpose")

    async def ws_echo(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            self.seen.ws_messages.append(message)
            if message["type"] == "websocket.disconnect":
                self.seen.ws_closed.set()
                return
            if message.get("text") == "close please":
                await send({"type": "websocket.close", "code": 4000, "reason": "asked to"})
            elif "text" in message:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})

    async def ws_reject(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close"})

    async def ws_subprotocol(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        chosen = scope["subprotocols"][-1]
        await send({"type": "websocket.accept", "subprotocol": chosen, "headers": [(b"x-extra", b"yes")]})
        await send({"type": "websocket.send", "text": ",".join(scope["subprotocols"])})
        await receive()


async def respond(send: Any, body: bytes, status: int = 200) -> None:
    """Send a whole response."""
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"x/y")]})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def running(app: Any, **config: Any) -> AsyncIterator[int]:
    """Serve *app* on an ephemeral loopback port for the block; yields the port."""
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, app, ServerConfig(port=0, **config))
        yield port
        tg.cancel_scope.cancel()


def upgrade_request(path: str, key: bytes = b"dGhlIHNhbXBsZSBub25jZQ==") -> bytes:
    """A raw WebSocket upgrade request for *path* with *key* (RFC 6455's sample key by default)."""
    return (
        f"GET {path} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n".encode()
        + b"sec-websocket-key: "
        + key
        + b"\r\nsec-websocket-version: 13\r\n\r\n"
    )


async def raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, return everything the server sends until it closes the connection."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(request)
        chunks = []
        with anyio.fail_after(5):
            while True:
                try:
                    chunks.append(await stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return b"".join(chunks)


class WsClient(RawWsClient):
    """A minimal WebSocket client: websockets' sans-IO client protocol over an anyio TCP stream."""

    async def next_frame(self) -> Frame:
        event = await self.next_event()
        assert isinstance(event, Frame)
        return event

    async def wait_closed(self) -> None:
        """Read until the server closes TCP."""
        with anyio.fail_after(5):
            while True:
                try:
                    self.protocol.receive_data(await self.stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
