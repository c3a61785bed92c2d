"""The harness's oracle: the reference-server contract implemented on python-socketio, run as a script.

    python tests/interop/test_socketio_oracle.py --port N [--parser msgpack]

It exists to prove the interop tests themselves (set ``SIOACTOR_INTEROP_ORACLE=1`` to point them at it instead
of ``examples/reference_server.py``); it prints ``listening on http://HOST:PORT`` like the reference server.
python-socketio speaks no Engine.IO v3, so the socket.io-client 2.x tests cannot run against it.
The contract (namespace ``/`` unless said): ``echo``, ``echo_ack``, ``echo_async`` (after a loop turn),
``bcast``, ``join``, ``leave``, ``to_room``, ``server_disconnect``, ``ask_client``; ``/custom`` emits
``auth`` after connecting and answers ``message`` / ``message-with-ack``; ``/private`` refuses a CONNECT
unless ``auth.token == "ok"``, with message ``"not authorized"`` and data ``{"reason": "token"}``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def build(parser: str) -> Any:
    import socketio

    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins="*",
        serializer="msgpack" if parser == "msgpack" else "default",
        ping_interval=0.3,  # the reference server's suite settings
        ping_timeout=0.2,
    )

    @sio.on("echo")
    async def echo(sid: str, *args: Any) -> None:
        await sio.emit("echo", args, to=sid)

    @sio.on("echo_ack")
    async def echo_ack(sid: str, *args: Any) -> Any:
        return args

    @sio.on("echo_async")
    async def echo_async(sid: str, *args: Any) -> None:
        await asyncio.sleep(0)
        await sio.emit("echo_async", args, to=sid)

    @sio.on("bcast")
    async def bcast(sid: str, *args: Any) -> None:
        await sio.emit("bcast", args)

    @sio.on("join")
    async def join(sid: str, room: str) -> Any:
        await sio.enter_room(sid, room)
        return sorted(sio.rooms(sid))

    @sio.on("leave")
    async def leave(sid: str, room: str) -> Any:
        await sio.leave_room(sid, room)
        return sorted(sio.rooms(sid))

    @sio.on("to_room")
    async def to_room(sid: str, room: str, event: str, *args: Any) -> None:
        await sio.emit(event, args, room=room, skip_sid=sid)

    @sio.on("server_disconnect")
    async def server_disconnect(sid: str) -> None:
        await sio.disconnect(sid)

    @sio.on("ask_client")
    async def ask_client(sid: str, event: str, *args: Any) -> Any:
        reply = await sio.call(event, args, to=sid)
        return reply if isinstance(reply, tuple) else (reply,)

    @sio.on("connect", namespace="/custom")
    async def custom_connect(sid: str, environ: Any, auth: Any) -> None:
        async def later() -> None:
            await asyncio.sleep(0.05)  # python-socketio sends the CONNECT reply after this handler returns
            await sio.emit("auth", auth or {}, to=sid, namespace="/custom")

        sio.start_background_task(later)

    @sio.on("message", namespace="/custom")
    async def message(sid: str, *args: Any) -> None:
        await sio.emit("message-back", args, to=sid, namespace="/custom")

    @sio.on("message-with-ack", namespace="/custom")
    async def message_with_ack(sid: str, *args: Any) -> Any:
        return args

    @sio.on("connect", namespace="/private")
    async def private_connect(sid: str, environ: Any, auth: Any) -> None:
        if not isinstance(auth, dict) or auth.get("token") != "ok":
            raise socketio.exceptions.ConnectionRefusedError("not authorized", {"reason": "token"})

    return socketio.ASGIApp(sio)


async def serve(host: str, port: int, parser: str) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(build(parser), host=host, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no started event)
        await asyncio.sleep(0.01)
    print(f"listening on http://{host}:{port}", flush=True)
    await task


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, required=True)
    cli.add_argument("--parser", default="json")
    cli.add_argument("--allow-eio3", action="store_true")
    options = cli.parse_args()
    asyncio.run(serve(options.host, options.port, options.parser))
