"""Credit-based flow control of a relayed WebSocket, each way: at most ``WINDOW`` frames in flight.

A relayed WebSocket crosses the bus twice (client → entry → owner, owner → entry → client), and pub/sub
pushes whatever is published. Without a bound, a client that sends faster than the owner handles would
fill the owner's queue, and an owner that writes faster than the client reads would fill the entry's. So
each sender spends one credit per frame and waits when it has none (the entry stops reading its client, so
TCP pushes back on it; the owner's writer waits, so its session's outbox fills and its slow-consumer policy
and heartbeat apply, as for a local client); each taker returns credit in batches as it takes frames.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

__all__ = ("GRANT_EVERY", "WINDOW", "CreditWindow", "TakenFrames")

WINDOW = 256
"""Frames a side may send before the other has taken them."""

GRANT_EVERY = 64
"""The taker returns credit after this many frames (fewer messages than one per frame)."""


class CreditWindow:
    """The frames one side may still send; one task spends, the bus's handler grants."""

    __slots__ = ("_available", "_more")

    def __init__(self, size: int = WINDOW) -> None:
        self._available = size
        self._more: anyio.Event | None = None

    async def spend(self) -> None:
        """Take one credit, waiting for a grant when none is left."""
        while self._available <= 0:
            self._more = anyio.Event()
            await self._more.wait()
        self._available -= 1

    def grant(self, frames: int) -> None:
        """The other side took *frames* more."""
        self._available += frames
        more, self._more = self._more, None
        if more is not None:
            more.set()


class TakenFrames:
    """Counts the frames taken from the other side and returns credit every ``GRANT_EVERY``."""

    __slots__ = ("_count", "_grant")

    def __init__(self, grant: Callable[[int], object]) -> None:
        self._grant = grant
        self._count = 0

    def took(self) -> None:
        """One more frame taken."""
        self._count += 1
        if self._count >= GRANT_EVERY:
            self._grant(self._count)
            self._count = 0
