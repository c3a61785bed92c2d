"""Response writes that do not pass through the event loop when the kernel takes the bytes at once.

anyio's ``SocketStream.send`` costs each HTTP response a checkpoint (a trip through the scheduler), and a
polling echo is two responses. Small responses nearly always fit the kernel buffer, so they are handed
over without awaiting: on asyncio through the connection's transport (which keeps what the kernel
refuses), on trio through a non-blocking ``send`` on the socket. Only when bytes are left over does the
write await the stream, which is how a slow client still pushes back on a large response.
"""

from __future__ import annotations

import asyncio
import socket

import anyio
from anyio.abc import SocketAttribute, SocketStream

from ._aio_stream import transport_of

__all__ = ("ResponseWriter", "make_writer")

_STREAM_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


class ResponseWriter:
    """Write through the stream, awaiting it only for a backlog; subclasses try the fast path first."""

    __slots__ = ("_stream",)

    def __init__(self, stream: SocketStream) -> None:
        self._stream = stream

    async def write(self, data: bytes) -> bool:
        """Send *data*; tell if the connection is still writable."""
        try:
            await self._stream.send(data)
        except _STREAM_GONE:
            return False
        return True


class _TransportWriter(ResponseWriter):
    """asyncio: ``transport.write`` sends now and buffers the rest; wait only while it is buffered."""

    __slots__ = ("_transport",)

    def __init__(self, stream: SocketStream, transport: asyncio.WriteTransport) -> None:
        super().__init__(stream)
        self._transport = transport

    async def write(self, data: bytes) -> bool:
        transport = self._transport
        if transport.is_closing():
            return False
        transport.write(data)
        if transport.get_write_buffer_size():
            # An empty send returns once the transport is below its high-water mark again.
            return await super().write(b"")
        return not transport.is_closing()


class _SocketWriter(ResponseWriter):
    """trio and others: one non-blocking ``send``; what the kernel refuses goes through the stream."""

    __slots__ = ("_sock",)

    def __init__(self, stream: SocketStream, sock: socket.socket) -> None:
        super().__init__(stream)
        self._sock = sock

    async def write(self, data: bytes) -> bool:
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False
        if sent < len(data):
            return await super().write(data[sent:])
        return True


def make_writer(stream: SocketStream) -> ResponseWriter:
    """The fastest writer this backend allows for *stream*."""
    transport = transport_of(stream)
    if transport is not None:
        return _TransportWriter(stream, transport)
    sock = stream.extra(SocketAttribute.raw_socket, None)
    if isinstance(sock, socket.socket) and sock.gettimeout() == 0.0:
        return _SocketWriter(stream, sock)
    return ResponseWriter(stream)
