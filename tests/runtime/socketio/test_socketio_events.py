"""Events, acks both ways, binary, and bad input, with a fake Engine.IO connection."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from socketio_fakes import Harness, running

from sioactor.actors import Closed
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.runtime.socketio import AckClosed, AckDecodeError, AckSender, AckTimeout, Socket, SocketIo
from sioactor.runtime.socketio._extract import Args, Event

pytestmark = pytest.mark.anyio


def echo_io() -> tuple[SocketIo, list[Any]]:
    """A server whose ``/`` echoes ``message`` and acks ``message-with-ack``; *log* records calls."""
    io = SocketIo()
    log: list[Any] = []

    async def message(socket: Socket, args: Args) -> None:
        log.append(args)
        socket.emit("message-back", args)

    async def with_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    async def fallback(event: Event, args: Args) -> None:
        log.append((event, args))

    async def on_connect(socket: Socket) -> None:
        socket.on("message", message)
        socket.on("message-with-ack", with_ack)
        socket.on_fallback(fallback)

    io.ns("/", on_connect)
    return io, log


async def connected(h: Harness, sid: str = "e" * 20) -> Any:
    conn = await h.open(sid)
    await h.feed(conn, "40")
    conn.take()
    return conn


async def test_events_echo_in_order_with_acks_and_binary() -> None:
    io, log = echo_io()
    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '42["message",1,"2",{"3":[true]}]')
        assert conn.take() == ['42["message-back",1,"2",{"3":[true]}]']
        await h.feed(conn, *(f'42["message",{i}]' for i in range(20)))
        assert conn.take() == [f'42["message-back",{i}]' for i in range(20)]
        await h.feed(conn, '42456["message-with-ack",1,"2",{"3":[false]}]')
        assert conn.take() == ['43456[1,"2",{"3":[false]}]']
        placeholders = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'
        await h.feed(conn, f'452-789["message-with-ack",{placeholders}]', b"\x01\x02\x03", b"\x04\x05\x06")
        assert conn.take() == [(f"462-789[{placeholders}]", b"\x01\x02\x03", b"\x04\x05\x06")]
        await h.feed(conn, '42["other",true]')
        assert log[-1] == ("other", (True,))


async def test_handlers_in_order_and_concurrent_keep_their_own_event_args_and_ack() -> None:
    io = SocketIo()
    gates = {"slow": anyio.Event(), "side": anyio.Event()}

    async def held(event: Event, args: Args, ack: AckSender) -> None:
        await gates[event].wait()  # the socket's next events arrive meanwhile
        ack.send((event, *args))

    async def quick(event: Event, args: Args, ack: AckSender) -> None:
        ack.send((event, *args))

    async def on_connect(socket: Socket) -> None:
        socket.on("slow", held)
        socket.on("side", held, concurrent=True)
        socket.on("quick", quick)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '422["side",2]', '421["slow",1]', '42["quick",3]', '423["quick",4]')
        assert conn.take() == []  # "side" runs beside the mailbox; "slow" holds the mailbox
        gates["slow"].set()
        await h.settle()
        assert conn.take() == ['431["slow",1]', '433["quick",4]']  # "quick",3 asked for no ack
        gates["side"].set()
        await h.settle()
        assert conn.take() == ['432["side",2]']


async def test_handler_awaiting_an_ack_on_its_own_socket_does_not_deadlock() -> None:
    io = SocketIo()
    answers: list[Any] = []

    async def ask(socket: Socket) -> None:
        answers.append(await socket.emit_with_ack("question", "?"))
        answers.append(await socket.timeout(0.05).emit_with_ack("question", "again"))

    async def on_connect(socket: Socket) -> None:
        socket.on("ask", ask)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '42["ask"]')
        assert conn.take() == ['420["question","?"]']
        await h.feed(conn, "430[41,42]")
        assert answers == [(41, 42)]
        assert conn.take() == ['421["question","again"]']
        await anyio.sleep(0.1)
        await h.settle()
        assert answers == [(41, 42)]  # the second ask timed out: the handler raised AckTimeout
        await h.feed(conn, "431[1]")  # a late answer: unknown id, ignored


async def test_ack_stream_errors_timeout_decode_and_disconnect() -> None:
    io, _ = echo_io()
    async with running(io) as h:
        conn = await connected(h)
        socket = io.sockets()[0]
        with pytest.raises(AckTimeout):
            await socket.emit_with_ack("q", timeout=0.01)
        stream = socket.emit_with_ack("q", convert=int)
        await h.feed(conn, '431["x"]')
        with pytest.raises(AckDecodeError):
            await stream
        pending = socket.emit_with_ack("q")
        assert len(socket.acks) == 1
        await h.drop(conn)
        with pytest.raises(AckClosed):
            await pending
        assert len(socket.acks) == 0
        with pytest.raises(Closed) as closed:
            socket.emit("late", (1, 2))
        assert closed.value.message == (1, 2)


async def test_bad_input_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    io, log = echo_io()
    async with running(io) as h:
        conn = await connected(h)
        with caplog.at_level(logging.INFO, "sioactor.socketio"):
            await h.feed(conn, '42/nope,["message",1]', "43999[1]", '42["message",2]')
        assert "not joined" in caplog.text
        assert "unknown id" in caplog.text
        assert conn.take() == ['42["message-back",2]']
        assert conn.connected
        assert log == [(2,)]


async def test_binary_attachments_that_never_arrive_leak_nothing() -> None:
    io, log = echo_io()
    async with running(io) as h:
        conn = await connected(h)
        await h.feed(conn, '451-["message",{"_placeholder":true,"num":0}]')
        assert conn.take() == []
        await h.drop(conn)
        assert log == []
        assert io.sockets() == []


async def test_failing_and_hanging_handlers(caplog: pytest.LogCaptureFixture) -> None:
    io = SocketIo()
    reasons: list[DisconnectReason] = []
    cancelled: list[bool] = []

    async def boom() -> None:
        raise RuntimeError("boom")

    async def hang() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.append(True)

    async def ping(socket: Socket) -> None:
        socket.emit("pong")

    async def bye(socket: Socket, reason: DisconnectReason) -> None:
        reasons.append(reason)
        assert await socket.rooms() == [socket.id, "r"]

    async def on_connect(socket: Socket) -> None:
        socket.join("r")
        socket.on("boom", boom)
        socket.on("hang", hang)
        socket.on("ping", ping)
        socket.on_disconnect(bye)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await connected(h)
        other = await connected(h, "o" * 20)
        with caplog.at_level(logging.ERROR, "sioactor.socketio"):
            await h.feed(conn, '42["boom"]', '42["ping"]')
        assert "boom" in caplog.text
        assert conn.take() == ['42["pong"]']
        await h.feed(conn, '42["hang"]', '42["ping"]')
        assert conn.take() == []
        await h.drop(conn, EngineCloseReason.PING_TIMEOUT)
        assert cancelled == [True]
        assert reasons == [DisconnectReason.HEARTBEAT_TIMEOUT]
        ns = io.of("/")
        assert len(ns.sockets()) == 1
        assert ns.to("r").sockets()[0].conn is other
        await h.feed(other, '42["ping"]')
        assert other.take() == ['42["pong"]']


async def test_client_and_server_disconnects() -> None:
    io = SocketIo()
    reasons: list[DisconnectReason] = []

    async def bye(reason: DisconnectReason) -> None:
        reasons.append(reason)

    async def kick(socket: Socket) -> None:
        socket.disconnect()

    async def on_connect(socket: Socket) -> None:
        socket.on_disconnect(bye)
        socket.on("kick", kick)

    io.ns("/", on_connect)
    io.ns("/custom", on_connect)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40", "40/custom,")
        conn.take()
        await h.feed(conn, "41/custom,")
        assert reasons == [DisconnectReason.CLIENT_NS_DISCONNECT]
        await h.feed(conn, '42["kick"]')
        assert conn.take() == ["41"]
        assert reasons[-1] is DisconnectReason.SERVER_NS_DISCONNECT
        assert io.sockets() == []
        await h.feed(conn, "40")  # the client may come back
        assert len(io.sockets()) == 1
