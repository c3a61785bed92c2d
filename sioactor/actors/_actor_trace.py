"""What an actor's trace says, and how it says it: the events of its life and of its messages.

``Actor`` inherits it; it is split out only so each file reads on its own. With no tracer attached, every
hook point costs one branch and builds nothing (see ``_trace.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import anyio

from sioactor.actors._mailbox import Mailbox
from sioactor.actors._ref import ActorRef, StopReason
from sioactor.actors._trace import (
    MessageCounter,
    TraceEvent,
    TraceKind,
    Tracer,
    message_counter,
    wants_messages,
)

__all__ = ("ActorTracing",)

M = TypeVar("M")


class ActorTracing(Generic[M]):
    """The trace hooks a subclass may override, and the reporting ``Actor`` does with them."""

    # Set by Actor.
    name: str
    kind: ClassVar[str]
    mailbox_size: int
    _tracer: Tracer | None
    _counter: MessageCounter | None

    # -- what the trace says (called only while a tracer is attached) -------------------------------------

    def trace_fields(self, message: M) -> Mapping[str, Any] | None:
        """Extra ``fields`` of the events about *message* (enqueued, handled, dropped, refused): e.g. an
        event name. Must be cheap and must not raise. The default adds none.
        """
        return None

    def spawn_fields(self) -> Mapping[str, Any] | None:
        """Extra ``fields`` of the ``SPAWNED`` event (e.g. the connection an actor fronts)."""
        return None

    def stop_detail(self, reason: StopReason) -> str:
        """The ``detail`` of the ``STOPPED`` event: the reason's value, unless the actor knows better."""
        return reason.value

    def _make_ref(self, mailbox: Mailbox[M], tracer: Tracer | None) -> ActorRef[M]:
        # The ref, with the tracer's message counter for this actor when the tracer keeps counters. The trace
        # hooks only with a tracer: each bound method would be one more object per actor.
        self._tracer = tracer
        describe = None
        if tracer is not None:
            describe = self.trace_fields
            self._counter = message_counter(tracer, self.name, self.kind, self.mailbox_size, describe)
        return ActorRef(self.name, self.kind, mailbox, self.mailbox_size, tracer, describe, self._counter)

    def _message_clock(self) -> Callable[[], float] | None:
        # The clock to time the next message with, or None when its HANDLED is not reported at all. A
        # counter's clock is cheaper than the event loop's.
        counter = self._counter
        if counter is not None:
            return counter.clock if counter.on else None
        if self._tracer is not None and wants_messages(self._tracer):
            return anyio.current_time
        return None

    def _trace_handled(self, message: M, duration: float, depth: int) -> None:
        # A counter update unless somebody watches this actor's messages one by one (then the event).
        counter = self._counter
        if counter is not None and not counter.detail:
            counter.handled(duration, depth)
        else:
            self._trace(TraceKind.HANDLED, message=message, duration=duration, depth=depth)

    def _trace_spawned(self) -> None:
        if self._tracer is not None:
            self._trace(TraceKind.SPAWNED, fields=self.spawn_fields())

    def _trace(
        self,
        kind: TraceKind,
        *,
        message: M | None = None,
        detail: str | None = None,
        duration: float | None = None,
        depth: int | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        if self._tracer is not None:
            if message is not None and fields is None:
                fields = self.trace_fields(message)
            self._tracer.record(
                TraceEvent(
                    kind=kind,
                    actor=self.name,
                    actor_kind=self.kind,
                    message=None if message is None else type(message).__name__,
                    depth=depth,
                    capacity=self.mailbox_size,
                    detail=detail,
                    duration=duration,
                    fields=fields,
                )
            )
