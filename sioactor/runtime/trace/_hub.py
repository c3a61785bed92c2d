"""``TraceHub``: the ``Tracer`` a server is given. It stamps each event and fans it out to subscribers.

The hub runs on the hot path of every actor, so ``record`` never awaits and never raises: with no subscriber
it returns after one check; with subscribers it builds one ``TraceRecord`` and hands it to each subscriber's
bounded stream with ``send_nowait``. A subscriber that does not keep up loses events, counted per subscriber
(``dropped``), instead of slowing the server: the console says how many it missed.

Payloads are not traced unless the hub was built with ``trace_payloads=True``: the ``fields`` keys in
``PAYLOAD_FIELDS`` are removed otherwise. Auth (``SECRET_FIELDS``) is always removed.

The snapshot for late consoles is bounded twice: at most ``_STATE_PER_ACTOR`` records per actor, and at most
``snapshot_actors`` actors. An actor whose ``STOPPED`` is never traced (a tracer attached mid-life, a task
killed without teardown) would otherwise be kept forever; past the bound the oldest-spawned is forgotten.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Self, final

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace._record import TraceRecord

__all__ = ("PAYLOAD_FIELDS", "SECRET_FIELDS", "TraceHub", "TraceSubscription")

PAYLOAD_FIELDS = frozenset({"payload", "args", "data"})
SECRET_FIELDS = frozenset({"auth", "token", "password", "headers", "cookie"})

DEFAULT_BUFFER = 4096
DEFAULT_SNAPSHOT_ACTORS = 100_000
_ENQUEUED, _HANDLED, _STOPPED = TraceKind.ENQUEUED, TraceKind.HANDLED, TraceKind.STOPPED
_STATE_PER_ACTOR = 32


@final
class TraceSubscription:
    """One subscriber's bounded stream of ``TraceRecord``; iterate it with ``async for``.

    Use as a context manager (``with hub.subscribe() as sub:``): leaving it unsubscribes and closes it.

    Attributes:
        dropped: records lost because the buffer was full, since subscribing.
    """

    __slots__ = ("_hub", "_receive", "_send", "_unreported", "dropped")

    def __init__(self, hub: TraceHub, buffer: int) -> None:
        self._hub = hub
        self._send: MemoryObjectSendStream[TraceRecord]
        self._receive: MemoryObjectReceiveStream[TraceRecord]
        self._send, self._receive = anyio.create_memory_object_stream[TraceRecord](buffer)
        self.dropped = 0
        self._unreported = 0

    def offer(self, record: TraceRecord) -> None:
        """Queue *record*, or count it as dropped; never waits."""
        try:
            self._send.send_nowait(record)
        except anyio.WouldBlock:
            self.dropped += 1
            self._unreported += 1
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._hub._unsubscribe(self)

    def take_lost(self) -> int:
        """Records dropped since the last call: a sink reports them in its own stream (a ``lost`` line)."""
        lost, self._unreported = self._unreported, 0
        return lost

    def receive_nowait(self) -> TraceRecord:
        """The next queued record. Raises ``anyio.WouldBlock`` when none is queued."""
        return self._receive.receive_nowait()

    async def receive(self) -> TraceRecord:
        """The next record, waiting for one. Raises ``anyio.EndOfStream`` once closed and drained."""
        return await self._receive.receive()

    def end(self) -> None:
        """Unsubscribe but keep what is queued: the reader drains it, then its iteration ends."""
        self._hub._unsubscribe(self)
        self._send.close()

    def close(self) -> None:
        """Unsubscribe and close the stream; records still queued are discarded."""
        self._hub._unsubscribe(self)
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> TraceRecord:
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


@final
class TraceHub:
    """The server's tracer: pass it as ``tracer=`` to ``SocketIo`` / ``EngineServer`` / ``Supervisor``.

    Args:
        trace_payloads: keep payload fields (``PAYLOAD_FIELDS``) in the events; secrets are removed anyway.
        clock: the wall clock that stamps records (tests pass a fake one).
        snapshot_actors: how many live actors ``snapshot`` remembers (the oldest-spawned are forgotten).
    """

    __slots__ = (
        "_clock",
        "_live",
        "_seq",
        "_subscribers",
        "messages_wanted",
        "snapshot_actors",
        "trace_payloads",
    )

    def __init__(
        self,
        *,
        trace_payloads: bool = False,
        clock: Callable[[], float] = time.time,
        snapshot_actors: int = DEFAULT_SNAPSHOT_ACTORS,
    ) -> None:
        self.trace_payloads = trace_payloads
        self.snapshot_actors = snapshot_actors
        self._clock = clock
        self._seq = 0
        self._subscribers: tuple[TraceSubscription, ...] = ()
        # Read by the actors' hook points (``wants_messages``): no subscriber, no per-message events built.
        self.messages_wanted = False
        self._live: dict[str, list[TraceRecord]] = {}

    @property
    def subscribers(self) -> int:
        """How many subscribers are attached."""
        return len(self._subscribers)

    def subscribe(self, *, buffer: int = DEFAULT_BUFFER) -> TraceSubscription:
        """A new subscriber receiving every record from now on; at most *buffer* wait unread."""
        subscription = TraceSubscription(self, buffer)
        self._subscribers = (*self._subscribers, subscription)
        self.messages_wanted = True
        return subscription

    def _unsubscribe(self, subscription: TraceSubscription) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s is not subscription)
        self.messages_wanted = bool(self._subscribers)

    def snapshot(self) -> list[TraceRecord]:
        """The state-changing records (spawned, upgrade, rooms ...) of the actors still running, oldest
        first: what a console attaching late replays to see the actors that already exist.
        """
        return sorted((r for records in self._live.values() for r in records), key=lambda r: r.seq)

    def record(self, event: TraceEvent) -> None:
        """Stamp *event* and offer it to every subscriber. Never blocks, never raises."""
        kind = event.kind
        subscribers = self._subscribers
        # Per-message events (the hot path) go only to subscribers; the rare state changes are also kept
        # per live actor for ``snapshot``.
        if kind is _ENQUEUED or kind is _HANDLED:
            if not subscribers:
                return
        elif kind is _STOPPED:
            self._live.pop(event.actor, None)
        if event.fields:
            event = self._redact(event)
        self._seq += 1
        record = TraceRecord(time=self._clock(), seq=self._seq, event=event)
        if kind is not _ENQUEUED and kind is not _HANDLED and kind is not _STOPPED:
            self._remember(record)
        for subscription in subscribers:
            subscription.offer(record)

    def _remember(self, record: TraceRecord) -> None:
        kept = self._live.get(record.event.actor)
        if kept is None:
            if record.event.kind is not TraceKind.SPAWNED:
                return  # an actor that never reports its start never reports its stop either
            if len(self._live) >= self.snapshot_actors:
                del self._live[next(iter(self._live))]  # dicts keep insertion order: the oldest spawn
            kept = self._live[record.event.actor] = []
        if len(kept) >= _STATE_PER_ACTOR:
            del kept[1]  # keep the SPAWNED record, forget the oldest change after it
        kept.append(record)

    def _redact(self, event: TraceEvent) -> TraceEvent:
        assert event.fields is not None
        hidden = SECRET_FIELDS if self.trace_payloads else SECRET_FIELDS | PAYLOAD_FIELDS
        if hidden.isdisjoint(event.fields):
            return event
        return replace(event, fields={k: v for k, v in event.fields.items() if k not in hidden})
