"""The WebSocket transport: direct sessions, the polling → WebSocket upgrade, the reader and the writer.

The reader runs in the ASGI connection's task and hands packets to the session; a writer task started by it
runs ``EngineSession.pump`` through a ``_WsWriter`` (ASGI ``send`` must be awaited, so this path cannot be
written by the server's scheduler as the direct one is; the heartbeat is still the scheduler's). Neither owns
session state. The ASGI task returns only once the session is done with the writer (or after
``flush_timeout``, when it cuts the writer off), so ``send`` is never called after the application returned.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from sioactor._errors import ProtocolError
from sioactor.actors.engineio._session import PACKETS_PER_STEP, EngineSession
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import (
    EngineProtocol,
    OutboxEntry,
    Packet,
    PacketType,
    decode_packet,
    encode_ws_frames,
)
from sioactor.runtime.engineio._http import NOT_RUNNING, EngineError, Receive, Scope, Send, query_of

if TYPE_CHECKING:
    from sioactor.runtime.engineio._host import TransportHost

__all__ = (
    "NORMAL_CLOSE",
    "TOO_BIG_CLOSE",
    "WebSocketRoute",
    "batch_frames",
    "handle_websocket",
    "refuse",
    "route_websocket",
    "too_big",
)

logger = logging.getLogger("sioactor.engineio")

# Closing codes: 1000 normal, 1008 policy violation (refused before accept), 1009 message too big.
NORMAL_CLOSE = 1000
_REFUSED = 1008
TOO_BIG_CLOSE = 1009


@dataclass(frozen=True, slots=True)
class WebSocketRoute:
    """Where an admitted WebSocket goes: the upgrade of session *sid*, or a new session (``sid`` None)."""

    sid: str | None


async def route_websocket(
    server: TransportHost, scope: Scope, receive: Receive, send: Send
) -> WebSocketRoute | None:
    """Take the connect event and check the transport; ``None`` when the connection ended here (no connect
    event, or refused). Shared by the ASGI and the direct transports."""
    if (await receive())["type"] != "websocket.connect":
        return None
    query = query_of(scope)
    if query.get("transport") != "websocket" or not server.transport_known("websocket"):
        server.refused(scope, EngineError.UNKNOWN_TRANSPORT, transport=query.get("transport"))
        await refuse(send, "unknown transport")
        return None
    sid = query.get("sid")
    locator = server.locator
    if sid is not None and locator is not None and server.lookup(sid) is None:
        forwarded = await locator.forward(sid, scope, receive, send)
        if forwarded:
            return None
    return WebSocketRoute(sid)


async def handle_websocket(server: TransportHost, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one WebSocket connection under the server's path."""
    route = await route_websocket(server, scope, receive, send)
    if route is None:
        return
    if route.sid is not None:
        await _upgrade(server, server.lookup_upgrade(route.sid, scope), receive, send)
    else:
        await _direct(server, scope, receive, send)


async def refuse(send: Send, why: str) -> None:
    logger.info("engine.io websocket refused: %s", why)
    await send({"type": "websocket.close", "code": _REFUSED})


async def open_or_refuse(server: TransportHost, scope: Scope, send: Send) -> EngineSession | None:
    """The checks of a WebSocket handshake without ``sid`` (protocol version, ``allow_request``), then the new
    session; a refusal is sent and ``None`` returned. Shared by the ASGI and the direct transports."""
    query = query_of(scope)
    protocol = server.protocol_of(query)
    if protocol is None:
        server.refused(scope, EngineError.UNSUPPORTED_PROTOCOL_VERSION, protocol=query.get("EIO"))
        await refuse(send, f"unsupported protocol version {query.get('EIO')!r}")
        return None
    request = server.request_info(scope)
    refusal = await server.allowed(request)
    if refusal is not None:
        server.refused(scope, EngineError.FORBIDDEN, refusal, message=refusal)
        await refuse(send, "forbidden by allow_request")
        return None
    if not server.running:
        server.refused(scope, EngineError.BAD_REQUEST, NOT_RUNNING)
        await refuse(send, NOT_RUNNING)
        return None
    return await server.open_session(protocol, "websocket", request)


def attached(session: EngineSession) -> bool:
    """Attach an upgrading WebSocket to *session*; False when the session cannot take one now (it is
    closing, already upgraded, or another WebSocket is upgrading it). Shared by both transports.

    Node's engine.io then completes that WebSocket's handshake and closes it at once: a refused handshake
    (an HTTP status) would make the ``ws`` client report an error, which the official suites count as a
    failure. Both transports do the same; the session and its first WebSocket go on untouched.
    """
    try:
        session.websocket_attached()
    except ProtocolError as exc:
        logger.info(
            "engine.io session %s: another WebSocket accepted and closed: %s", session.sid, exc.reason
        )
        return False
    return True


async def _direct(server: TransportHost, scope: Scope, receive: Receive, send: Send) -> None:
    session = await open_or_refuse(server, scope, send)
    if session is None:
        return
    try:
        await send({"type": "websocket.accept", "headers": server.handshake_headers(session)})
        await send({"type": "websocket.send", "text": server.open_packet(session)})
    except OSError:
        session.close(EngineCloseReason.TRANSPORT_CLOSE)
        return
    await _serve(session, receive, send)


async def _upgrade(
    server: TransportHost, session: EngineSession | None, receive: Receive, send: Send
) -> None:
    if session is None:
        await refuse(send, "unknown sid")
        return
    if not attached(session):
        await send({"type": "websocket.accept"})
        await _close(send, NORMAL_CLOSE)
        return
    await send({"type": "websocket.accept"})
    upgraded = False
    with anyio.CancelScope() as scope:
        session.upgrade_abort = scope.cancel
        upgraded = await _probe(session, receive, send)
    if not upgraded:
        session.upgrade_failed()
        await _close(send, NORMAL_CLOSE)
        return
    await _serve(session, receive, send)


async def _probe(session: EngineSession, receive: Receive, send: Send) -> bool:
    """Run the probe exchange (``2probe`` → ``3probe``, then ``5``); True once the upgrade completed."""
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return False
        text = message.get("text")
        try:
            if text == "2probe":
                session.probed()
                await send({"type": "websocket.send", "text": "3probe"})
            elif text == "5":
                session.upgraded()
                return True
            else:
                logger.info("engine.io session %s: unexpected frame during upgrade", session.sid)
                return False
        except ProtocolError as exc:
            logger.info("engine.io session %s: upgrade refused: %s", session.sid, exc.reason)
            return False


class _WsWriter:
    """The session's way to write to this WebSocket (a ``TransportWriter``); used by the session's task."""

    __slots__ = ("_gone", "_scope", "_send", "close_code", "close_reason", "done", "session")

    def __init__(self, session: EngineSession, send: Send) -> None:
        self.session = session
        self._send = send
        self._gone = False
        self._scope: anyio.CancelScope | None = None
        self.close_code = NORMAL_CLOSE
        self.close_reason = ""
        self.done = anyio.Event()

    async def write_batch(self, batch: list[OutboxEntry]) -> bool:
        if self._gone:
            return False
        written = False
        try:
            with anyio.CancelScope() as self._scope:
                written = await _write_batch(self.session, self._send, batch)
        except OSError:
            self.session.close(EngineCloseReason.TRANSPORT_ERROR)
        finally:
            self._scope = None
        return written

    async def end(self) -> None:
        try:
            if not self._gone:
                await _close(self._send, self.close_code, self.close_reason)
        finally:
            self.done.set()

    def abandon(self) -> None:
        """The ASGI task is returning: no more sends, and stop one in progress."""
        self._gone = True
        if self._scope is not None:
            self._scope.cancel()


async def _serve(session: EngineSession, receive: Receive, send: Send) -> None:
    writer = _WsWriter(session, send)
    async with anyio.create_task_group() as tg:
        tg.start_soon(session.pump, writer)
        try:
            await _read_loop(writer, receive)
            with anyio.move_on_after(session.config.flush_timeout + 1):
                await writer.done.wait()
        finally:
            writer.abandon()
            tg.cancel_scope.cancel()


async def _read_loop(writer: _WsWriter, receive: Receive) -> None:
    session = writer.session
    budget = PACKETS_PER_STEP
    while session.connected:
        budget -= 1
        if not budget:
            # A server's receive() need not yield while messages are queued: let the other clients run.
            budget = PACKETS_PER_STEP
            await anyio.lowlevel.checkpoint()
        message = await receive()
        if message["type"] != "websocket.receive":
            session.close(EngineCloseReason.TRANSPORT_CLOSE)
            return
        frame = message.get("text")
        if frame is None:
            frame = message.get("bytes") or b""
        if too_big(frame, session.config.max_payload):
            # As Node's ws does: close 1009, and the session ends with a transport error.
            writer.close_code, writer.close_reason = TOO_BIG_CLOSE, "message too big"
            size = len(frame.encode() if isinstance(frame, str) else frame)
            limit = session.config.max_payload
            session.transport_error(f"message of {size} bytes exceeds max_payload {limit}")
            return
        try:
            packet = decode_packet(frame, protocol=session.protocol)
        except ProtocolError as exc:
            session.protocol_error(exc.reason)
            return
        if not session.accepts_input():
            # Back-pressure: no receive() meanwhile, so the server stops reading the client.
            await session.until_accepting()
        if not session.connected:
            return  # closed while this waited (here or in receive()): as Node, what follows is not delivered
        session.receive(packet)


def too_big(frame: str | bytes, limit: int) -> bool:
    # Counted in UTF-8 bytes, as the wire carries it; a text frame needs encoding only when it might exceed.
    if isinstance(frame, bytes) or len(frame) * 4 <= limit:
        return len(frame) > limit
    return len(frame.encode()) > limit


def batch_frames(batch: list[OutboxEntry], protocol: EngineProtocol) -> tuple[list[str | bytes], bool]:
    """The WebSocket frames for *batch* (noops skipped), and False when it ended with the close packet."""
    frames: list[str | bytes] = []
    for entry in batch:
        if isinstance(entry, str):
            frames.append("4" + entry)
            continue
        if isinstance(entry, Packet):
            if entry.type is PacketType.NOOP:
                continue
            if entry.type is PacketType.CLOSE:
                return frames, False
        frames.extend(encode_ws_frames(entry, protocol=protocol))
    return frames, True


async def _write_batch(session: EngineSession, send: Send, batch: list[OutboxEntry]) -> bool:
    """Send *batch*; False once it held the session's close packet."""
    frames, more = batch_frames(batch, session.protocol)
    for frame in frames:
        if isinstance(frame, str):
            await send({"type": "websocket.send", "text": frame})
        else:
            await send({"type": "websocket.send", "bytes": frame})
    return more


async def _close(send: Send, code: int, reason: str = "") -> None:
    # The connection may already be gone (or closed by the server): then there is nothing left to tell.
    with contextlib.suppress(OSError, RuntimeError):
        await send({"type": "websocket.close", "code": code, "reason": reason})
