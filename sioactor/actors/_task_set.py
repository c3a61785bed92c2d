"""`AsyncioTaskSet`: plain asyncio tasks kept in a set, for code that needs none of anyio's task handles.

anyio 4.16's ``start_soon`` gives every task a handle with its own cancel scope and an ``Event``: ~1.8 KB
while the task lives and a scope entered and an event set per start. The embedded server's connection tasks
and the lazy actors' drain tasks are never awaited and catch their own failures, so they run as plain
``loop.create_task`` tasks here; the owner ends them structurally with `wait` or `cancel_and_wait`. anyio
cancel scopes work inside them as in any task (anyio adopts an unmanaged task on its first scope).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

__all__ = ("AsyncioTaskSet",)


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

    def start(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> None:
        """Run *coro* as a task of the set."""
        task = self._loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._on_done)

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Run ``fn(*args)`` as a task of the set."""
        self.start(fn(*args))

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
