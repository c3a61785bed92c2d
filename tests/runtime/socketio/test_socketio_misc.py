"""Tracing of bad input, concurrent handlers, namespace deletion and configuration errors."""

from __future__ import annotations

import anyio
import pytest
from socketio_fakes import running

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.socketio import AckTimeout, ConfigError, Socket, SocketIo

pytestmark = pytest.mark.anyio


class ListTracer:
    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def record(self, event: TraceEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[TraceKind]:
        return [e.kind for e in self.events]


async def test_bad_input_and_failures_are_traced() -> None:
    tracer = ListTracer()
    io = SocketIo(tracer=tracer)

    async def boom() -> None:
        raise ValueError("boom")

    async def on_connect(socket: Socket) -> None:
        socket.on("boom", boom)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40", '42/x,["a"]', "4377[]", '42["boom"]')
        socket = io.sockets()[0]
        with pytest.raises(AckTimeout):
            await socket.emit_with_ack("q", timeout=0.01)
        await h.feed(conn, "4abc")
        await h.drop(conn)
    kinds = tracer.kinds()
    assert kinds[0] is TraceKind.SPAWNED
    assert kinds.count(TraceKind.DROPPED) == 2
    for kind in (
        TraceKind.HANDLER_FAILED,
        TraceKind.ACK_TIMEOUT,
        TraceKind.PROTOCOL_ERROR,
        TraceKind.STOPPED,
    ):
        assert kind in kinds, kind
    failed = next(e for e in tracer.events if e.kind is TraceKind.HANDLER_FAILED)
    assert "boom" in (failed.detail or "")


async def test_a_concurrent_handler_runs_beside_the_next_events() -> None:
    io = SocketIo()
    release = anyio.Event()
    order: list[str] = []

    async def slow() -> None:
        order.append("slow start")
        await release.wait()
        order.append("slow end")

    async def quick() -> None:
        order.append("quick")
        release.set()

    async def on_connect(socket: Socket) -> None:
        socket.on("slow", slow, concurrent=True)
        socket.on("quick", quick)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40", '42["slow"]', '42["quick"]')
    # "slow" waits for "quick", so "quick" ran while "slow" was still running (its start may come later).
    assert sorted(order) == ["quick", "slow end", "slow start"]
    assert order[-1] == "slow end"


async def test_delete_ns_disconnects_its_sockets() -> None:
    io = SocketIo()

    async def on_connect(socket: Socket) -> None:
        del socket

    io.ns("/chat", on_connect)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/chat,")
        conn.take()
        io.delete_ns("/chat")
        await h.settle()
        assert conn.take() == ["41/chat,"]
        await h.feed(conn, "40/chat,")
        assert conn.take() == ['44/chat,{"message":"Invalid namespace"}']


def test_config_errors_teach_the_fix() -> None:
    with pytest.raises(ConfigError, match="unknown SocketIo option"):
        SocketIo(ping_intervall=3)
    with pytest.raises(ConfigError, match="parser"):
        SocketIo(parser="xml")
    with pytest.raises(ConfigError, match="ack_timeout"):
        SocketIo(ack_timeout=0)
    with pytest.raises(ConfigError, match="starts with '/'"):
        SocketIo().ns("chat", test_delete_ns_disconnects_its_sockets)
    with pytest.raises(ConfigError, match="default namespace"):
        SocketIo().to("room")
