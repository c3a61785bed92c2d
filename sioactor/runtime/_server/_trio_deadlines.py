"""trio only: the deadlines of waiting reads (keep-alive waits), enforced by one task per server.

A keep-alive wait for the next request needs a deadline; on trio a cancel scope per wait costs a polling
echo about a sixth of its CPU (two waits per message, and a scope is entered, registered with the
deadline heap and closed each time). Instead the waiting stream registers its socket here, and one task
wakes every `RESOLUTION` seconds and ends the waits that ran out with ``trio.lowlevel.notify_closing``:
the wait raises ``ClosedResourceError``, the stream answers ``None`` (the deadline passed) and the
connection closes, as it would have. A deadline is thus kept to within `RESOLUTION`.
"""

from __future__ import annotations

import socket

import trio

__all__ = ("RESOLUTION", "ReadDeadlines")

RESOLUTION = 0.25  # seconds a read deadline may be late


class ReadDeadlines:
    """The sockets waiting to read, with their deadlines (``trio.current_time``)."""

    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: dict[socket.socket, float] = {}

    def add(self, sock: socket.socket, deadline: float) -> None:
        """*sock*'s read now waits until *deadline* at most."""
        self._waiting[sock] = deadline

    def discard(self, sock: socket.socket) -> None:
        """*sock*'s read is over."""
        self._waiting.pop(sock, None)

    async def run(self) -> None:
        """End the waits that ran out, every `RESOLUTION` seconds, until cancelled."""
        waiting = self._waiting
        while True:
            await trio.sleep(RESOLUTION)
            now = trio.current_time()
            for sock in [sock for sock, deadline in waiting.items() if deadline <= now]:
                del waiting[sock]
                trio.lowlevel.notify_closing(sock)  # the connection closes once its wait ends
