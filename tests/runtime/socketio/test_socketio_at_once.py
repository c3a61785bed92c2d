"""Handlers that never await run at once in the delivering task when their socket is idle."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from socketio_fakes import Harness, running

from sioactor.actors._at_once import never_suspends
from sioactor.runtime.socketio import Socket, SocketIo
from sioactor.runtime.socketio._extract import Args, Data

pytestmark = pytest.mark.anyio


async def plain(socket: Any) -> None:
    socket.emit("x")


async def awaits(socket: Any) -> None:
    await socket.rooms()


async def loops(source: Any) -> None:
    async for _ in source:
        pass


async def enters(resource: Any) -> None:
    async with resource:
        pass


async def defines_an_awaiting_inner(socket: Any) -> None:
    async def inner() -> None:
        await socket.rooms()  # its own code object: defining it does not suspend plain's frame

    socket.emit("x", inner)


def returns_a_coroutine(socket: Any) -> Awaitable[None]:
    return awaits(socket)


class Handlers:
    async def method(self, socket: Any) -> None:
        socket.emit("x")

    async def __call__(self, socket: Any) -> None:
        socket.emit("x")


async def connected(h: Harness) -> Any:
    """A fake connection whose client joined ``/`` (the CONNECT answer taken)."""
    conn = await h.open()
    await h.feed(conn, "40")
    conn.take()
    return conn


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (plain, True),
        (defines_an_awaiting_inner, True),
        (Handlers().method, True),
        (awaits, False),
        (loops, False),
        (enters, False),
        (returns_a_coroutine, False),
        (functools.wraps(plain)(returns_a_coroutine), False),  # a wrapper returning an awaitable
        (functools.partial(plain), False),  # not a plain function: not trusted
        (Handlers(), False),
    ],
)
def test_never_suspends_is_a_proof_from_the_code(fn: Callable[..., Any], expected: bool) -> None:
    assert never_suspends(fn) is expected


async def test_an_idle_socket_handles_an_await_free_event_before_the_delivery_returns() -> None:
    io = SocketIo()
    gate = anyio.Event()

    async def echo(socket: Socket, args: Args) -> None:
        socket.emit("echo", args)

    async def slow(socket: Socket) -> None:
        await gate.wait()
        socket.emit("slow done")

    async def on_connect(socket: Socket) -> None:
        socket.on("echo", echo)
        socket.on("slow", slow)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await connected(h)
        io._listener.on_message(conn, '2["echo",1]')  # no await after it: handled right here
        assert conn.take() == ['42["echo",1]']
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


async def test_at_once_extracts_keywords_and_skips_a_payload_that_does_not_convert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = SocketIo()
    got: list[int] = []

    async def add(socket: Socket, *, value: Data[int]) -> None:
        got.append(value)
        socket.emit("added", value)

    async def on_connect(socket: Socket) -> None:
        socket.on("add", add)

    io.ns("/", on_connect)
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


async def test_a_socket_holds_no_task_once_connected_and_its_await_free_events_start_none() -> None:
    io = SocketIo()

    async def echo(socket: Socket, args: Args) -> None:
        socket.emit("echo", args)

    async def on_connect(socket: Socket) -> None:
        await anyio.lowlevel.checkpoint()  # a connect handler may await: it runs in the socket's task
        socket.on("echo", echo)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await connected(h)
        await h.settle()
        assert not [t for t in anyio.get_running_tasks() if t.name.startswith("actor socket:")]
        for i in range(3):
            io._listener.on_message(conn, f'2["echo",{i}]')
        await h.settle()
        assert conn.take() == [f'42["echo",{i}]' for i in range(3)]
        assert not [t for t in anyio.get_running_tasks() if t.name.startswith("actor socket:")]
