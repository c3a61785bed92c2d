"""A Socket.IO server with the actor trace on, a small load, and the command that attaches the console.

    python examples/traced_server.py --port 3000 --load 5
    # then, in another terminal, the command it prints:
    sioactor console --connect 127.0.0.1:PORT --token TOKEN

The server joins every socket to ``lobby``; ``chat`` is broadcast to the lobby, ``ping`` is acknowledged and
``boom`` fails in its handler (so the console has errors to show). ``--load N`` starts N python-socketio
clients in this process that chat every ``--interval`` seconds; ``--record FILE`` also records the trace as
JSON lines for ``sioactor console --replay FILE``. Tracing is the server's options: ``trace_endpoint``,
``trace_file``, ``trace_payloads``; serving starts the endpoint and logs the console command.
"""

from __future__ import annotations

import argparse
import contextlib
import random

import anyio
import socketio

from sioactor import AckSender, Data, Socket, SocketIo, SocketIoConfig


def build_server(
    trace_port: int, record: str | None, trace_payloads: bool, trace_token: str | None = None
) -> SocketIo:
    """The demo server, traced: lobby chat, an acknowledged ping, a failing handler."""
    config = SocketIoConfig(
        trace_endpoint=f"127.0.0.1:{trace_port}",
        trace_file=record,
        trace_payloads=trace_payloads,
        trace_token=trace_token,
    )
    io = SocketIo(config)

    @io.ns("/")
    def on_connect(socket: Socket) -> None:
        socket.join("lobby")

    @io.on("chat")
    async def chat(socket: Socket, text: Data[str]) -> None:  # a broadcast is awaited: async def
        await socket.to("lobby").emit("chat", {"from": socket.id, "text": text})

    @io.on("ping")
    def ping(ack: AckSender) -> None:  # never waits: a plain def, run at once
        ack.send("pong")

    @io.on("boom")
    def boom(socket: Socket) -> None:
        raise ValueError(f"boom from {socket.id}")

    return io


async def chatter(port: int, interval: float) -> None:
    """One client of the load: connects, chats, pings, sometimes fails a handler."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    try:
        for n in range(1_000_000):
            await client.emit("chat", f"message {n}")
            if n % 5 == 0:
                await client.call("ping", timeout=5)
            if random.random() < 0.02:
                await client.emit("boom")
            await anyio.sleep(interval)
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(2):
            await client.disconnect()


async def main(args: argparse.Namespace) -> None:
    io = build_server(args.trace_port, args.record, args.trace_payloads, args.trace_token)
    assert io.trace_endpoint is not None
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", args.port)
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        print(f"attach the console: {io.trace_endpoint.console_command}", flush=True)
        for _ in range(args.load):
            tg.start_soon(chatter, port, args.interval)
        if args.duration:
            await anyio.sleep(args.duration)
            tg.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--trace-port", type=int, default=0, help="trace endpoint port (0: any free one)")
    parser.add_argument("--load", type=int, default=5, help="clients chatting in this process")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between a client's messages")
    parser.add_argument("--record", help="also record the trace to this JSON-lines file")
    parser.add_argument(
        "--trace-token",
        help="a fixed console token (consoles then reconnect across restarts); random if unset",
    )
    parser.add_argument("--trace-payloads", action="store_true", help="include payloads in the trace")
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: never)")
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main, parser.parse_args())
