"""The real npm engine.io-client 6.6.3 against EngineServer over loopback: polling, WebSocket, upgrade,
text and binary both ways, client close and server close, on both backends, embedded server, uvicorn and
hypercorn.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
import sniffio

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import EngineConfig, EngineServer, engine_asgi_app

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests/node/eio_client.js"


class Recorder:
    """Echoes every message; closes the session on ``close-me``; records opens and close reasons."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.closed: list[EngineCloseReason] = []
        self.all_closed = anyio.Event()

    def on_open(self, conn: EngineConnection) -> None:
        self.opened.append(conn.sid)

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        if data == "close-me":
            conn.close()
        else:
            conn.send(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closed.append(reason)
        if len(self.closed) == len(self.opened):
            self.all_closed.set()


@asynccontextmanager
async def embedded(app: Any) -> AsyncIterator[int]:
    async with anyio.create_task_group() as tg:
        yield await tg.start(serve_asgi, app, ServerConfig(host="127.0.0.1", port=0))
        tg.cancel_scope.cancel()


@asynccontextmanager
async def uvicorn_server(app: Any) -> AsyncIterator[int]:
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(5):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await anyio.sleep(0.01)
        yield int(server.servers[0].sockets[0].getsockname()[1])
        server.should_exit = True


@asynccontextmanager
async def hypercorn_server(app: Any) -> AsyncIterator[int]:
    from hypercorn.config import Config

    config = Config()
    config.loglevel = "WARNING"
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        if sniffio.current_async_library() == "trio":
            from hypercorn.trio import serve

            config.bind = ["127.0.0.1:0"]
            binds = await tg.start(partial(serve, app, config, shutdown_trigger=stop.wait))
            yield int(binds[0].rsplit(":", 1)[1])
        else:
            from hypercorn.asyncio import serve as serve_asyncio

            port = free_port()  # hypercorn's asyncio serve reports no bound address
            config.bind = [f"127.0.0.1:{port}"]
            tg.start_soon(partial(serve_asyncio, app, config, shutdown_trigger=stop.wait))
            await until_listening(port)
            yield port
        stop.set()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until_listening(port: int) -> None:
    with anyio.fail_after(5):
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.02)
            else:
                await stream.aclose()
                return


SERVERS: dict[str, Callable[[Any], Any]] = {
    "embedded": embedded,
    "uvicorn": uvicorn_server,
    "hypercorn": hypercorn_server,
}


async def drive(scenario: str, server: str, anyio_backend: str) -> tuple[list[dict[str, Any]], Recorder]:
    if server == "uvicorn" and anyio_backend != "asyncio":
        pytest.skip("uvicorn runs on asyncio only")
    recorder = Recorder()
    engine = EngineServer(EngineConfig(ping_interval=0.3, ping_timeout=0.2), recorder)
    async with SERVERS[server](engine_asgi_app(engine)) as port:
        with anyio.fail_after(10):
            done = await anyio.run_process(["node", str(SCRIPT), f"http://127.0.0.1:{port}", scenario])
            await recorder.all_closed.wait()
        assert not engine.sessions
    return [json.loads(line) for line in done.stdout.decode().splitlines()], recorder


def echoes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"text": "hello", "binary": None, "event": "message"},
        {"text": None, "binary": [1, 2, 3], "event": "message"},
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["embedded", "uvicorn", "hypercorn"])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_single_transport_echo_then_client_close(
    transport: str, server: str, anyio_backend: str
) -> None:
    events, recorder = await drive(transport, server, anyio_backend)
    assert events[0] == {"event": "open", "transport": transport}
    assert events[1:3] == echoes(events)
    assert events[3] == {"event": "close", "reason": "forced close"}
    assert recorder.closed == [EngineCloseReason.TRANSPORT_CLOSE]


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["embedded", "uvicorn", "hypercorn"])
async def test_upgrade_then_echo(server: str, anyio_backend: str) -> None:
    events, recorder = await drive("upgrade", server, anyio_backend)
    assert events[0] == {"event": "open", "transport": "polling"}
    assert events[1] == {"event": "upgrade", "transport": "websocket"}
    assert events[2:4] == echoes(events)
    assert events[4]["event"] == "close"
    assert recorder.closed == [EngineCloseReason.TRANSPORT_CLOSE]


@pytest.mark.anyio
@pytest.mark.parametrize("server", ["embedded", "uvicorn"])
async def test_server_close(server: str, anyio_backend: str) -> None:
    events, recorder = await drive("server-close", server, anyio_backend)
    assert events[1:3] == echoes(events)
    assert events[3] == {"event": "close", "reason": "transport close"}
    assert recorder.closed == [EngineCloseReason.FORCED_CLOSE]
