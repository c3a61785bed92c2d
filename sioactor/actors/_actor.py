"""The actor base class: one task, one bounded mailbox, messages handled one at a time.

The mailbox bound, exactly. ``tell`` uses anyio's ``send_nowait``, which hands a message straight to a
receiver that is parked in ``receive()`` without touching the buffer. So with capacity ``n``:

* while the actor is busy in ``handle``, the buffer admits ``n`` messages and the ``n + 1``-th is refused;
* while it is parked waiting for mail, it admits ``n + 1`` (one hand-off, then ``n`` buffered);
* in both cases at most ``n + 1`` accepted messages are unfinished at any moment (``n`` buffered, one handed
  over or in ``handle``) -- that is the bound sioactor guarantees;
* capacity 0 is a rendezvous: a ``tell`` succeeds only while the actor is parked waiting for mail.

Teardown. However the loop ends (``stop``, a failure, cancellation), the mailbox is closed, what is
still buffered is drained into ``on_unhandled`` (traced as ``DROPPED``, counted in one log line) and every
pending ask is failed with ``Closed`` -- all without an await in between, so nothing slips in after the
drain and nothing is lost without a report. Then ``on_stop`` runs shielded from cancellation, and
cancellation is re-raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream

from sioactor.actors._ref import ActorRef, MailboxSender, StopReason
from sioactor.actors._trace import (
    MessageCounter,
    TraceEvent,
    TraceKind,
    Tracer,
    message_counter,
    wants_messages,
)

__all__ = ("Actor",)

M = TypeVar("M")

logger = logging.getLogger("sioactor.actors")


class Actor(Generic[M]):
    """Subclass and override the hooks. One task, one bounded mailbox, messages handled one at a time.

    Start it under a ``Supervisor`` (``await supervisor.spawn(actor)``) or any task group
    (``ref = await tg.start(actor.run)``); talk to it through its ``ActorRef``. An actor runs once.

    Attributes:
        kind: a short name of the actor's class, for tracing.
        mailbox_size: the mailbox capacity (see the module docstring for the exact bound).
        name: the actor's name, for tracing and errors.
    """

    kind: ClassVar[str] = "actor"
    mailbox_size: int = 64
    failure_kind: ClassVar[TraceKind] = TraceKind.FAILED  # what a raising ``handle`` is traced as

    def __init__(self, name: str, *, mailbox_size: int | None = None) -> None:
        self.name = name
        if mailbox_size is not None:
            self.mailbox_size = mailbox_size
        if self.mailbox_size < 0:
            raise ValueError(f"actor {name!r}: mailbox_size must be >= 0, not {self.mailbox_size}")
        self._ref: ActorRef[M] | None = None
        self._receive: MemoryObjectReceiveStream[M] | None = None
        self._tracer: Tracer | None = None
        self._counter: MessageCounter | None = None  # the tracer's counts of this actor's messages

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- hooks -------------------------------------------------------------------------------------------

    async def on_start(self) -> None:
        """Called in the actor's task before the first message. Raising here makes ``spawn`` raise."""

    async def handle(self, message: M) -> None:
        """Handle one message. Messages arrive one at a time, in the order they were told."""

    async def on_failure(self, exc: Exception) -> None:
        """Called when ``handle`` raised *exc*.

        Return to keep the actor running (the failed message counts as handled); raise to stop it with
        ``StopReason.FAILED``. The default logs the error and re-raises it.
        """
        logger.error("actor %s (%s) failed handling a message", self.name, self.kind, exc_info=exc)
        raise exc

    async def on_stop(self, reason: StopReason) -> None:
        """Called once, shielded from cancellation, after the mailbox is closed and drained."""

    def on_unhandled(self, message: M) -> None:
        """Called at teardown for each message still queued, which will never be handled. Must not block."""

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

    # -- running -----------------------------------------------------------------------------------------

    @property
    def ref(self) -> ActorRef[M]:
        """The actor's ref; available once ``run`` has begun (or ``open`` was called)."""
        if self._ref is None:
            raise RuntimeError(f"actor {self.name!r} has not been started")
        return self._ref

    def open(self, *, tracer: Tracer | None = None) -> ActorRef[M]:
        """Create the mailbox and the ref without starting the task, so mail can queue before it runs.

        For ``Supervisor.spawn_soon``; the caller must then start ``run`` (which closes the mailbox however it
        ends). Calling ``open`` twice, or after ``run``, is an error.
        """
        if self._ref is not None:
            raise RuntimeError(f"actor {self.name!r} was already started; an actor runs once")
        send, receive = anyio.create_memory_object_stream[M](self.mailbox_size)
        self._receive = receive
        self._ref = self._make_ref(send, tracer)
        return self._ref

    def _make_ref(self, send: MailboxSender[M], tracer: Tracer | None) -> ActorRef[M]:
        # The ref, with the tracer's message counter for this actor when the tracer keeps counters. The trace
        # hooks only with a tracer: each bound method would be one more object per actor.
        self._tracer = tracer
        describe = None
        if tracer is not None:
            describe = self.trace_fields
            self._counter = message_counter(tracer, self.name, self.kind, self.mailbox_size, describe)
        return ActorRef(self.name, self.kind, send, self.mailbox_size, tracer, describe, self._counter)

    async def run(
        self,
        *,
        tracer: Tracer | None = None,
        task_status: anyio.abc.TaskStatus[ActorRef[M]] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """The actor's task: start, hand out the ref, handle mail until stopped, tear down.

        Exceptions of ``handle`` never escape (see ``on_failure``); one from ``on_start`` does, before
        ``task_status.started``; cancellation always propagates.
        """
        if self._receive is None:
            self.open(tracer=tracer)
        ref = self.ref
        assert self._receive is not None
        receive = self._receive
        self._receive = None  # run once: a second run() fails in open()
        reason = StopReason.CANCELLED
        try:
            self._trace_spawned()
            await self.on_start()
            task_status.started(ref)
            reason = await (self._loop(receive) if self._tracer is None else self._traced_loop(receive))
        except Exception:
            reason = StopReason.FAILED
            raise
        finally:
            self._close_mailbox(ref, receive, reason)
            with anyio.CancelScope(shield=True):
                await self._stop_hook(reason)

    async def _loop(self, receive: MemoryObjectReceiveStream[M]) -> StopReason:
        handle = self.handle
        while True:
            try:
                message = await receive.receive()
            except anyio.EndOfStream:
                return self.ref.stop_reason
            try:
                await handle(message)
            except Exception as exc:
                if not await self._absorbed(exc, message):
                    return StopReason.FAILED

    async def _traced_loop(self, receive: MemoryObjectReceiveStream[M]) -> StopReason:
        while True:
            try:
                message = await receive.receive()
            except anyio.EndOfStream:
                return self.ref.stop_reason
            clock = self._message_clock()
            started = 0.0 if clock is None else clock()
            try:
                await self.handle(message)
            except Exception as exc:
                if not await self._absorbed(exc, message):
                    return StopReason.FAILED
            else:
                if clock is not None:
                    self._trace_handled(message, clock() - started, self.ref.depth())

    async def _absorbed(self, exc: Exception, message: M) -> bool:
        # handle() raised: trace it, let on_failure decide. True when the actor keeps running.
        self._trace(self.failure_kind, message=message, detail=repr(exc))
        try:
            await self.on_failure(exc)
        except Exception:
            return False
        return True

    def _close_mailbox(
        self, ref: ActorRef[M], receive: MemoryObjectReceiveStream[M], reason: StopReason
    ) -> None:
        # No await in here: the mailbox closes, is drained and the asks are rejected in one tick.
        ref.stop(reason)
        dropped = 0
        while True:
            try:
                message = receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
            dropped += 1
            self._drop(message)
        receive.close()
        ref._reject_pending()
        self._log_dropped(reason, dropped)

    def _drop(self, message: M) -> None:
        # A message left in the mailbox at teardown: traced, then given to on_unhandled (failures logged).
        self._trace(TraceKind.DROPPED, message=message)
        try:
            self.on_unhandled(message)
        except Exception:
            logger.exception("actor %s (%s): on_unhandled failed", self.name, self.kind)

    def _log_dropped(self, reason: StopReason, dropped: int) -> None:
        if dropped:
            logger.warning(
                "actor %s (%s) stopped (%s) with %d unhandled messages",
                self.name,
                self.kind,
                reason.value,
                dropped,
            )

    async def _stop_hook(self, reason: StopReason) -> None:
        try:
            await self.on_stop(reason)
        except Exception:
            logger.exception("actor %s (%s): on_stop failed", self.name, self.kind)
        if self._tracer is not None:
            self._trace(TraceKind.STOPPED, detail=self.stop_detail(reason))

    def _message_clock(self) -> Callable[[], float] | None:
        # The clock to time the next message with, or None when its HANDLED is not reported at all.
        counter = self._counter
        if counter is not None:
            return counter.clock if counter.on else None  # cheaper than the loop's (~0.8 us on asyncio)
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
