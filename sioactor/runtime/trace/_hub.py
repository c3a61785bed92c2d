"""``TraceHub``: the ``Tracer`` a server is given. It stamps, counts and fans out events.

The hub runs on the hot path of every actor, so ``record`` never awaits and never raises. With no subscriber
it returns after one check. The per-message kinds (``ENQUEUED``, ``HANDLED``: three per echoed event) are
folded into per-actor counters (see ``_stats.py``) that ``flush`` sends as a ``StatsRecord`` to the
subscribers that want summaries, a few times a second (``run_stats``). Each actor gets its ``Counters`` when
it opens (``message_counter``) and updates them itself, so a counted message builds no ``TraceEvent`` and
does not reach ``record`` at all; the actor builds the event (and ``record`` counts it) only while some
subscriber asked for that actor's per-message records (``messages`` patterns; the default ``subscribe()``
asks for all, as a file recorder does). Every other kind becomes a ``TraceRecord`` for every
subscriber. Each goes into a subscriber's bounded stream with ``send_nowait``; a subscriber that does not keep
up loses items, counted per subscriber (``dropped``), instead of slowing the server.

Payloads are not traced unless the hub was built with ``trace_payloads=True``: the ``fields`` keys in
``PAYLOAD_FIELDS`` are removed otherwise. Auth (``SECRET_FIELDS``) is always removed.

Bounds: the snapshot for late consoles keeps at most ``_STATE_PER_ACTOR`` records per actor and at most
``snapshot_actors`` actors; the counters are kept for at most ``snapshot_actors`` actors too. An actor whose
``STOPPED`` is never traced would otherwise be kept forever; past the bound the oldest is forgotten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import final

import anyio

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace._record import ActorStats, StatsRecord, TraceRecord
from sioactor.runtime.trace._selection import ALL_MESSAGES
from sioactor.runtime.trace._stats import Counters, Describe
from sioactor.runtime.trace._subscription import TraceSubscription

__all__ = ("PAYLOAD_FIELDS", "SECRET_FIELDS", "STATS_INTERVAL", "TraceHub", "TraceSubscription")

PAYLOAD_FIELDS = frozenset({"payload", "args", "data"})
SECRET_FIELDS = frozenset({"auth", "token", "password", "headers", "cookie"})

DEFAULT_BUFFER = 4096
DEFAULT_SNAPSHOT_ACTORS = 100_000
STATS_INTERVAL = 0.25
_STATS_PER_RECORD = 256
_ENQUEUED, _HANDLED, _STOPPED = TraceKind.ENQUEUED, TraceKind.HANDLED, TraceKind.STOPPED
_STATE_PER_ACTOR = 32


@final
class TraceHub:
    """The server's tracer: pass it as ``tracer=`` to ``SocketIo`` / ``EngineServer`` / ``Supervisor``.

    Args:
        trace_payloads: keep payload fields (``PAYLOAD_FIELDS``) in the events; secrets are removed anyway.
        clock: the wall clock that stamps records (tests pass a fake one).
        snapshot_actors: how many live actors ``snapshot`` and the counters remember (oldest forgotten).
    """

    __slots__ = (
        "_clock",
        "_counters",
        "_dirty",
        "_flushed",
        "_flusher",
        "_kinds",
        "_live",
        "_seq",
        "_subscribers",
        "_summarising",
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
        self._counters: dict[str, Counters] = {}
        self._dirty: list[Counters] = []
        self._flushed = 0.0  # when the counters were last flushed (or began, for a first summariser)
        self._flusher: object | None = None
        self._summarising = False  # some subscriber wants summaries: count per-message events
        self._kinds: dict[TraceKind, int] = {}  # records of each kind but the per-message ones, since start

    @property
    def subscribers(self) -> int:
        """How many subscribers are attached."""
        return len(self._subscribers)

    def subscribe(
        self, *, buffer: int = DEFAULT_BUFFER, messages: Iterable[str] = ALL_MESSAGES, summaries: bool = False
    ) -> TraceSubscription:
        """A new subscriber receiving records from now on; at most *buffer* wait unread.

        Args:
            buffer: the subscription's bound, in items.
            messages: patterns selecting the actors whose ``ENQUEUED`` / ``HANDLED`` records it gets
                (``("*",)``: all; ``()``: none; see ``_selection.py``); it can change them with ``select``.
            summaries: also get the counters of every busy actor as ``StatsRecord``s (while something runs
                ``run_stats``). The first items are then ``totals`` ``StatsRecord``s with each actor's
                counts since summaries began (one empty record if none): counts come as stats, and
                subscribers that came at different times count alike.
        """
        subscription = TraceSubscription(self, buffer, messages, summaries)
        if summaries:
            now = self._clock()
            if not self._summarising:
                self._flushed = now
            for item in self._totals_records(now):
                subscription.offer(item)
        self._subscribers = (*self._subscribers, subscription)
        self.messages_wanted = True
        self._reroute()
        return subscription

    def _unsubscribe(self, subscription: TraceSubscription) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s is not subscription)
        self.messages_wanted = bool(self._subscribers)
        self._reroute()

    def _reroute(self) -> None:
        # Subscribers or their selections changed: recompute, once per actor, who gets its message records.
        self._summarising = any(s.summaries for s in self._subscribers)
        if not self._summarising:
            self._forget_counts()
        for counters in self._counters.values():
            self._route(counters)

    def _route(self, counters: Counters) -> None:
        counters.detail = tuple(s for s in self._subscribers if s.wants(counters.actor, counters.actor_kind))
        counters.on = self._summarising or bool(counters.detail)

    def message_counter(
        self, actor: str, actor_kind: str, capacity: int | None = None, describe: Describe | None = None
    ) -> Counters:
        """The counters of a new actor, which it updates itself per message (see ``MessageCounter``): no
        event is built for a message unless a subscriber selected the actor. *describe* (its
        ``trace_fields``) labels the last message of each flush.
        """
        return self._register(Counters(actor, actor_kind, self._dirty_append, capacity, describe))

    def _dirty_append(self, counters: Counters) -> None:
        self._dirty.append(counters)

    def totals(self) -> dict[str, int]:
        """How many records of each kind (but ``enqueued`` and ``handled``) the hub took since it began."""
        return {kind.value: count for kind, count in self._kinds.items()}

    def _totals_records(self, now: float) -> list[StatsRecord]:
        totals = [replace(c.totals) for c in self._counters.values() if c.totals is not None]
        chunks = [tuple(totals[i : i + _STATS_PER_RECORD]) for i in range(0, len(totals), _STATS_PER_RECORD)]
        return [StatsRecord(time=now, interval=0.0, actors=chunk, totals=True) for chunk in chunks or [()]]

    def snapshot(self) -> list[TraceRecord]:
        """The state-changing records (spawned, upgrade, rooms ...) of the actors still running, oldest
        first: what a console attaching late replays to see the actors that already exist.
        """
        return sorted((r for records in self._live.values() for r in records), key=lambda r: r.seq)

    def record(self, event: TraceEvent) -> None:
        """Count or stamp *event* and offer it to the subscribers that want it. Never blocks, never raises."""
        kind = event.kind
        subscribers = self._subscribers
        if kind is _ENQUEUED or kind is _HANDLED:
            if not subscribers:
                return
            counters = self._counters.get(event.actor)
            if counters is None:
                counters = self._register(Counters(event.actor, event.actor_kind, self._dirty_append))
            if self._summarising:
                counters.count(event)
            if counters.detail:
                self._offer(event, counters.detail)
            return
        self._kinds[kind] = self._kinds.get(kind, 0) + 1
        if kind is _STOPPED:
            self._live.pop(event.actor, None)
            self._stopped(event.actor)
        record = self._offer(event, subscribers)
        if kind is not _STOPPED:
            self._remember(record)

    def _offer(self, event: TraceEvent, subscribers: tuple[TraceSubscription, ...]) -> TraceRecord:
        if event.fields:
            event = self._redact(event)
        self._seq += 1
        record = TraceRecord(time=self._clock(), seq=self._seq, event=event)
        for subscription in subscribers:
            subscription.offer(record)
        return record

    def _register(self, counters: Counters) -> Counters:
        self._route(counters)
        if len(self._counters) >= self.snapshot_actors:
            # The oldest counted: it may never stop. Its actor may still hold it: it counts no more.
            oldest = self._counters.pop(next(iter(self._counters)))
            oldest.on, oldest.detail = False, ()
        self._counters[counters.actor] = counters
        return counters

    def _stopped(self, actor: str) -> None:
        # An actor's last counts go out before its STOPPED record, so a reader never sees them after it.
        counters = self._counters.pop(actor, None)
        if counters is not None and counters.dirty:
            now = self._clock()
            self._send_stats(now, now - self._flushed, [counters.take()])

    # --- summaries --------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Send the counters of the actors busy since the last flush to the subscribers that want summaries,
        and start counting anew. ``run_stats`` calls it; tests may call it directly.
        """
        dirty, self._dirty = self._dirty, []
        now = self._clock()
        interval, self._flushed = now - self._flushed, now
        self._send_stats(now, interval, [c.take() for c in dirty if c.dirty])

    def _forget_counts(self) -> None:
        # Nobody wants summaries: counting stops, and the totals start again with the next subscriber.
        for counters in self._dirty:
            counters.take()
        self._dirty = []
        for counters in self._counters.values():
            counters.totals = None

    def _send_stats(self, now: float, interval: float, stats: list[ActorStats]) -> None:
        receivers = [s for s in self._subscribers if s.summaries]
        if not stats or not receivers:
            return
        for start in range(0, len(stats), _STATS_PER_RECORD):
            chunk = tuple(stats[start : start + _STATS_PER_RECORD])
            item = StatsRecord(time=now, interval=max(interval, 0.0), actors=chunk)
            for subscription in receivers:
                subscription.offer(item)

    async def run_stats(self, *, interval: float = STATS_INTERVAL) -> None:
        """Flush every *interval* seconds until cancelled. Every sink that wants summaries runs one (the
        endpoint, a summarising recorder); while several run, one of them flushes.
        """
        me = object()
        try:
            while True:
                await anyio.sleep(interval)
                if self._flusher is None:
                    self._flusher = me
                if self._flusher is me and self._dirty:
                    self.flush()
        finally:
            if self._flusher is me:
                self._flusher = None

    # --- state for late consoles ------------------------------------------------------------------------

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
