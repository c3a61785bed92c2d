"""Where a handler runs is read from its declaration: a plain ``def`` at once in the delivering task when its
socket is idle, an ``async def`` in the socket's own task; either way in order."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from socketio_fakes import FakeConn, Harness, running

from sioactor.runtime.socketio import ConfigError, Socket, SocketIo
from sioactor.runtime.socketio._extract import Args, Data, NsParams

pytestmark = pytest.mark.anyio


async def connected(h: Harness, nsp: str = "", sid: str = "e" * 20) -> FakeConn:
    """A fake connection whose client joined *nsp* (the CONNECT answer taken)."""
    conn = await h.open(sid)
    await h.feed(conn, f"40{nsp}," if nsp else "40")
    conn.take()
    return conn


def echo(socket: Socket, args: Args) -> None:
    socket.emit("echo", args)


async def test_a_def_handler_runs_in_the_delivering_task_before_the_delivery_returns() -> None:
    io = SocketIo()
    tasks: list[Any] = []

    def where(socket: Socket) -> None:
        tasks.append(anyio.get_current_task())
        socket.emit("here")

    io.on("echo", echo)
    io.on("where", where)
    async with running(io) as h:
        conn = await connected(h)
        io._listener.on_message(conn, '2["echo",1]')  # no await after it: handled right here
        assert conn.take() == ['42["echo",1]']
        io._listener.on_message(conn, '2["where"]')
        assert conn.take() == ['42["here"]']
        assert tasks == [anyio.get_current_task()]


async def test_an_async_handler_runs_in_the_sockets_task_even_without_an_await() -> None:
    io = SocketIo()
    tasks: list[Any] = []

    async def where(socket: Socket) -> None:  # no await in its body: still the socket's task
        tasks.append(anyio.get_current_task())
        socket.emit("here")

    io.on("where", where)
    async with running(io) as h:
        conn = await connected(h)
        io._listener.on_message(conn, '2["where"]')
        assert conn.take() == []
        await h.settle()
        assert conn.take() == ['42["here"]']
        assert tasks[0] is not anyio.get_current_task()
        assert tasks[0].name.startswith("actor socket:/:")


async def test_a_def_event_behind_a_busy_async_handler_keeps_its_place() -> None:
    io = SocketIo()
    gate = anyio.Event()

    async def slow(socket: Socket) -> None:
        await gate.wait()
        socket.emit("slow done")

    io.on("echo", echo)
    io.on("slow", slow)
    async with running(io) as h:
        conn = await connected(h)
        io._listener.on_message(conn, '2["slow"]')
        io._listener.on_message(conn, '2["echo",2]')
        assert conn.take() == []  # "slow" is queued for the socket's task; "echo" waits behind it
        await h.settle()
        assert conn.take() == []
        gate.set()
        await h.settle()
        assert conn.take() == ['42["slow done"]', '42["echo",2]']
        io._listener.on_message(conn, '2["echo",3]')  # idle again
        assert conn.take() == ['42["echo",3]']


async def test_a_concurrent_async_handler_runs_beside_the_def_events_that_follow() -> None:
    io = SocketIo()
    gate = anyio.Event()

    async def slow(socket: Socket) -> None:
        await gate.wait()
        socket.emit("slow done")

    io.on("echo", echo, concurrent=True)  # means nothing to a def: it runs in order
    io.on("slow", slow, concurrent=True)
    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '42["slow"]', '42["echo",1]')
        assert conn.take() == ['42["echo",1]']
        gate.set()
        await h.settle()
        assert conn.take() == ['42["slow done"]']


async def test_a_def_handler_extracts_keywords_and_is_skipped_when_the_payload_does_not_convert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = SocketIo()
    got: list[int] = []

    def add(socket: Socket, *, value: Data[int]) -> None:
        got.append(value)
        socket.emit("added", value)

    io.on("add", add)
    async with running(io) as h:
        conn = await connected(h)
        io._listener.on_message(conn, '2["add",5]')
        assert conn.take() == ['42["added",5]']
        with caplog.at_level(logging.INFO, "sioactor.socketio"):
            io._listener.on_message(conn, '2["add","five"]')
        assert conn.take() == []
        assert "skipped" in caplog.text
        io._listener.on_message(conn, '2["add",6]')
        assert got == [5, 6]
        assert conn.take() == ['42["added",6]']


async def test_a_def_handler_that_raises_is_logged_and_the_socket_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = SocketIo()

    def boom() -> None:
        raise ValueError("boom")

    def wraps_a_coroutine(socket: Socket) -> Any:
        return socket.rooms()  # a plain def returning an awaitable: refused, never left unawaited

    io.on("boom", boom)
    io.on("wrapped", wraps_a_coroutine)
    io.on("echo", echo)
    async with running(io) as h:
        conn = await connected(h)
        with caplog.at_level(logging.ERROR, "sioactor.socketio"):
            io._listener.on_message(conn, '2["boom"]')
            io._listener.on_message(conn, '2["wrapped"]')
        assert "boom" in caplog.text
        assert "returned an awaitable" in caplog.text
        io._listener.on_message(conn, '2["echo",1]')
        assert conn.take() == ['42["echo",1]']


async def test_a_socket_holds_no_task_once_connected_and_its_def_events_start_none() -> None:
    io = SocketIo()

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        await anyio.lowlevel.checkpoint()  # a connect handler may await: it runs in the socket's task

    io.on("echo", echo)
    async with running(io) as h:
        conn = await connected(h)
        await h.settle()
        assert not [t for t in anyio.get_running_tasks() if t.name.startswith("actor socket:")]
        for i in range(3):
            io._listener.on_message(conn, f'2["echo",{i}]')
        await h.settle()
        assert conn.take() == [f'42["echo",{i}]' for i in range(3)]
        assert not [t for t in anyio.get_running_tasks() if t.name.startswith("actor socket:")]


# --- namespace-level registration -----------------------------------------------------------------------


def hello_from_the_socket(socket: Socket) -> None:
    socket.emit("hello from the socket")


async def test_namespace_handlers_serve_every_socket_and_socket_on_overrides_them_for_one() -> None:
    io = SocketIo()
    chat = io.of("/chat")

    @chat.on("hello")
    def hello(socket: Socket) -> None:
        socket.emit("hello from the namespace")

    @io.ns("/chat")  # registered after the handler: the handler stays
    def on_connect(socket: Socket) -> None:
        if socket.conn.sid.startswith("s"):
            socket.on("hello", hello_from_the_socket)

    assert io.of("/chat").sockets() == []
    async with running(io) as h:
        plain = await connected(h, "/chat", "p" * 20)
        special = await connected(h, "/chat", "s" * 20)
        await h.feed(plain, '42/chat,["hello"]')
        await h.feed(special, '42/chat,["hello"]')
        assert plain.take() == ['42/chat,["hello from the namespace"]']
        assert special.take() == ['42/chat,["hello from the socket"]']


async def test_io_on_registers_on_the_default_namespace_without_a_connect_handler() -> None:
    io = SocketIo()

    @io.on("ask")
    async def ask(socket: Socket, args: Args) -> None:
        await anyio.lowlevel.checkpoint()
        socket.emit("answer", args)

    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '42["ask",1]', '42["ask",2]')
        assert conn.take() == ['42["answer",1]', '42["answer",2]']
        await io.emit("all")
        assert conn.take() == ['42["all"]']


async def test_a_dynamic_pattern_takes_its_handlers_through_io_on() -> None:
    io = SocketIo()

    def whoami(socket: Socket, params: NsParams) -> None:
        socket.emit("you", params["id"])

    io.on("whoami", whoami, namespace="/tenant/{id}")
    with pytest.raises(ConfigError, match=r"dynamic pattern.*namespace='/tenant/\{id\}'"):
        io.of("/tenant/{id}")
    async with running(io) as h:
        conn = await connected(h, "/tenant/7")
        await h.feed(conn, '42/tenant/7,["whoami"]')
        assert conn.take() == ['42/tenant/7,["you","7"]']
        with pytest.raises(ConfigError, match=r"io.on\('x', handler, namespace='/tenant/\{id\}'\)"):
            io.of("/tenant/7").on("x", echo)
