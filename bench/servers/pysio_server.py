"""Reference server: python-socketio's AsyncServer on uvicorn (uvloop, httptools, websockets).

Handlers on "/" are the bench's three: ``echo`` emits ``echo`` back to the sender, ``echo_ack``
acks with the payload, ``bcast`` emits ``bcast`` to every socket of "/". Prints
``listening on http://HOST:PORT`` once uvicorn accepts connections.

Usage: python pysio_server.py [--host 127.0.0.1] [--port 3001] [--compress]

``--compress``: HTTP compression and uvicorn's permessage-deflate on; off otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

import socketio  # type: ignore[import-untyped]
import uvicorn


def build_app(compress: bool = False) -> socketio.ASGIApp:
    """The AsyncServer with the bench's handlers, wrapped as an ASGI app serving /socket.io/."""
    sio = socketio.AsyncServer(
        async_mode="asgi",
        ping_interval=25,
        ping_timeout=20,
        http_compression=compress,
        cors_allowed_origins="*",
    )

    async def echo(sid: str, data: Any) -> None:
        await sio.emit("echo", data, to=sid)

    async def echo_ack(sid: str, data: Any) -> Any:
        return data

    async def bcast(sid: str, data: Any) -> None:
        await sio.emit("bcast", data)

    sio.on("echo", echo)
    sio.on("echo_ack", echo_ack)
    sio.on("bcast", bcast)
    return socketio.ASGIApp(sio)


class _AnnouncingServer(uvicorn.Server):
    """Prints the bench's readiness line once the listening socket is bound."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        print(f"listening on http://{self.config.host}:{self.config.port}", flush=True)


def main() -> None:
    """Parse flags and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--compress", action="store_true")
    args = parser.parse_args()
    config = uvicorn.Config(
        build_app(args.compress),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=args.compress,
    )
    _AnnouncingServer(config).run()


if __name__ == "__main__":
    main()
