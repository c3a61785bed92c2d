"""WebSocket via the embedded server: a raw sans-IO client on both backends, websockets' client on asyncio."""

from __future__ import annotations

import anyio
import pytest
from server_kit import DemoApp, WsClient, raw_exchange, running, upgrade_request
from websockets.frames import Close, Opcode

pytestmark = pytest.mark.anyio


async def test_text_and_binary_messages_echo() -> None:
    async with running(DemoApp()) as port, WsClient.opened(port, "/echo") as (client, response):
        assert response.status_code == 101
        client.protocol.send_text(b"hello")
        client.protocol.send_binary(b"\x00\x01\xff")
        client.protocol.send_text(b"fragmented ", fin=False)
        client.protocol.send_continuation(b"message", fin=True)
        await client.flush()
        frames = [await client.next_frame() for _ in range(3)]
    assert [(f.opcode, f.data) for f in frames] == [
        (Opcode.TEXT, b"hello"),
        (Opcode.BINARY, b"\x00\x01\xff"),
        (Opcode.TEXT, b"fragmented message"),
    ]


async def test_a_burst_of_messages_echoes_in_order() -> None:
    async with running(DemoApp()) as port, WsClient.opened(port, "/echo") as (client, _):
        for i in range(500):
            client.protocol.send_text(str(i).encode())
        await client.flush()
        echoed = [(await client.next_frame()).data for _ in range(500)]
    assert echoed == [str(i).encode() for i in range(500)]


async def test_ping_is_answered_by_the_server() -> None:
    async with running(DemoApp()) as port, WsClient.opened(port, "/echo") as (client, _):
        client.protocol.send_ping(b"are you there")
        await client.flush()
        frame = await client.next_frame()
    assert (frame.opcode, frame.data) == (Opcode.PONG, b"are you there")


async def test_an_oversized_message_is_refused_with_1009() -> None:
    app = DemoApp()
    async with running(app, ws_max_message_size=1000) as port, WsClient.opened(port, "/echo") as (client, _):
        client.protocol.send_binary(b"x" * 1001)
        await client.flush()
        frame = await client.next_frame()
        await client.wait_closed()
    assert frame.opcode is Opcode.CLOSE
    assert Close.parse(frame.data).code == 1009
    assert app.seen.ws_messages[-1] == {"type": "websocket.disconnect", "code": 1009}


async def test_client_close_reaches_the_app_and_is_answered() -> None:
    app = DemoApp()
    async with running(app) as port, WsClient.opened(port, "/echo") as (client, _):
        client.protocol.send_close(1000, "bye")
        await client.flush()
        frame = await client.next_frame()
        await client.wait_closed()
    assert Close.parse(frame.data).code == 1000
    assert app.seen.ws_messages == [{"type": "websocket.disconnect", "code": 1000}]


async def test_server_close_sends_the_apps_code_and_reason() -> None:
    async with running(DemoApp()) as port, WsClient.opened(port, "/echo") as (client, _):
        client.protocol.send_text(b"close please")
        await client.flush()
        frame = await client.next_frame()
        await client.wait_closed()
    assert Close.parse(frame.data) == Close(4000, "asked to")


async def test_a_client_dropping_tcp_is_a_1006_disconnect() -> None:
    app = DemoApp()
    async with running(app) as port:
        async with WsClient.opened(port, "/echo") as (client, _):
            client.protocol.send_text(b"one")
            await client.flush()
            await client.next_frame()
        with anyio.fail_after(2):
            await app.seen.ws_closed.wait()
    assert app.seen.ws_messages[-1] == {"type": "websocket.disconnect", "code": 1006}


async def test_close_before_accept_is_a_403() -> None:
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, upgrade_request("/reject"))
    assert answer.startswith(b"HTTP/1.1 403 ")


async def test_accept_sends_the_chosen_subprotocol_and_headers() -> None:
    async with (
        running(DemoApp()) as port,
        WsClient.opened(port, "/subprotocol", subprotocols=["one", "two"]) as (client, response),
    ):
        frame = await client.next_frame()
    assert response.headers["Sec-WebSocket-Protocol"] == "two"
    assert response.headers["X-Extra"] == "yes"
    assert frame.data == b"one,two"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_websockets_asyncio_client_echoes(anyio_backend: str) -> None:
    from websockets.asyncio.client import connect

    async with running(DemoApp()) as port, connect(f"ws://127.0.0.1:{port}/echo") as ws:
        with anyio.fail_after(5):
            await ws.send("text")
            assert await ws.recv() == "text"
            await ws.send(b"\x01\x02")
            assert await ws.recv() == b"\x01\x02"
