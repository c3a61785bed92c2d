"""asyncio's primitives (see the package's docstring): a bare future as the `Signal`, plain tasks in a set.

`_FutureSignal`: an ``anyio.Event`` is an ``asyncio.Event``, with its own waiter deque and a future per
wait; a busy actor parks and is woken once per message, and a bare future is all one waiter needs.

`AsyncioTaskSet`: anyio's ``start_soon`` gives every task a handle with its own cancel scope and an
``Event``, kept while the task lives and a scope entered and an event set per start. The embedded server's
connection tasks and the lazy actors' drain tasks are never awaited and catch their own failures, so they
run as plain ``loop.create_task`` tasks kept in a set; the owner ends them structurally with ``wait`` or
``cancel_and_wait``. anyio cancel scopes work inside them as in any task (anyio adopts an unmanaged task on
its first scope).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio

from . import Backend, Signal, TaskSet

__all__ = ("AsyncioTaskSet", "asyncio_backend")


def asyncio_backend(loop: asyncio.AbstractEventLoop) -> Backend:
    """The primitives of *loop*, bound to it."""

    def new_signal() -> Signal:
        return _FutureSignal(loop=loop)

    async def open_task_set(what: str, logger: logging.Logger) -> TaskSet:
        return AsyncioTaskSet(loop, what, logger)

    open_set: Callable[[str, logging.Logger], Awaitable[TaskSet]] = open_task_set
    return Backend(
        name="asyncio",
        clock=loop.time,
        call_soon=loop.call_soon,
        new_signal=new_signal,
        new_cancel_scope=anyio.CancelScope,
        open_task_set=open_set,
    )


class _FutureSignal(asyncio.Future[None]):
    """asyncio's `Signal`: a bare future (see the module's docstring)."""

    def set(self) -> None:
        if not self.done():  # a cancelled wait leaves the future cancelled
            self.set_result(None)

    def wait(self) -> Awaitable[None]:
        return self


class AsyncioTaskSet:
    """Tasks of one owner on one asyncio loop; a task that escapes with an error is logged as *what*."""

    __slots__ = ("_loop", "_on_done", "_tasks", "_what", "logger")

    def __init__(self, loop: asyncio.AbstractEventLoop, what: str, logger: logging.Logger) -> None:
        self._loop = loop
        self._what = what
        self.logger = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        # One bound method for every task's done callback (each task keeps its callback while it lives).
        self._on_done = self._done

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, fn: Callable[[], Coroutine[Any, Any, Any]], name: str | None = None) -> None:
        """Run ``fn()`` as a task of the set named *name*."""
        task = self._loop.create_task(fn(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._on_done)

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Run ``fn(*args)`` as a task of the set."""
        task = self._loop.create_task(fn(*args))
        self._tasks.add(task)
        task.add_done_callback(self._on_done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Every task here is written to catch its own failures; one that escapes is a bug, logged.
            self.logger.error("%s failed", self._what, exc_info=exc)

    async def wait(self) -> None:
        """Wait until every task has ended by itself (shielded: it may run as the owner is cancelled)."""
        with anyio.CancelScope(shield=True):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    async def cancel_and_wait(self) -> None:
        """Cancel every task still running and wait for all to end (shielded)."""
        with anyio.CancelScope(shield=True):
            while self._tasks:
                pending = set(self._tasks)
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
