"""The engine session's outbox: a list of entries, and an event that exists only while a reader waits.

An anyio memory stream would do the same job, but an idle WebSocket session keeps its reader parked on it,
and a parked receive, times every idle session, would be most of a server's memory. Here an empty outbox is
an empty list and a flag; the event is created by the waiting reader and dropped when it wakes.
The bound (``max_buffer_size`` plus slack for control packets) is the session's to enforce: ``put`` never
refuses, so a control packet can always be queued behind the messages it must follow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from sioactor._lowlevel import Signal
from sioactor.protocol.engineio import OutboxEntry

__all__ = ("Outbox",)


class Outbox:
    """Entries waiting for the transport, in order; one reader at a time (a poll or the WebSocket writer)."""

    __slots__ = ("_end", "_ends", "_entries", "_new_signal", "_ready", "closed", "on_put", "on_take")

    def __init__(self, end: OutboxEntry, new_signal: Callable[[], Signal] | None = None) -> None:
        self._entries: list[OutboxEntry] = []
        # What a waiting reader parks on (the scheduler's `signal_factory` result: a bare future on asyncio);
        # an anyio Event by default.
        self._new_signal: Callable[[], Signal] = anyio.Event if new_signal is None else new_signal
        # The entry that ends a batch (the close packet) and how many of it are queued: a take scans for it
        # only when one is there, instead of comparing every entry of every batch (a Python-level __eq__
        # per entry, as entries and the close packet are of different classes).
        self._end = end
        self._ends = 0
        # How to wake the waiting reader: an event's set, or the cancel of the scope around its watch.
        self._ready: Callable[[], object] | None = None
        self.closed = False
        # Called on every put when no reader waits: how a session without a reading task asks to be flushed.
        self.on_put: Callable[[], object] | None = None
        # Called after entries were taken or dropped, while someone waits for room (see the session's input).
        self.on_take: Callable[[], object] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self) -> OutboxEntry:
        """The oldest entry (the outbox must not be empty)."""
        return self._entries[0]

    def put(self, entry: OutboxEntry) -> None:
        """Append *entry* and wake the waiting reader, if any."""
        self._entries.append(entry)
        if entry is self._end:
            self._ends += 1
        if self._ready is not None:
            self._ready()
        elif self.on_put is not None:
            self.on_put()

    def drop_oldest(self) -> None:
        """Forget the oldest entry (the ``drop_oldest`` slow-consumer policy)."""
        if self._entries and self._entries.pop(0) is self._end:
            self._ends -= 1

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self._ends = 0
        if self.on_take is not None:
            self.on_take()

    def close(self) -> None:
        """No more entries will come; a waiting reader wakes (and finds what is left, then the end)."""
        self.closed = True
        if self._ready is not None:
            self._ready()

    async def wait(self) -> bool:
        """Wait until an entry is queued (True) or the outbox is closed and empty (False).

        Cancelling the wait loses nothing: entries are taken only by ``take``.
        """
        while not self._entries:
            if self.closed:
                return False
            ready = self._new_signal()
            self._ready = ready.set
            try:
                await ready.wait()
            finally:
                self._ready = None
        return True

    async def wait_while(
        self,
        watch: Callable[[], Awaitable[object]],
        outside_tasks: Callable[[Callable[[], None]], object] | None = None,
    ) -> bool:
        """Run *watch* until an entry is queued or the outbox closes (True), unless it returns first (False).

        A long-poll waits this way for its client to leave: one cancel scope instead of a second task. The
        scope is cancelled through *outside_tasks* when given (the scheduler's, see
        ``EngineScheduler.outside_tasks``): anyio's asyncio ``CancelScope.cancel`` formats ``repr()`` of the
        calling task into its reason, which a put from a task would otherwise pay on every polling message.
        """
        if self._entries or self.closed:
            return True
        with anyio.CancelScope() as scope:
            cancel = scope.cancel
            self._ready = cancel if outside_tasks is None else lambda: outside_tasks(cancel)
            try:
                await watch()
            finally:
                self._ready = None
            return False
        return True

    def notify(self, ready: Callable[[], object] | None) -> None:
        """Call *ready* on every put and on the close until cleared (``None``): how a held long-poll, which
        no task waits for, learns that it can be answered."""
        self._ready = ready

    def take(self, *, first_only: bool) -> list[OutboxEntry]:
        """Take the first entry, or all up to and including the first end entry; ``[]`` if empty."""
        batch = self._take(first_only=first_only)
        if self.on_take is not None:
            self.on_take()
        return batch

    def _take(self, *, first_only: bool) -> list[OutboxEntry]:
        entries = self._entries
        if not entries:
            return []
        if first_only:
            first = entries.pop(0)
            if first is self._end:
                self._ends -= 1
            return [first]
        if not self._ends:
            self._entries = []
            return entries
        end = self._end
        stop = next(i for i, entry in enumerate(entries) if entry is end) + 1
        self._ends -= 1
        batch = entries[:stop]
        del entries[:stop]
        return batch
