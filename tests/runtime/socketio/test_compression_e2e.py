"""Compression with real clients, both ways, on both backends: npm socket.io-client 4.8.1 (``ws``) and
python-socketio's AsyncClient (aiohttp) against the embedded server with permessage-deflate on; a large
JSON and a large binary payload; the threshold and ``compress(False)`` as the client sees them."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from sioactor.runtime.engineio import EngineConfig
from sioactor.runtime.socketio import AckSender, Socket, SocketIo, SocketIoConfig
from sioactor.runtime.socketio._extract import Args

CLIENT = Path(__file__).parents[2] / "node" / "compress_client.js"
BIG = {"items": [{"id": n, "name": f"item {n}"} for n in range(300)]}

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def make_server() -> SocketIo:
    io = SocketIo(SocketIoConfig(engine=EngineConfig(per_message_deflate=True)))

    async def echo(args: Args, ack: AckSender) -> None:
        ack.send(args)

    async def send_all(socket: Socket, ack: AckSender) -> None:
        socket.emit("big", BIG)
        socket.compress(False).emit("big_plain", BIG)
        socket.emit("small", "x" * 100)
        await io.emit("bcast_big", BIG)
        await io.compress(False).emit("bcast_plain", BIG)
        ack.send("done")

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        socket.on("echo", echo)
        socket.on("send_all", send_all)

    return io


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_node_client_compression_both_ways(transport: str) -> None:
    io = make_server()
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        with anyio.fail_after(20):
            done = await anyio.run_process(
                ["node", str(CLIENT), f"http://127.0.0.1:{port}", transport], check=False
            )
        tg.cancel_scope.cancel()
    assert done.returncode == 0, (done.stdout.decode(), done.stderr.decode())
    steps = {line["step"]: line for line in map(json.loads, done.stdout.decode().splitlines())}
    websocket = transport == "websocket"
    assert (steps["connected"]["extensions"] == "permessage-deflate") is websocket
    assert steps["echo_json"] == {"step": "echo_json", "same": True, "compressed": int(websocket)}
    assert steps["echo_binary"] == {"step": "echo_binary", "same": True, "compressed": int(websocket)}
    compressed = {event["name"]: event["compressed"] for event in steps["events"]["events"]}
    on = int(websocket)
    assert compressed == {"big": on, "big_plain": 0, "small": 0, "bcast_big": on, "bcast_plain": 0}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_python_socketio_client_compression_both_ways(transport: str) -> None:
    # python-socketio's client runs on asyncio (aiohttp), in a thread of its own, whatever the server runs on.
    io = make_server()
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        with anyio.fail_after(20):
            result = await anyio.to_thread.run_sync(asyncio.run, _python_client(port, transport))
        tg.cancel_scope.cancel()
    negotiated, json_back, binary_back, events = result
    assert negotiated is (transport == "websocket")
    assert json_back == BIG
    assert binary_back == bytes(range(256)) * 20
    assert events == {"big": BIG, "big_plain": BIG, "small": "x" * 100, "bcast_big": BIG, "bcast_plain": BIG}


async def _python_client(port: int, transport: str) -> tuple[bool, Any, Any, dict[str, Any]]:
    import socketio

    # aiohttp offers permessage-deflate only when asked (compress=15, its window bits).
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})
    events: dict[str, Any] = {}
    for name in ("big", "big_plain", "small", "bcast_big", "bcast_plain"):
        client.on(name, lambda data, name=name: events.__setitem__(name, data))
    try:
        async with asyncio.timeout(10):
            await client.connect(f"http://127.0.0.1:{port}", transports=[transport])
            ws = getattr(client.eio, "ws", None)
            negotiated = ws is not None and ws.compress > 0
            json_back = await client.call("echo", BIG)
            binary_back = await client.call("echo", bytes(range(256)) * 20)
            assert await client.call("send_all") == "done"
    finally:
        await client.disconnect()
        await client.shutdown()
    return negotiated, json_back, binary_back, events
