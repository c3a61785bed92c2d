"""python-socketio's AsyncClient on a regex namespace and a class-based one (the server of
``test_namespaces_node.py``, in process). The client runs on asyncio (aiohttp) only."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from test_namespaces_node import Classy, RoomLog, make_server

from sioactor import DisconnectReason

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_python_socketio_client_on_dynamic_and_class_namespaces(
    backend_name: str, transport: str
) -> None:
    if backend_name != "asyncio":
        pytest.skip("python-socketio's AsyncClient runs on asyncio only")
    import socketio

    classy = Classy()
    io = make_server(RoomLog(), classy)
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        client = socketio.AsyncClient()
        welcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.on("welcome", welcome.set_result, namespace="/classy")
        try:
            with anyio.fail_after(10):
                await client.connect(
                    f"http://127.0.0.1:{port}", transports=[transport], namespaces=["/tenant-7", "/classy"]
                )
                assert await client.call("whoami", namespace="/tenant-7") == ("/tenant-7", {"id": "7"})
                assert await welcome == "/classy"
                assert await client.call("hello", "py", namespace="/classy") == "hello py"
                assert await client.call("slow", "py", namespace="/classy") == "slow py on /classy of 1"
                await client.disconnect()
                await classy.gone.wait()
        finally:
            await client.shutdown()
        tg.cancel_scope.cancel()
    [(_, reason)] = classy.disconnects
    # AsyncClient.disconnect() queues its DISCONNECT packets, then aborts the transport, which may win.
    assert reason in (DisconnectReason.CLIENT_NS_DISCONNECT, DisconnectReason.TRANSPORT_CLOSE)
