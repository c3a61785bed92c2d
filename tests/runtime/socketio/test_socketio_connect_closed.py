"""A client that leaves while the server is still busy with it is a normal end, logged at no ERROR: a CONNECT
still being decided (middleware, admission) is ignored, as Node ignores a socket whose connection closed
before its middlewares finished; an event still waiting for room in the outbox is dropped, as the queued
ones are. The wire fuzzer (tests/soak/fuzz_wire.py) found each logged with a traceback."""

from __future__ import annotations

import logging

import anyio
import pytest
from socketio_fakes import FakeConn, running

from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.socketio import Socket, SocketIo
from sioactor.runtime.socketio._extract import Args

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


class FullConn(FakeConn):
    """A connection whose outbox stays full until the test makes room (or the session closes)."""

    def __init__(self) -> None:
        super().__init__()
        self.room = anyio.Event()

    async def until_room(self) -> None:
        await self.room.wait()


async def test_an_event_waiting_for_room_when_its_session_closes_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The wire fuzzer found the handler run after the close, its emit raising Closed, logged with a traceback.
    io = SocketIo()
    handled: list[object] = []

    async def echo(socket: Socket, args: Args) -> None:
        handled.append(args)
        socket.emit("echo", args)

    io.on("echo", echo)
    async with running(io) as h:
        conn = FullConn()
        io._listener.on_open(conn)
        await h.feed(conn, "40")
        conn.take()
        await h.feed(conn, '42["echo",1]')  # waits for room in the actor
        conn.close(EngineCloseReason.TRANSPORT_CLOSE)  # the session closes, which wakes the waiters ...
        conn.room.set()
        await h.settle()
        await h.drop(conn)  # ... before its listener hears of it
        assert handled == []
        assert conn.take() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
