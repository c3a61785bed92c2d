"""Loopback kit for the Engine.IO transport tests: an engine server on the embedded server, a raw WebSocket
client (websockets' sans-IO protocol over an anyio stream, so it runs on trio too) and recording fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from raw_ws_client import RawWsClient
from trace_fakes import ListTracer
from websockets.frames import Close, Frame, Opcode

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import EngineConfig, EngineServer, engine_asgi_app


class EchoListener:
    """Echoes every message (``send``, so the slow-consumer policy applies); records opens and closes."""

    def __init__(self) -> None:
        self.conns: list[EngineConnection] = []
        self.closed: list[EngineCloseReason] = []
        self.any_closed = anyio.Event()

    def on_open(self, conn: EngineConnection) -> None:
        self.conns.append(conn)

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        conn.send(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closed.append(reason)
        self.any_closed.set()


@dataclass
class Running:
    port: int
    engine: EngineServer
    listener: EchoListener
    tracer: ListTracer

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/engine.io/"


@asynccontextmanager
async def running(listener: EchoListener | None = None, **config: Any) -> AsyncIterator[Running]:
    """An echo EngineServer (or *listener*'s) at ``/engine.io/`` on the embedded server, on an ephemeral
    loopback port."""
    listener, tracer = listener or EchoListener(), ListTracer()
    engine = EngineServer(EngineConfig(**config), listener, tracer=tracer)
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, engine_asgi_app(engine), ServerConfig(host="127.0.0.1", port=0))
        yield Running(port, engine, listener, tracer)
        tg.cancel_scope.cancel()


class WsClient(RawWsClient):
    """A minimal WebSocket client: frames in, frames out, nothing hidden."""

    @classmethod
    @asynccontextmanager
    async def connect(cls, port: int, query: str) -> AsyncIterator[WsClient]:
        async with cls.opened(port, f"/engine.io/?{query}") as (client, response):
            assert response.status_code == 101
            yield client

    async def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self.flush()

    async def send_binary(self, data: bytes) -> None:
        self.protocol.send_binary(data)
        await self.flush()

    async def next_text(self) -> str:
        frame = await self.next_event()
        assert isinstance(frame, Frame)
        assert frame.opcode is Opcode.TEXT, frame
        return frame.data.decode()

    async def until_close(self) -> tuple[Close, int]:
        """Read until the server's close frame; return it and how many data frames came before it."""
        count = 0
        while True:
            frame = await self.next_event()
            assert isinstance(frame, Frame)
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(frame.data), count
            count += 1
