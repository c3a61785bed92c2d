"""The direct WebSocket extension (``sioactor.direct_websocket``): an app takes the connection without ASGI
messages; frames are written without awaiting, in order, large ones too, and the close handshake completes.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from server_kit import WsClient, running
from websockets.frames import Close, Frame, Opcode

from sioactor.runtime._server._direct import DIRECT_WEBSOCKET, DirectSocket
from sioactor.runtime._server._ws_encode import encode_frames, frame_header

pytestmark = pytest.mark.anyio


class DirectEcho:
    """Echoes each message directly; ``"close"`` makes the server close with 4000."""

    def __init__(self, first: tuple[str | bytes, ...] = ()) -> None:
        self.first = first
        self.offer: Any = None
        self.socket: DirectSocket | None = None
        self.closed: list[int] = []
        self.gone = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        assert (await receive())["type"] == "websocket.connect"
        self.offer = scope["extensions"][DIRECT_WEBSOCKET]
        self.socket = self.offer.accept(self, self.first)

    def on_message(self, data: str | bytes) -> None:
        assert self.socket is not None
        if data == "close":
            self.socket.close(4000, "bye")
        else:
            self.socket.write([data, data])

    def on_close(self, code: int) -> None:
        self.closed.append(code)
        self.gone.set()


async def send_and_read(client: WsClient, text: bytes, frames: int) -> list[Frame]:
    """Send *text* and read the next *frames* frames (an echo of one message is two)."""
    client.protocol.send_text(text)
    await client.flush()
    with anyio.fail_after(5):
        return [await client.next_frame() for _ in range(frames)]


def test_frame_headers_follow_rfc_6455_length_forms() -> None:
    assert frame_header(0x81, 5) == b"\x81\x05"
    assert frame_header(0x82, 126) == b"\x82\x7e\x00\x7e"
    assert frame_header(0x81, 70_000) == b"\x81\x7f" + (70_000).to_bytes(8, "big")
    assert encode_frames(["é", b"\x00"]) == b"\x81\x02\xc3\xa9\x82\x01\x00"


async def test_direct_messages_echo_in_order_including_large_ones() -> None:
    app = DirectEcho()
    big = b"z" * 300_000
    async with running(app) as port, WsClient.opened(port, "/") as (client, response):
        assert response.status_code == 101
        for i in range(200):
            client.protocol.send_text(str(i).encode())
        client.protocol.send_binary(big)
        await client.flush()
        with anyio.fail_after(10):
            frames = [await client.next_frame() for _ in range(402)]
    texts = [f.data for f in frames[:400]]
    assert texts == [str(i // 2).encode() for i in range(400)]
    assert [(f.opcode, f.data) for f in frames[400:]] == [(Opcode.BINARY, big)] * 2


async def test_plain_frames_need_no_websockets_protocol_until_a_control_frame_comes() -> None:
    app = DirectEcho()
    async with running(app) as port, WsClient.opened(port, "/") as (client, _):
        echoed = await send_and_read(client, b"plain", 2)
        assert [f.data for f in echoed] == [b"plain", b"plain"]
        assert app.offer._protocol is None  # an idle connection keeps none (~1 KB)
        client.protocol.send_ping(b"still there?")
        client.protocol.send_text(b"after")
        await client.flush()
        with anyio.fail_after(5):
            frames = [await client.next_frame() for _ in range(3)]
        # websockets answered the ping (its pong follows what the handler wrote meanwhile)
        assert sorted((f.opcode.value, f.data) for f in frames) == [
            (Opcode.TEXT.value, b"after"),
            (Opcode.TEXT.value, b"after"),
            (Opcode.PONG.value, b"still there?"),
        ]
        assert app.offer._protocol is not None


async def test_messages_given_to_accept_are_the_first_frames_after_the_101() -> None:
    app = DirectEcho(first=("hello", b"\x01\x02"))
    async with running(app) as port, WsClient.opened(port, "/") as (client, response):
        assert response.status_code == 101
        client.protocol.send_text(b"later")
        await client.flush()
        with anyio.fail_after(5):
            frames = [await client.next_frame() for _ in range(4)]
    assert [(f.opcode, f.data) for f in frames] == [
        (Opcode.TEXT, b"hello"),
        (Opcode.BINARY, b"\x01\x02"),
        (Opcode.TEXT, b"later"),
        (Opcode.TEXT, b"later"),
    ]


async def test_direct_server_close_completes_the_handshake() -> None:
    app = DirectEcho()
    async with running(app) as port, WsClient.opened(port, "/") as (client, _):
        client.protocol.send_text(b"close")
        await client.flush()
        frame = await client.next_frame()
        await client.flush()  # the client's half of the close handshake
        with anyio.fail_after(5):
            await app.gone.wait()
            await client.wait_closed()
    assert Close.parse(frame.data) == Close(4000, "bye")
    assert app.closed == [4000]
    assert app.socket is not None
    assert app.socket.closed


async def test_direct_client_close_reaches_the_handler_once() -> None:
    app = DirectEcho()
    async with running(app) as port, WsClient.opened(port, "/") as (client, _):
        client.protocol.send_close(1000)
        await client.flush()
        with anyio.fail_after(5):
            await app.gone.wait()
            await client.wait_closed()
    assert app.closed == [1000]


async def test_on_trio_the_servers_reactor_reads_a_direct_websocket(anyio_backend_name: str) -> None:
    if anyio_backend_name != "trio":
        pytest.skip("asyncio reads a direct WebSocket in its protocol's callback instead")
    app = DirectEcho()
    async with running(app) as port, WsClient.opened(port, "/") as (client, _):
        frames = await send_and_read(client, b"via the reactor", 2)
        assert app.offer._stream._watch is not None  # the connection's reading was taken over
    assert [f.data for f in frames] == [b"via the reactor"] * 2
