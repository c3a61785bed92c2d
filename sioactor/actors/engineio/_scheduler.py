"""Two tasks per Engine.IO server that keep every session's heartbeat, writes, and closes.

An idle session has no task of its own: a parked task with its waits, times every idle WebSocket, would be
most of their memory. Instead the server's ``EngineScheduler`` holds

- one deadline heap for every session's next timer (a ping to send, a pong overdue, an upgrade timed out, a v3
  client's liveness). Entries are never removed: a session records the deadline it is scheduled for, a later
  entry is pushed only when the deadline moves *earlier*, and an entry that no longer matches is skipped
  (lazy deletion). The timer task sleeps to the earliest entry and is woken only when an earlier one
  arrives;
- the sessions with output to write to a direct WebSocket, flushed by the other task once per wake, so a
  burst of emits (all the deliveries of one broadcast, say) is still one write per session and ``send()``
  stays a plain append;
- the sessions that started closing, finished here so ``on_close`` never runs re-entrantly inside ``close()``.

Work that must wait (a write blocked on a client that reads nothing, a close that waits for the outbox to be
read) runs in a short-lived task started here, one per such session, only for as long as it waits. Those
tasks are the backend's `TaskSet`, not an anyio task group: on asyncio a tick runs in a loop callback, where
no task is current, and anyio cannot start a task from there.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio
import anyio.abc
import anyio.lowlevel

from sioactor._lowlevel import Signal, TaskSet, current_backend, signal_factory

logger = logging.getLogger("sioactor.engineio")

__all__ = ("EngineScheduler", "Flushable", "Scheduled")

# Rebuild the heap without its stale entries once they outnumber the live ones (and there are this many).
_COMPACT_MIN = 64


class Flushable(Protocol):
    """Something the scheduler flushes on its next wake: a session, or a held long-poll."""

    def flush(self) -> None:
        """Write what is queued."""


class Scheduled(Protocol):
    """What the scheduler drives: an engine session."""

    scheduled_at: float  # the deadline of the heap entry that counts; inf when none

    def on_deadline(self, now: float) -> None:
        """A timer of this session may be due at *now*: act, then ``schedule`` the next deadline."""

    def flush(self) -> None:
        """Write what is queued to the attached WebSocket."""

    def finish(self) -> None:
        """The session started closing: flush what the close keeps, then tear it down (once)."""


class EngineScheduler:
    """The deadline heap, the flush list and the close list of one server, served by one task (``run``)."""

    __slots__ = (
        "_clock",
        "_closing",
        "_dirty",
        "_heap",
        "_seq",
        "_sleeping_until",
        "_soon",
        "_soon_queued",
        "_stale",
        "_task_group",
        "_timer_wake",
        "_waits",
        "_wake",
        "new_signal",
    )

    def __init__(self, clock: Callable[[], float] = anyio.current_time) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Scheduled]] = []
        self._seq = itertools.count()
        self._stale = 0
        self._dirty: list[Flushable] = []
        self._closing: list[Scheduled] = []
        # Set while the flushing task waits: the event that wakes it.
        self._wake: Signal | None = None
        # Or, when ``run`` was given one, the event loop's call_soon that runs a tick instead of that task.
        self._soon: Callable[[Callable[[], None]], object] | None = None
        self._soon_queued = False
        # Set while the timer task sleeps: the event that wakes it early, and the deadline it sleeps to.
        self._timer_wake: anyio.Event | None = None
        self._sleeping_until = math.inf
        self._task_group: anyio.abc.TaskGroup | None = None
        self._waits: TaskSet | None = None  # the short-lived tasks of work that must wait (start_soon)
        # The running backend's cheapest Signal, for sessions' outbox waits (set once running).
        self.new_signal: Callable[[], Signal] = anyio.Event

    def __len__(self) -> int:
        """Heap entries, stale ones included (for tests and tracing)."""
        return len(self._heap)

    # -- what sessions call ---------------------------------------------------------------------------------

    def schedule(self, session: Scheduled, deadline: float) -> None:
        """Make sure *session*'s ``on_deadline`` runs at *deadline* (a no-op if it already runs earlier)."""
        if deadline >= session.scheduled_at:
            return
        if session.scheduled_at != math.inf:
            self._stale += 1  # the later entry stays in the heap, skipped when it comes up
        session.scheduled_at = deadline
        heapq.heappush(self._heap, (deadline, next(self._seq), session))
        if deadline < self._sleeping_until:
            self._poke_timers()

    def flush_soon(self, session: Flushable) -> None:
        """Call *session*'s ``flush`` on the next wake (the caller keeps it from being listed twice)."""
        self._dirty.append(session)
        self._poke()

    def finish_soon(self, session: Scheduled) -> None:
        """Call *session*'s ``finish`` on the next wake."""
        self._closing.append(session)
        self._poke()

    def forget(self, session: Scheduled) -> None:
        """*session* is gone: its heap entry, if any, is stale now."""
        if session.scheduled_at != math.inf:
            session.scheduled_at = math.inf
            self._stale += 1

    def outside_tasks(self, call: Callable[[], None]) -> None:
        """Run *call* from the event loop outside any task (asyncio's ``call_soon``), or now on a backend
        without one. For calls that cost more from inside a task (anyio's asyncio ``CancelScope.cancel``)."""
        if self._soon is None:
            call()
        else:
            self._soon(call)

    def start_soon(self, wait: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run *wait* in a short-lived task of the scheduler's (a write or a close that must wait); from a
        task or from a loop callback (a tick) alike. *wait* catches its own failures (see `TaskSet`)."""
        if self._waits is None:
            raise RuntimeError("the engine scheduler is not running")
        self._waits.start(wait)

    # -- the task -------------------------------------------------------------------------------------------

    async def run(
        self,
        soon: Callable[[Callable[[], None]], object] | None = None,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve timers, flushes and closes until cancelled.

        The timers have a task of their own, sleeping to the earliest deadline (a sleep with a deadline
        needs a cancel scope, paid only when a deadline passes or an earlier one arrives). Flushes and closes
        run in a tick: through *soon* (asyncio's ``loop.call_soon``, given by the runtime) when there is one,
        a callback being several times cheaper than waking a task, which a one-message echo pays per message;
        otherwise in a second task that waits on a plain event.
        """
        self.new_signal = signal_factory()
        waits = await current_backend().open_task_set("engine scheduler's wait", logger)
        try:
            async with anyio.create_task_group() as tg:
                self._task_group, self._waits = tg, waits
                try:
                    tg.start_soon(self._run_timer_loop)
                    self._soon = soon
                    task_status.started()
                    if soon is not None:
                        await anyio.sleep_forever()  # ticks run in the loop's callbacks (``_poke``)
                    else:
                        await self._run_flush_loop()
                finally:
                    self._soon = None
                    self._task_group = self._waits = None
        finally:
            await waits.cancel_and_wait()

    async def _run_flush_loop(self) -> None:
        new_signal = signal_factory()
        while True:
            self._tick()
            if self._dirty or self._closing:
                await anyio.lowlevel.checkpoint()  # more work came during the tick: let others run
            else:
                wake = self._wake = new_signal()
                await wake.wait()

    def _soon_tick(self) -> None:
        self._soon_queued = False
        if self._task_group is None:
            return  # the scheduler stopped after this callback was queued
        self._tick()

    def _tick(self) -> None:
        # Closes first: a session closed in this tick must not also be flushed as if it were open. A
        # session's failure is logged and costs the others nothing (try is free in CPython 3.11 until raised).
        closing, self._closing = self._closing, []
        for session in closing:
            try:
                session.finish()
            except Exception:
                logger.exception("engine scheduler: a close failed")
        dirty, self._dirty = self._dirty, []
        for flushable in dirty:
            try:
                flushable.flush()
            except Exception:
                logger.exception("engine scheduler: a flush failed")

    async def _run_timer_loop(self) -> None:
        while True:
            self._run_timers(self._clock())
            await self._sleep()

    def _run_timers(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, session = heapq.heappop(heap)
            if deadline != session.scheduled_at:
                self._stale -= 1
                continue
            session.scheduled_at = math.inf
            session.on_deadline(now)
        if self._stale > _COMPACT_MIN and self._stale * 2 > len(heap):
            self._compact()

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if entry[0] == entry[2].scheduled_at]
        heapq.heapify(self._heap)
        self._stale = 0

    async def _sleep(self) -> None:
        until = self._heap[0][0] if self._heap else math.inf
        wake = self._timer_wake = anyio.Event()
        self._sleeping_until = until
        try:
            if until == math.inf:
                await wake.wait()
            else:
                with anyio.move_on_after(until - self._clock()):
                    await wake.wait()
        finally:
            self._timer_wake = None
            self._sleeping_until = -math.inf

    def _poke(self) -> None:
        # While the flushing task runs its tick nothing is needed: it looks at its lists again before waiting.
        if self._soon is not None:
            if not self._soon_queued:
                self._soon_queued = True
                self._soon(self._soon_tick)
            return
        wake = self._wake
        if wake is not None:
            self._wake = None
            wake.set()

    def _poke_timers(self) -> None:
        wake = self._timer_wake
        if wake is not None:
            self._timer_wake = None
            self._sleeping_until = -math.inf
            wake.set()
