"""Tracing of bad input, concurrent handlers, namespace deletion and configuration errors."""

from __future__ import annotations

import anyio
import pytest
from socketio_fakes import running
from trace_fakes import ListTracer

from sioactor import Adapter, BroadcastOptions, EngineConfig, LocalAdapter, SocketIoConfig
from sioactor.actors._trace import TraceKind
from sioactor.protocol.socketio import Packet
from sioactor.runtime.socketio import AckTimeout, ConfigError, Socket, SocketIo
from sioactor.runtime.socketio._namespace import Namespace

pytestmark = pytest.mark.anyio


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
    with pytest.raises(TypeError, match="ping_intervall"):
        SocketIoConfig(ping_intervall=3)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="parser"):
        SocketIoConfig(parser="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ack_timeout"):
        SocketIoConfig(ack_timeout=0)
    with pytest.raises(ConfigError, match="ping_interval"):
        EngineConfig(ping_interval=0)
    with pytest.raises(ConfigError, match="transports"):
        EngineConfig(transports=())
    with pytest.raises(ConfigError, match="EngineConfig"):
        SocketIoConfig(engine={"ping_interval": 3})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="starts with '/'"):
        SocketIo().ns("chat", test_delete_ns_disconnects_its_sockets)
    with pytest.raises(ConfigError, match="default namespace"):
        SocketIo().to("room")


async def test_the_adapter_factory_builds_each_namespace_s_adapter() -> None:
    built: list[str] = []
    broadcasts: list[tuple[str, BroadcastOptions]] = []

    class CountingAdapter(LocalAdapter):
        """A local adapter that notes what it is asked to broadcast, as a cluster adapter would forward it."""

        async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
            broadcasts.append((packet.nsp, opts))
            await super().broadcast(packet, opts)

    def factory(ns: Namespace) -> Adapter:
        built.append(ns.path)
        return CountingAdapter(ns)

    async def on_connect(socket: Socket) -> None:
        pass

    io = SocketIo(adapter=factory)
    io.ns("/", on_connect)
    io.ns("/chat", on_connect)
    assert built == ["/", "/chat"]
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        await io.to("lobby").emit("hi")
        await io.emit("hello")
        await h.settle()
        assert conn.take()[1:] == ['42["hello"]']  # the CONNECT reply first; not in lobby, no "hi"
    assert [(nsp, sorted(opts.rooms)) for nsp, opts in broadcasts] == [("/", ["lobby"]), ("/", [])]
