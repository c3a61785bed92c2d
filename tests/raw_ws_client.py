"""A minimal WebSocket client for tests on both anyio backends: websockets' sans-IO client protocol over
an anyio TCP stream (the `websockets` asyncio client does not run on trio). Frames in, frames out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import anyio
from anyio.abc import SocketStream
from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.uri import parse_uri


class RawWsClient:
    """The protocol plumbing; the test kits add their own ``connect`` and conveniences."""

    def __init__(self, stream: SocketStream, protocol: ClientProtocol) -> None:
        self.stream = stream
        self.protocol = protocol
        self.pending: list[Any] = []

    @classmethod
    @asynccontextmanager
    async def opened(cls, port: int, path: str, **options: Any) -> AsyncIterator[tuple[Self, Response]]:
        """A client that sent its handshake to ``127.0.0.1:port`` *path*, with the server's response."""
        protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"), max_size=None, **options)
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            client = cls(stream, protocol)
            protocol.send_request(protocol.connect())
            await client.flush()
            response = await client.next_event()
            assert isinstance(response, Response)
            yield client, response

    async def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await self.stream.send(data)

    async def next_event(self) -> Any:
        """The next handshake response or frame (within 5 s); raises at EOF with nothing pending."""
        with anyio.fail_after(5):
            while not self.pending:
                try:
                    data = await self.stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    self.protocol.receive_eof()
                    self.pending.extend(self.protocol.events_received())
                    if not self.pending:
                        raise
                    break
                self.protocol.receive_data(data)
                self.pending.extend(self.protocol.events_received())
                await self.flush()
            return self.pending.pop(0)
