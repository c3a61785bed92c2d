"""The supervisor: a task group that actors run in, with failure isolation and an orderly shutdown.

A failing actor is logged, traced and stopped by its own drain (``on_failure``); nothing it raises after it
started reaches the task group, so its siblings keep working. Each actor's drain runs in its own cancel
scope, so ``shutdown`` can cancel the stragglers one by one without cancelling the code that called it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import anyio.abc

from sioactor._lowlevel import TaskSet, current_backend
from sioactor.actors._actor import Actor
from sioactor.actors._mailbox import DrainScope, SpawnDrain
from sioactor.actors._ref import ActorRef, StopReason
from sioactor.actors._trace import Tracer

__all__ = ("Supervisor",)

M = TypeVar("M")

logger = logging.getLogger("sioactor.actors")


class Supervisor:
    """Owns a task group that actors run in. A failing actor is logged, traced, stopped; siblings run on.

    Use it as an async context manager. Leaving the block normally runs ``shutdown()``; leaving it with an
    exception stops and cancels every actor at once.
    """

    def __init__(self, *, tracer: Tracer | None = None, name: str = "supervisor") -> None:
        self.name = name
        self.tracer = tracer
        self._tg: anyio.abc.TaskGroup | None = None
        # The live actors, insertion-ordered: the start order, which shutdown walks backwards.
        self._actors: dict[Actor[Any], None] = {}
        self._forget_actor = self._forget  # one bound method for every actor's ``gone``
        self._all_gone: anyio.Event | None = None
        self._closing = False
        self._drains = _DrainTasks()

    async def __aenter__(self) -> Self:
        if self._tg is not None:
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            await self._drains.open(tg)
        except BaseException as exc:
            await tg.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        tg = self._task_group()
        if exc is None:
            try:
                await self.shutdown()
            except BaseException as failure:  # cancelled while waiting: the task group must still be exited
                return await self._exit(tg, failure)
        else:
            self._cancel_all()
        try:
            await self._drains.wait()
        except BaseException as failure:  # trio: the drains saw a cancellation of the task group's scope
            return await self._leave(tg, failure)
        self._tg = None
        return await tg.__aexit__(exc_type, exc, tb)

    @property
    def actors(self) -> tuple[Actor[Any], ...]:
        """The live actors, in start order."""
        return tuple(self._actors)

    def __len__(self) -> int:
        return len(self._actors)

    async def spawn(self, actor: Actor[M]) -> ActorRef[M]:
        """Start *actor* and return its ref once ``on_start`` has run. Re-raises what ``on_start`` raised."""
        ref = self._attach(self._open_task_group(), actor)
        await actor.start()
        return ref

    def spawn_soon(self, actor: Actor[M]) -> ActorRef[M]:
        """Start *actor* without waiting; return its ref at once (``on_start`` runs in its first drain).

        For hot paths (an actor per connection). If ``on_start`` raises, the actor stops as ``FAILED`` and the
        error is logged, since nobody is waiting to receive it.
        """
        return self._attach(self._open_task_group(), actor)

    async def shutdown(self, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109 (then cancels)
        """Stop every actor, wait up to *timeout* seconds, then cancel the stragglers.

        The stops are requested newest first, in one tick; the actors then finish their queued mail and end
        concurrently, in no promised order. An actor that must outlive another should be stopped by it.

        Actors spawned after this began are refused (``RuntimeError``).
        """
        self._closing = True
        self._stop_all(StopReason.SHUTDOWN)
        with anyio.move_on_after(timeout):
            await self._wait_all_gone()
        for actor in tuple(self._actors):
            actor.cancel()
        await self._wait_all_gone()

    # -- internals ---------------------------------------------------------------------------------------

    def _task_group(self) -> anyio.abc.TaskGroup:
        if self._tg is None:
            raise RuntimeError(f"supervisor {self.name!r} is not running; use 'async with'")
        return self._tg

    def _open_task_group(self) -> anyio.abc.TaskGroup:
        if self._closing:
            raise RuntimeError(f"supervisor {self.name!r} is shutting down; it starts no more actors")
        return self._task_group()

    async def _exit(self, tg: anyio.abc.TaskGroup, failure: BaseException) -> bool | None:
        self._cancel_all()
        with contextlib.suppress(BaseException):  # trio: the same cancellation, as the drains saw it
            await self._drains.wait()
        return await self._leave(tg, failure)

    async def _leave(self, tg: anyio.abc.TaskGroup, failure: BaseException) -> bool | None:
        self._tg = None
        if await tg.__aexit__(type(failure), failure, failure.__traceback__):
            return True  # the task group absorbed it (a cancellation of its own scope)
        raise failure

    def _cancel_all(self) -> None:
        self._closing = True
        self._stop_all(StopReason.CANCELLED)
        for actor in tuple(self._actors):
            actor.cancel()

    def _stop_all(self, reason: StopReason) -> None:
        for actor in reversed(tuple(self._actors)):
            actor.ref.stop(reason)

    async def _wait_all_gone(self) -> None:
        if self._actors:
            self._all_gone = anyio.Event()
            await self._all_gone.wait()

    def _attach(self, tg: anyio.abc.TaskGroup, actor: Actor[M]) -> ActorRef[M]:
        ref = actor.attach(
            tg,
            tracer=self.tracer,
            gone=self._forget_actor,
            spawn=self._drains.spawn,
            new_scope=self._drains.new_scope,
        )
        self._actors[actor] = None
        return ref

    def _forget(self, actor: Actor[Any]) -> None:
        self._actors.pop(actor, None)
        if not self._actors and self._all_gone is not None:
            self._all_gone.set()


class _DrainTasks:
    """Where actors' drain tasks run: the running backend's task set (``sioactor._lowlevel``).

    anyio 4.16's ``start_soon`` gives every task a handle with its own cancel scope and an event; a drain
    needs neither (it runs in the actor's own cancel scope, catches its failures, and nobody awaits it), and
    a socket's first message or a connect started one each time. The supervisor waits for them all
    (shielded on asyncio, never cancelling them: an actor is cancelled through its own scope, so ``on_stop``
    still runs shielded) before it leaves its task group.
    """

    __slots__ = ("_tasks", "new_scope", "spawn")

    def __init__(self) -> None:
        self._tasks: TaskSet | None = None
        self.spawn: SpawnDrain = self._not_open
        # The drains' cancel scope: the backend's cheapest (on trio trio's own; anyio's wraps one in another).
        self.new_scope: Callable[[], DrainScope] | None = None

    async def open(self, tg: anyio.abc.TaskGroup) -> None:
        backend = current_backend()
        self._tasks = await backend.open_task_set("actor drain task", logger)
        self.spawn = self._create
        self.new_scope = backend.new_cancel_scope

    def _create(self, fn: Callable[[], Coroutine[Any, Any, None]], /, *, name: object = None) -> None:
        assert self._tasks is not None
        self._tasks.start(fn, None if name is None else str(name))

    @staticmethod
    def _not_open(fn: Callable[[], Coroutine[Any, Any, None]], /, *, name: object = None) -> None:
        raise RuntimeError("the supervisor is not running")

    async def wait(self) -> None:
        tasks = self._tasks
        if tasks is not None:
            try:
                await tasks.wait()
            finally:
                self._tasks = None
                self.spawn = self._not_open
