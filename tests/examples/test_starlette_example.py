"""sioactor with Starlette under uvicorn, both ways round: wrapped (``io.asgi(app)``) and mounted
(``io.lifespan()``); HTTP routes, the wrapped app's lifespan and Socket.IO on one port, real clients."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import socketio
import uvicorn

from sioactor import SocketIo

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

_spec = importlib.util.spec_from_file_location(
    "starlette_example", Path(__file__).resolve().parents[2] / "examples" / "starlette_app.py"
)
assert _spec is not None
assert _spec.loader is not None
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # uvicorn and python-socketio's client run on asyncio only


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("build", [example.wrapped_app, example.mounted_app], ids=["wrapped", "mounted"])
async def test_http_and_socketio_on_one_port(build: Callable[[SocketIo], Any]) -> None:
    io = example.build_io()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(build(io), host="127.0.0.1", port=port, log_level="warning"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await anyio.sleep(0.02)
        client = socketio.AsyncClient(reconnection=False)
        try:
            with anyio.fail_after(10):
                await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
                assert await client.call("greet", "ada") == "hello ada"
                async with httpx.AsyncClient() as http:
                    health = (await http.get(f"http://127.0.0.1:{port}/health")).json()
            assert health["ok"] is True
            assert health["sockets"] == 1
            if build is example.wrapped_app:
                assert health["started"] is True  # the wrapped app's own lifespan ran
        finally:
            await client.disconnect()
            server.should_exit = True
