"""A client that leaves while its CONNECT is still being decided (middleware, admission) is ignored, as Node
ignores a socket whose connection closed before its middlewares finished: no CONNECT reply, no connect
handler, nothing logged at ERROR (the wire fuzzer found each such client logged with a traceback)."""

from __future__ import annotations

import logging

import anyio
import pytest
from socketio_fakes import running

from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.socketio import Socket, SocketIo

pytestmark = pytest.mark.anyio


async def test_a_client_gone_during_its_connect_is_ignored_quietly(caplog: pytest.LogCaptureFixture) -> None:
    io = SocketIo()
    deciding = anyio.Event()
    decided = anyio.Event()
    connected: list[str] = []

    async def slow_check() -> None:
        deciding.set()
        await decided.wait()

    def on_connect(socket: Socket) -> None:
        connected.append(socket.id)

    io.ns("/", on_connect, middleware=[slow_check])
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        await deciding.wait()
        # The client leaves while the middleware runs; the session is closed at once, and its listener
        # hears of it a moment later (the session's teardown runs first).
        conn.close(EngineCloseReason.TRANSPORT_CLOSE)
        decided.set()
        await h.settle()
        await h.drop(conn)
        assert conn.take() == []
        assert connected == []
        assert io.sockets() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
