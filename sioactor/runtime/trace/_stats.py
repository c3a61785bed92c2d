"""Per-actor message counters: what the hub keeps instead of a record per ``ENQUEUED`` / ``HANDLED``.

A console does not need a JSON line per message to show rates, mailbox gauges and handling times; building
and shipping those lines cost a third of the echo benchmark's throughput. So the hub folds each per-message
event into its actor's ``Counters`` (a few integer and float updates on an object made once per actor) and
flushes the busy actors' counters as one ``StatsRecord`` a few times a second. Per-message records are still
built for the subscribers that asked for them, per actor: ``Counters.detail`` lists those subscribers,
matched once when the actor is first counted (and again whenever a subscriber's selection changes), so the
hot path tests one tuple, not a pattern.

Selections are glob patterns (``fnmatch``, case-sensitive) on actor names (``socket:/chat:*``, an engine
sid), ``kind:KIND`` for every actor of a kind (``kind:engine_session``), and ``*`` for everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace._record import ActorStats

if TYPE_CHECKING:
    from sioactor.runtime.trace._hub import TraceSubscription

__all__ = ("ALL_MESSAGES", "Counters", "selects")

ALL_MESSAGES = ("*",)
_ENQUEUED = TraceKind.ENQUEUED
Describe = Callable[[Any], Mapping[str, Any] | None]
MAX_PATTERNS = 256
MAX_PATTERN_LENGTH = 512


def selects(patterns: Iterable[str], actor: str, actor_kind: str) -> bool:
    """Whether any of *patterns* selects the actor *actor* of kind *actor_kind*."""
    for pattern in patterns:
        if pattern.startswith("kind:"):
            if pattern[len("kind:") :] == actor_kind:
                return True
        elif fnmatchcase(actor, pattern):
            return True
    return False


class Counters:
    """One actor's counters since the last flush, and who wants its per-message records.

    It is also the actor's ``MessageCounter`` (``TraceHub.message_counter``): while ``detail`` is empty the
    actor calls ``enqueued`` / ``handled`` instead of building events; while it is not, the actor builds the
    events and the hub folds them in with ``count``. ``on`` is false while no subscriber wants summaries.
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
        "last_raw",
        "messages",
        "on",
    )

    clock = staticmethod(time.perf_counter)  # handling times: ~0.06 us a read; the loop's costs ~0.8 us

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
        self.on = False
        self.dirty = False  # counted since the last flush (and so in the hub's dirty list)
        self._dirty = dirty  # puts it in the hub's dirty list
        self.messages: dict[str, int] = {}
        self.last: Any = None  # the last message's label, or (``last_raw``) the message itself
        self.last_raw = False
        self.depth: int | None = None
        self.depth_max: int | None = None
        self.enqueued_count = self.handled_count = 0
        self.handling = self.handling_max = 0.0

    def _zero(self) -> None:
        self.enqueued_count = self.handled_count = 0
        self.depth_max = None
        self.handling = self.handling_max = 0.0

    def enqueued(self, message: object, depth: int) -> None:
        """The actor accepted *message*; *depth* wait now (the hot path: attribute updates only)."""
        if self.on:
            self.enqueued_count += 1
            name = type(message).__name__
            messages = self.messages
            messages[name] = messages.get(name, 0) + 1
            self.last, self.last_raw = message, True  # labelled at flush time, not per message
            self._depth(depth)

    def handled(self, duration: float, depth: int) -> None:
        """The actor handled a message in *duration* seconds; *depth* wait now."""
        if self.on:
            self.handled_count += 1
            self.handling += duration
            if duration > self.handling_max:
                self.handling_max = duration
            self._depth(depth)

    def _depth(self, depth: int) -> None:
        self.depth = depth
        depth_max = self.depth_max
        if depth_max is None or depth > depth_max:
            self.depth_max = depth
        if not self.dirty:
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
            self.last_raw = False
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
            self._depth(depth)
        elif not self.dirty:
            self.dirty = True
            self._dirty(self)

    def _label(self) -> str | None:
        # The last message's name for the console: its event name if the actor's trace_fields has one.
        last = self.last
        if self.last_raw:
            self.last_raw = False
            fields = None
            if self.describe is not None:
                try:
                    fields = self.describe(last)
                except Exception:  # a hook point must not raise; the label is only a nicety
                    fields = None
            last = self.last = type(last).__name__ if not fields else fields.get("event", type(last).__name__)
        return None if last is None else str(last)

    def take(self) -> ActorStats:
        """The counts since the last ``take``, which starts a new interval. The message-type keys stay
        (zeroed): an actor's few message types are not re-inserted every interval.
        """
        messages = {name: n for name, n in self.messages.items() if n}
        for name in messages:
            self.messages[name] = 0
        stats = ActorStats(
            actor=self.actor,
            actor_kind=self.actor_kind,
            enqueued=self.enqueued_count,
            handled=self.handled_count,
            messages=messages or None,
            depth=self.depth,
            depth_max=self.depth_max,
            capacity=self.capacity,
            handling=self.handling,
            handling_max=self.handling_max,
            last=self._label(),
        )
        self._zero()
        self.dirty = False
        return stats
