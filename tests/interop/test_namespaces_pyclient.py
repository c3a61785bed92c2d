"""python-socketio's AsyncClient on a regex namespace and a class-based one (the server of
``test_namespaces_node.py``, in process on asyncio and trio; the client runs on asyncio in a thread of its
own, since python-socketio runs on asyncio only)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from test_namespaces_node import Classy, RoomLog, make_server

from sioactor import DisconnectReason

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


async def talk(url: str, transport: str) -> dict[str, Any]:
    import socketio

    client = socketio.AsyncClient()
    welcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.on("welcome", welcome.set_result, namespace="/classy")
    try:
        async with asyncio.timeout(10):
            await client.connect(url, transports=[transport], namespaces=["/tenant-7", "/classy"])
            return {
                "whoami": await client.call("whoami", namespace="/tenant-7"),
                "welcome": await welcome,
                "hello": await client.call("hello", "py", namespace="/classy"),
                "slow": await client.call("slow", "py", namespace="/classy"),
            }
    finally:
        await client.disconnect()
        await client.shutdown()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_python_socketio_client_on_dynamic_and_class_namespaces(transport: str) -> None:
    classy = Classy()
    io = make_server(RoomLog(), classy)
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}"
        got = await anyio.to_thread.run_sync(lambda: asyncio.run(talk(url, transport)))
        with anyio.fail_after(10):
            await classy.gone.wait()
        tg.cancel_scope.cancel()
    assert got == {
        "whoami": ("/tenant-7", {"id": "7"}),
        "welcome": "/classy",
        "hello": "hello py",
        "slow": "slow py on /classy of 1",
    }
    [(_, reason)] = classy.disconnects
    # AsyncClient.disconnect() queues its DISCONNECT packets, then aborts the transport, which may win.
    assert reason in (DisconnectReason.CLIENT_NS_DISCONNECT, DisconnectReason.TRANSPORT_CLOSE)
