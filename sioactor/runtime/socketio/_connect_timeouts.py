"""The connect timeout of every client of one server: one queue and one task, not a timer task per client.

Every client gets the same timeout, so deadlines come due in the order the clients were armed: a FIFO
queue is the whole timer structure, and one task sleeps to its head while anything is queued (it ends when
the queue empties and starts again with the next client). A client that joins a namespace in time is not
removed from the queue (that would be a search); it says so by ``connected`` and is skipped when its turn
comes. The queue holds weak references, so a client whose session has ended is not kept alive by it.

A timer task per client cost a task start, a cancel scope and a sleep per connect (about a twentieth of a
connect's CPU time), and the parked task's memory for as long as the client stayed unconnected. The task
wakes ``SLACK`` after the head's deadline and expires everything due by then: clients connecting in a burst
share a wake instead of costing one each.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio

from sioactor._lowlevel import current_backend

__all__ = ("SLACK", "ConnectTimeouts", "Expiring")

SLACK = 0.05  # seconds a timeout may fire late, so that the deadlines of a burst of connects share a wake


class Expiring(Protocol):
    """A client under the connect timeout."""

    @property
    def connected(self) -> bool:
        """True once the timeout no longer applies (a namespace was joined, or the session ended)."""

    def connect_timed_out(self) -> None:
        """The timeout passed with no namespace joined: close the session."""


class ConnectTimeouts:
    """The pending connect timeouts of one server, in deadline order."""

    __slots__ = ("_clock", "_pending", "_running", "_spawn", "timeout")

    def __init__(
        self,
        timeout: float,
        spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], None],
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.timeout = timeout
        self._spawn = spawn
        self._clock = clock  # the running loop's clock, found on the first arm() unless given
        self._pending: deque[tuple[float, weakref.ref[Expiring]]] = deque()
        self._running = False

    def arm(self, client: Expiring) -> None:
        """Start *client*'s timeout now."""
        if self._clock is None:
            self._clock = current_backend().clock
        self._pending.append((self._clock() + self.timeout, weakref.ref(client)))
        if not self._running:
            self._spawn(self._run)
            self._running = True

    async def _run(self) -> None:
        pending, clock = self._pending, self._clock
        assert clock is not None, "started by arm()"
        try:
            while pending:
                deadline, ref = pending[0]
                delay = deadline - clock()
                if delay > 0:
                    await anyio.sleep(delay + SLACK)
                    continue  # the head is still the same entry: only arm() changes the queue, at its end
                pending.popleft()
                client = ref()
                if client is not None and not client.connected:
                    client.connect_timed_out()
        finally:
            self._running = False
