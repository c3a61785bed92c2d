"""Where the server must behave as Node's does, checked with npm socket.io-client 4.8.1 (the scenarios of
``tests/node/sio_client.js``) against an in-process server, on asyncio and trio: a disconnect that meets a
full outbox, reserved event names, ``io.close()`` under ``serve()``, the sender rules of ``local()`` and
``within().to()``, and what ``BroadcastError`` reports.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import Any

import anyio
import httpx
import pytest
from sio_driver import run_driver, run_scenario

from sioactor import (
    AckSender,
    Args,
    BroadcastError,
    EngineConfig,
    InternalChannelFull,
    ReservedEventError,
    ServerConfig,
    Socket,
    SocketIo,
    SocketIoConfig,
    serve_asgi,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

FILLER_DATA = {"n": 1}


FILLER_PADDING = "x" * 65_536


def fill(socket: Socket) -> None:
    """Emit until the socket's outbox is full. What the transport can take now moves through (the outbox
    counts only the rest), so the fillers are large enough to fill the connection's write buffer first; no
    await, so nothing drains meanwhile."""
    with contextlib.suppress(InternalChannelFull):
        for i in range(10_000):
            socket.emit("filler", (i, FILLER_PADDING))


def make_server(broadcast_errors: list[BroadcastError] | None = None) -> SocketIo:
    io = SocketIo(SocketIoConfig(engine=EngineConfig(max_buffer_size=8)))

    async def join(socket: Socket, args: Args, ack: AckSender) -> None:
        socket.join(str(args[0]))
        ack.send(await socket.rooms())

    async def echo_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    async def fill_then_disconnect(socket: Socket) -> None:
        fill(socket)
        socket.disconnect()

    async def fill_then_room_disconnect(socket: Socket) -> None:
        fill(socket)
        await io.to("doomed").disconnect()

    async def fill_then_broadcast(socket: Socket) -> None:
        fill(socket)
        try:
            await io.emit("news", FILLER_DATA)
        except BroadcastError as exc:
            if broadcast_errors is not None:
                broadcast_errors.append(exc)
        socket.disconnect()

    async def emit_reserved(socket: Socket, ack: AckSender) -> None:
        refused = []
        try:
            socket.emit("disconnect")
        except ReservedEventError:
            refused.append("socket")
        try:
            await socket.broadcast().emit("connect")
        except ReservedEventError:
            refused.append("broadcast")
        ack.send({"refused": refused})

    async def local_bcast(socket: Socket) -> None:
        await socket.local().emit("local_bcast")

    async def within_to(socket: Socket, args: Args) -> None:
        await socket.within(str(args[0])).to(str(args[1])).emit("wt")

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        for name, handler in {
            "join": join,
            "echo_ack": echo_ack,
            "fill_then_disconnect": fill_then_disconnect,
            "fill_then_room_disconnect": fill_then_room_disconnect,
            "fill_then_broadcast": fill_then_broadcast,
            "emit_reserved": emit_reserved,
            "local_bcast": local_bcast,
            "within_to": within_to,
        }.items():
            socket.on(name, handler)

    @io.ns("/doomed")
    async def on_doomed(socket: Socket) -> None:
        async def fill_then_delete_ns(socket: Socket) -> None:
            fill(socket)
            io.delete_ns("/doomed")

        socket.on("fill_then_delete_ns", fill_then_delete_ns)

    return io


@pytest.mark.parametrize(
    ("trigger", "nsp", "room", "transport"),
    [
        pytest.param("fill_then_disconnect", "/", None, "websocket", id="disconnect-websocket"),
        pytest.param("fill_then_disconnect", "/", None, "polling", id="disconnect-polling"),
        pytest.param("fill_then_room_disconnect", "/", "doomed", "websocket", id="room-disconnect"),
        pytest.param("fill_then_delete_ns", "/doomed", None, "websocket", id="delete-ns"),
    ],
)
async def test_a_disconnect_reaches_a_client_whose_outbox_is_full(
    trigger: str, nsp: str, room: str | None, transport: str
) -> None:
    steps = await run_scenario(
        make_server(), "disconnect_when_full", trigger=trigger, nsp=nsp, room=room, transports=[transport]
    )
    # The DISCONNECT could not be queued: the session was closed (its queued fillers flushed first; a polling
    # client drops those that share the closing response, a client-side matter).
    assert steps["disconnect"]["reason"] == "transport close"
    assert steps["disconnect"]["fillers"] or transport == "polling"


async def test_broadcast_error_names_the_socket_and_carries_the_callers_data() -> None:
    errors: list[BroadcastError] = []
    io = make_server(errors)
    steps = await run_scenario(
        io, "disconnect_when_full", trigger="fill_then_broadcast", transports=["websocket"]
    )
    assert steps["disconnect"]["fillers"]
    [error] = errors
    [(sid, entry)] = error.errors.items()
    assert len(sid) == 20
    assert isinstance(entry, InternalChannelFull)
    assert entry.message is FILLER_DATA
    assert entry.actor == f"socket:/:{sid}"


async def test_reserved_event_names_are_refused_at_the_emit() -> None:
    steps = await run_scenario(make_server(), "emit_reserved", transports=["websocket"])
    assert steps["emit_reserved"]["args"] == [{"refused": ["socket", "broadcast"]}]
    assert steps["still_connected"]["args"] == ["alive"]


async def test_socket_local_leaves_the_sender_out() -> None:
    steps = await run_scenario(make_server(), "local_bcast", transports=["websocket"])
    assert steps["received"]["got"] == ["other"]


async def test_within_then_to_leaves_the_sender_out() -> None:
    steps = await run_scenario(make_server(), "within_to", transports=["websocket"])
    assert steps["received"]["got"] == ["other"]


def closing_server() -> tuple[SocketIo, anyio.Event]:
    io = SocketIo()
    ready = anyio.Event()

    async def on_ready() -> None:
        ready.set()

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        socket.on("ready", on_ready)

    return io, ready


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_close_under_serve_ends_serving(transport: str) -> None:
    io, connected = closing_server()
    served = anyio.Event()
    steps: dict[str, Any] = {}

    async def serve(*, task_status: anyio.abc.TaskStatus[int]) -> None:
        await io.serve("127.0.0.1", 0, task_status=task_status)
        served.set()

    async with anyio.create_task_group() as tg:
        port = await tg.start(serve)
        tg.start_soon(_driver_into, f"http://127.0.0.1:{port}", "server_closes", [transport], steps)
        with anyio.fail_after(10):
            await connected.wait()
            await io.close()
            assert not io.running
            await served.wait()  # serve() returned by itself: nothing cancelled it
    assert steps["disconnect"]["reason"] == "io server disconnect"
    assert "late_refused" in steps  # nothing listens any more


async def test_close_under_another_host_refuses_new_handshakes() -> None:
    io, connected = closing_server()
    steps: dict[str, Any] = {}
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, io.asgi(), ServerConfig(host="127.0.0.1", port=0))
        url = f"http://127.0.0.1:{port}"
        async with anyio.create_task_group() as client:
            client.start_soon(_driver_into, url, "server_closes", ["polling"], steps)
            with anyio.fail_after(10):
                await connected.wait()
                await io.close()
                assert not io.running
                async with httpx.AsyncClient() as http:
                    answer = await http.get(f"{url}/socket.io/?EIO=4&transport=polling")
        tg.cancel_scope.cancel()  # the host serves on until told: the app keeps refusing meanwhile
    assert answer.status_code == 400
    assert answer.json() == {"code": 3, "message": "Server is not running"}
    assert steps["disconnect"]["reason"] == "io server disconnect"
    assert "late_refused" in steps


async def _driver_into(url: str, scenario: str, transports: list[str], into: dict[str, Any]) -> None:
    into.update(await run_driver(url, scenario, transports=transports))
