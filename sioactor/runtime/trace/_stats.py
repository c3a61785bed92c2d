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

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace._record import ActorStats

if TYPE_CHECKING:
    from sioactor.runtime.trace._hub import TraceSubscription

__all__ = ("ALL_MESSAGES", "Counters", "selects")

ALL_MESSAGES = ("*",)
_ENQUEUED = TraceKind.ENQUEUED
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
    """One actor's counters since the last flush, and who wants its per-message records."""

    __slots__ = (
        "actor",
        "actor_kind",
        "capacity",
        "depth",
        "depth_max",
        "detail",
        "dirty",
        "enqueued",
        "handled",
        "handling",
        "handling_max",
        "last",
        "messages",
    )

    def __init__(self, actor: str, actor_kind: str) -> None:
        self.actor = actor
        self.actor_kind = actor_kind
        self.capacity: int | None = None
        self.detail: tuple[TraceSubscription, ...] = ()
        self.dirty = False  # counted since the last flush (and so in the hub's dirty list)
        self.messages: dict[str, int] = {}
        self.last: Any = None
        self.depth: int | None = None
        self.depth_max: int | None = None
        self.enqueued = self.handled = 0
        self.handling = self.handling_max = 0.0

    def _zero(self) -> None:
        self.enqueued = self.handled = 0
        self.depth_max = None
        self.handling = self.handling_max = 0.0

    def count(self, event: TraceEvent) -> None:
        """Fold in one ``ENQUEUED`` or ``HANDLED`` event."""
        if event.kind is _ENQUEUED:
            self.enqueued += 1
            name = event.message
            if name is not None:
                self.messages[name] = self.messages.get(name, 0) + 1
            self.last = name
        else:
            self.handled += 1
            duration = event.duration
            if duration is not None:
                self.handling += duration
                if duration > self.handling_max:
                    self.handling_max = duration
        depth = event.depth
        if depth is not None:
            self.depth = depth
            if self.depth_max is None or depth > self.depth_max:
                self.depth_max = depth
        if event.capacity is not None:
            self.capacity = event.capacity
        fields = event.fields
        if fields and event.kind is _ENQUEUED:
            self.last = fields.get("event", self.last)

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
            enqueued=self.enqueued,
            handled=self.handled,
            messages=messages or None,
            depth=self.depth,
            depth_max=self.depth_max,
            capacity=self.capacity,
            handling=self.handling,
            handling_max=self.handling_max,
            last=None if self.last is None else str(self.last),
        )
        self._zero()
        self.dirty = False
        return stats
