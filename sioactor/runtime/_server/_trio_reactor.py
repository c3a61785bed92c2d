"""trio only (Linux): one task reads every direct WebSocket of a server, from an epoll of its own.

On asyncio a direct WebSocket is read in the protocol's ``data_received`` callback: no task wakes per
message (``_aio_stream.take_over_reading``). trio has no callbacks; each connection's task would wait for
readability itself, paying per message a task switch and an ``epoll_ctl`` (trio re-arms a one-shot
registration on every wait). Here the connections that took reading over are registered once,
level-triggered, in an epoll of the reactor's, and its one task waits on that epoll's descriptor through
trio; each wake reads every socket that is ready and hands the bytes to its reader synchronously, as the
asyncio callback does. A connection's own task only waits for its end (``Watch.wait``).

Elsewhere (no ``select.epoll``) there is no reactor and connections read in their own tasks.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
from collections.abc import Callable

import trio

from sioactor._lowlevel._trio import TrioSignal

__all__ = ("TrioReactor", "Watch", "make_reactor")

logger = logging.getLogger("sioactor.server")


def make_reactor(read_size: int) -> TrioReactor | None:
    """A reactor, where this platform has epoll."""
    return TrioReactor(read_size) if hasattr(select, "epoll") else None


class TrioReactor:
    """The reading of every watched socket, in one task (``run``)."""

    __slots__ = ("_epoll", "_read_size", "_watches")

    def __init__(self, read_size: int) -> None:
        self._epoll = select.epoll()
        self._read_size = read_size
        self._watches: dict[int, Watch] = {}

    def watch(self, sock: socket.socket, on_data: Callable[[bytes], None]) -> Watch:
        """Call *on_data* with each chunk read from *sock* from now on (it must not raise or block)."""
        watch = Watch(self, sock, on_data)
        fd = sock.fileno()
        self._epoll.register(fd, select.EPOLLIN)
        self._watches[fd] = watch
        return watch

    def pause(self, watch: Watch, paused: bool) -> None:
        """Stop (or resume) reading *watch*'s socket; unread bytes wait in the kernel, whose full buffer
        then throttles the peer (TCP flow control). Not even a hang-up is reported while paused."""
        if self._watches.get(watch.fd) is not watch:
            return
        with contextlib.suppress(OSError, ValueError):  # closed meanwhile: the reader sees it on resume
            if paused:
                self._epoll.unregister(watch.fd)
            else:
                self._epoll.register(watch.fd, select.EPOLLIN)

    def forget(self, watch: Watch) -> None:
        """Stop reading *watch*'s socket (before it is closed); idempotent."""
        fd = watch.fd
        if self._watches.get(fd) is watch:
            del self._watches[fd]
            with contextlib.suppress(OSError, ValueError):  # already closed, or the reactor has ended
                self._epoll.unregister(fd)

    async def run(self) -> None:
        """Read ready sockets until cancelled; then every watch ends as if its peer had closed."""
        epoll, watches, read_size = self._epoll, self._watches, self._read_size
        try:
            while True:
                await trio.lowlevel.wait_readable(epoll.fileno())
                for fd, _ in epoll.poll(0):
                    watch = watches.get(fd)
                    if watch is not None:
                        watch.read(read_size)
        finally:
            for watch in list(watches.values()):
                watch.end()
            epoll.close()


class Watch:
    """One watched socket: its reader, and the wait of its connection's task for the end."""

    __slots__ = ("_on_data", "_reactor", "_sock", "_waiter", "ended", "fd")

    def __init__(self, reactor: TrioReactor, sock: socket.socket, on_data: Callable[[bytes], None]) -> None:
        self._reactor = reactor
        self._sock = sock
        self._on_data = on_data
        self.fd = sock.fileno()
        self.ended = False  # the peer closed or the connection failed
        self._waiter: TrioSignal | None = None

    def read(self, read_size: int) -> None:
        try:
            data = self._sock.recv(read_size)
        except BlockingIOError:
            return  # woken spuriously (level-triggered: it comes again when there is data)
        except OSError:
            data = b""
        if not data:
            self.end()
            return
        try:
            self._on_data(data)
        except Exception:
            logger.exception("a watched socket's reader failed")

    def end(self) -> None:
        """The connection ended: stop reading it, wake its task."""
        self.ended = True
        self._reactor.forget(self)
        self.wake()

    def wake(self) -> None:
        """Wake the connection's task waiting in ``wait`` (it then returns ``ended``)."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.set()

    async def wait(self) -> bool:
        """Wait until the connection ends (True) or ``wake`` is called (False)."""
        if not self.ended:
            waiter = self._waiter = TrioSignal()
            await waiter.wait()
        return self.ended
