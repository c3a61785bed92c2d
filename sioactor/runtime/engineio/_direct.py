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
from sioactor.actors.engineio._session import PACKETS_PER_STEP, EngineSession
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import OutboxEntry, Uncompressed, decode_packet
from sioactor.runtime._server._direct import DirectOffer, DirectSocket
from sioactor.runtime.engineio._http import Receive, Scope, Send
from sioactor.runtime.engineio._websocket import (
    NORMAL_CLOSE,
    TOO_BIG_CLOSE,
    attached,
    batch_frames,
    open_or_refuse,
    refuse,
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
        await _upgrade(server, server.lookup_upgrade(route.sid, scope), send, offer)
    else:
        await _open(server, scope, send, offer)


async def _open(server: TransportHost, scope: Scope, send: Send, offer: DirectOffer) -> None:
    session = await open_or_refuse(server, scope, send)
    if session is None:
        return
    transport = DirectTransport(session, upgrading=False)
    headers = server.handshake_headers(session)
    transport.socket = offer.accept(
        transport, (server.open_packet(session),), headers, deflate=_deflate(server)
    )
    transport.attach()


async def _upgrade(
    server: TransportHost, session: EngineSession | None, send: Send, offer: DirectOffer
) -> None:
    if session is None:
        await refuse(send, "unknown sid")
        return
    if not attached(session):
        offer.accept(_IGNORED).close(NORMAL_CLOSE)
        return
    transport = DirectTransport(session, upgrading=True)
    transport.socket = offer.accept(transport, deflate=_deflate(server))
    session.upgrade_abort = transport.abort_upgrade


def _deflate(server: TransportHost) -> int | None:
    # The compression threshold the server's direct accept negotiates permessage-deflate with, if it does.
    config = server.config
    return config.compression_threshold if config.per_message_deflate else None


class _Ignored:
    """The handler of a WebSocket accepted only to be closed (see ``attached``): what it sends is dropped."""

    def on_message(self, data: str | bytes) -> None:
        pass

    def on_close(self, code: int) -> None:
        pass


_IGNORED = _Ignored()


class DirectTransport:
    """One direct WebSocket of a session: the reader's handler and the session's ``TransportWriter``."""

    __slots__ = (
        "_budget",
        "_close_held",
        "_held",
        "_paused",
        "attached",
        "close_code",
        "close_reason",
        "session",
        "socket",
        "upgrading",
    )

    def __init__(self, session: EngineSession, *, upgrading: bool) -> None:
        self.session = session
        self.upgrading = upgrading
        # While the session accepts no input, or waits for its next turn: the rest of the read in progress,
        # in order (reading is paused once something is held).
        self._held: deque[str | bytes] | None = None
        self._paused = False
        self._close_held = False  # the connection ended while messages were held: on_close after them
        # Messages this step may still hand the session before the event loop must turn (next_turn).
        self._budget = PACKETS_PER_STEP
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
        ``when_accepting`` calls ``flush`` once room is made. Likewise after ``PACKETS_PER_STEP`` messages:
        one read may hold thousands of tiny ones, so the rest waits for the loop's next turn
        (``next_turn``), and every other client is served in between.
        """
        held = self._held
        if held is not None:
            held.append(data)
            if not self._paused:
                self._pause()
        elif self.upgrading:
            self._probe(data)
        elif not self.session.accepts_input():
            self._held = deque((data,))
            self._pause()
            self.session.when_accepting(self)
        else:
            self._deliver(data)
            self._budget -= 1
            if not self._budget:
                # Reading goes on for now: a client sending a message at a time is not paused for nothing.
                self._held = deque()
                self.session.next_turn(self)

    def flush(self) -> None:
        """The session's call on the loop's next turn, or once room is made (or it closed): hand it the held
        frames, a step's worth at a time, then read on."""
        held, session = self._held, self.session
        if held is None:
            return
        self._budget = PACKETS_PER_STEP
        while held:
            if session.connected and not session.accepts_input():
                session.when_accepting(self)
                return
            if not self._budget:
                session.next_turn(self)
                return
            self._deliver(held.popleft())
            self._budget -= 1
        self._held = None
        if self._close_held:
            self._closed()
        elif self._paused:
            self._paused = False
            if self.socket is not None:
                self.socket.resume_reading()

    def _pause(self) -> None:
        self._paused = True
        if self.socket is not None:
            self.socket.pause_reading()

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
        """The connection ended: a failed upgrade, or the client went away (after the messages it sent
        before, which may still be held for their turn)."""
        if self._held is not None:
            self._close_held = True
            return
        self._closed()

    def _closed(self) -> None:
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
        socket = self.socket
        if socket is not None and socket.deflate is not None and _any_uncompressed(batch):
            more = self._write_mixed(socket, batch)
        else:
            frames, more = batch_frames(batch, self.session.protocol)
            self._write(frames)
        return more and not (socket is None or socket.closed)

    def _write_mixed(self, socket: DirectSocket, batch: list[OutboxEntry]) -> bool:
        # Entries sent with compress(False) among others, on a compressing connection: one write still.
        out = bytearray()
        more = True
        for entry in batch:
            frames, more = batch_frames([entry], self.session.protocol)
            out += socket.frames(frames, compress=not isinstance(entry, Uncompressed))
            if not more:
                break
        socket.write_frames(bytes(out))
        return more

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


def _any_uncompressed(batch: list[OutboxEntry]) -> bool:
    return any(isinstance(entry, Uncompressed) for entry in batch)
