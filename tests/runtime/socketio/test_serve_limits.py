"""``io.serve()`` bounds a WebSocket message by the engine's ``max_payload``, as Node's ``maxHttpBufferSize``
bounds both transports: a larger limit lets larger messages through, the default (1 MB) refuses them.
Checked with python-socketio's client over WebSocket, on both backends."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from sioactor import AckSender, Args, EngineConfig, Socket, SocketIo, SocketIoConfig

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

TWO_MB = "x" * 2_000_000


def echo_server(max_payload: int) -> SocketIo:
    io = SocketIo(SocketIoConfig(engine=EngineConfig(max_payload=max_payload)))

    def echo(args: Args, ack: AckSender) -> None:
        ack.send(args)

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        socket.on("echo", echo)

    return io


async def echo_two_mb(port: int) -> str:
    """What a 2 MB echo over WebSocket comes to: ``"echoed"``, or ``"disconnected"`` by the server."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    client.on("disconnect", lambda *_: gone.set())
    try:
        async with asyncio.timeout(15):
            await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
            call = asyncio.ensure_future(client.call("echo", TWO_MB, timeout=10))
            closed = asyncio.ensure_future(gone.wait())
            await asyncio.wait([call, closed], return_when=asyncio.FIRST_COMPLETED)
            if call.done() and not call.exception():
                assert call.result() == TWO_MB
                return "echoed"
            call.cancel()
            await closed
            return "disconnected"
    finally:
        await client.disconnect()
        await client.shutdown()


@pytest.mark.parametrize(("max_payload", "outcome"), [(3_000_000, "echoed"), (1_000_000, "disconnected")])
async def test_a_websocket_message_is_bounded_by_max_payload(max_payload: int, outcome: str) -> None:
    io = echo_server(max_payload)
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        result = await anyio.to_thread.run_sync(asyncio.run, echo_two_mb(port))
        tg.cancel_scope.cancel()
    assert result == outcome
