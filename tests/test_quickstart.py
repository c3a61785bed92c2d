"""The README's quick start, run for real: the public API from ``sioactor`` alone, a real client."""

from __future__ import annotations

import anyio
import pytest
import socketio

from sioactor import AckSender, Data, Socket, SocketIo

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # python-socketio's client runs on asyncio only


async def test_quickstart_echo_with_ack() -> None:
    io = SocketIo()

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        async def echo(text: Data[str], ack: AckSender) -> None:
            ack.send(text.upper())

        socket.on("echo", echo)

    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        try:
            with anyio.fail_after(5):
                assert await client.call("echo", "hello") == "HELLO"
        finally:
            await client.disconnect()
        tg.cancel_scope.cancel()
