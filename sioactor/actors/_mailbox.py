"""An actor's mailbox (a bounded list that starts or wakes the drain task), how a drain task is started,
and the ``Idlers`` that end drain tasks which stayed parked for a whole linger window.

Why linger: starting a task (with anyio's handle, cancel scope and event) costs far more than handling a
small message, and waking a parked one costs a fresh ``Signal`` and a loop turn. An actor that gets a message
every few milliseconds (a chatty socket) would otherwise pay a task per message. An actor idle for longer
than the window holds no task again.

Why a sweeper rather than a timeout per park: a cancel scope with a deadline per park costs more than the
park itself; two generation sets swapped once per window cost a set insert and a discard. A drain parked in
generation *g* is dismissed at the second swap after it parked, i.e. after between one and two windows.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.abc

from sioactor._lowlevel import Signal, signal_factory

__all__ = ("DrainOwner", "DrainScope", "Idlers", "Mailbox", "SpawnDrain", "not_attached", "spawn_in")

M = TypeVar("M")


class DrainOwner(Protocol):
    """What a mailbox starts a drain task through (its ``Actor``)."""

    def start_drain(self) -> None:
        """Start the task that handles the mailbox's messages."""


class DrainScope(Protocol):
    """The cancel scope a drain runs in: anyio's, or on trio trio's own (anyio's wraps one in another)."""

    def cancel(self) -> None: ...
    def __enter__(self) -> DrainScope: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


class SpawnDrain(Protocol):
    """How an actor starts its drain task (the supervisor's spawn, or a task group's ``start_soon``)."""

    def __call__(self, fn: Callable[[], Coroutine[Any, Any, None]], /, *, name: object = None) -> object: ...


def spawn_in(tg: anyio.abc.TaskGroup) -> SpawnDrain:
    """*tg*'s ``start_soon`` as a `SpawnDrain`."""

    def spawn(fn: Callable[[], Coroutine[Any, Any, None]], /, *, name: object = None) -> None:
        tg.start_soon(fn, name=name)

    return spawn


def not_attached(fn: Callable[[], Coroutine[Any, Any, None]], /, *, name: object = None) -> None:
    raise RuntimeError("an actor is started by Supervisor.spawn")


class Mailbox(Generic[M]):
    """A bounded list whose first message starts its actor's drain task, or wakes it while it lingers.

    States: no task (``running`` false); a task handling mail (``running``); a task parked waiting for mail
    (``running`` and ``parked``). A ``send_nowait`` either sees a task that will handle its message, wakes
    the parked one, or starts one -- the task decides to end only with an empty list and no await between
    that check and clearing ``running``.
    """

    __slots__ = (
        "buffer",
        "capacity",
        "closed",
        "dismissed",
        "event",
        "generation",
        "handling",
        "on_room",
        "owner",
        "parked",
        "running",
    )

    def __init__(self, capacity: int, owner: DrainOwner) -> None:
        # A list, not a deque: an empty deque already holds a whole block of slots, an empty list almost
        # nothing, and most actors are idle; pop(0) moves the rest, which is nothing next to handling a
        # message at these capacities.
        self.buffer: list[M] = []
        self.capacity = capacity
        self.owner = owner  # whose drain task the first message starts (the actor, not a bound method of it)
        self.closed = False
        self.handling = False  # inside handle(): the buffer admits capacity, not capacity + 1
        self.running = False  # a drain task exists (started or about to start)
        self.parked = False  # the drain task waits on ``event`` for mail
        self.dismissed = False  # the idlers woke it: its linger window passed
        self.event: Signal | None = None
        self.generation: set[Mailbox[M]] | None = None  # the idlers' set it is parked in
        self.on_room: Callable[[], object] | None = None  # see Actor.notify_room

    def room_made(self) -> None:
        """A queued message was taken, or dropped: call ``on_room`` once, if set."""
        on_room, self.on_room = self.on_room, None
        if on_room is not None:
            on_room()

    def __len__(self) -> int:
        """How many messages wait in the buffer."""
        return len(self.buffer)

    def send_nowait(self, item: M) -> None:
        """Enqueue *item*, then start or wake the drain task; ``WouldBlock`` when full, ``Closed...`` when
        closed (``ActorRef.tell`` translates both).
        """
        if self.closed:
            raise anyio.ClosedResourceError
        if len(self.buffer) >= (self.capacity if self.handling else self.capacity + 1):
            raise anyio.WouldBlock
        self.buffer.append(item)
        self._rouse()

    def close(self) -> None:
        """Accept no more mail; the drain task (started or woken) handles the rest, then tears down."""
        if not self.closed:
            self.closed = True
            self._rouse()

    def rouse(self) -> None:
        """Make sure a drain task runs (a cancellation or teardown must be acted on by one)."""
        self._rouse()

    def park(self, idlers: Idlers) -> Signal:
        """The drain task is about to wait for mail: return the event that a message, a close or the
        idlers set.
        """
        event = self.event = idlers.new_event()
        self.parked = True
        self.dismissed = False
        idlers.add(self)
        return event

    def unpark(self) -> None:
        """Leave the parked state (woken, or cancelled while waiting); idempotent."""
        if self.parked:
            self.parked = False
            if self.generation is not None:
                self.generation.discard(self)
                self.generation = None

    def dismiss(self) -> None:
        """The linger window passed: wake the drain task so that it ends (unless mail came meanwhile)."""
        self.dismissed = True
        self._wake_parked()

    def _rouse(self) -> None:
        if self.parked:
            self._wake_parked()
        elif not self.running:
            self.running = True
            self.owner.start_drain()

    def _wake_parked(self) -> None:
        event = self.event
        self.unpark()
        self.event = None
        if event is not None:
            event.set()


class Idlers:
    """The parked drain tasks of one task group with one linger window, in two generations; a sweeper task
    (in that task group, alive only while something is parked or about to be) dismisses the older one
    every window.
    """

    __slots__ = ("_current", "_live", "_previous", "_scope", "_sweeping", "_tg", "new_event", "window")

    def __init__(self, tg: anyio.abc.TaskGroup, window: float) -> None:
        self._tg = tg
        self.window = window
        # Made once for the running backend (see sioactor._lowlevel): looking the backend up per park would
        # cost more than the park.
        self.new_event: Callable[[], Signal] = signal_factory()
        self._current: set[Mailbox[object]] = set()
        self._previous: set[Mailbox[object]] = set()
        self._live = 0
        self._sweeping = False
        self._scope: anyio.CancelScope | None = None

    @staticmethod
    def of(tg: anyio.abc.TaskGroup, window: float) -> Idlers:
        """The idlers of *tg* for *window* (made on first use)."""
        by_window = _IDLERS.get(tg)  # a get first: setdefault makes a weak reference per call
        if by_window is None:
            by_window = _IDLERS[tg] = {}
        idlers = by_window.get(window)
        if idlers is None:
            idlers = by_window[window] = Idlers(tg, window)
        return idlers

    def attached(self) -> None:
        """An actor using these idlers started."""
        self._live += 1

    def detached(self) -> None:
        """An actor using these idlers is gone; with the last one, the sweeper ends at once (so that the
        supervisor's task group can exit without waiting for its next tick).
        """
        self._live -= 1
        if self._live <= 0 and self._scope is not None:
            self._scope.cancel()

    def add(self, mailbox: Mailbox[M]) -> None:
        """Register a parked mailbox in the current generation; start the sweeper if it is not running."""
        generation: set[Mailbox[M]] = self._current  # type: ignore[assignment]  # invariant set, any M
        generation.add(mailbox)
        mailbox.generation = generation
        if not self._sweeping:
            self._sweeping = True
            self._tg.start_soon(self._sweep, name=f"actor idlers ({self.window} s)")

    async def _sweep(self) -> None:
        try:
            with anyio.CancelScope() as self._scope:
                while self._current or self._previous:
                    await anyio.sleep(self.window)
                    self._tick()
        finally:
            self._scope = None
            self._sweeping = False  # no await since the sets were seen empty (or every actor is gone)

    def _tick(self) -> None:
        expired, self._previous, self._current = self._previous, self._current, set()
        for mailbox in expired:
            mailbox.generation = None  # the set is dropped whole; no discard needed
            mailbox.dismiss()


_IDLERS: WeakKeyDictionary[anyio.abc.TaskGroup, dict[float, Idlers]] = WeakKeyDictionary()
