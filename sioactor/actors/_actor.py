"""The actor: a bounded mailbox, messages handled one at a time, and no task while there is no mail.

Most connections are idle most of the time, and a parked task with a memory stream per connection would be
most of an idle connection's memory. So an ``Actor`` keeps its mail in a plain list (``_mailbox.py``) and
starts a drain task in its supervisor's task group only when mail arrives (or it is stopped). The task
handles what is queued, one message at a time, then lingers parked for a short window (``linger``, so a busy
actor does not pay a task per message) and ends once that passes with the mailbox empty -- deciding that, and
clearing the "running" flag, with no await in between, so a ``tell`` either sees the task running or parked
(and its message will be handled by it) or starts a new one.

The mailbox bound, exactly: with capacity ``n``, a busy actor (inside ``handle``) admits ``n`` messages and
refuses the next; an idle one admits ``n + 1`` (the first is as good as handed over, as anyio's
``send_nowait`` hands an item to a parked receiver). So at most ``n + 1`` accepted messages are unfinished at
any moment, and capacity 0 admits one message when the actor is idle, none while it is busy.

Teardown. However the actor ends (``stop``, a failure, cancellation), the mailbox is closed, what is still
queued goes to ``on_unhandled`` (traced as ``DROPPED``, counted in one log line) and every pending ask is
failed with ``Closed`` -- all without an await in between, so nothing slips in after the drain and nothing is
lost without a report. Then ``on_stop`` runs shielded from cancellation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import anyio
import anyio.abc

from sioactor.actors._actor_trace import ActorTracing
from sioactor.actors._at_once import run_to_completion
from sioactor.actors._handling import HANDLING
from sioactor.actors._mailbox import DrainScope, Idlers, Mailbox, SpawnDrain, not_attached, spawn_in
from sioactor.actors._ref import ActorRef, Reply, StopReason
from sioactor.actors._trace import MessageCounter, TraceKind, Tracer

__all__ = ("Actor",)

logger = logging.getLogger("sioactor.actors")

M = TypeVar("M")
R = TypeVar("R")


class Actor(ActorTracing[M]):
    """Subclass and override the hooks. One bounded mailbox, messages handled one at a time, in order.

    Start it under a ``Supervisor`` (``await supervisor.spawn(actor)`` or ``supervisor.spawn_soon(actor)``);
    talk to it through its ``ActorRef``. An actor runs once. ``on_start`` runs in the spawner's task for
    ``spawn``, in the first drain for ``spawn_soon``.

    Attributes:
        kind: a short name of the actor's class, for tracing.
        mailbox_size: the mailbox capacity (see the module docstring for the exact bound).
        name: the actor's name, for tracing and errors.
        linger: seconds the drain task stays parked after the mailbox empties, so that a busy actor does not
            start a task per message; it ends after between one and two of them without mail. ``0``: it
            ends as soon as the mailbox is empty.
        skip_linger: set by ``handle`` when no mail is expected soon (the socket actor after its connect):
            the drain then ends as soon as the mailbox is empty, this once, rather than park to be woken
            only to end.
    """

    kind: ClassVar[str] = "actor"
    mailbox_size: int = 64
    failure_kind: ClassVar[TraceKind] = TraceKind.FAILED  # what a raising ``handle`` is traced as
    linger: float = 0.25

    def __init__(self, name: str, *, mailbox_size: int | None = None, linger: float | None = None) -> None:
        self.name = name
        if mailbox_size is not None:
            self.mailbox_size = mailbox_size
        if self.mailbox_size < 0:
            raise ValueError(f"actor {name!r}: mailbox_size must be >= 0, not {self.mailbox_size}")
        if linger is not None:
            self.linger = linger
        self._ref: ActorRef[M] | None = None
        self._tracer: Tracer | None = None
        self._counter: MessageCounter | None = None  # the tracer's counts of this actor's messages
        self._idlers: Idlers | None = None
        self._mailbox: Mailbox[M] | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._spawn_drain: SpawnDrain = not_attached
        self._gone: Callable[[Actor[Any]], None] = lambda actor: None
        self._scope: DrainScope | None = None
        self._new_scope: Callable[[], DrainScope] = anyio.CancelScope
        self._started = False
        self._cancel_requested = False
        self._halted = False
        self._final: M | None = None
        self._side: set[anyio.CancelScope] | None = None  # concurrent work, created on first use
        # Set by a handler: once the mailbox is empty, the drain ends at once instead of lingering (once).
        self.skip_linger = False
        self.failing: M | None = None  # the message whose handling raised, while on_failure runs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- hooks -------------------------------------------------------------------------------------------

    async def on_start(self) -> None:
        """Called before the first message. Raising here makes ``spawn`` raise."""

    async def handle(self, message: M) -> None:
        """Handle one message. Messages arrive one at a time, in the order they were told."""

    async def on_failure(self, exc: Exception) -> None:
        """Called when ``handle`` raised *exc*.

        Return to keep the actor running (the failed message counts as handled); raise to stop it with
        ``StopReason.FAILED``. ``self.failing`` is the message meanwhile. The default logs the error and
        re-raises it.
        """
        logger.error("actor %s (%s) failed handling a message", self.name, self.kind, exc_info=exc)
        raise exc

    async def on_stop(self, reason: StopReason) -> None:
        """Called once, shielded from cancellation, after the mailbox is closed and drained."""

    def on_unhandled(self, message: M) -> None:
        """Called at teardown for each message still queued, which will never be handled. Must not block."""

    # -- running -----------------------------------------------------------------------------------------

    @property
    def ref(self) -> ActorRef[M]:
        """The actor's ref; available once it was spawned."""
        if self._ref is None:
            raise RuntimeError(f"actor {self.name!r} has not been started")
        return self._ref

    def attach(
        self,
        tg: anyio.abc.TaskGroup,
        *,
        tracer: Tracer | None,
        gone: Callable[[Actor[Any]], None],
        spawn: SpawnDrain | None = None,
        new_scope: Callable[[], DrainScope] | None = None,
    ) -> ActorRef[M]:
        """Internal (the supervisor's): bind to *tg*, open the mailbox, return the ref; *gone* runs last.
        *spawn* starts the drain task (the supervisor's cheaper spawn); by default *tg*'s ``start_soon``.
        *new_scope* makes the drain's cancel scope (anyio's by default)."""
        if self._ref is not None:
            raise RuntimeError(f"actor {self.name!r} was already started; an actor runs once")
        self._tg, self._gone = tg, gone
        self._spawn_drain = spawn_in(tg) if spawn is None else spawn
        if new_scope is not None:
            self._new_scope = new_scope
        self._mailbox = Mailbox(self.mailbox_size, self)
        if self.linger > 0:
            self._idlers = Idlers.of(tg, self.linger)
            self._idlers.attached()
        self._ref = self._make_ref(self._mailbox, tracer)
        self._trace_spawned()
        return self._ref

    async def start(self) -> None:
        """Internal: run ``on_start`` in the caller's task (``Supervisor.spawn``); on failure, tear down."""
        self._started = True
        try:
            await self.on_start()
        except BaseException:
            self.ref.stop(StopReason.FAILED)  # wakes a drain that finds the mailbox closed and tears down
            raise

    def cancel(self) -> None:
        """Internal: cancel the actor (a straggler at shutdown): its drain stops, or a teardown starts."""
        self._cancel_requested = True
        self._cancel_side()
        if self._scope is not None:
            self._scope.cancel()
        elif self._mailbox is not None:
            self._mailbox.rouse()

    def halt(self, final: M | None = None, reason: StopReason = StopReason.NORMAL) -> int:
        """Stop now: drop the queued mail, cancel what is being handled (and concurrent work), then handle
        *final* (if given) outside that cancellation, then ``on_stop``. Returns how many messages were
        dropped. Idempotent: once the actor is stopping, it does nothing and returns 0.
        """
        if self.ref.closed:
            return 0
        self._halted = True
        self._final = final
        dropped = self._drop_queued()
        self.ref.stop(reason)  # an idle actor is woken to tear down (and handle *final*)
        if self._scope is not None:
            self._scope.cancel()
        self._cancel_side()
        return dropped

    def concurrently(self, message: M, work: Callable[[], Awaitable[None]]) -> None:
        """Run *work* (the handling of *message*) beside the mailbox instead of in order. It is cancelled by
        ``halt`` and teardown; an exception goes to ``on_failure`` (raising there stops the actor FAILED).
        """
        assert self._tg is not None, "concurrently() needs a started actor"
        scope = anyio.CancelScope()  # registered before the task starts, so a halt in between cancels it
        if self._side is None:
            self._side = set()
        self._side.add(scope)
        if self.ref.closed:
            scope.cancel()
        self._tg.start_soon(self._run_side, message, work, scope, name=f"actor {self.name} (concurrent)")

    def handles_now(self, message: M) -> bool:
        """Tell if handling *message* (``handle``, and ``on_failure`` should it raise) certainly completes
        without suspending, so that ``tell_or_handle`` may run it in the caller's task. ``False`` here: a
        subclass says yes only for what it can prove (see ``tell_or_handle``)."""
        return False

    def tell_or_handle(self, message: M) -> None:
        """``ref.tell(message)``, or, when the actor is idle (nothing queued, nothing being handled, its drain
        task absent or parked) and ``handles_now(message)``, handle *message* right here in the caller's task.

        Why: a message that cannot suspend gains nothing from the actor's task but costs a task switch to
        reach it (a large part of a one-message echo). Nothing the actor promises changes: one message at a
        time, in the order told (an idle actor has nothing older), the same bound (nothing waits in the
        mailbox), the same failure policy and trace. What does change: the handler runs in the delivering task
        (or, on asyncio, a protocol callback), so it must not assume a task of its own; ``handles_now`` admits
        only handling that never awaits, which has no use for one.

        Raises:
            InternalChannelFull, Closed: as ``ref.tell`` (only when the message is queued).
        """
        mailbox = self._mailbox
        if (
            mailbox is None
            or mailbox.buffer
            or mailbox.handling
            or mailbox.closed
            or (mailbox.running and not mailbox.parked)
            or not self._started
            or self._cancel_requested
            or not self.handles_now(message)
        ):
            self.ref.tell(message)
            return
        self._handle_now(mailbox, message)

    async def ask_or_handle(self, make: Callable[[Reply[R]], M]) -> R:
        """``ref.ask(make)`` with the message delivered by ``tell_or_handle``: an idle actor that can answer
        at once does, in this task, and the ask returns without a task switch (or a loop turn) either way.

        Raises:
            InternalChannelFull, Closed: as ``ref.ask``.
        """
        return await self.ref.ask(make, deliver=self.tell_or_handle)

    def _handle_now(self, mailbox: Mailbox[M], message: M) -> None:
        ref = self.ref
        clock = None
        if self._tracer is not None:
            ref._traced_accept(message)
            clock = self._message_clock()
        started = 0.0 if clock is None else clock()
        mailbox.handling = True  # a tell from inside the handler queues behind this message
        HANDLING.actor = self
        try:
            self.handle_at_once(message)
        except Exception as exc:
            # Traced as a failure, not as handled (as the drain does).
            if not run_to_completion(self._absorbed(exc, message), f"actor {self.name}: on_failure"):
                ref.stop(StopReason.FAILED)  # wakes or starts a drain that finds the mailbox closed
            return
        finally:
            mailbox.handling = False
        if clock is not None:
            self._trace_handled(message, clock() - started, len(mailbox.buffer))

    def handle_at_once(self, message: M) -> None:
        """``handle(message)`` run to completion without an event loop turn, for a message that
        ``handles_now`` admitted. A subclass may do the same work more directly."""
        run_to_completion(self.handle(message), f"actor {self.name}: a message handled at once")

    def queued(self) -> int:
        """How many messages wait in the mailbox now (a cheap ``ref.depth()``; 0 before the start)."""
        return 0 if self._mailbox is None else len(self._mailbox.buffer)

    def full(self) -> bool:
        """Whether the mailbox holds ``mailbox_size`` messages: the next tell may be refused."""
        mailbox = self._mailbox
        return mailbox is not None and len(mailbox.buffer) >= mailbox.capacity

    def notify_room(self, callback: Callable[[], object]) -> bool:
        """Call *callback* once, when a queued message is next taken for handling or dropped (the actor
        stopped): how a producer that paused on a ``full`` mailbox learns it may go on. One at a time:
        False (and *callback* is not kept) while an earlier one waits."""
        mailbox = self._mailbox_or_fail()
        if mailbox.on_room is not None:
            return False
        mailbox.on_room = callback
        return True

    def start_drain(self) -> None:
        """Internal (the mailbox's): start the task that handles the mail."""
        self._spawn_drain(self._drain, name=f"actor {self.name}")

    async def _drain(self) -> None:
        reason: StopReason | None = StopReason.CANCELLED
        try:
            with self._new_scope() as self._scope:
                reason = await self._drain_buffer()
            if reason is StopReason.CANCELLED and self._halted and not self._cancel_requested:
                reason = self.ref.stop_reason  # the cancellation was halt()'s, not the supervisor's
        except Exception:
            reason = StopReason.FAILED  # on_start raised (spawn_soon): nobody awaits it, so log it
            logger.exception("actor %s (%s) failed to start", self.name, self.kind)
        finally:
            self._scope = None
            if reason is None:
                self._mailbox_or_fail().running = (
                    False  # idle again; no await since the buffer was seen empty
                )
            else:
                await self._teardown(reason)

    async def _drain_buffer(self) -> StopReason | None:
        mailbox = self._mailbox_or_fail()
        if not self._started:
            self._started = True
            await self.on_start()
        while True:
            if await self._handle_queued(mailbox):
                return StopReason.FAILED
            if self._cancel_requested:
                return StopReason.CANCELLED
            if mailbox.closed:
                return self.ref.stop_reason
            if self._idlers is None or self._end_now() or not await self._linger(mailbox, self._idlers):
                return None

    def _end_now(self) -> bool:
        # A handler asked the drain not to linger this time (see skip_linger); the request is used up.
        skip, self.skip_linger = self.skip_linger, False
        return skip

    async def _linger(self, mailbox: Mailbox[M], idlers: Idlers) -> bool:
        # Parked until mail, a close, a cancellation or the idlers' dismissal. False: dismissed, no mail.
        event = mailbox.park(idlers)
        try:
            await event.wait()
        finally:
            mailbox.unpark()
        return bool(mailbox.buffer) or mailbox.closed or self._cancel_requested or not mailbox.dismissed

    async def _handle_queued(self, mailbox: Mailbox[M]) -> bool:
        # Handle the queued mail in order; True when a failure stopped the actor.
        # Looked up once per batch, not per message: a subscriber that comes or goes mid-batch is seen from
        # the next batch on.
        clock = None if self._tracer is None else self._message_clock()
        handling = HANDLING  # the watchdog's slot: one store per message, from a local
        while mailbox.buffer and not self._cancel_requested:
            message = mailbox.buffer.pop(0)
            if mailbox.on_room is not None:
                mailbox.room_made()
            started = 0.0 if clock is None else clock()
            mailbox.handling = True
            handling.actor = self
            try:
                await self.handle(message)
            except Exception as exc:
                if not await self._absorbed(exc, message):
                    return True
                continue  # traced as a failure, not as handled
            finally:
                mailbox.handling = False
            if clock is not None:
                self._trace_handled(message, clock() - started, len(mailbox.buffer))
        return False

    async def _teardown(self, reason: StopReason) -> None:
        self.ref.stop(reason)
        dropped = self._drop_queued()
        self._cancel_side()
        self.ref._reject_pending()
        self._log_dropped(reason, dropped)
        try:
            await self._handle_final()
        finally:
            with anyio.CancelScope(shield=True):
                await self._stop_hook(reason)
            if self._idlers is not None:
                self._idlers.detached()
            if HANDLING.actor is self:
                HANDLING.actor = None  # the watchdog's slot does not keep a stopped actor alive
            self._gone(self)

    async def _handle_final(self) -> None:
        final, self._final = self._final, None
        if final is None:
            return
        # A fresh scope: halt() cancelled the drain's, not this one; a supervisor's cancel() still reaches it.
        clock = self._message_clock()
        started = 0.0 if clock is None else clock()
        with self._new_scope() as self._scope:
            if self._cancel_requested:
                self._scope.cancel()
            HANDLING.actor = self
            try:
                await self.handle(final)
            except Exception as exc:
                await self._absorbed(exc, final)
            else:
                if clock is not None:
                    self._trace_handled(final, clock() - started, 0)
        self._scope = None

    async def _run_side(
        self, message: M, work: Callable[[], Awaitable[None]], scope: anyio.CancelScope
    ) -> None:
        HANDLING.actor = self
        try:
            with scope:
                await work()
        except Exception as exc:
            if not await self._absorbed(exc, message):
                self.ref.stop(StopReason.FAILED)
        finally:
            if self._side is not None:
                self._side.discard(scope)

    def _drop_queued(self) -> int:
        # No await: the queued mail is reported and gone in one tick.
        buffer = self._mailbox_or_fail().buffer
        dropped = len(buffer)
        for message in buffer:
            self._drop(message)
        buffer.clear()
        self._mailbox_or_fail().room_made()
        return dropped

    def _cancel_side(self) -> None:
        if self._side:
            for scope in self._side:
                scope.cancel()

    def _mailbox_or_fail(self) -> Mailbox[M]:
        assert self._mailbox is not None
        return self._mailbox

    # -- failures, drops and the stop -------------------------------------------------------------------

    async def _absorbed(self, exc: Exception, message: M) -> bool:
        # handle() raised: trace it, let on_failure decide. True when the actor keeps running.
        self._trace(self.failure_kind, message=message, detail=repr(exc))
        self.failing = message
        try:
            await self.on_failure(exc)
        except Exception:
            return False
        finally:
            self.failing = None
        return True

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
