"""A socket actor's mailbox: bounded, handled one message at a time, with no task of its own while idle.

Why not a task parked on a memory stream per socket: a parked task and its stream cost ≈ 8-9 KB per
connection (measured, see BRIEF §5), and most sockets are idle most of the time. Here the mailbox is a
bounded deque; ``tell`` appends (never waits) and, when no drain is running, starts one in the server's
task group. The drain handles messages in arrival order and ends when the deque is empty, so an idle socket
holds no task at all. Actor semantics are unchanged: one message at a time, in order, bounded, typed
errors on overflow or after stop.

``stop`` drops what is queued, cancels the message being handled (a hung handler must not outlive its
socket) and then handles one *final* message, shielded from that cancellation: the socket's disconnect.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

import anyio

from sioactor.actors._errors import Closed, InternalChannelFull

__all__ = ("SocketMailbox", "Spawn")

M = TypeVar("M")

# How the mailbox starts its drain: the server's ``TaskGroup.start_soon`` (a plain ``def``).
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]


class SocketMailbox(Generic[M]):
    """The mailbox of one socket actor.

    Args:
        name: the actor's name, for errors and traces (``socket:/ns:sid``).
        capacity: how many messages may wait; one more is refused with ``InternalChannelFull``.
        handle: handles one message; an exception it raises goes to *on_failure*, the next message follows.
        spawn: starts the drain task (the server's task group ``start_soon``).
        on_failure: told of each message whose handling raised.
    """

    __slots__ = (
        "_final",
        "_handle",
        "_name",
        "_on_failure",
        "_queue",
        "_running",
        "_scope",
        "_spawn",
        "_stopped",
        "capacity",
    )

    def __init__(
        self,
        name: str,
        capacity: int,
        handle: Callable[[M], Awaitable[None]],
        spawn: Spawn,
        on_failure: Callable[[M, Exception], None],
    ) -> None:
        self._name = name
        self.capacity = capacity
        self._handle = handle
        self._spawn = spawn
        self._on_failure = on_failure
        self._queue: deque[M] = deque()
        self._running = False
        self._stopped = False
        self._final: M | None = None
        self._scope: anyio.CancelScope | None = None

    @property
    def name(self) -> str:
        """The actor's name."""
        return self._name

    @property
    def depth(self) -> int:
        """How many messages wait (the one being handled not counted)."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        """True once ``stop`` was called: ``tell`` raises ``Closed``."""
        return self._stopped

    @property
    def busy(self) -> bool:
        """True while a drain task exists (handling, or about to)."""
        return self._running

    def tell(self, message: M) -> None:
        """Enqueue *message* and return at once; never yields to the event loop.

        Raises:
            InternalChannelFull: ``capacity`` messages already wait (the message is handed back).
            Closed: the actor has stopped (the message is handed back).
        """
        if self._stopped:
            raise Closed(self._name, message)
        if len(self._queue) >= self.capacity:
            raise InternalChannelFull(self._name, message)
        self._queue.append(message)
        self._start_drain()

    def stop(self, final: M | None = None) -> list[M]:
        """Stop taking messages, cancel the one being handled, then handle *final* (if any).

        Returns the messages that were queued and are now dropped. Calling it twice does nothing more.
        """
        if self._stopped:
            return []
        self._stopped = True
        dropped = list(self._queue)
        self._queue.clear()
        self._final = final
        if self._scope is not None:
            self._scope.cancel()
        if final is not None:
            self._start_drain()
        return dropped

    def _start_drain(self) -> None:
        if not self._running:
            self._running = True
            self._spawn(self._drain)

    async def _drain(self) -> None:
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                while self._queue and not self._stopped:
                    await self._handle_one(self._queue.popleft())
        finally:
            self._scope = None
        final, self._final = self._final, None
        if final is not None:
            await self._handle_one(final)
        # No await since the loop saw an empty queue (or the stop), so no message can have slipped in.
        self._running = False

    async def _handle_one(self, message: M) -> None:
        try:
            await self._handle(message)
        except Exception as exc:
            self._on_failure(message, exc)
