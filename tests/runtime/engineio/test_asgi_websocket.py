"""EngineServer's WebSocket as an ASGI server hosts it (uvicorn, hypercorn): called in-process with a scripted
receive, so the test decides what the server hands the application and when."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.engineio import EngineConfig, EngineServer


class Listener:
    def __init__(self) -> None:
        self.messages: list[str | bytes] = []
        self.conns: list[EngineConnection] = []
        self.closed: list[EngineCloseReason] = []
        self.received = anyio.Event()
        self.any_closed = anyio.Event()

    def on_open(self, conn: EngineConnection) -> None:
        self.conns.append(conn)

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        self.messages.append(data)
        self.received.set()

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closed.append(reason)
        self.any_closed.set()


@pytest.mark.anyio
async def test_a_message_received_after_the_session_closed_is_not_delivered() -> None:
    # A session can close while its reader waits in receive() (a ping timeout, a slow consumer disconnected,
    # the server's close), and the ASGI server may still hold frames the client sent before it learnt of it:
    # as in Node, nothing that follows the close reaches the listener (a Socket.IO handler would run on a
    # closed socket, and its emits fail).
    listener = Listener()
    server = EngineServer(EngineConfig(ping_interval=30), listener)
    to_app, from_server = anyio.create_memory_object_stream[dict[str, Any]](8)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/engine.io/",
        "query_string": b"EIO=4&transport=websocket",
        "headers": [],
        "client": ("127.0.0.1", 5000),
    }
    with anyio.fail_after(5):
        async with to_app, from_server, anyio.create_task_group() as tg:
            await tg.start(server.run)
            async with anyio.create_task_group() as connection:
                connection.start_soon(server, scope, from_server.receive, send)
                await to_app.send({"type": "websocket.connect"})
                await to_app.send({"type": "websocket.receive", "text": "4before"})
                await listener.received.wait()
                listener.conns[0].close()
                await listener.any_closed.wait()
                await to_app.send({"type": "websocket.receive", "text": "4after"})
                await to_app.send({"type": "websocket.disconnect", "code": 1000})
            await server.close()
    assert listener.messages == ["before"]
    assert listener.closed == [EngineCloseReason.FORCED_CLOSE]
    assert sent[-1]["type"] == "websocket.close"
