"""The direct WebSocket: how an app that knows the embedded server skips ASGI messages on the hot path.

ASGI costs each WebSocket message a dict, a task hop through an inbox to the app's ``receive``, and another
through an outbox to a writer task. The embedded server therefore offers, in every ``websocket`` scope, the
ASGI extension ``scope["extensions"]["sioactor.direct_websocket"]``: a ``DirectOffer``. An app that knows it
(sioactor's Engine.IO server) calls ``offer.accept(handler)`` instead of sending ``websocket.accept`` and
returns; from then on the connection's reader task calls ``handler`` with each whole message, and the app
writes pre-encoded frames with ``DirectSocket.write`` (no await). Other apps ignore the extension and get
plain ASGI, so uvicorn, hypercorn and Starlette mounts keep working unchanged.

Writing: ``write`` frames the messages (a server frame is unmasked, so its header is two to ten bytes) and
sends them to the kernel at once with a non-blocking send: on asyncio through the connection's transport
(``transport.write``, which buffers what the kernel refuses), on trio straight to the non-blocking socket.
Only when the kernel buffer is full does a drain task start (trio), and it ends once the backlog is written or
the connection ends (``ByteSink.close``). A caller that wants back-pressure checks ``buffered`` and awaits
``drained()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

import anyio
from anyio.abc import SocketAttribute, SocketStream

from ._aio_stream import transport_of
from ._tasks import Spawn

if TYPE_CHECKING:
    from ._ws_deflate import Deflate

from ._ws_encode import encode_frames

__all__ = ("DIRECT_WEBSOCKET", "ByteSink", "DirectHandler", "DirectOffer", "DirectSocket")

logger = logging.getLogger("sioactor.server")

DIRECT_WEBSOCKET = "sioactor.direct_websocket"


class DirectHandler(Protocol):
    """What the reader task calls on an app that took the connection directly. Calls never overlap."""

    def on_message(self, data: str | bytes) -> None:
        """One whole message arrived (text as ``str``, binary as ``bytes``)."""

    def on_close(self, code: int) -> None:
        """The connection ended (close frame received, EOF or error); called once, last."""


class DirectOffer(Protocol):
    """The ASGI extension object: take this WebSocket directly instead of through ASGI messages."""

    def accept(
        self,
        handler: DirectHandler,
        first: Iterable[str | bytes] = (),
        headers: Iterable[tuple[bytes, bytes]] = (),
        *,
        deflate: int | None = None,
    ) -> DirectSocket:
        """Complete the handshake (101) and route every message to *handler*; the app may then return
        (the connection stays open until either side closes it). *first*: messages sent in the same write
        as the 101 (the Engine.IO open packet), a system call less per connect; *headers*: extra headers of
        the 101, as ``websocket.accept``'s. *deflate*: negotiate permessage-deflate if the client offers it,
        compressing messages of at least this many bytes (``_ws_deflate.py``); ``None``, never."""


class DirectSocket:
    """An open WebSocket the app writes to without awaiting; owned by the embedded server's connection."""

    __slots__ = ("_close", "_limit", "_pause", "_sink", "closed", "deflate")

    def __init__(
        self,
        sink: ByteSink,
        close: Callable[[int, str], None],
        limit: int,
        pause: Callable[[bool], None] = lambda paused: None,
    ) -> None:
        self._sink = sink
        self._close = close
        self._limit = limit
        self._pause = pause
        self.closed = False
        # The negotiated permessage-deflate, if any: then ``write`` compresses large messages.
        self.deflate: Deflate | None = None

    def pause_reading(self) -> None:
        """Read no more of the client until ``resume_reading``: what it sends waits in the kernel, whose full
        buffer throttles it (TCP flow control). The messages of the read in progress are still delivered."""
        self._pause(True)

    def resume_reading(self) -> None:
        """Read the client again after ``pause_reading``."""
        self._pause(False)

    def write(self, messages: Iterable[str | bytes], *, compress: bool = True) -> None:
        """Frame *messages* and send them now (one system call for all); never waits. No-op once closed.
        With permessage-deflate negotiated, those large enough are compressed unless *compress* is False."""
        if not self.closed:
            deflate = self.deflate
            if deflate is None or not compress:
                self._sink.write(encode_frames(messages))
            else:
                self._sink.write(deflate.encode_frames(messages))

    def frames(self, messages: Iterable[str | bytes], *, compress: bool = True) -> bytes:
        """The frames ``write`` would send for *messages* (for a caller joining several into one write)."""
        deflate = self.deflate
        if deflate is None or not compress:
            return encode_frames(messages)
        return deflate.encode_frames(messages)

    def write_frames(self, frames: bytes) -> None:
        """Send frames made by ``frames`` now; never waits. No-op once closed."""
        if not self.closed:
            self._sink.write(frames)

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._sink.buffered()

    @property
    def full(self) -> bool:
        """More than the server's ``ws_write_buffer`` bytes wait for the kernel: the writer should wait."""
        return self._sink.buffered() > self._limit

    async def drained(self) -> None:
        """Wait until the kernel takes the backlog (or most of it); returns at once when there is none."""
        await self._sink.drained()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame; the connection ends when the client answers (or after the close timeout)."""
        if not self.closed:
            self.closed = True
            self._close(code, reason)


class ByteSink(Protocol):
    """A non-blocking writer of bytes to one connection."""

    def write(self, data: bytes) -> None: ...
    def write_eof(self) -> None: ...
    def buffered(self) -> int: ...
    async def drained(self) -> None: ...
    def close(self) -> None:
        """The connection is over: stop writing what is still queued (the peer is gone or done)."""


def make_sink(stream: SocketStream, spawn: Spawn) -> ByteSink:
    """The fastest non-blocking writer this backend allows for *stream*."""
    # asyncio's loop refuses add_writer on a transport's fd, so the direct path writes through it.
    transport = transport_of(stream)
    if transport is not None:
        return _TransportSink(transport, stream)
    return _SocketSink(stream.extra(SocketAttribute.raw_socket), spawn)


class _TransportSink:
    """asyncio: ``transport.write`` sends at once and keeps what the kernel refused."""

    __slots__ = ("_eof", "_stream", "_transport")

    def __init__(self, transport: asyncio.WriteTransport, stream: SocketStream) -> None:
        self._transport = transport
        self._stream = stream
        self._eof = False

    def write(self, data: bytes) -> None:
        if data and not self._eof and not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        if not self._eof and not self._transport.is_closing() and self._transport.can_write_eof():
            # Reset by the peer before the transport read it (ENOTCONN): there is nothing left to end.
            with contextlib.suppress(OSError):
                self._transport.write_eof()
        self._eof = True

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()

    def close(self) -> None:
        self._eof = True  # the transport closes with the stream; nothing of its own to stop

    async def drained(self) -> None:
        # An empty send waits for the transport's resume_writing (its buffer below the low-water mark).
        if self.buffered() and not self._transport.is_closing():
            try:
                await self._stream.send(b"")
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return


class _SocketSink:
    """trio (and other non-asyncio backends): non-blocking ``send``; a drain task only while full."""

    __slots__ = ("_backlog", "_broken", "_drain_scope", "_drained", "_eof", "_size", "_sock", "_spawn")

    def __init__(self, sock: socket.socket, spawn: Spawn) -> None:
        self._sock = sock
        self._spawn = spawn
        self._drain_scope: anyio.CancelScope | None = None
        self._backlog: list[bytes] = []
        self._size = 0
        self._broken = False
        self._drained: anyio.Event | None = None
        self._eof = False

    def write(self, data: bytes) -> None:
        if self._broken or self._eof or not data:
            return
        if self._backlog:
            self._backlog.append(data)
            self._size += len(data)
            return
        sent = self._send(data)
        if sent < len(data) and not self._broken:
            self._backlog.append(data[sent:])
            self._size = len(data) - sent
            self._drain_scope = anyio.CancelScope()  # made here, so a close() before the task runs stops it
            self._spawn(self._drain, self._drain_scope)

    def write_eof(self) -> None:
        # After the backlog, if there is one: the drain task shuts the write side down once it is written.
        self._eof = True
        if not self._backlog:
            self._shutdown()

    def _shutdown(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._broken = True

    def _send(self, data: bytes) -> int:
        try:
            return self._sock.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            # The peer is gone; the reader sees it too and ends the connection.
            self._broken = True
            return 0

    def buffered(self) -> int:
        return self._size

    async def drained(self) -> None:
        if self._size:
            if self._drained is None:
                self._drained = anyio.Event()
            await self._drained.wait()

    def close(self) -> None:
        self._broken = True
        if self._drain_scope is not None:
            self._drain_scope.cancel()

    async def _drain(self, scope: anyio.CancelScope) -> None:
        try:
            with scope:
                await self._drain_backlog()
        finally:
            self._drain_scope = None
            if self._broken:
                self._backlog, self._size = [], 0
            if self._drained is not None:
                self._drained.set()
                self._drained = None

    async def _drain_backlog(self) -> None:
        while self._backlog and not self._broken:
            await anyio.wait_writable(self._sock)
            data = b"".join(self._backlog)
            sent = self._send(data)
            self._backlog = [data[sent:]] if sent < len(data) else []
            self._size = len(data) - sent
        if self._eof and not self._broken:
            self._shutdown()
