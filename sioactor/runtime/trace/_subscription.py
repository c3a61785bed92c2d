"""``TraceSubscription``: one subscriber's bounded stream of trace items, and what it asked the hub for.

A subscription asks for two things: per-message records (``ENQUEUED`` / ``HANDLED``) of the actors its
``messages`` patterns select (``*``: every actor; none: no per-message records), and ``summaries``: the
``StatsRecord`` the hub flushes a few times a second with every busy actor's counters. Every other record
(spawned, stopped, rooms, acks, failures ...) reaches every subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from types import TracebackType
from typing import Protocol, Self, final

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor.runtime.trace._record import TraceItem
from sioactor.runtime.trace._selection import MAX_PATTERN_LENGTH, MAX_PATTERNS, selects

__all__ = ("SubscriptionHub", "TraceSubscription")


class SubscriptionHub(Protocol):
    """What a subscription needs from the hub that made it (``TraceHub``): to be told of its changes."""

    def _reroute(self) -> None:
        """The subscription's selection changed: recompute who gets which actor's records."""

    def _unsubscribe(self, subscription: TraceSubscription) -> None:
        """Stop offering records to *subscription*."""


@final
class TraceSubscription:
    """One subscriber's bounded stream of ``TraceRecord`` / ``StatsRecord``; iterate it with ``async for``.

    Use as a context manager (``with hub.subscribe() as sub:``): leaving it unsubscribes and closes it.

    Attributes:
        dropped: items lost because the buffer was full, since subscribing.
        messages: the patterns selecting the actors whose per-message records this subscriber gets.
        summaries: whether it gets the hub's ``StatsRecord`` flushes.
    """

    __slots__ = ("_hub", "_receive", "_send", "_unreported", "dropped", "messages", "summaries")

    def __init__(self, hub: SubscriptionHub, buffer: int, messages: Iterable[str], summaries: bool) -> None:
        self._hub = hub
        self._send: MemoryObjectSendStream[TraceItem]
        self._receive: MemoryObjectReceiveStream[TraceItem]
        self._send, self._receive = anyio.create_memory_object_stream[TraceItem](buffer)
        self.dropped = 0
        self._unreported = 0
        self.messages = _checked(messages)
        self.summaries = summaries

    def wants(self, actor: str, actor_kind: str) -> bool:
        """Whether this subscriber asked for the per-message records of *actor*."""
        return selects(self.messages, actor, actor_kind)

    def select(self, messages: Iterable[str]) -> None:
        """Ask for the per-message records of the actors *messages* select instead (at most
        ``MAX_PATTERNS`` patterns of ``MAX_PATTERN_LENGTH`` characters: the rest are ignored).
        """
        self.messages = _checked(messages)
        self._hub._reroute()

    def offer(self, item: TraceItem) -> None:
        """Queue *item*, or count it as dropped; never waits."""
        try:
            self._send.send_nowait(item)
        except anyio.WouldBlock:
            self.dropped += 1
            self._unreported += 1
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._hub._unsubscribe(self)

    def take_lost(self) -> int:
        """Items dropped since the last call: a sink reports them in its own stream (a ``lost`` line)."""
        lost, self._unreported = self._unreported, 0
        return lost

    def receive_nowait(self) -> TraceItem:
        """The next queued item. Raises ``anyio.WouldBlock`` when none is queued."""
        return self._receive.receive_nowait()

    async def receive(self) -> TraceItem:
        """The next item, waiting for one. Raises ``anyio.EndOfStream`` once closed and drained."""
        return await self._receive.receive()

    def end(self) -> None:
        """Unsubscribe but keep what is queued: the reader drains it, then its iteration ends."""
        self._hub._unsubscribe(self)
        self._send.close()

    def close(self) -> None:
        """Unsubscribe and close the stream; items still queued are discarded."""
        self._hub._unsubscribe(self)
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> TraceItem:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _checked(messages: Iterable[str]) -> tuple[str, ...]:
    # Patterns come from a console over the endpoint: bounded, so matching one actor stays cheap.
    kept = (p for p in messages if isinstance(p, str) and 0 < len(p) <= MAX_PATTERN_LENGTH)
    return tuple(islice(kept, MAX_PATTERNS))
