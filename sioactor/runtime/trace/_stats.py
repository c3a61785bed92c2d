"""Per-actor message counters: what the hub keeps instead of a record per ``ENQUEUED`` / ``HANDLED``.

A console does not need a JSON line per message to show rates, mailbox gauges and handling times; building
and shipping those lines cost a third of the echo benchmark's throughput. So the hub folds each per-message
event into its actor's ``Counters`` (a few integer and float updates on an object made once per actor) and
flushes the busy actors' counters as one ``StatsRecord`` a few times a second. Per-message records are still
built for the subscribers that asked for them, per actor: ``Counters.detail`` lists those subscribers,
matched once when the actor is first counted (and again whenever a subscriber's selection changes), so the
hot path tests one tuple, not a pattern (the patterns are in ``_selection.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace._record import ActorStats

if TYPE_CHECKING:
    from sioactor.runtime.trace._subscription import TraceSubscription

__all__ = ("Counters",)

_ENQUEUED = TraceKind.ENQUEUED
Describe = Callable[[Any], Mapping[str, Any] | None]


class Counters:
    """One actor's counters since the last flush, and who wants its per-message records.

    It is also the actor's ``MessageCounter`` (``TraceHub.message_counter``): while ``detail`` is empty the
    actor calls ``enqueued`` / ``handled`` instead of building events; while it is not, the actor builds the
    events and the hub folds them in with ``count``. ``on`` is false while no subscriber wants either.
    """

    __slots__ = (
        "_dirty",
        "actor",
        "actor_kind",
        "capacity",
        "depth",
        "depth_max",
        "describe",
        "detail",
        "dirty",
        "enqueued_count",
        "handled_count",
        "handling",
        "handling_max",
        "last",
        "last_message",
        "messages",
        "on",
        "totals",
    )

    clock = staticmethod(time.perf_counter)  # handling times: far cheaper a read than the loop's clock

    def __init__(
        self,
        actor: str,
        actor_kind: str,
        dirty: Callable[[Counters], None],
        capacity: int | None = None,
        describe: Describe | None = None,
    ) -> None:
        self.actor = actor
        self.actor_kind = actor_kind
        self.capacity = capacity
        self.describe = describe  # the actor's trace_fields: labels ``last`` at flush time
        self.detail: tuple[TraceSubscription, ...] = ()
        self.on = False  # the actor reports messages: some subscriber wants counts or these records
        self.dirty = False  # counted since the last flush (and so in the hub's dirty list)
        self._dirty = dirty  # puts it in the hub's dirty list
        self.messages: dict[str | type, int] = {}  # names from events, classes from ``enqueued``
        self.last: Any = None  # the last message's label
        self.last_message: object = None  # or the last message itself, not labelled yet
        self.depth: int | None = None
        self.depth_max = -1  # none seen in this interval
        self.enqueued_count = self.handled_count = 0
        self.handling = self.handling_max = 0.0
        self.totals: ActorStats | None = None  # what every ``take`` so far added up to

    def _zero(self) -> None:
        self.enqueued_count = self.handled_count = 0
        self.depth_max = -1
        self.handling = self.handling_max = 0.0

    def enqueued(self, message: object, depth: int) -> None:
        """The actor accepted *message*; *depth* wait now (the hot path: attribute updates only)."""
        self.enqueued_count += 1
        try:  # keyed by the class, named at flush time; the keys stay, so a miss happens once per type
            self.messages[type(message)] += 1
        except KeyError:
            self.messages[type(message)] = 1
        self.last_message = message  # labelled at flush time, too
        self.depth = depth
        if depth > self.depth_max:
            self.depth_max = depth
        if not self.dirty:
            self._mark()

    def queued(self, message: object, depth: int) -> None:
        """As ``enqueued`` without the count by type (an engine session's packets are all of one sort)."""
        self.enqueued_count += 1
        self.last_message = message
        self.depth = depth
        if depth > self.depth_max:
            self.depth_max = depth
        if not self.dirty:
            self._mark()

    def handled(self, duration: float, depth: int) -> None:
        """The actor handled a message in *duration* seconds; *depth* wait now."""
        self.handled_count += 1
        self.handling += duration
        if duration > self.handling_max:
            self.handling_max = duration
        self.depth = depth
        if depth > self.depth_max:
            self.depth_max = depth
        if not self.dirty:
            self._mark()

    def _mark(self) -> None:
        self.dirty = True
        self._dirty(self)

    def count(self, event: TraceEvent) -> None:
        """Fold in one ``ENQUEUED`` or ``HANDLED`` event."""
        if event.kind is _ENQUEUED:
            self.enqueued_count += 1
            name = event.message
            if name is not None:
                self.messages[name] = self.messages.get(name, 0) + 1
            fields = event.fields
            self.last = name if not fields else fields.get("event", name)
            self.last_message = None
        else:
            self.handled_count += 1
            duration = event.duration
            if duration is not None:
                self.handling += duration
                if duration > self.handling_max:
                    self.handling_max = duration
        if event.capacity is not None:
            self.capacity = event.capacity
        depth = event.depth
        if depth is not None:
            self.depth = depth
            if depth > self.depth_max:
                self.depth_max = depth
        if not self.dirty:
            self._mark()

    def _label(self) -> str | None:
        # The last message's name for the console: its event name if the actor's trace_fields has one.
        message = self.last_message
        if message is not None:
            self.last_message = None
            name = type(message).__name__
            fields = None
            if self.describe is not None:
                try:
                    fields = self.describe(message)
                except Exception:  # a hook point must not raise; the label is only a nicety
                    fields = None
            self.last = name if not fields else fields.get("event", name)
        return None if self.last is None else str(self.last)

    def take(self) -> ActorStats:
        """The counts since the last ``take``, which starts a new interval. The message-type keys stay
        (zeroed): an actor's few message types are not re-inserted every interval.
        """
        counted = [key for key, n in self.messages.items() if n]
        messages: dict[str, int] = {}
        for key in counted:
            name = key if isinstance(key, str) else key.__name__
            messages[name] = messages.get(name, 0) + self.messages[key]
            self.messages[key] = 0
        stats = ActorStats(
            actor=self.actor,
            actor_kind=self.actor_kind,
            enqueued=self.enqueued_count,
            handled=self.handled_count,
            messages=messages or None,
            depth=self.depth,
            depth_max=None if self.depth_max < 0 else self.depth_max,
            capacity=self.capacity,
            handling=self.handling,
            handling_max=self.handling_max,
            last=self._label(),
        )
        self._add_to_totals(stats)
        self._zero()
        self.dirty = False
        return stats

    def _add_to_totals(self, stats: ActorStats) -> None:
        totals = self.totals
        if totals is None:
            self.totals = ActorStats(actor=self.actor, actor_kind=self.actor_kind, capacity=self.capacity)
            totals = self.totals
        totals.enqueued += stats.enqueued
        totals.handled += stats.handled
        totals.handling += stats.handling
        totals.handling_max = max(totals.handling_max, stats.handling_max)
        totals.depth, totals.capacity, totals.last = stats.depth, stats.capacity, stats.last
