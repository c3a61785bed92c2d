"""Catch-all listeners (``on_any`` / ``on_any_outgoing`` ...), per-packet middleware (``use``) and the error
handler (``on_error``), with npm socket.io-client 4.8.1 against an in-process server on asyncio and trio;
hooks declared as plain ``def`` (run at once) and as ``async def`` (run in the socket's task), on both
transports. The scenarios are in ``tests/node/sio_features.js``.
"""

from __future__ import annotations

import shutil
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from sio_driver import run_scenario

from sioactor import AckSender, Args, Event, HandlerSignatureError, Socket, SocketIo

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


class Record:
    """What the server's hooks saw."""

    def __init__(self) -> None:
        self.incoming: list[str] = []
        self.outgoing: list[tuple[str, list[Any]]] = []
        self.forbidden_handled = 0


def hooked_server(asynchronous: bool) -> tuple[SocketIo, Record]:
    io = SocketIo()
    seen = Record()

    def count(event: Event) -> None:
        seen.incoming.append(event)

    def refuse_forbidden(event: Event, args: Args) -> None:
        if event == "forbidden":
            raise PermissionError(f"{event} with {list(args)}")

    def tell_refused(socket: Socket, event: Event, error: Exception) -> None:
        assert isinstance(error, PermissionError)
        socket.emit("refused", (event, str(error)))

    async def count_async(event: Event) -> None:
        await anyio.lowlevel.checkpoint()
        count(event)

    async def refuse_forbidden_async(event: Event, args: Args) -> None:
        await anyio.lowlevel.checkpoint()
        refuse_forbidden(event, args)

    async def tell_refused_async(socket: Socket, event: Event, error: Exception) -> None:
        await anyio.lowlevel.checkpoint()
        tell_refused(socket, event, error)

    def outgoing(event: Event, args: Args) -> None:
        seen.outgoing.append((event, list(args)))

    def echo_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    def forbidden() -> None:
        seen.forbidden_handled += 1

    def any_count(ack: AckSender) -> None:
        ack.send(len(seen.incoming))

    async def bcast_self() -> None:
        await io.emit("news", 1)

    def outgoing_seen(ack: AckSender) -> None:
        ack.send([event for event, _ in seen.outgoing])

    def seq(socket: Socket, args: Args) -> None:
        socket.emit("seq", args)

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        socket.on_any(count_async if asynchronous else count)
        socket.use(refuse_forbidden_async if asynchronous else refuse_forbidden)
        socket.on_error(tell_refused_async if asynchronous else tell_refused)
        socket.on_any_outgoing(outgoing)

    for event, handler in [
        ("echo_ack", echo_ack),
        ("forbidden", forbidden),
        ("any_count", any_count),
        ("bcast_self", bcast_self),
        ("outgoing_seen", outgoing_seen),
        ("seq", seq),
    ]:
        io.on(event, handler)
    return io, seen


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_listeners_see_every_event_and_middleware_refuses_to_the_error_handler(
    asynchronous: bool, transport: str
) -> None:
    io, seen = hooked_server(asynchronous)
    steps = await run_scenario(io, "any_and_middleware", transports=[transport], outgoing=True, burst=20)
    assert steps["echo_ack"]["args"] == ["before"]
    assert steps["refused"]["args"] == ["forbidden", "forbidden with [1, 2]"]
    assert steps["echo_after"]["args"] == ["after"]
    assert steps["any_count"]["args"] == [4]  # the refused event included, as Node's onAny, and itself
    assert seen.forbidden_handled == 0
    # Outgoing: this socket's emits and the broadcast that reached it; acks are not events.
    assert steps["outgoing"]["args"] == [["refused", "news"]]
    assert seen.outgoing[:2] == [("refused", ["forbidden", "forbidden with [1, 2]"]), ("news", [1])]
    assert steps["burst"]["got"] == list(range(20))
    assert seen.incoming[:6] == [
        "echo_ack",
        "forbidden",
        "echo_ack",
        "any_count",
        "bcast_self",
        "outgoing_seen",
    ]
    assert seen.incoming[6:] == ["seq"] * 20


async def test_listeners_can_be_removed_and_prepended() -> None:
    io = SocketIo()
    order: list[str] = []
    remaining: list[list[Any]] = []

    def first(event: Event) -> None:
        order.append(f"first:{event}")

    def second(event: Event) -> None:
        order.append(f"second:{event}")

    def echo_ack(socket: Socket, args: Args, ack: AckSender) -> None:
        socket.off_any(first)
        socket.off_any_outgoing()
        remaining.append(socket.listeners_any())
        socket.emit("later")
        ack.send(args)

    def before_out(event: Event) -> None:
        order.append(f"out:{event}")

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        socket.on_any(second)
        socket.prepend_any(first)
        socket.on_any_outgoing(before_out)
        socket.prepend_any_outgoing(before_out)
        assert socket.listeners_any() == [first, second]
        assert socket.listeners_any_outgoing() == [before_out, before_out]
        socket.emit("hello")

    io.on("echo_ack", echo_ack)
    steps = await run_scenario(io, "ack", transports=["websocket"])
    assert steps["echo_ack_empty"]["args"] == []
    # Outgoing twice (added, then prepended), then the incoming ones; removed after the first event.
    assert order == ["out:hello", "out:hello", "first:echo_ack", "second:echo_ack", "second:echo_ack"]
    assert remaining == [[second], [second]]


async def test_an_async_outgoing_listener_is_refused_at_registration() -> None:
    io = SocketIo()
    refusals: list[str] = []

    async def outgoing(event: Event) -> None:
        pass

    def echo(socket: Socket, args: Args) -> None:
        socket.emit("echo", args)

    io.on("echo", echo)

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        try:
            socket.on_any_outgoing(outgoing)
        except HandlerSignatureError as exc:
            refusals.append(str(exc))

    await run_scenario(io, "echo", transports=["websocket"])
    assert refusals
    assert "plain def" in refusals[0]


async def test_a_refusal_without_error_handler_is_logged_and_the_client_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = SocketIo()
    handled: list[str] = []

    def refuse_forbidden(event: Event) -> None:
        if event == "forbidden":
            raise PermissionError("no")

    def forbidden() -> None:
        handled.append("forbidden")

    def echo_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        socket.use(refuse_forbidden)

    io.on("echo_ack", echo_ack)
    io.on("forbidden", forbidden)
    caplog.set_level("INFO", logger="sioactor.socketio")
    steps = await run_scenario(io, "refused_silently", transports=["polling"])
    assert steps["echo_after"]["args"] == ["after"]
    assert handled == []
    [record] = [r for r in caplog.records if "refused by a middleware" in r.getMessage()]
    assert "'forbidden'" in record.getMessage()
    assert "PermissionError('no')" in record.getMessage()
