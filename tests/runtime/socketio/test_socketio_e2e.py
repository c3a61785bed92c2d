"""End to end over loopback: the embedded server, the real Engine.IO server and npm socket.io-client 4.8.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from sioactor.protocol._reasons import DisconnectReason
from sioactor.runtime.socketio import AckSender, ConnectRefused, Socket, SocketIo, SocketIoConfig
from sioactor.runtime.socketio._extract import Args, Auth, Data

CLIENT = Path(__file__).with_name("sio_e2e_client.js")

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


def make_server(parser: str, reasons: list[DisconnectReason]) -> SocketIo:
    io = SocketIo(SocketIoConfig(parser=parser))

    async def authorize(auth: Auth[dict[str, Any]]) -> None:
        if auth.get("token") != "good":
            raise ConnectRefused("not authorized", {"token": auth.get("token")})

    async def echo(args: Args, ack: AckSender) -> None:
        ack.send(args)

    async def ask(socket: Socket) -> None:
        doubled = await socket.emit_with_ack("question", 21)
        socket.emit("answer", doubled)

    async def join(socket: Socket, room: Data[str]) -> None:
        socket.join(room)
        await socket.within(room).emit("news", f"hello {room}")

    async def bye(socket: Socket) -> None:
        socket.disconnect()

    async def gone(reason: DisconnectReason) -> None:
        reasons.append(reason)

    @io.ns("/", middleware=[authorize])
    async def on_connect(socket: Socket, auth: Auth[dict[str, Any]]) -> None:
        socket.emit("welcome", auth)
        socket.on("echo", echo)
        socket.on("ask", ask)
        socket.on("join", join)
        socket.on("bye", bye)
        socket.on_disconnect(gone)

    return io


async def run_client(io: SocketIo, transport: str, parser: str, token: str) -> list[dict[str, Any]]:
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        with anyio.fail_after(20):
            url = f"http://127.0.0.1:{port}"
            done = await anyio.run_process(["node", str(CLIENT), url, transport, parser, token], check=False)
        tg.cancel_scope.cancel()
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


@pytest.mark.parametrize("transport", ["polling", "websocket", "upgrade"])
@pytest.mark.parametrize("parser", ["json", "msgpack"])
async def test_node_client_full_conversation(transport: str, parser: str) -> None:
    reasons: list[DisconnectReason] = []
    events = await run_client(make_server(parser, reasons), transport, parser, "good")
    assert events == [
        {"event": "connect", "idLength": 20},
        {"event": "welcome", "auth": {"token": "good"}},
        {"event": "echo", "text": "hi", "bin": [1, 2, 3]},
        {"event": "answer", "n": 42},
        {"event": "news", "text": "hello room1"},
        {"event": "disconnect", "reason": "io server disconnect"},
    ]
    assert reasons == [DisconnectReason.SERVER_NS_DISCONNECT]


async def test_node_client_refused_by_middleware() -> None:
    events = await run_client(make_server("json", []), "websocket", "json", "bad")
    assert events == [{"event": "connect_error", "message": "not authorized", "data": {"token": "bad"}}]
