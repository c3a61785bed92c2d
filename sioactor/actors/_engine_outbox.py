"""The engine session's outbox: a list of entries, and an event that exists only while a reader waits.

An anyio memory stream would do the same job, but an idle WebSocket session keeps its reader parked on it,
and a parked receive costs about 3 KB; ten thousand idle sessions make that 30 MB. Here an empty outbox is
an empty list (56 bytes) and a flag; the event is created by the waiting reader and dropped when it wakes.
The bound (``max_buffer_size`` plus slack for control packets) is the session's to enforce: ``put`` never
refuses, so a control packet can always be queued behind the messages it must follow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from sioactor.protocol.engineio import OutboxEntry

__all__ = ("Outbox",)


class Outbox:
    """Entries waiting for the transport, in order; one reader at a time (a poll or the WebSocket writer)."""

    __slots__ = ("_entries", "_ready", "closed", "on_put")

    def __init__(self) -> None:
        self._entries: list[OutboxEntry] = []
        # How to wake the waiting reader: an event's set, or the cancel of the scope around its watch.
        self._ready: Callable[[], object] | None = None
        self.closed = False
        # Called on every put when no reader waits: how a session without a reading task asks to be flushed.
        self.on_put: Callable[[], object] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self) -> OutboxEntry:
        """The oldest entry (the outbox must not be empty)."""
        return self._entries[0]

    def put(self, entry: OutboxEntry) -> None:
        """Append *entry* and wake the waiting reader, if any."""
        self._entries.append(entry)
        if self._ready is not None:
            self._ready()
        elif self.on_put is not None:
            self.on_put()

    def drop_oldest(self) -> None:
        """Forget the oldest entry (the ``drop_oldest`` slow-consumer policy)."""
        if self._entries:
            del self._entries[0]

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

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
            ready = anyio.Event()
            self._ready = ready.set
            try:
                await ready.wait()
            finally:
                self._ready = None
        return True

    async def wait_while(self, watch: Callable[[], Awaitable[object]]) -> bool:
        """Run *watch* until an entry is queued or the outbox closes (True), unless it returns first (False).

        A long-poll waits this way for its client to leave: one cancel scope instead of a second task.
        """
        if self._entries or self.closed:
            return True
        with anyio.CancelScope() as scope:
            self._ready = scope.cancel
            try:
                await watch()
            finally:
                self._ready = None
            return False
        return True

    def take(self, *, first_only: bool, end: OutboxEntry) -> list[OutboxEntry]:
        """Take the first entry, or all up to and including *end* (the close packet); ``[]`` if empty."""
        entries = self._entries
        if not entries:
            return []
        if first_only:
            return [entries.pop(0)]
        try:
            stop = entries.index(end) + 1
        except ValueError:
            self._entries = []
            return entries
        batch = entries[:stop]
        del entries[:stop]
        return batch
