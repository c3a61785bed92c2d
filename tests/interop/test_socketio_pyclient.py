"""python-socketio's AsyncClient against the reference server: events, binary, acks both ways, namespaces.

AsyncClient runs on asyncio (aiohttp) only, so these tests use ``asyncio.run``; the server fixture is the one
of ``test_socketio_clients.py`` (JSON and msgpack; python-socketio speaks no Engine.IO v3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from test_socketio_clients import Server
from test_socketio_clients import server as server  # the fixture

pytestmark = pytest.mark.interop


def run(target: Server, scenario: Callable[[Any], Awaitable[None]], transports: list[str]) -> None:
    if target.eio3:
        pytest.skip("python-socketio's client speaks no Engine.IO v3")
    import socketio

    async def main() -> None:
        client = socketio.AsyncClient(serializer="msgpack" if target.parser == "msgpack" else "default")
        try:
            async with asyncio.timeout(10):
                await client.connect(target.url, transports=transports, namespaces=["/", "/custom"])
                await scenario(client)
        finally:
            await client.disconnect()
            await client.shutdown()

    asyncio.run(main())


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_echo_binary_and_ack(server: Server, transports: list[str]) -> None:
    async def scenario(client: Any) -> None:
        got: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

        async def on_echo(*args: Any) -> None:
            await got.put(args)

        client.on("echo", on_echo)
        payload = {"bin": b"\x01\x02", "nested": [{"more": b"\x03"}], "n": 1}
        await client.emit("echo", (payload, "text"))
        assert await got.get() == (payload, "text")
        assert await client.call("echo_ack", (1, [2], b"\xff")) == (1, [2], b"\xff")

    run(server, scenario, transports)


def test_server_asks_the_client(server: Server) -> None:
    async def scenario(client: Any) -> None:
        async def question(*args: Any) -> tuple[Any, ...]:
            return (*args, "answer")

        client.on("question", question)
        assert await client.call("ask_client", ("question", 1, {"a": "b"})) == (1, {"a": "b"}, "answer")

    run(server, scenario, ["websocket"])


def test_custom_namespace(server: Server) -> None:
    async def scenario(client: Any) -> None:
        back: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

        async def on_back(*args: Any) -> None:
            await back.put(args)

        client.on("message-back", on_back, namespace="/custom")
        await client.emit("message", (1, "2"), namespace="/custom")
        assert await back.get() == (1, "2")
        assert await client.call("message-with-ack", ("x", b"\x09"), namespace="/custom") == ("x", b"\x09")

    run(server, scenario, ["websocket"])
