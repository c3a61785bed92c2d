"""Issue 15's bugs 1 and 3 with python-socketio's AsyncClient (the servers of
``test_socketio_node_semantics.py``, in process on asyncio and trio; the client runs on asyncio in a thread of
its own): a disconnect that meets a full outbox reaches the client, and ``io.close()`` under ``serve()`` tells
the client, ends serving and refuses a later client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from test_socketio_node_semantics import closing_server, make_server

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def in_thread(scenario: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
    """Run *scenario* on a fresh asyncio loop in a worker thread (the server's loop may be trio's)."""

    async def bounded() -> Any:
        async with asyncio.timeout(15):
            return await scenario()

    return anyio.to_thread.run_sync(lambda: asyncio.run(bounded()))


async def disconnect_when_full(url: str, trigger: str, nsp: str, room: str | None, transport: str) -> Any:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    gone: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    fillers = 0

    def filler(*_: Any) -> None:
        nonlocal fillers
        fillers += 1

    def disconnect(reason: Any = None) -> None:
        if not gone.done():
            gone.set_result(reason)

    client.on("filler", filler, namespace=nsp)
    client.on("disconnect", disconnect, namespace=nsp)
    try:
        await client.connect(url, transports=[transport], namespaces=[nsp])
        if room is not None:
            await client.call("join", room, namespace=nsp)
        await client.emit(trigger, namespace=nsp)
        reason = await gone
        return {"reason": reason, "fillers": fillers, "connected": client.connected}
    finally:
        await client.disconnect()
        await client.shutdown()


@pytest.mark.parametrize(
    ("trigger", "nsp", "room", "transport"),
    [
        pytest.param("fill_then_disconnect", "/", None, "websocket", id="disconnect-websocket"),
        pytest.param("fill_then_disconnect", "/", None, "polling", id="disconnect-polling"),
        pytest.param("fill_then_room_disconnect", "/", "doomed", "websocket", id="room-disconnect"),
        pytest.param("fill_then_delete_ns", "/doomed", None, "websocket", id="delete-ns"),
    ],
)
async def test_a_disconnect_reaches_a_pyclient_whose_outbox_is_full(
    trigger: str, nsp: str, room: str | None, transport: str
) -> None:
    io = make_server()
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}"
        got = await in_thread(lambda: disconnect_when_full(url, trigger, nsp, room, transport))
        tg.cancel_scope.cancel()
    # The DISCONNECT could not be queued behind the fillers: the transport was closed instead, so the client
    # knows it is gone (before the fix it stayed connected to a socket the server had forgotten).
    # python-socketio names a closed WebSocket "transport error", and the Engine.IO CLOSE packet that ends a
    # poll "server disconnect".
    assert got["reason"] == ("transport error" if transport == "websocket" else "server disconnect")
    assert got["connected"] is False
    assert got["fillers"] or transport == "polling"


async def server_closes(url: str, told: anyio.Event | None = None) -> dict[str, Any]:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    gone: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.on("disconnect", lambda reason=None: gone.done() or gone.set_result(reason))
    late = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, transports=["websocket"])
        await client.emit("ready")
        reason = await gone
        try:
            await late.connect(url, transports=["polling"], wait_timeout=3)
        except socketio.exceptions.ConnectionError as exc:
            refused: str | None = str(exc)
        else:
            refused = None
        return {"reason": reason, "late_refused": refused}
    finally:
        for each in (client, late):
            await each.disconnect()
            await each.shutdown()


async def test_close_under_serve_tells_a_pyclient_and_refuses_the_next() -> None:
    io, connected = closing_server()
    served = anyio.Event()
    got: dict[str, Any] = {}

    async def serve(*, task_status: anyio.abc.TaskStatus[int]) -> None:
        await io.serve("127.0.0.1", 0, task_status=task_status)
        served.set()

    async def client(url: str) -> None:
        got.update(await in_thread(lambda: server_closes(url)))

    async with anyio.create_task_group() as tg:
        port = await tg.start(serve)
        tg.start_soon(client, f"http://127.0.0.1:{port}")
        with anyio.fail_after(15):
            await connected.wait()
            await io.close()
            assert not io.running
            await served.wait()  # serve() returned by itself: nothing cancelled it
    assert got["reason"] == "server disconnect"  # the DISCONNECT packet, not a cut transport
    assert got["late_refused"] is not None
