"""python-socketio's AsyncClient against the reference server: events, binary, acks both ways, namespaces.

AsyncClient runs on asyncio (aiohttp) only, so these tests use ``asyncio.run``; the server fixture is the one
of ``test_socketio_clients.py`` (JSON and msgpack; python-socketio speaks no Engine.IO v3).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from test_socketio_clients import REFERENCE, ROOT, USE_ORACLE, Server, free_port, wait_for_listening
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


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def backend_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The reference server (JSON) on each anyio backend."""
    argv = [sys.executable, str(REFERENCE), "--host", "127.0.0.1", "--port", str(free_port())]
    proc = subprocess.Popen(
        [*argv, "--backend", str(request.param)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Server(url=wait_for_listening(proc, timeout=15), parser="json", eio3=False)
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


@pytest.mark.skipif(
    USE_ORACLE, reason="python-socketio runs each event in a task of its own: no per-socket order"
)
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_def_and_async_handlers_answer_in_the_order_the_events_were_sent(
    backend_server: Server, transports: list[str]
) -> None:
    # echo is a plain def (run at once when the socket is idle), echo_async an async def that awaits a
    # checkpoint (run in the socket's task): an echo sent behind a busy echo_async must wait for it.
    async def scenario(client: Any) -> None:
        got: list[tuple[str, Any]] = []
        done = asyncio.Event()
        # Over WebSocket a burst of 300, more than the socket's inbox and outbox hold (128), answered whole
        # (issue 18). Over polling twelve: python-engineio's client aborts on a poll answer of more than 16
        # packets (Payload.max_decode_packets), which a server answering a poll with all that is queued sends
        # for a burst -- Node's too.
        count = 300 if transports == ["websocket"] else 12
        expected = [("echo_async" if i % 3 else "echo", i) for i in range(count)]

        def recorder(event: str) -> Callable[..., Awaitable[None]]:
            async def record(n: Any) -> None:
                got.append((event, n))
                if len(got) == len(expected):
                    done.set()

            return record

        client.on("echo", recorder("echo"))
        client.on("echo_async", recorder("echo_async"))
        for event, n in expected:
            await client.emit(event, n)
        await done.wait()
        assert got == expected

    run(backend_server, scenario, transports)
