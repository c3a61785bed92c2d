"""The embedded server's connection tasks: one per connection, spawned on the backend's own primitive.

anyio 4.16's ``TaskGroup.start_soon`` gives every task a handle with its own cancel scope and an ``Event``
(an ``asyncio.Event`` with its ``deque`` on asyncio): ~1.8 KB that an idle WebSocket keeps for as long as it
is open, and a scope entered and left, plus an event set, per start (three starts per connection). The
server's tasks need none of it: none is awaited or given a result, each catches its own failures. So on
asyncio they are plain ``loop.create_task`` tasks kept in a set, and on trio they go into a plain nursery.

Structured all the same: `connection_tasks` is an async context manager, and leaving it (normally or
cancelled) cancels the tasks still running and waits for every one to end. anyio cancel scopes work inside
these tasks as in any other (anyio adopts an unmanaged asyncio task on its first scope).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import anyio

__all__ = ("Spawn", "connection_tasks")

logger = logging.getLogger("sioactor.server")


class Spawn(Protocol):
    """Start ``fn(*args)`` as a task of the server; it must handle its own exceptions."""

    def __call__(self, fn: Callable[..., Awaitable[object]], /, *args: object) -> None: ...


@asynccontextmanager
async def connection_tasks() -> AsyncIterator[Spawn]:
    """Yield a `Spawn` for tasks that are all cancelled and awaited when the block ends."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no asyncio loop runs this thread: trio
        loop = None
    if loop is None:
        async with _trio_tasks() as spawn:
            yield spawn
        return
    tasks = _AsyncioTasks(loop)
    try:
        yield tasks.spawn
    finally:
        await tasks.cancel_and_wait()


@asynccontextmanager
async def _trio_tasks() -> AsyncIterator[Spawn]:
    import trio  # only reached on trio, where it is installed

    async with trio.open_nursery() as nursery:
        try:
            yield nursery.start_soon
        finally:
            nursery.cancel_scope.cancel()


class _AsyncioTasks:
    __slots__ = ("_loop", "_tasks")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tasks: set[asyncio.Task[object]] = set()

    def spawn(self, fn: Callable[..., Awaitable[object]], /, *args: object) -> None:
        task: asyncio.Task[object] = self._loop.create_task(fn(*args))  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # A task is written to catch its own failures; one that escapes is a bug, logged, not lost.
            logger.error("server task failed", exc_info=exc)

    async def cancel_and_wait(self) -> None:
        # Shielded: this runs as the server is being cancelled, and must still see every task out.
        with anyio.CancelScope(shield=True):
            while self._tasks:
                pending = set(self._tasks)
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
