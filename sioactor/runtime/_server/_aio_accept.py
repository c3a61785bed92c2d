"""asyncio's selector loop only: accepting connections through a shortage of file descriptors.

The selector loop's own server (``loop.create_server``), when ``accept`` fails for want of descriptors
(EMFILE, ENFILE, ENOBUFS, ENOMEM), logs a traceback, schedules a retry a second later, and then, in the
same readiness, tries again, up to its backlog count of times: thousands of tracebacks a second, which
starve the loop's timers, so the very deadlines that would free descriptors never fire. `SelectorAcceptor`
accepts a batch per readiness and stops at a shortage: the listener is not watched for `RETRY` seconds,
the shortage is logged once, and once more when accepting resumes. Each connection gets its transport
through ``loop.connect_accepted_socket`` in a task, as the loop's own server does with a task of its own.

uvloop's server (libuv) keeps serving through a shortage by itself (it accepts and closes the pending
connections until descriptors free up), so it is used as it is.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
from collections.abc import Callable

__all__ = ("RETRY", "SelectorAcceptor")

logger = logging.getLogger("sioactor.server")

RETRY = 0.1  # seconds the listener is left alone after a shortage
_SHORTAGES = frozenset((errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM))
_BATCH = 100  # connections accepted per readiness at most, so one busy listener cannot hog the loop


class SelectorAcceptor:
    """Accept on *sock* (listening, non-blocking) and build each connection's transport onto
    ``protocol_factory()``; from `start` until `close`."""

    __slots__ = ("_factory", "_loop", "_retry", "_short_of", "_sock", "_tasks")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._short_of: OSError | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Watch the listener."""
        self._retry = None
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting (the listening socket is its owner's to close)."""
        if self._retry is not None:
            self._retry.cancel()
        else:
            self._loop.remove_reader(self._sock.fileno())
        for task in self._tasks:
            task.cancel()

    def _accept(self) -> None:
        for _ in range(_BATCH):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _SHORTAGES:
                    logger.exception("accept failed")
                    return
                self._wait_out(exc)
                return
            if self._short_of is not None:
                logger.warning("accepting again after %s", self._short_of.strerror)
                self._short_of = None
            conn.setblocking(False)
            task = self._loop.create_task(self._connect(conn))
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._connected, conn))

    def _wait_out(self, shortage: OSError) -> None:
        if self._short_of is None:
            logger.warning("accept failed (%s); retrying every %.1f s, serving meanwhile", shortage, RETRY)
        self._short_of = shortage
        self._loop.remove_reader(self._sock.fileno())
        self._retry = self._loop.call_later(RETRY, self.start)

    def _connected(self, conn: socket.socket, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            # Closed before its transport was made: a task cancelled before its first step never ran
            # `_connect`, so nothing else owns *conn*. (A transport made meanwhile closes it too; closing a
            # socket twice is harmless.)
            conn.close()

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()  # the client left before its transport was made
