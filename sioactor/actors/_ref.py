"""The handle to a running actor (``ActorRef``), the reply slot of an ask (``Reply``), and ``StopReason``.

``ActorRef`` holds the actor's mailbox and is the only place where the mailbox's refusals are translated into
sioactor's errors: ``WouldBlock`` -> ``InternalChannelFull``, ``ClosedResourceError`` -> ``Closed`` (the
mailbox raises anyio's exceptions, as a memory object stream would); both carry the message back.

Stopping closes the mailbox. That is how "stop is a message" holds without a sentinel in the mailbox: the
actor still handles everything already queued, in order, and then tears down. A stop therefore needs no free
slot (it works on a full or a 0-size mailbox), and a ``tell`` after ``stop`` fails at once with ``Closed``
instead of being accepted and then lost.

Asks are tracked apart from the mailbox: every ``Reply`` not yet completed is registered with the ref, and the
actor's teardown fails all of them with ``Closed``. So an ask never hangs on a stopped actor, whether its
message was still queued, was being handled, or was dropped by a halt.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, final

import anyio

from sioactor._errors import Closed, InternalChannelFull
from sioactor._lowlevel import Signal, signal_factory
from sioactor.actors._mailbox import Mailbox
from sioactor.actors._trace import MessageCounter, TraceEvent, TraceKind, Tracer, wants_messages

__all__ = ("ActorRef", "Reply", "StopReason")

M = TypeVar("M")
R = TypeVar("R")


class StopReason(enum.Enum):
    """Why an actor stopped."""

    NORMAL = "normal"  # ``ref.stop()``: it handled its earlier mail, then ended
    FAILED = "failed"  # ``handle`` raised and ``on_failure`` did not absorb it
    CANCELLED = "cancelled"  # its task was cancelled (its supervisor's scope, or a straggler at shutdown)
    SHUTDOWN = "shutdown"  # its supervisor is shutting down


@final
class Reply(Generic[R]):
    """The reply slot inside an ask message. The actor completes it once, with ``set`` or ``fail``.

    Completing it a second time, or after the asker gave up (timeout, cancellation) is ignored and returns
    ``False``, so an actor never has to know whether anyone is still waiting.
    """

    __slots__ = ("_actor", "_done", "_error", "_event", "_message", "_pending", "_value")

    def __init__(self, actor: str, pending: set[Reply[Any]], event: Signal | None = None) -> None:
        self._actor = actor
        self._pending = pending
        self._event: Signal = anyio.Event() if event is None else event
        self._done = False
        self._value: R | None = None
        self._error: BaseException | None = None
        self._message: Any = None
        pending.add(self)

    @property
    def done(self) -> bool:
        """True once the slot was completed or abandoned."""
        return self._done

    def set(self, value: R) -> bool:
        """Complete the ask with *value*; return whether this call completed it."""
        if self._done:
            return False
        self._value = value
        self._finish()
        return True

    def fail(self, exc: BaseException) -> bool:
        """Complete the ask by raising *exc* in the asker; return whether this call completed it."""
        if self._done:
            return False
        self._error = exc
        self._finish()
        return True

    async def wait(self) -> R:
        """Wait for completion; return the value or raise the error it was failed with."""
        await self._event.wait()
        return self._outcome()

    def _outcome(self) -> R:
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set() ran with an R

    def _reject(self) -> None:
        # Teardown: the actor stopped before replying; hand the ask's message back inside Closed.
        self.fail(Closed(self._actor, self._message))

    def _abandon(self) -> None:
        self._done = True
        self._pending.discard(self)

    def _finish(self) -> None:
        self._abandon()
        self._event.set()


@final
class ActorRef(Generic[M]):
    """The handle to a running actor: tell it, ask it, stop it. Cheap to copy around; made when the actor is
    spawned.

    Attributes:
        name: the actor's name.
        kind: the actor's kind, for tracing.
        capacity: the mailbox capacity (see ``Actor`` for the exact bound).
    """

    __slots__ = (
        "_closed",
        "_counter",
        "_describe",
        "_fill",
        "_new_signal",
        "_pending",
        "_send",
        "_stop_reason",
        "_tracer",
        "capacity",
        "kind",
        "name",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        send: Mailbox[M],
        capacity: int,
        tracer: Tracer | None,
        describe: Callable[[M], Mapping[str, Any] | None] | None = None,
        counter: MessageCounter | None = None,
    ) -> None:
        """Internal: the actor makes its one ref when it is spawned. *describe* gives a message's trace
        ``fields`` (``Actor.trace_fields``); it is called only while a tracer is attached. *counter* is the
        tracer's counter for this actor, if it keeps one (see ``_trace.py``).
        """
        self.name = name
        self.kind = kind
        self.capacity = capacity
        self._send = send
        self._tracer = tracer
        self._describe = describe
        self._counter = counter
        # The mailbox fill for the counter, per message: the list's own length (a builtin call). Made only
        # with a tracer (a method object per actor otherwise unused).
        self._fill: Callable[[], int] | None = None
        if tracer is not None:
            self._fill = send.buffer.__len__
        self._closed = False
        self._stop_reason = StopReason.NORMAL
        self._pending: set[Reply[Any]] = set()
        self._new_signal: Callable[[], Signal] | None = None  # found on the first ask, in the running loop

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.depth()}/{self.capacity}"
        return f"<ActorRef {self.kind} {self.name!r} {state}>"

    def tell(self, message: M) -> None:
        """Enqueue *message* and return at once; never yields to the event loop.

        Raises:
            InternalChannelFull: the mailbox is full (the actor cannot keep up); the message is attached.
            Closed: the actor is stopping or has stopped; the message is attached.
        """
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            self._trace_refused(TraceKind.MAILBOX_FULL, message)
            raise InternalChannelFull(self.name, message) from None
        except anyio.ClosedResourceError:
            self._trace_refused(TraceKind.CLOSED, message)
            raise Closed(self.name, message) from None
        if self._tracer is not None:
            self._traced_accept(message)

    def _traced_accept(self, message: M) -> None:
        # The trace of an accepted message (tell, or an idle actor handling it at once).
        counter = self._counter
        # The common traced case first (a console counts, nobody watches this actor one by one).
        fill = self._fill
        if counter is not None and counter.on and not counter.detail and fill is not None:
            counter.enqueued(message, fill())
        else:
            self._trace_enqueued(message)

    async def ask(
        self,
        make: Callable[[Reply[R]], M],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the API's timeout)
        deliver: Callable[[M], None] | None = None,
    ) -> R:
        """Send ``make(reply)`` and wait for the actor to complete *reply*.

        *deliver* sends the message instead of ``tell`` (``Actor.ask_or_handle`` passes its
        ``tell_or_handle``); a reply completed before it returns is returned without waiting.

        Raises:
            TimeoutError: no reply within *timeout* seconds (``None``: wait as long as the actor lives).
            InternalChannelFull: the mailbox is full; nothing was sent.
            Closed: the actor stopped before replying (or had already stopped); the ask's message is attached.
        """
        new_signal = self._new_signal
        if new_signal is None:
            new_signal = self._new_signal = signal_factory()
        reply: Reply[R] = Reply(self.name, self._pending, new_signal())
        try:
            message = make(reply)
            reply._message = message
            if deliver is None:
                self.tell(message)
            else:
                deliver(message)
                if reply._done:  # handled at once: nothing to wait for
                    return reply._outcome()
            if timeout is None:
                # No cancel scope when there is no deadline: anyio's costs more than the rest of an ask,
                # and a connect asks once (admission).
                return await reply.wait()
            with anyio.fail_after(timeout):
                return await reply.wait()
        finally:
            reply._abandon()

    def stop(self, reason: StopReason = StopReason.NORMAL) -> None:
        """Ask the actor to stop once it has handled the mail already queued. Idempotent; never raises.

        From now on ``tell`` raises ``Closed``. The first reason given wins.
        """
        if not self._closed:
            self._closed = True
            self._stop_reason = reason
            self._send.close()

    @property
    def closed(self) -> bool:
        """True once the actor is stopping or stopped: it accepts no more mail."""
        return self._closed

    @property
    def stop_reason(self) -> StopReason:
        """The reason given to the first ``stop`` (``NORMAL`` until then)."""
        return self._stop_reason

    def depth(self) -> int:
        """The number of messages waiting in the mailbox now."""
        return len(self._send.buffer)

    def _reject_pending(self) -> None:
        # Teardown: fail every ask that is still waiting, in the same tick the mailbox closes.
        for reply in list(self._pending):
            reply._reject()

    def _trace_enqueued(self, message: M) -> None:
        # The ENQUEUED event, if anybody wants it: tell() has already counted the common case (a counter that
        # is on, with nobody watching this actor's messages one by one).
        counter, tracer = self._counter, self._tracer
        assert tracer is not None
        if not (counter.on if counter is not None else wants_messages(tracer)):
            return
        tracer.record(
            TraceEvent(
                kind=TraceKind.ENQUEUED,
                actor=self.name,
                actor_kind=self.kind,
                message=type(message).__name__,
                depth=self.depth(),
                capacity=self.capacity,
                fields=None if self._describe is None else self._describe(message),
            )
        )

    def _trace_refused(self, kind: TraceKind, message: M) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceEvent(
                    kind=kind,
                    actor=self.name,
                    actor_kind=self.kind,
                    message=type(message).__name__,
                    depth=self.depth(),
                    capacity=self.capacity,
                    fields=None if self._describe is None else self._describe(message),
                )
            )
