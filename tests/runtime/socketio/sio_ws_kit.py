"""A raw Socket.IO WebSocket client for tests on both backends: frames as text, pings answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from raw_ws_client import RawWsClient
from websockets.frames import Close, Frame, Opcode


class Client(RawWsClient):
    async def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self.flush()

    async def next_frame(self) -> Frame:
        """The next frame other than a ping (``2``, answered here)."""
        while True:
            frame = await self.next_event()
            assert isinstance(frame, Frame), frame
            if frame.opcode is not Opcode.TEXT or frame.data != b"2":
                return frame
            await self.send_text("3")

    async def next_text(self) -> str:
        frame = await self.next_frame()
        assert frame.opcode is Opcode.TEXT, frame
        return frame.data.decode()

    async def next_close(self) -> Close:
        frame = await self.next_frame()
        assert frame.opcode is Opcode.CLOSE, frame
        return Close.parse(frame.data)


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[Client]:
    """A client connected to ``/`` over WebSocket."""
    async with Client.opened(port, "/socket.io/?EIO=4&transport=websocket") as (client, response):
        assert response.status_code == 101
        assert (await client.next_text()).startswith("0{")
        await client.send_text("40")
        assert (await client.next_text()).startswith('40{"sid":')
        yield client
