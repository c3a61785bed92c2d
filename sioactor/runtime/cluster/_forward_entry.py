"""The entry's half of a forwarded request: the node that holds the client's connection relays it to the
session's owner and back (see ``_forward.py`` for the whole mechanism).

An HTTP request (a long-poll GET, a POST) is answered with the owner's response, message for message; the
client leaving first is told to the owner (its poll ends as a local one would). A WebSocket stays on this
node: the owner's accept, frames and close are sent to the client, and the client's frames and disconnect
go to the owner, for as long as the connection lives.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor._errors import InternalChannelFull, PayloadTooLarge, RedisUnavailable
from sioactor.protocol.cluster._forwarding import AsgiMessage, asgi_subset
from sioactor.runtime.cluster._forward_flow import CreditWindow, TakenFrames
from sioactor.runtime.engineio._http import EngineError, Receive, Send, read_body, respond

__all__ = ("Exchange", "relay_http", "relay_websocket", "request_body")

logger = logging.getLogger("sioactor.cluster")

RELAY_QUEUE = 1024
"""Messages queued per exchange and direction (the owner's for the client, or the client's for the owner);
beyond, the connection is cut off."""

# The close code of a relayed WebSocket whose owner is gone or whose queue overflowed ("internal error").
_RELAY_FAILED = 1011

ToOwner = Callable[[AsgiMessage], None]
"""Publishes one of the client's ASGI messages to the owner; raises ``RedisUnavailable`` or
``InternalChannelFull`` when it cannot."""


class Exchange:
    """One request this node forwarded: its id, its owner once known, and the owner's messages."""

    __slots__ = ("_send", "finished", "id", "inbound", "overflowed", "owner", "taken", "window")

    def __init__(self, exchange_id: int) -> None:
        self.id = exchange_id
        self.owner: str | None = None
        self.taken = anyio.Event()
        self.finished = False
        self.overflowed = False
        self.window = CreditWindow()  # frames the client may send the owner before it takes them
        self._send: MemoryObjectSendStream[AsgiMessage]
        self.inbound: MemoryObjectReceiveStream[AsgiMessage]
        self._send, self.inbound = anyio.create_memory_object_stream[AsgiMessage](RELAY_QUEUE)

    def take(self, owner: str) -> None:
        """The owner *owner* answered; the first answer counts."""
        if self.owner is None:
            self.owner = owner
            self.taken.set()

    def deliver(self, message: AsgiMessage) -> None:
        """Queue one of the owner's messages; never waits (a full queue ends the exchange, logged)."""
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            self.overflowed = True
            logger.warning(
                "forwarded exchange %d: %d messages unsent to the client; cut off", self.id, RELAY_QUEUE
            )
            self._send.close()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def finish(self) -> None:
        """The owner's handler returned: what is queued is the rest."""
        self.finished = True
        self._send.close()

    def close(self) -> None:
        """This node is done with the exchange."""
        self._send.close()
        self.inbound.close()


async def request_body(receive: Receive, limit: int) -> bytes | None:
    """The request's body, or ``None`` when the client went away. A body above *limit* is not read further:
    the owner gets *limit* + 1 bytes, refuses them as it would its own oversize body (413), and closes the
    session."""
    try:
        return await read_body(receive, limit, None)
    except PayloadTooLarge:
        return bytes(limit + 1)


async def relay_http(
    exchange: Exchange, receive: Receive, send: Send, to_owner: ToOwner, bound: float
) -> None:
    """Send the client the owner's response; tell the owner if the client leaves first. When the owner
    finishes without answering, or *bound* seconds pass first (the owner gone mid-request), answer
    Engine.IO's bad-request error (the client reconnects)."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(_watch_disconnect, receive, to_owner, tg.cancel_scope.cancel)
        started = answered = False
        with anyio.move_on_after(bound) as waiting:
            async for message in exchange.inbound:
                started = True
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    answered = True
                    break
        if not answered:
            if waiting.cancelled_caught:
                logger.info(
                    "forwarded exchange %d: no answer from the owner within %.0f s", exchange.id, bound
                )
            _tell(to_owner, {"type": "http.disconnect"})
            if not started:
                await _answer_error(send)
        tg.cancel_scope.cancel()


async def _answer_error(send: Send) -> None:
    # The owner returned without answering (its session ended under the request): the client reconnects.
    error = EngineError.BAD_REQUEST
    body = b'{"code":%d,"message":"%s"}' % (int(error), error.message.encode())
    await respond(send, 400, body, b"application/json")


async def _watch_disconnect(receive: Receive, to_owner: ToOwner, stop: Callable[[], Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    _tell(to_owner, {"type": "http.disconnect"})
    stop()


async def relay_websocket(
    exchange: Exchange,
    receive: Receive,
    send: Send,
    to_owner: ToOwner,
    credit: Callable[[int], object],
    idle: float,
) -> None:
    """Relay a WebSocket between this node's client and the owner's engine until either side closes, or
    nothing comes from the owner for *idle* seconds (its heartbeat alone comes more often: it is gone).
    *credit* returns credit to the owner for the frames sent to the client."""
    taken = TakenFrames(credit)
    async with anyio.create_task_group() as tg:
        closed = False
        try:
            while True:
                with anyio.move_on_after(idle) as waiting:
                    message = await exchange.inbound.receive()
                if waiting.cancelled_caught:
                    logger.info("forwarded exchange %d: the owner went silent", exchange.id)
                    _tell(to_owner, {"type": "websocket.disconnect", "code": _RELAY_FAILED})
                    break
                kind = message["type"]
                await send(message)
                if kind == "websocket.send":
                    taken.took()
                elif kind == "websocket.accept":
                    tg.start_soon(_client_to_owner, exchange, receive, to_owner, tg.cancel_scope.cancel)
                elif kind == "websocket.close":
                    closed = True
                    break
        except anyio.EndOfStream:
            if exchange.overflowed:  # the owner sent beyond its credit: end both sides
                _tell(to_owner, {"type": "websocket.disconnect", "code": _RELAY_FAILED})
        except OSError:
            closed = True  # the client is gone; the reader tells the owner
        if not closed:
            await _close(send)
        tg.cancel_scope.cancel()


async def _client_to_owner(
    exchange: Exchange, receive: Receive, to_owner: ToOwner, stop: Callable[[], Any]
) -> None:
    # Reads the client only while the owner has room: without credit, the client is pushed back by TCP.
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            await exchange.window.spend()
            if not _tell(to_owner, asgi_subset(message)):
                stop()
                return
        elif kind == "websocket.disconnect":
            _tell(to_owner, asgi_subset(message))
            stop()
            return


def _tell(to_owner: ToOwner, message: AsgiMessage) -> bool:
    try:
        to_owner(message)
    except (RedisUnavailable, InternalChannelFull) as exc:
        logger.info("forwarded request: cannot reach the owner (%s)", exc)
        return False
    return True


async def _close(send: Send) -> None:
    with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
        await send({"type": "websocket.close", "code": _RELAY_FAILED})
