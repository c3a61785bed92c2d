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
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sioactor.actors._task_set import AsyncioTaskSet

__all__ = ("Spawn", "connection_tasks")

logger = logging.getLogger("sioactor.server")


class Spawn(Protocol):
    """Start ``fn(*args)`` as a task of the server; it must handle its own exceptions."""

    def __call__(self, fn: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None: ...


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
    tasks = AsyncioTaskSet(loop, "server task", logger)
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
