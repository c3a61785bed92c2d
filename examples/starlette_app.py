"""sioactor inside a Starlette app, served by uvicorn: HTTP routes and Socket.IO on one port.

    python examples/starlette_app.py [--port 8000]

Two ways to combine them, both shown here:

- ``io.asgi(starlette_app)`` wraps the app: Socket.IO answers under ``/socket.io/``, everything else goes to
  Starlette, and the wrapped app's own lifespan (startup/shutdown) still runs, after sioactor's;
- ``io.lifespan()`` for hosts that own the lifespan (``Starlette(lifespan=...)``, FastAPI): ``mounted_app``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sioactor import AckSender, Data, SocketIo


def build_io() -> SocketIo:
    """A Socket.IO server with one event: ``greet`` (name) answers with a greeting."""
    io = SocketIo()

    @io.on("greet")  # for every socket of "/"; a plain def: it never waits, so it runs at once
    def greet(name: Data[str], ack: AckSender) -> None:
        ack.send(f"hello {name}")

    return io


def wrapped_app(io: SocketIo) -> object:
    """``io.asgi(starlette_app)``: sioactor in front, Starlette's lifespan kept."""

    @contextlib.asynccontextmanager
    async def startup(app: Starlette) -> AsyncIterator[dict[str, object]]:
        yield {"started": True}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "started": request.state.started, "sockets": len(io.sockets())})

    return io.asgi(Starlette(routes=[Route("/health", health)], lifespan=startup))


def mounted_app(io: SocketIo) -> Starlette:
    """Starlette in front: sioactor mounted at the root and run from Starlette's lifespan."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "sockets": len(io.sockets())})

    return Starlette(
        routes=[Route("/health", health), Mount("/", io.asgi())],
        lifespan=lambda app: io.lifespan(),
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--mounted", action="store_true", help="Starlette in front (io.lifespan())")
    args = parser.parse_args()
    io = build_io()
    app = mounted_app(io) if args.mounted else wrapped_app(io)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
