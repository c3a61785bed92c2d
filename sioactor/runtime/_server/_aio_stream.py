"""asyncio only: a socket stream that keeps reading between receives and holds no idle events.

anyio's asyncio ``SocketStream`` pauses the transport's reading whenever nobody waits in ``receive`` and
resumes it around each waiting read: two ``epoll_ctl`` calls per read, about three reads per polling echo.
Its protocol also keeps two ``asyncio.Event`` objects and a ``deque`` per connection ,
which an idle WebSocket pays for as long as it stays open.

It is also a ``BufferedProtocol``: asyncio's plain ``Protocol`` path calls ``recv(256 KiB)``, and a bytes
object that large comes from ``mmap`` (then ``mremap`` to its size, then ``munmap``): three system calls per
read, a large share of a one-message echo's kernel time. Reading into one buffer per thread, shared by every
connection (asyncio calls ``get_buffer``, ``recv_into`` and ``buffer_updated`` back to back, so no two
reads overlap), costs one ``recv`` and a copy of the bytes that came.

`accept_on_loop` accepts with the loop's own server (``loop.create_server`` on the listening socket): it
accepts a backlog of connections per readiness and builds each transport straight onto a `_ReadAhead`,
where anyio's ``accept`` costs each connection a checkpoint (a loop iteration), a cancel scope, a reader
registered and removed, an awaited ``connect_accepted_socket`` and a protocol thrown away at once.

`_ReadAhead` buffers what arrives (pausing only past ``limit`` bytes, the back-pressure bound) and wakes a
future that exists only while a ``receive`` waits; writes wait the same way, only while the transport is
above its high-water mark. Everything that relies on asyncio's transports and protocols is in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from typing import cast

import anyio
from anyio.abc import SocketStream
from anyio.lowlevel import cancel_shielded_checkpoint, checkpoint

from ._aio_accept import SelectorAcceptor

__all__ = (
    "accept_on_loop",
    "addresses",
    "adopt_on_loop",
    "park_reading",
    "pause_reading",
    "receive_by",
    "resume_reading",
    "stop_waiting",
    "take_buffered",
    "take_over_reading",
    "transport_of",
    "wait_for_end",
)


async def accept_on_loop(
    sock: socket.socket, limit: int, backlog: int, on_stream: Callable[[SocketStream], None]
) -> None:
    """Accept connections on the listening *sock* until cancelled, handing each to *on_stream* (which must
    not block) as a read-ahead stream buffering up to *limit* bytes. asyncio only.

    Accepting keeps going through a shortage of file descriptors (see `_aio_accept`), and each connection
    gets ``TCP_NODELAY``, as anyio's listener does.
    """
    loop = asyncio.get_running_loop()

    def protocol() -> _ReadAhead:
        return _ReadAhead(None, limit, on_stream)

    if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
        acceptor = SelectorAcceptor(loop, sock, protocol)
        acceptor.start()
        try:
            await anyio.sleep_forever()
        finally:
            acceptor.close()  # the listener's owner closes the socket; connections are not touched
        return
    server = await loop.create_server(protocol, sock=sock, backlog=backlog)
    try:
        await anyio.sleep_forever()
    finally:
        server.close()  # stops accepting and closes the listening socket; connections are not touched


def addresses(stream: SocketStream) -> tuple[object, object] | None:
    """(peer, local) socket addresses of a read-ahead stream, from what its transport already holds;
    ``None`` for another stream (anyio's ``extra`` builds its whole attribute table on each call)."""
    if isinstance(stream, _ReadAheadStream):
        transport = stream._transport
        return transport.get_extra_info("peername"), transport.get_extra_info("sockname")
    own = getattr(stream, "peer_and_local", None)  # _trio_stream.TrioStream's
    if own is not None:
        pair: tuple[object, object] = own()
        return pair
    return None


def transport_of(stream: SocketStream) -> asyncio.WriteTransport | None:
    """The asyncio transport under *stream* (the only writer asyncio allows on its socket), or ``None``.

    A read-ahead stream's transport is the loop's own, whatever its class: uvloop's transports are not
    subclasses of ``asyncio.Transport``. For another stream, anyio's private ``_transport`` if it is one.
    """
    if isinstance(stream, _ReadAheadStream):
        return stream._transport
    transport = getattr(stream, "_transport", None)
    return transport if isinstance(transport, asyncio.WriteTransport) else None


def take_over_reading(stream: SocketStream, on_data: Callable[[bytes], None]) -> bytes | None:
    """From now on, call *on_data* with each chunk as it arrives, from the protocol's callback, instead of
    buffering it for ``receive``; returns the bytes buffered until now (to be handled first). ``None``, and
    nothing changes, for a stream other than a read-ahead one. *on_data* must not raise or block.

    A reader that does its work synchronously (a direct WebSocket) is spared a task wake per read: the
    bytes go from the socket to it in the callback that read them. `wait_for_end` then waits for the
    connection's end.
    """
    if not isinstance(stream, _ReadAheadStream):
        own = getattr(stream, "take_over_reading", None)  # trio's stream, with the server's reactor
        return None if own is None else own(on_data)
    protocol = stream._protocol
    buffered = b"".join(protocol.chunks)
    protocol.chunks.clear()
    protocol.size = 0
    if protocol.paused:
        protocol.paused = False
        stream._transport.resume_reading()
    protocol.on_data = on_data
    return buffered


def pause_reading(stream: SocketStream, paused: bool) -> bool:
    """After `take_over_reading`: stop (or resume) reading the socket, so that unread bytes wait in the kernel
    and TCP flow control throttles the peer. False when the stream was not taken over (its reader task
    must then stop reading itself)."""
    if isinstance(stream, _ReadAheadStream):
        if stream._protocol.on_data is None:
            return False
        transport = stream._transport
        if not transport.is_closing():
            if paused:
                transport.pause_reading()
            else:
                transport.resume_reading()
        return True
    own = getattr(stream, "pause_reading", None)  # trio's stream, with the server's reactor
    return own is not None and bool(own(paused))


async def wait_for_end(stream: SocketStream) -> bool:
    """After `take_over_reading`: wait until the peer closes or the connection is lost (True), or
    `stop_waiting` is called (False). Raises ``anyio.BusyResourceError`` if another wait is pending."""
    if not isinstance(stream, _ReadAheadStream):
        ended: bool = await stream.wait_for_end()  # type: ignore[attr-defined]  # only after take_over_reading
        return ended
    protocol = stream._protocol
    if not (protocol.eof or protocol.lost):
        if protocol.reader is not None:
            raise anyio.BusyResourceError("reading from")
        waiter = protocol.reader = stream._loop.create_future()
        try:
            await waiter
        finally:
            protocol.reader = None
    return protocol.eof or protocol.lost


async def park_reading(
    stream: SocketStream, on_data: Callable[[bytes], bool], deadline: float
) -> bool | None:
    """Wait, until *deadline* (``anyio.current_time``), for the peer's next bytes, handing each chunk to
    *on_data* from the read callback as it arrives; *on_data* takes the chunk whatever it answers, and True
    means it dealt with it and the wait goes on. Returns True once the peer closes or the connection is lost,
    False when *on_data* answered False or the deadline passed, and ``None`` at once, having waited for
    nothing, when bytes or the end are already buffered (or the stream cannot do this): then ``receive``.

    A connection whose requests can be served synchronously (an idle keep-alive connection) thus costs no
    task wake per request. *on_data* must not raise or wait.
    """
    if not isinstance(stream, _ReadAheadStream):
        own = getattr(stream, "park_reading", None)  # trio's stream, with the server's reactor
        if own is None:
            return None
        parked: bool | None = await own(on_data, deadline)
        return parked
    protocol = stream._protocol
    if protocol.chunks or protocol.eof or protocol.lost or protocol.on_data is not None:
        return None
    if protocol.reader is not None:
        raise anyio.BusyResourceError("reading from")
    loop = stream._loop
    waiter = protocol.reader = loop.create_future()
    protocol.idle = on_data
    timer = loop.call_at(deadline, _expire, waiter)
    try:
        await waiter
    finally:
        protocol.reader = None
        protocol.idle = None
        timer.cancel()
    return protocol.eof or protocol.lost


def stop_waiting(stream: SocketStream) -> None:
    """Wake a `wait_for_end` early (it returns False)."""
    if isinstance(stream, _ReadAheadStream):
        stream._protocol._wake_reader()
        return
    own = getattr(stream, "stop_waiting", None)
    if own is not None:
        own()


_READ_BUFFER_SIZE = 65_536


class _ReadBuffer(threading.local):
    """The bytes every connection of this thread's event loop reads into (see the module's docstring)."""

    def __init__(self) -> None:
        self.buffer = bytearray(_READ_BUFFER_SIZE)
        self.view = memoryview(self.buffer)


_read_buffer = _ReadBuffer()


class _ReadAhead(asyncio.BufferedProtocol):
    """Buffer received bytes; wake the one waiting reader or writer through a future made for that wait."""

    __slots__ = (
        "_limit",
        "_on_open",
        "_transport",
        "chunks",
        "eof",
        "exception",
        "idle",
        "lost",
        "on_data",
        "paused",
        "reader",
        "size",
        "write_paused",
        "writer",
    )

    def __init__(
        self,
        transport: asyncio.Transport | None,
        limit: int,
        on_open: Callable[[SocketStream], None] | None = None,
    ) -> None:
        # None until connection_made when the loop's server builds the transport onto this protocol.
        self._transport: asyncio.Transport = transport  # type: ignore[assignment]
        self._limit = limit
        self._on_open = on_open
        self.chunks: list[bytes] = []
        self.size = 0
        self.paused = False
        self.eof = False
        self.lost = False
        self.exception: BaseException | None = None
        self.on_data: Callable[[bytes], None] | None = None  # see take_over_reading
        self.idle: Callable[[bytes], bool] | None = None  # see park_reading
        self.reader: asyncio.Future[None] | None = None
        self.write_paused = False
        self.writer: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        on_open, self._on_open = self._on_open, None
        if on_open is not None:  # accepted by the loop's server (accept_on_loop)
            # The loop's own TCP transport (uvloop's is not an asyncio.Transport subclass, but is one).
            self._transport = cast(asyncio.Transport, transport)
            on_open(_ReadAheadStream(self._transport, self))

    def get_buffer(self, sizehint: int) -> memoryview:
        return _read_buffer.view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_read_buffer.view[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        """Buffer *data*, or hand it to the reader that took reading over."""
        if self.on_data is not None:
            self.on_data(data)
            return
        idle = self.idle
        if idle is not None:
            if not idle(data):
                self.idle = None
                self._wake_reader()
            return
        self.chunks.append(data)
        self.size += len(data)
        if self.size >= self._limit and not self.paused:
            self.paused = True
            self._transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return True  # keep the write side open: a half-closed client still gets its response

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.exception = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        writer, self.writer = self.writer, None
        if writer is not None and not writer.done():
            writer.set_result(None)

    def _wake_reader(self) -> None:
        reader, self.reader = self.reader, None
        if reader is not None and not reader.done():
            reader.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        """Up to *max_bytes* of the buffered bytes (there are some); reading resumes below the limit."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if len(data) > max_bytes:
            chunks.append(data[max_bytes:])
            data = data[:max_bytes]
        self.size -= len(data)
        if self.paused and self.size < self._limit:
            self.paused = False
            self._transport.resume_reading()
        return data


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def receive_by(stream: SocketStream, max_bytes: int, deadline: float) -> bytes | None:
    """Up to *max_bytes* from *stream*, or ``None`` if nothing came by *deadline* (``anyio.current_time``).
    A stream with its own ``receive_by`` (this module's, or ``_trio_stream``'s) does it its cheaper way."""
    own = getattr(stream, "receive_by", None)
    if own is not None:
        received: bytes | None = await own(max_bytes, deadline)
        return received
    with anyio.CancelScope(deadline=deadline):
        return await stream.receive(max_bytes)
    return None


class _ReadAheadStream(SocketStream):
    """The anyio stream interface over a `_ReadAhead` transport (``_transport`` named as anyio names it)."""

    __slots__ = ("_closed", "_loop", "_protocol", "_transport")

    def __init__(self, transport: asyncio.Transport, protocol: _ReadAhead) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closed = False
        # Kept: Python 3.11's get_running_loop() costs a getpid() system call each time.
        self._loop = asyncio.get_running_loop()

    @property
    def _raw_socket(self) -> socket.socket:
        sock: socket.socket = self._transport.get_extra_info("socket")
        return sock

    async def receive(self, max_bytes: int = 65536) -> bytes:
        protocol = self._protocol
        if protocol.reader is not None:
            raise anyio.BusyResourceError("reading from")
        if protocol.chunks or protocol.eof or protocol.lost:
            await checkpoint()
        else:
            waiter = protocol.reader = self._loop.create_future()
            try:
                await waiter
            finally:
                protocol.reader = None
        return self._result(max_bytes)

    def _result(self, max_bytes: int) -> bytes:
        # What a receive returns once something happened: bytes, or the reason there are none.
        protocol = self._protocol
        if protocol.chunks:
            return protocol.take(max_bytes)
        if self._closed:
            raise anyio.ClosedResourceError
        if protocol.exception is not None:
            raise anyio.BrokenResourceError from protocol.exception
        raise anyio.EndOfStream

    async def receive_by(self, max_bytes: int, deadline: float) -> bytes | None:
        """`receive`, or ``None`` once the loop's clock passes *deadline* with nothing received; a timer
        handle instead of a cancel scope (cheaper per keep-alive wait). After a wait the
        bytes are returned at once: the wait was the checkpoint (another would cost a loop iteration)."""
        protocol = self._protocol
        if protocol.chunks or protocol.eof or protocol.lost:
            return await self.receive(max_bytes)
        if protocol.reader is not None:
            raise anyio.BusyResourceError("reading from")
        waiter = protocol.reader = self._loop.create_future()
        timer = self._loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        finally:
            protocol.reader = None
            timer.cancel()
        if not (protocol.chunks or protocol.eof or protocol.lost):
            return None
        return self._result(max_bytes)

    async def send(self, item: bytes) -> None:
        protocol = self._protocol
        waited = False
        if protocol.write_paused and not protocol.lost:
            waited = True
            waiter = protocol.writer = self._loop.create_future()
            await waiter
        if self._closed:
            raise anyio.ClosedResourceError
        if protocol.lost or self._transport.is_closing():
            raise anyio.BrokenResourceError from protocol.exception
        self._transport.write(item)
        if not waited:
            await cancel_shielded_checkpoint()

    async def send_eof(self) -> None:
        with contextlib.suppress(OSError):
            self._transport.write_eof()

    async def aclose(self) -> None:
        self._closed = True
        self._transport.abort()
        await checkpoint()


async def adopt_on_loop(sock: socket.socket, limit: int) -> SocketStream:
    """A read-ahead stream (buffering up to *limit* bytes) over *sock*, a connection accepted by another
    process and handed over (``_handoff.py``). asyncio only."""
    made: list[SocketStream] = []
    sock.setblocking(False)
    await asyncio.get_running_loop().connect_accepted_socket(
        lambda: _ReadAhead(None, limit, made.append), sock
    )
    return made[0]


def take_buffered(stream: SocketStream) -> bytes:
    """Stop reading ahead and take the bytes a read-ahead stream received and no ``receive`` took yet
    (``b""`` for another stream, which reads nothing ahead); `resume_reading` undoes it."""
    if not isinstance(stream, _ReadAheadStream):
        return b""
    protocol = stream._protocol
    buffered = b"".join(protocol.chunks)
    protocol.chunks.clear()
    protocol.size = 0
    if not protocol.paused:
        protocol.paused = True
        stream._transport.pause_reading()
    return buffered


def resume_reading(stream: SocketStream) -> None:
    """Read ahead again after `take_buffered`."""
    if isinstance(stream, _ReadAheadStream) and stream._protocol.paused:
        stream._protocol.paused = False
        if not stream._transport.is_closing():
            stream._transport.resume_reading()
