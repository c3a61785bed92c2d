"""trio only: a socket stream whose ``receive`` waits for the socket and reads it, nothing more.

anyio's trio ``SocketStream.receive`` goes through trio's socket wrapper, which first tries the read (on
a server waiting for its client that is usually a failed ``recv`` system call and a ``BlockingIOError``),
then waits for readability and reads again, then yields once more even when the read succeeded at once:
two system calls, an exception and two scheduler passes for one read. `_TrioStream` waits for
readability and reads: one wait, one ``recv``. Only the first read of a connection tries first: a client
sends its request right after connecting, so by the time the connection's task runs it has usually
arrived (a wait and a wake saved per connect). Everything else goes to anyio's stream.

``receive_by`` (the keep-alive wait) registers its deadline with the server's `ReadDeadlines` (one task
ends the waits that ran out) instead of a cancel scope per wait; without one it uses a trio cancel scope
directly (anyio's wraps one in another).

With the server's `TrioReactor` (Linux) a direct WebSocket hands its reading over to it
(``take_over_reading``, as the asyncio read-ahead stream does) and its task only waits for the end.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import anyio
import trio
from anyio.abc import SocketAttribute, SocketStream

from ._trio_deadlines import ReadDeadlines
from ._trio_reactor import TrioReactor, Watch

__all__ = ("TrioStream", "adopt_trio")


class TrioStream(SocketStream):
    """anyio's trio socket stream with a direct ``receive`` (see the module's docstring)."""

    __slots__ = ("_deadlines", "_fresh", "_inner", "_reactor", "_sock", "_watch")

    def __init__(
        self,
        inner: SocketStream,
        reactor: TrioReactor | None = None,
        deadlines: ReadDeadlines | None = None,
    ) -> None:
        self._inner = inner
        self._reactor = reactor
        self._deadlines = deadlines
        self._watch: Watch | None = None
        self._fresh = True  # nothing read yet: the first read tries before it waits
        # anyio's trio stream knows its socket; extra() would build its attribute table for it (a
        # getpeername system call per connection).
        sock = getattr(inner, "_raw_socket", None)
        self._sock: socket.socket = (
            sock if isinstance(sock, socket.socket) else inner.extra(SocketAttribute.raw_socket)
        )

    async def receive(self, max_bytes: int = 65536) -> bytes:
        sock = self._sock
        wait = not self._fresh
        self._fresh = False
        while True:
            if wait:
                try:
                    await trio.lowlevel.wait_readable(sock)
                except trio.ClosedResourceError:
                    raise anyio.ClosedResourceError from None
            wait = True
            try:
                data = sock.recv(max_bytes)
            except BlockingIOError:
                continue  # not there yet (a fresh connection), or woken spuriously
            except OSError as exc:
                if sock.fileno() < 0:
                    raise anyio.ClosedResourceError from None
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            return data

    async def receive_by(self, max_bytes: int, deadline: float) -> bytes | None:
        """`receive`, or ``None`` if nothing came by *deadline* (trio's clock; with the server's
        `ReadDeadlines`, up to its resolution later, after which the socket is only good for closing)."""
        deadlines = self._deadlines
        if deadlines is None:
            with trio.CancelScope(deadline=deadline):
                return await self.receive(max_bytes)
            return None
        sock = self._sock
        deadlines.add(sock, deadline)
        try:
            return await self.receive(max_bytes)
        except anyio.ClosedResourceError:
            if trio.current_time() >= deadline:
                return None  # ended by ReadDeadlines
            raise
        finally:
            deadlines.discard(sock)

    async def send(self, item: bytes) -> None:
        await self._inner.send(item)

    async def send_eof(self) -> None:
        await self._inner.send_eof()

    async def aclose(self) -> None:
        if self._watch is not None:
            self._watch.end()  # unregistered before the socket closes
        await self._inner.aclose()

    def take_over_reading(self, on_data: Callable[[bytes], None]) -> bytes | None:
        """The reactor reads from now on, calling *on_data* (see `_aio_stream.take_over_reading`);
        ``None`` without a reactor. Nothing is buffered here, so it returns ``b""``."""
        if self._reactor is None or self._watch is not None:
            return None
        self._watch = self._reactor.watch(self._sock, on_data)
        return b""

    async def park_reading(self, on_data: Callable[[bytes], bool], deadline: float) -> bool | None:
        """The reactor reads until *on_data* answers False, the peer closes (True) or *deadline* passes
        (False); see `_aio_stream.park_reading`. ``None`` at once without a reactor (or while taken over)."""
        reactor = self._reactor
        if reactor is None or self._watch is not None:
            return None

        def on_bytes(data: bytes) -> None:
            if not on_data(data):
                reactor.forget(watch)  # this task reads what follows itself
                watch.wake()

        watch = self._watch = reactor.watch(self._sock, on_bytes)
        try:
            with trio.CancelScope(deadline=deadline):
                return await watch.wait()
            return False
        finally:
            reactor.forget(watch)
            self._watch = None

    def pause_reading(self, paused: bool) -> bool:
        """After ``take_over_reading``: stop or resume the reactor's reading; False without a watch."""
        if self._watch is None or self._reactor is None:
            return False
        if not self._watch.ended:
            self._reactor.pause(self._watch, paused)
        return True

    async def wait_for_end(self) -> bool:
        """After ``take_over_reading``: the peer closed (True) or ``stop_waiting`` was called (False)."""
        assert self._watch is not None, "only after take_over_reading"
        return await self._watch.wait()

    def stop_waiting(self) -> None:
        """Wake a ``wait_for_end`` early."""
        if self._watch is not None:
            self._watch.wake()

    @property
    def _raw_socket(self) -> socket.socket:
        return self._sock

    def _raw_socket_now(self) -> socket.socket:
        return self._sock

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        # anyio builds its attribute table (a dict of functions) on every ``extra`` call, and the server asks
        # for the raw socket on every connection; keeping the table would cost every idle connection its
        # memory. This view answers the raw socket itself, the rest via anyio.
        return _Extras(self)

    def peer_and_local(self) -> tuple[object, object]:
        """(peer, local) socket addresses."""
        return self._sock.getpeername(), self._sock.getsockname()


def adopt_trio(
    stream: SocketStream, reactor: TrioReactor | None = None, deadlines: ReadDeadlines | None = None
) -> SocketStream:
    """*stream* (accepted by anyio on trio) with the direct ``receive`` (and *reactor*'s reading, and
    *deadlines* for its keep-alive waits)."""
    return TrioStream(stream, reactor, deadlines)


class _Extras(Mapping[Any, Callable[[], Any]]):
    """`TrioStream`'s attribute table: the raw socket from the stream, anything else from anyio's."""

    __slots__ = ("_stream",)

    def __init__(self, stream: TrioStream) -> None:
        self._stream = stream

    def __getitem__(self, attribute: Any) -> Callable[[], Any]:
        if attribute is SocketAttribute.raw_socket:
            return self._stream._raw_socket_now
        return self._stream._inner.extra_attributes[attribute]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._stream._inner.extra_attributes)

    def __len__(self) -> int:
        return len(self._stream._inner.extra_attributes)
