"""The reference server the official protocol test suites run against.

    python examples/reference_server.py --host 127.0.0.1 --port 3000

serves a raw Engine.IO v4 echo server at ``/engine.io/`` (every message sent back unchanged: text as text,
binary as binary), pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, CORS ``*``, and prints
``listening on http://HOST:PORT`` once it accepts connections. ``build_engine_echo_server`` is the reusable
half: the Socket.IO half is added beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import anyio

from sioactor.actors._engine_api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.engineio import CorsConfig, EngineConfig, EngineServer, engine_asgi_app


class EchoListener:
    """Sends every message back to the session that sent it."""

    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        conn.send_volatile(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        pass


def build_engine_echo_server(
    *, ping_interval_ms: int = 300, ping_timeout_ms: int = 200, allow_eio3: bool = False
) -> EngineServer:
    """The raw Engine.IO echo server at ``/engine.io/`` configured as the engine.io-protocol suite expects."""
    config = EngineConfig(
        path="/engine.io",
        ping_interval=ping_interval_ms / 1000,
        ping_timeout=ping_timeout_ms / 1000,
        max_payload=1_000_000,
        cors=CorsConfig(origins="*"),
        allow_eio3=allow_eio3,
    )
    return EngineServer(config, EchoListener())


def _announce(host: str, port: int) -> None:
    print(f"listening on http://{host}:{port}", flush=True)


async def _serve_embedded(app: Any, host: str, port: int) -> None:
    from sioactor.runtime._server import ServerConfig, serve_asgi

    async with anyio.create_task_group() as tg:
        bound = await tg.start(serve_asgi, app, ServerConfig(host=host, port=port))
        _announce(host, bound)


async def _serve_uvicorn(app: Any, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await anyio.sleep(0.01)
        _announce(host, port)


async def _serve_hypercorn(app: Any, host: str, port: int) -> None:
    from hypercorn.config import Config

    if _backend() == "trio":
        from hypercorn.trio import serve
    else:
        from hypercorn.asyncio import serve  # type: ignore[assignment]

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.loglevel = "WARNING"
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve, app, config)
        await _wait_port(host, port)
        _announce(host, port)


def _backend() -> str:
    import sniffio

    return sniffio.current_async_library()


async def _wait_port(host: str, port: int) -> None:
    while True:
        try:
            stream = await anyio.connect_tcp(host, port)
        except OSError:
            await anyio.sleep(0.02)
        else:
            await stream.aclose()
            return


SERVERS: dict[str, Callable[[Any, str, int], Any]] = {
    "embedded": _serve_embedded,
    "uvicorn": _serve_uvicorn,
    "hypercorn": _serve_hypercorn,
}


def main(argv: list[str] | None = None) -> None:
    """Parse the flags and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--ping-interval", type=int, default=300, help="milliseconds")
    parser.add_argument("--ping-timeout", type=int, default=200, help="milliseconds")
    parser.add_argument("--allow-eio3", action="store_true")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--server", choices=tuple(SERVERS), default="embedded")
    args = parser.parse_args(argv)
    if args.server == "uvicorn" and args.backend == "trio":
        parser.error("uvicorn runs on asyncio only")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    engine = build_engine_echo_server(
        ping_interval_ms=args.ping_interval, ping_timeout_ms=args.ping_timeout, allow_eio3=args.allow_eio3
    )
    app = engine_asgi_app(engine)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(SERVERS[args.server], app, args.host, args.port, backend=args.backend)


if __name__ == "__main__":
    main()
