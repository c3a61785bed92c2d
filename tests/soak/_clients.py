"""Raw clients for the soak scenarios, on both backends: a Socket.IO WebSocket client (websockets' sans-IO
protocol over an anyio stream, pings answered) and one-shot HTTP requests over raw sockets, so a scenario
controls every byte and every close, abrupt ones included."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import anyio
import msgpack
from anyio.abc import SocketStream
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

WS_PATH = "/socket.io/?EIO=4&transport=websocket"
POLLING_PATH = "/socket.io/?EIO=4&transport=polling"
POLLING_PATH_V3 = "/socket.io/?EIO=3&transport=polling"
GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


class WsClient:
    """Frames in, frames out; ``next_frame`` answers the server's pings (``2``) itself."""

    def __init__(self, stream: SocketStream, protocol: ClientProtocol) -> None:
        self.stream = stream
        self.protocol = protocol
        self.pending: list[Any] = []
        self.sid = ""  # the Socket.IO socket's id, once connected to "/"

    @classmethod
    @asynccontextmanager
    async def opened(cls, port: int, path: str = WS_PATH) -> AsyncIterator[Self]:
        """A client whose handshake got 101 (closed abruptly when the block ends, unless closed before)."""
        protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"), max_size=None)
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            client = cls(stream, protocol)
            protocol.send_request(protocol.connect())
            await client.flush()
            response = await client.next_event()
            assert isinstance(response, Response), response
            assert response.status_code == 101, response
            yield client

    @classmethod
    @asynccontextmanager
    async def connected(cls, port: int) -> AsyncIterator[Self]:
        """A client connected to namespace ``/`` (its socket id in ``sid``)."""
        async with cls.opened(port) as client:
            assert (await client.next_text()).startswith("0{")
            await client.send_text("40")
            reply = await client.next_text()
            assert reply.startswith('40{"sid":'), reply
            client.sid = json.loads(reply[2:])["sid"]
            yield client

    @classmethod
    @asynccontextmanager
    async def connected_msgpack(cls, port: int) -> AsyncIterator[Self]:
        """A client of the msgpack parser connected to namespace ``/`` (its socket id in ``sid``)."""
        async with cls.opened(port) as client:
            assert (await client.next_text()).startswith("0{")
            await client.send_msgpack({"type": 0, "nsp": "/"})
            reply = await client.next_msgpack()
            assert (reply.get("type"), reply.get("nsp")) == (0, "/"), reply
            client.sid = reply["data"]["sid"]
            yield client

    async def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await self.stream.send(data)

    async def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self.flush()

    async def send_msgpack(self, packet: dict[str, Any]) -> None:
        """One Socket.IO packet of the msgpack parser, as a binary frame."""
        self.protocol.send_binary(msgpack.packb(packet))
        await self.flush()

    async def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the socket, past the client protocol (bad frames)."""
        await self.stream.send(data)

    async def next_event(self, within: float = 5.0) -> Any:
        """The next handshake response or frame; raises ``EndOfStream`` at EOF with nothing pending."""
        with anyio.fail_after(within):
            while not self.pending:
                try:
                    data = await self.stream.receive()
                except GONE:
                    self.protocol.receive_eof()
                    self.pending.extend(self.protocol.events_received())
                    if not self.pending:
                        raise anyio.EndOfStream from None
                    break
                self.protocol.receive_data(data)
                self.pending.extend(self.protocol.events_received())
                await self.flush()
            return self.pending.pop(0)

    async def next_frame(self, within: float = 5.0) -> Frame:
        while True:
            frame = await self.next_event(within)
            assert isinstance(frame, Frame), frame
            if frame.opcode is Opcode.TEXT and frame.data == b"2":
                await self.send_text("3")
                continue
            return frame

    async def next_text(self, within: float = 5.0) -> str:
        frame = await self.next_frame(within)
        assert frame.opcode is Opcode.TEXT, frame
        return frame.data.decode()

    async def next_msgpack(self, within: float = 5.0) -> Any:
        """The next binary frame, unpacked (the msgpack parser's packets)."""
        frame = await self.next_frame(within)
        assert frame.opcode is Opcode.BINARY, frame
        return msgpack.unpackb(frame.data, strict_map_key=False)

    async def drain(self, seconds: float) -> list[Frame]:
        """Read frames for up to *seconds* or until the server closes; what arrived."""
        frames: list[Frame] = []
        with anyio.move_on_after(seconds):
            try:
                while True:
                    frames.append(await self.next_frame(seconds))
                    if frames[-1].opcode is Opcode.CLOSE:
                        break
            except (anyio.EndOfStream, InvalidState, *GONE):  # InvalidState: a pong after the close
                pass
        return frames


async def http(port: int, request: bytes, *, within: float = 5.0) -> bytes:
    """Send raw bytes on a new connection; all it gets until the server closes (or *within* seconds)."""
    received = bytearray()
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(request)
        with anyio.move_on_after(within):
            while True:
                try:
                    received += await stream.receive()
                except GONE:
                    break
    return bytes(received)


def request(method: str, target: str, body: bytes = b"", *, headers: str = "") -> bytes:
    """A well-formed HTTP/1.1 request that asks the server to close after answering."""
    head = f"{method} {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{headers}"
    if body or method == "POST":
        head += f"content-length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def status_and_body(answer: bytes) -> tuple[int, bytes]:
    """The first response's status and its body (for a one-response, close-delimited exchange)."""
    if not answer.startswith(b"HTTP/1."):
        return 0, answer
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def polling_open(port: int, path: str = POLLING_PATH) -> str:
    """A new polling session's sid (at *path*: ``EIO=3`` frames the open packet as ``<length>:0{...}``)."""
    status, body = status_and_body(await http(port, request("GET", path)))
    assert status == 200, (status, body)
    if "EIO=3" in path:
        body = body[body.index(b":") + 1 : body.index(b"}") + 1]
    return str(json.loads(body[1:])["sid"])
