"""The WebSocket transport over the embedded server's direct path (no ASGI messages on the hot path).

When the scope offers ``sioactor.direct_websocket`` (only the embedded server does), the WebSocket is taken
directly: the server's reader task calls ``DirectTransport.on_message`` with each whole message, which
decodes it and hands the packet to the session; the server's scheduler writes the session's outbox batches
as frames, one non-blocking write per session per wake. Refusals still go out as ASGI messages (they happen
before the handshake). Behaviour is the ASGI transport's (``_websocket.py``), message for message: the probe
exchange, the close codes, ``max_payload``, and the writer's back-pressure (``ws_write_buffer`` bytes queued →
a short-lived task waits for the client to read, until its heartbeat fails or the close's flush times out).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from sioactor._errors import ProtocolError
from sioactor.actors.engineio._session import EngineSession
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import OutboxEntry, decode_packet
from sioactor.runtime._server._direct import DirectOffer, DirectSocket
from sioactor.runtime.engineio._http import Receive, Scope, Send
from sioactor.runtime.engineio._websocket import (
    NORMAL_CLOSE,
    TOO_BIG_CLOSE,
    attach_or_refuse,
    batch_frames,
    open_or_refuse,
    route_websocket,
    too_big,
)

if TYPE_CHECKING:
    from sioactor.runtime.engineio._host import TransportHost

__all__ = ("DirectTransport", "handle_direct_websocket")

logger = logging.getLogger("sioactor.engineio")


async def handle_direct_websocket(
    server: TransportHost, scope: Scope, receive: Receive, send: Send, offer: DirectOffer
) -> None:
    """Serve one WebSocket through the embedded server's direct path; returns once it is taken or refused."""
    route = await route_websocket(server, scope, receive, send)
    if route is None:
        return
    if route.sid is not None:
        await _upgrade(server.lookup_upgrade(route.sid, scope), send, offer)
    else:
        await _open(server, scope, send, offer)


async def _open(server: TransportHost, scope: Scope, send: Send, offer: DirectOffer) -> None:
    session = await open_or_refuse(server, scope, send)
    if session is None:
        return
    transport = DirectTransport(session, upgrading=False)
    headers = server.handshake_headers(session)
    transport.socket = offer.accept(transport, (server.open_packet(session),), headers)
    transport.attach()


async def _upgrade(found: EngineSession | None, send: Send, offer: DirectOffer) -> None:
    session = await attach_or_refuse(found, send)
    if session is None:
        return
    transport = DirectTransport(session, upgrading=True)
    transport.socket = offer.accept(transport)
    session.upgrade_abort = transport.abort_upgrade


class DirectTransport:
    """One direct WebSocket of a session: the reader's handler and the session's ``TransportWriter``."""

    __slots__ = ("_held", "attached", "close_code", "close_reason", "session", "socket", "upgrading")

    def __init__(self, session: EngineSession, *, upgrading: bool) -> None:
        self.session = session
        self.upgrading = upgrading
        # While the session accepts no input: the rest of the read in progress, in order (reading is paused).
        self._held: deque[str | bytes] | None = None
        # Whether the session writes through this socket (direct open, or a completed upgrade).
        self.attached = False
        self.socket: DirectSocket | None = None
        self.close_code = NORMAL_CLOSE
        self.close_reason = ""

    # -- DirectHandler: called by the embedded server's reader task ----------------------------------------

    def on_message(self, data: str | bytes) -> None:
        """Decode one frame and hand it to the session (or run the probe exchange while upgrading).

        While the session accepts no input (its outbox or a socket's inbox is full), the frame is held and
        reading stops: the client's next frames wait in the kernel, and TCP throttles it. The session's
        ``when_accepting`` calls ``flush`` once room is made.
        """
        held = self._held
        if held is not None:
            held.append(data)
        elif self.upgrading:
            self._probe(data)
        elif not self.session.accepts_input():
            self._held = deque((data,))
            if self.socket is not None:
                self.socket.pause_reading()
            self.session.when_accepting(self)
        else:
            self._deliver(data)

    def flush(self) -> None:
        """The session's call once room is made (or it closed): hand it the held frames, then read on."""
        held, session = self._held, self.session
        if held is None:
            return
        while held:
            if session.connected and not session.accepts_input():
                session.when_accepting(self)
                return
            self._deliver(held.popleft())
        self._held = None
        if self.socket is not None:
            self.socket.resume_reading()

    def _deliver(self, data: str | bytes) -> None:
        session = self.session
        if not session.connected:
            return
        if too_big(data, session.config.max_payload):
            self._too_big(data)
            return
        try:
            packet = decode_packet(data, protocol=session.protocol)
        except ProtocolError as exc:
            session.protocol_error(exc.reason)
            return
        session.receive(packet)

    def on_close(self, code: int) -> None:
        """The connection ended: a failed upgrade, or the client went away."""
        if self.attached:
            self.session.close(EngineCloseReason.TRANSPORT_CLOSE)
        elif self.upgrading:
            self.upgrading = False
            self.session.upgrade_failed()

    def _probe(self, data: str | bytes) -> None:
        session = self.session
        try:
            if data == "2probe":
                session.probed()
                self._write(["3probe"])
                return
            if data == "5":
                session.upgraded()
                self.upgrading = False
                self.attach()
                return
            logger.info("engine.io session %s: unexpected frame during upgrade", session.sid)
        except ProtocolError as exc:
            logger.info("engine.io session %s: upgrade refused: %s", session.sid, exc.reason)
        session.upgrade_failed()

    def attach(self) -> None:
        """From now on the session writes its outbox to this socket."""
        self.attached = True
        self.session.attach_writer(self)

    def abort_upgrade(self) -> None:
        """The upgrade failed or timed out: close this WebSocket; the session stays on polling."""
        if self.upgrading:
            self.upgrading = False
            if self.socket is not None:
                self.socket.close(NORMAL_CLOSE)

    def _too_big(self, data: str | bytes) -> None:
        # As Node's ws does: close 1009, and the session ends with a transport error.
        self.close_code, self.close_reason = TOO_BIG_CLOSE, "message too big"
        size = len(data.encode() if isinstance(data, str) else data)
        limit = self.session.config.max_payload
        self.session.transport_error(f"message of {size} bytes exceeds max_payload {limit}")

    def _write(self, frames: list[str | bytes]) -> None:
        if self.socket is not None and frames:
            self.socket.write(frames)

    # -- DirectWriter: called by the server's scheduler ------------------------------------------------------

    def write_now(self, batch: list[OutboxEntry]) -> bool:
        """Frame *batch* and write it at once; False once it held the close packet or the socket closed."""
        frames, more = batch_frames(batch, self.session.protocol)
        self._write(frames)
        socket = self.socket
        return more and not (socket is None or socket.closed)

    @property
    def blocked(self) -> bool:
        """More than ``ws_write_buffer`` bytes wait for the client to read."""
        return self.socket is not None and self.socket.full

    async def drained(self) -> None:
        """Wait until the kernel takes the backlog."""
        if self.socket is not None:
            await self.socket.drained()

    def end(self) -> None:
        """The session is done: close the WebSocket with the code its end called for."""
        if self.socket is not None:
            self.socket.close(self.close_code, self.close_reason)
