"""A small Socket.IO server for the burst tests (``test_bursts.py``), run as a subprocess:

    python tests/interop/burst_server.py --port N [--parser msgpack] [--backend trio] [--server uvicorn]
        [--slow-consumer drop_oldest]

Handlers on ``/``: ``echo`` (emits ``echo`` back with the same arguments; it never awaits, so it runs at
once), ``echo_async`` (the same from an ``async def`` handler that awaits one checkpoint first, so its events
wait in the socket's inbox), ``echo_ack`` (acks with the same arguments) and ``bcast`` (emits ``bcast`` to
every socket).
It prints ``listening on http://127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import cast

import anyio
import anyio.lowlevel

from sioactor import (
    AckSender,
    Args,
    EngineConfig,
    ServerConfig,
    SlowConsumerPolicy,
    Socket,
    SocketIo,
    SocketIoConfig,
    serve_asgi,
)


def build(parser: str, slow_consumer: SlowConsumerPolicy) -> SocketIo:
    """The server with the four handlers."""
    io = SocketIo(SocketIoConfig(parser=parser, engine=EngineConfig(slow_consumer=slow_consumer)))

    @io.on("echo")
    def echo(socket: Socket, args: Args) -> None:
        socket.emit("echo", args)

    @io.on("echo_async")
    async def echo_async(socket: Socket, args: Args) -> None:
        await anyio.lowlevel.checkpoint()
        socket.emit("echo_async", args)

    @io.on("echo_ack")
    def echo_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    @io.on("bcast")
    async def bcast(args: Args) -> None:
        await io.emit("bcast", args)

    return io


async def serve(io: SocketIo, server: str, port: int) -> None:
    """Serve *io* on 127.0.0.1:*port* with the embedded server or uvicorn."""
    if server == "uvicorn":
        import uvicorn

        config = uvicorn.Config(io.asgi(), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        runner = uvicorn.Server(config)
        async with anyio.create_task_group() as tg:
            tg.start_soon(runner.serve)
            while not runner.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await anyio.sleep(0.01)
            print(f"listening on http://127.0.0.1:{port}", flush=True)
        return
    async with anyio.create_task_group() as tg:
        bound = await tg.start(serve_asgi, io.asgi(), ServerConfig(host="127.0.0.1", port=port))
        print(f"listening on http://127.0.0.1:{bound}", flush=True)


def main() -> None:
    """Parse the flags and serve until terminated."""
    flags = argparse.ArgumentParser()
    flags.add_argument("--port", type=int, required=True)
    flags.add_argument("--parser", choices=("json", "msgpack"), default="json")
    flags.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    flags.add_argument("--server", choices=("embedded", "uvicorn"), default="embedded")
    flags.add_argument("--slow-consumer", choices=("error", "drop_oldest", "disconnect"), default="error")
    args = flags.parse_args()
    io = build(args.parser, cast(SlowConsumerPolicy, args.slow_consumer))
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve, io, args.server, args.port, backend=args.backend)


if __name__ == "__main__":
    main()
