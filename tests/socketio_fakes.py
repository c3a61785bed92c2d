"""A fake ``EngineConnection`` (our own internal interface) and a harness around a running ``SocketIo``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio

from sioactor.actors import Closed, InternalChannelFull
from sioactor.actors.engineio._api import Outgoing, RequestInfo, TransportName
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.socketio import SocketIo


class FakeConn:
    """Records what the Socket.IO layer sends; refuses like a real outbox when full or closed."""

    def __init__(self, sid: str = "e" * 20, *, protocol: Literal[3, 4] = 4, capacity: int = 128) -> None:
        self.sid = sid
        self.protocol = protocol
        self.transport: TransportName = "websocket"
        self.request = RequestInfo(path="/socket.io/", query={"EIO": str(protocol)}, headers=[("x-a", "1")])
        self.capacity = capacity
        self.sent: list[Outgoing] = []
        self.close_reason: EngineCloseReason | None = None
        self.input_holds = 0  # a real session stops reading the client while this is above 0

    @property
    def connected(self) -> bool:
        return self.close_reason is None

    def send(self, message: Outgoing) -> None:
        if self.close_reason is not None:
            raise Closed(f"engine:{self.sid}", message)
        if len(self.sent) >= self.capacity:
            raise InternalChannelFull(f"engine:{self.sid}", message)
        self.sent.append(message)

    def send_volatile(self, message: Outgoing) -> bool:
        if self.close_reason is not None or len(self.sent) >= self.capacity:
            return False
        self.sent.append(message)
        return True

    def close(self, reason: EngineCloseReason = EngineCloseReason.FORCED_CLOSE) -> None:
        if self.close_reason is None:
            self.close_reason = reason

    def hold_input(self) -> None:
        self.input_holds += 1

    def release_input(self) -> None:
        self.input_holds -= 1

    async def until_room(self) -> None:
        pass

    def take(self) -> list[Outgoing]:
        """What was sent since the last call, text in wire form (with Engine.IO's ``4`` MESSAGE prefix)."""
        sent, self.sent = self.sent, []
        return [wire(message) for message in sent]


def wire(message: Outgoing) -> Outgoing:
    """The Engine.IO framing of a text message (``4`` prefix), as PROTOCOL-NOTES writes frames."""
    if isinstance(message, str):
        return "4" + message
    if isinstance(message, tuple):
        return tuple(wire(part) for part in message)
    return message


class Harness:
    """Opens fake sessions on *io*'s listener and settles the event loop between steps."""

    def __init__(self, io: SocketIo) -> None:
        self.io = io

    async def open(self, sid: str = "e" * 20, **kwargs: Any) -> FakeConn:
        conn = FakeConn(sid, **kwargs)
        self.io._listener.on_open(conn)
        await self.settle()
        return conn

    async def feed(self, conn: FakeConn, *messages: str | bytes) -> None:
        for message in messages:
            # Text is given in wire form, ``4`` (Engine.IO MESSAGE) first; the listener gets the payload.
            payload = message[1:] if isinstance(message, str) else message
            self.io._listener.on_message(conn, payload)
        await self.settle()

    async def drop(
        self, conn: FakeConn, reason: EngineCloseReason = EngineCloseReason.TRANSPORT_CLOSE
    ) -> None:
        conn.close(reason)
        self.io._listener.on_close(conn, reason)
        await self.settle()

    async def settle(self) -> None:
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()


@asynccontextmanager
async def running(io: SocketIo) -> AsyncIterator[Harness]:
    """Run *io* for the block; close it after."""
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        try:
            yield Harness(io)
        finally:
            with anyio.fail_after(5):
                await io.close()
